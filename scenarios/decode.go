package scenarios

import (
	"bytes"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/raftsim/raftsim/sim"
)

// Parse decodes a scenario from YAML, strictly: an unknown key, a repeated
// key, a value of the wrong type or an impossible value is an [*Error]
// naming file, line and field. It does not apply defaults for what later
// overrides may change; call [Scenario.Validate] once overrides are applied.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{s: &Scenario{Source: file, lines: map[string]int{}}}
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	d.scenario(root)
	if d.err != nil {
		return nil, d.err
	}
	d.s.applyDefaults()
	return d.s, nil
}

// decoder walks a YAML node tree into a Scenario, keeping the first error.
type decoder struct {
	s   *Scenario
	err error
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data as exactly one YAML document holding a mapping.
func (d *decoder) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, d.s.errorf(0, "", "the file is empty; a scenario is a YAML mapping (see scenarios/README.md)")
		}
		msg, line := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, d.s.errorf(line, "", "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, d.s.errorf(extra.Line, "", "more than one YAML document; a scenario file holds one")
	}
	if alias := findAlias(&root); alias != nil {
		return nil, d.s.errorf(alias.Line, "", "anchors and aliases (*%s) are not supported: write the value out", alias.Value)
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, d.s.errorf(root.Line, "", "a scenario is a YAML mapping of keys such as cluster, network, faults")
	}
	return root.Content[0], nil
}

// findAlias returns the first alias in the tree under n, or nil. The parsed
// tree holds each node once, so the walk ends even where an alias would
// point back at its own anchor.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	if d.err == nil {
		d.err = d.s.errorf(n.Line, field, format, args...)
	}
}

// fields calls handle for each key of mapping n, in the order written,
// refusing keys not in allowed and keys written twice.
func (d *decoder) fields(n *yaml.Node, path string, allowed []string, handle func(key string, v *yaml.Node, field string)) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping with keys %s, got %s", strings.Join(allowed, ", "), describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		if !slices.Contains(allowed, k.Value) {
			d.fail(k, field, "unknown key %q (allowed here: %s)", k.Value, strings.Join(allowed, ", "))
			return
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, field, "key written twice (first at line %d)", first)
			return
		}
		seen[k.Value] = k.Line
		d.s.lines[field] = k.Line
		handle(k.Value, v, field)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

func (d *decoder) scalar(n *yaml.Node, field, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.fail(n, field, "want %s, got %s", want, describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, field string) string {
	v, _ := d.scalar(n, field, "text")
	return v
}

func (d *decoder) boolean(n *yaml.Node, field string) bool {
	v, ok := d.scalar(n, field, "true or false")
	if !ok {
		return false
	}
	if n.Tag != "!!bool" {
		d.fail(n, field, "want true or false, got %q", v)
		return false
	}
	return v == "true" || v == "True" || v == "TRUE"
}

// integer reads an integer in [lo, hi].
func (d *decoder) integer(n *yaml.Node, field string, lo, hi int64) int64 {
	v, ok := d.scalar(n, field, "a whole number")
	if !ok {
		return 0
	}
	x, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 0, 64)
	if err != nil || n.Tag != "!!int" {
		d.fail(n, field, "want a whole number, got %q", v)
		return 0
	}
	if x < lo || x > hi {
		d.fail(n, field, "%d is outside [%d, %d]", x, lo, hi)
		return 0
	}
	return x
}

// parsed reads a scalar and converts it with parse, whose error becomes the
// field's. One reader serves every kind of value a command-line flag shares
// with the scenario format, so a file and a flag are judged alike.
func parsed[T any](d *decoder, n *yaml.Node, field, want string, parse func(string) (T, error)) T {
	var x T
	v, ok := d.scalar(n, field, want)
	if !ok {
		return x
	}
	x, err := parse(v)
	if err != nil {
		d.fail(n, field, "%v", err)
	}
	return x
}

// seed reads a non-negative integer, decimal or 0x-hex, up to 2^64-1.
func (d *decoder) seed(n *yaml.Node, field string) uint64 {
	return parsed(d, n, field, "a whole number", ParseSeed)
}

// ParseSeed reads a seed: a non-negative decimal or 0x-hex integer.
func ParseSeed(s string) (uint64, error) {
	x, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, errors.New("want a seed: a whole number from 0 to 18446744073709551615, decimal or 0x-hex, got " + strconv.Quote(s))
	}
	return x, nil
}

// probability reads a number in [0, 1].
func (d *decoder) probability(n *yaml.Node, field string) float64 {
	return parsed(d, n, field, "a probability between 0 and 1", ParseProbability)
}

// ParseProbability reads a number in [0, 1].
func ParseProbability(s string) (float64, error) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(x) {
		return 0, errors.New("want a probability between 0 and 1, got " + strconv.Quote(s))
	}
	if x < 0 || x > 1 {
		return 0, errors.New("probability " + s + " is outside [0, 1]")
	}
	return x, nil
}

// positive reads a finite number above 0, such as a clock's drift factor.
func (d *decoder) positive(n *yaml.Node, field string) float64 {
	return parsed(d, n, field, "a positive number", parsePositive)
}

func parsePositive(s string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !(x > 0) || math.IsInf(x, 0) {
		return 0, errors.New("want a positive number, got " + strconv.Quote(s))
	}
	return x, nil
}

func (d *decoder) duration(n *yaml.Node, field string) time.Duration {
	return parsed(d, n, field, "a duration such as 150ms", ParseDuration)
}

func (d *decoder) dist(n *yaml.Node, field string) sim.Dist {
	return parsed(d, n, field, "a duration or a distribution such as uniform:5ms-10ms", ParseDist)
}

// optionalDist reads a distribution for a field that may be left out.
func (d *decoder) optionalDist(n *yaml.Node, field string) *sim.Dist {
	x := d.dist(n, field)
	return &x
}

func (d *decoder) rangeOf(n *yaml.Node, field string) Range {
	return parsed(d, n, field, "a range such as 150ms-300ms", ParseRange)
}

func (d *decoder) list(n *yaml.Node, field string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, "want a list, got %s", describe(n))
		return nil
	}
	return n.Content
}

func (d *decoder) scenario(n *yaml.Node) {
	s := d.s
	s.Trials, s.Seed = 1000, 1
	s.Measure.Limit = 60 * time.Second
	d.fields(n, "", []string{"name", "description", "cluster", "network", "faults", "measure", "expect", "steady", "sweep", "trials", "seed"},
		func(key string, v *yaml.Node, field string) {
			switch key {
			case "name":
				s.Name = d.str(v, field)
			case "description":
				s.Description = d.str(v, field)
			case "cluster":
				d.cluster(v, field)
			case "network":
				d.network(v, field)
			case "faults":
				s.Faults = d.steps(v, field, 0)
			case "measure":
				d.measure(v, field)
			case "expect":
				d.expect(v, field)
			case "steady":
				d.steady(v, field)
			case "sweep":
				d.sweep(v, field)
			case "trials":
				s.Trials = int(d.integer(v, field, 1, MaxTrials))
			case "seed":
				s.Seed = d.seed(v, field)
			}
		})
}

// MaxTrials bounds the trials of one run.
const MaxTrials = 1_000_000_000

func (d *decoder) cluster(n *yaml.Node, path string) {
	c := &d.s.Cluster
	d.fields(n, path, []string{"nodes", "election_timeout", "heartbeat", "options", "start", "term", "logs", "persist", "timer_jitter"},
		func(key string, v *yaml.Node, field string) {
			switch key {
			case "nodes":
				c.Nodes = int(d.integer(v, field, 1, MaxNodes))
			case "election_timeout":
				c.ElectionTimeout = d.rangeOf(v, field)
			case "heartbeat":
				if text, ok := d.scalar(v, field, "a duration such as 50ms, or a percentage such as 50%"); ok {
					var err error
					if c.Heartbeat, c.HeartbeatPercent, err = ParseHeartbeat(text); err != nil {
						d.fail(v, field, "%v", err)
					}
				}
			case "options":
				d.options(v, field)
			case "start":
				if v.Kind == yaml.SequenceNode {
					for i, e := range v.Content {
						c.Start = append(c.Start, d.dist(e, field+"["+strconv.Itoa(i)+"]"))
					}
				} else {
					c.Start = []sim.Dist{d.dist(v, field)}
				}
			case "term":
				c.Term = uint64(d.integer(v, field, 0, math.MaxInt32))
			case "logs":
				d.logs(v, field)
			case "persist":
				c.Persist = d.optionalDist(v, field)
			case "timer_jitter":
				c.TimerJitter = d.optionalDist(v, field)
			}
		})
}

// MaxNodes bounds the cluster size.
const MaxNodes = 10000

func (d *decoder) options(n *yaml.Node, path string) {
	o := &d.s.Cluster.Options
	d.fields(n, path, []string{"prevote", "check_quorum", "leader_stickiness", "reset_timer_on_step_down"},
		func(key string, v *yaml.Node, field string) {
			b := d.boolean(v, field)
			switch key {
			case "prevote":
				o.PreVote = b
			case "check_quorum":
				o.CheckQuorum = b
			case "leader_stickiness":
				o.LeaderStickiness = b
			case "reset_timer_on_step_down":
				o.ResetTimerOnStepDown = b
			}
		})
}

// logs reads {n1: [1, 1, 2], n2: [1]}: the terms of each node's entries.
func (d *decoder) logs(n *yaml.Node, path string) {
	c := &d.s.Cluster
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping from node (n1, n2, ...) to a list of entry terms, got %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		id, ok := parseNodeName(k.Value)
		if !ok {
			d.fail(k, field, "want a node name such as n1, got %q", k.Value)
			return
		}
		if slices.ContainsFunc(c.Logs, func(l NodeLog) bool { return l.Node == id }) {
			d.fail(k, field, "node written twice")
			return
		}
		terms := []uint64{}
		var prev uint64
		for j, e := range d.list(v, field) {
			t := uint64(d.integer(e, field+"["+strconv.Itoa(j)+"]", 1, math.MaxInt32))
			if t < prev {
				d.fail(e, field, "entry terms must not decrease (%d after %d)", t, prev)
				return
			}
			prev = t
			terms = append(terms, t)
		}
		c.Logs = append(c.Logs, NodeLog{Node: id, Terms: terms, Line: k.Line})
	}
}

func parseNodeName(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "n")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 1 || rest[0] == '0' || rest[0] == '+' {
		return 0, false
	}
	return i - 1, true
}

func (d *decoder) network(n *yaml.Node, path string) {
	nw := &d.s.Network
	d.fields(n, path, []string{"latency", "loss", "duplicate", "fifo", "links"},
		func(key string, v *yaml.Node, field string) {
			switch key {
			case "latency":
				nw.Latency = d.dist(v, field)
			case "loss":
				nw.Loss = d.probability(v, field)
			case "duplicate":
				nw.Dup = d.probability(v, field)
			case "fifo":
				nw.FIFO = d.boolean(v, field)
			case "links":
				for i, e := range d.list(v, field) {
					d.link(e, field+"["+strconv.Itoa(i)+"]")
				}
			}
		})
}

func (d *decoder) link(n *yaml.Node, path string) {
	l := LinkOverride{Line: n.Line}
	d.fields(n, path, []string{"from", "to", "both", "latency", "loss", "duplicate"},
		func(key string, v *yaml.Node, field string) {
			switch key {
			case "from":
				l.From = d.selector(v, field)
			case "to":
				l.To = d.selector(v, field)
			case "both":
				l.Both = d.boolean(v, field)
			case "latency":
				l.Latency = d.optionalDist(v, field)
			case "loss":
				x := d.probability(v, field)
				l.Loss = &x
			case "duplicate":
				x := d.probability(v, field)
				l.Dup = &x
			}
		})
	if d.err != nil {
		return
	}
	for _, s := range []*Selector{&l.From, &l.To} {
		if s.Text == "" {
			d.fail(n, path, "a link needs both from and to")
			return
		}
		if s.Kind != Named && s.Kind != All {
			d.fail(n, s.Field, "links are fixed before the trial starts: name nodes (n1, [n1, n2]) or all, not %q", s.Text)
			return
		}
	}
	d.s.Network.Links = append(d.s.Network.Links, l)
}

var stepKeys = []string{"at", "after", "delay", "note", "repeat", "steps",
	"crash", "restart", "partition", "isolate", "heal", "cut", "pause", "drift", "loss", "write"}

func (d *decoder) steps(n *yaml.Node, path string, depth int) []Step {
	if depth > 4 {
		d.fail(n, path, "repeat groups nest too deep (at most 4)")
		return nil
	}
	var out []Step
	for i, e := range d.list(n, path) {
		out = append(out, d.step(e, path+"["+strconv.Itoa(i)+"]", depth))
		if d.err != nil {
			return nil
		}
	}
	return out
}

func (d *decoder) step(n *yaml.Node, path string, depth int) Step {
	st := Step{Line: n.Line}
	var hasSteps bool
	d.fields(n, path, stepKeys, func(key string, v *yaml.Node, field string) {
		switch key {
		case "at":
			st.At, st.HasAt = d.duration(v, field), true
		case "after":
			switch s := d.str(v, field); s {
			case "previous":
				st.After = AfterPrevious
			case "leader-elected":
				st.After = AfterLeaderElected
			case "heartbeat":
				st.After = AfterHeartbeat
			default:
				if d.err == nil {
					d.fail(v, field, "unknown event %q (want leader-elected, heartbeat or previous)", s)
				}
			}
		case "delay":
			if v.Kind == yaml.ScalarNode && v.Value == "within-heartbeat" {
				st.DelayInHeartbeat = true
				break
			}
			st.Delay = d.dist(v, field)
		case "note":
			st.Note = d.str(v, field)
		case "repeat":
			st.Repeat = int(d.integer(v, field, 1, 100000))
		case "steps":
			hasSteps = true
			st.Steps = d.steps(v, field, depth+1)
		default:
			st.Actions = append(st.Actions, d.action(key, v, field))
		}
	})
	if d.err != nil {
		return st
	}
	switch {
	case st.Repeat > 0 && !hasSteps:
		d.fail(n, join(path, "repeat"), "repeat needs steps to repeat")
	case hasSteps && st.Repeat == 0:
		d.fail(n, join(path, "steps"), "steps belong to a repeat group: add repeat: N")
	case hasSteps && len(st.Actions) > 0:
		d.fail(n, path, "a repeat group holds steps, not actions of its own")
	}
	return st
}

func (d *decoder) action(kind string, n *yaml.Node, path string) Action {
	a := Action{Line: n.Line, Reach: -1}
	// A node selector alone is the short form of {nodes: SELECTOR}.
	short := n.Kind != yaml.MappingNode
	switch kind {
	case "crash":
		a.Kind = Crash
		if short {
			a.Nodes = d.selector(n, path)
			break
		}
		d.fields(n, path, []string{"nodes", "restart_after"}, func(key string, v *yaml.Node, field string) {
			if key == "nodes" {
				a.Nodes = d.selector(v, field)
			} else {
				a.RestartAfter = d.optionalDist(v, field)
			}
		})
		d.need(n, path, "nodes", a.Nodes.Text)
	case "restart":
		a.Kind, a.Nodes = Restart, d.selector(n, path)
	case "isolate":
		a.Kind, a.Nodes = Isolate, d.selector(n, path)
	case "partition":
		a.Kind = Partition
		for i, g := range d.list(n, path) {
			a.Groups = append(a.Groups, d.selector(g, path+"["+strconv.Itoa(i)+"]"))
		}
		if d.err == nil && len(a.Groups) == 0 {
			d.fail(n, path, "a partition needs at least one group, such as [[n1, n2], [n3, n4, n5]]")
		}
	case "heal":
		a.Kind = Heal
		if !d.boolean(n, path) && d.err == nil {
			d.fail(n, path, "heal: false does nothing; leave it out")
		}
	case "cut":
		a.Kind = Cut
		d.fields(n, path, []string{"from", "to"}, func(key string, v *yaml.Node, field string) {
			if key == "from" {
				a.From = d.selector(v, field)
			} else {
				a.To = d.selector(v, field)
			}
		})
		d.need(n, path, "from", a.From.Text)
		d.need(n, path, "to", a.To.Text)
	case "pause":
		a.Kind = Pause
		d.fields(n, path, []string{"nodes", "for"}, func(key string, v *yaml.Node, field string) {
			if key == "nodes" {
				a.Nodes = d.selector(v, field)
			} else {
				a.For = d.dist(v, field)
			}
		})
		d.need(n, path, "nodes", a.Nodes.Text)
		d.need(n, path, "for", FormatDist(a.For))
	case "drift":
		a.Kind = Drift
		d.fields(n, path, []string{"nodes", "factor"}, func(key string, v *yaml.Node, field string) {
			if key == "nodes" {
				a.Nodes = d.selector(v, field)
			} else {
				a.Factor = d.positive(v, field)
			}
		})
		d.need(n, path, "nodes", a.Nodes.Text)
		if d.err == nil && a.Factor == 0 {
			d.fail(n, path, "drift needs factor, such as 1.1 for a clock 10%% fast")
		}
	case "loss":
		a.Kind, a.Loss = SetLoss, d.probability(n, path)
	case "write":
		a.Kind, a.Entries = Write, 1
		if short {
			a.Entries = int(d.integer(n, path, 1, 1000))
			break
		}
		d.fields(n, path, []string{"entries", "reach"}, func(key string, v *yaml.Node, field string) {
			if key == "entries" {
				a.Entries = int(d.integer(v, field, 1, 1000))
			} else {
				a.Reach = int(d.integer(v, field, 0, MaxNodes))
			}
		})
	}
	return a
}

func (d *decoder) need(n *yaml.Node, path, key, value string) {
	if d.err == nil && (value == "" || value == "const:0s" && key == "for") {
		d.fail(n, path, "missing %s", key)
	}
}

// selector reads a node selector: n3, leader, follower, random, random:3,
// follower:2, all, or a list of node names.
func (d *decoder) selector(n *yaml.Node, field string) Selector {
	s := Selector{Line: n.Line, Field: field}
	if n.Kind == yaml.SequenceNode {
		var names []string
		for _, e := range n.Content {
			v, ok := d.scalar(e, field, "a node name such as n1")
			if !ok {
				return s
			}
			id, ok := parseNodeName(v)
			if !ok {
				d.fail(e, field, "want a node name such as n1, got %q (in a list, name nodes)", v)
				return s
			}
			if slices.Contains(s.IDs, id) {
				d.fail(e, field, "%s is listed twice", v)
				return s
			}
			s.IDs = append(s.IDs, id)
			names = append(names, v)
		}
		if len(s.IDs) == 0 {
			d.fail(n, field, "an empty list selects no node")
		}
		s.Text = "[" + strings.Join(names, ",") + "]"
		return s
	}
	v, ok := d.scalar(n, field, "a node: n1, leader, old-leader, follower, random, random:K, all, or a list [n1, n2]")
	if !ok {
		return s
	}
	sel, err := ParseSelector(v)
	if err != nil {
		d.fail(n, field, "%v", err)
		return s
	}
	sel.Line, sel.Field = n.Line, field
	return sel
}

// ParseSelector reads the text form of a node selector.
func ParseSelector(v string) (Selector, error) {
	s := Selector{Text: v}
	name, count, hasCount := strings.Cut(v, ":")
	switch name {
	case "leader":
		s.Kind = Leader
	case "follower":
		s.Kind, s.Count = RandomFollower, 1
	case "random":
		s.Kind, s.Count = Random, 1
	case "all":
		s.Kind = All
	case "old-leader":
		s.Kind = OldLeader
	default:
		id, ok := parseNodeName(v)
		if !ok {
			return s, errors.New("want a node: n1, leader, old-leader, follower, random, random:K, follower:K, all, or a list [n1, n2]; got " + strconv.Quote(v))
		}
		s.Kind, s.IDs = Named, []int{id}
		return s, nil
	}
	if hasCount {
		k, err := strconv.Atoi(count)
		if err != nil || k < 1 || (s.Kind != Random && s.Kind != RandomFollower) {
			return s, errors.New("only random:K and follower:K take a count (K at least 1); got " + strconv.Quote(v))
		}
		s.Count = k
	}
	return s, nil
}

func (d *decoder) measure(n *yaml.Node, path string) {
	m := &d.s.Measure
	d.fields(n, path, []string{"from", "until", "settle", "limit"}, func(key string, v *yaml.Node, field string) {
		switch key {
		case "from":
			switch s := d.str(v, field); s {
			case "start":
				m.From = FromStart
			case "fault":
				m.From = FromFault
			default:
				if d.err == nil {
					d.fail(v, field, "want start or fault, got %q", s)
				}
			}
		case "until":
			switch s := d.str(v, field); s {
			case "leader":
				m.Until = UntilLeader
			case "first-heartbeat":
				m.Until = UntilFirstHeartbeat
			case "working-leader":
				m.Until = UntilWorkingLeader
			default:
				if d.err == nil {
					d.fail(v, field, "want leader, first-heartbeat or working-leader, got %q", s)
				}
			}
		case "settle":
			m.Settle, m.SettleSet = d.duration(v, field), true
		case "limit":
			m.Limit = d.duration(v, field)
			if d.err == nil && m.Limit == 0 {
				d.fail(v, field, "a trial needs a limit above 0")
			}
		}
	})
}

func (d *decoder) expect(n *yaml.Node, path string) {
	e := &d.s.Expect
	d.fields(n, path, []string{"invariants", "leader_within", "no_leader", "one_leader_at_end", "converge_within"},
		func(key string, v *yaml.Node, field string) {
			switch key {
			case "invariants":
				e.Invariants = d.invariants(v, field)
			case "leader_within":
				e.LeaderWithin = d.duration(v, field)
			case "no_leader":
				e.NoLeader = d.boolean(v, field)
			case "one_leader_at_end":
				e.OneLeaderAtEnd = d.boolean(v, field)
			case "converge_within":
				e.ConvergeWithin = d.duration(v, field)
			}
		})
}

func (d *decoder) steady(n *yaml.Node, path string) {
	st := &d.s.Steady
	d.fields(n, path, []string{"duration", "faults"}, func(key string, v *yaml.Node, field string) {
		switch key {
		case "duration":
			st.Duration = d.duration(v, field)
		case "faults":
			st.Faults, st.FaultsSet = d.steps(v, field, 0), true
		}
	})
}

func (d *decoder) sweep(n *yaml.Node, path string) {
	sw := &d.s.Sweep
	d.fields(n, path, []string{"election_timeout", "nodes", "latency", "loss", "heartbeat"}, func(key string, v *yaml.Node, field string) {
		for i, e := range d.list(v, field) {
			f := field + "[" + strconv.Itoa(i) + "]"
			switch key {
			case "election_timeout":
				sw.ElectionTimeout = append(sw.ElectionTimeout, d.rangeOf(e, f))
			case "nodes":
				sw.Nodes = append(sw.Nodes, int(d.integer(e, f, 1, MaxNodes)))
			case "latency":
				sw.Latency = append(sw.Latency, d.dist(e, f))
			case "loss":
				sw.Loss = append(sw.Loss, d.probability(e, f))
			case "heartbeat":
				if text, ok := d.scalar(e, f, "a duration or a percentage"); ok {
					if _, _, err := ParseHeartbeat(text); err != nil {
						d.fail(e, f, "%v", err)
					}
					sw.Heartbeat = append(sw.Heartbeat, text)
				}
			}
		}
	})
}

func (d *decoder) invariants(n *yaml.Node, field string) []Invariant {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "all":
			return AllInvariants()
		case "none":
			return []Invariant{}
		}
	}
	out := []Invariant{}
	for _, e := range d.list(n, field) {
		v := d.str(e, field)
		i := slices.Index(invariantNames[:], v)
		if i < 0 {
			if d.err == nil {
				d.fail(e, field, "unknown invariant %q (want %s, all or none)", v, strings.Join(invariantNames[:], ", "))
			}
			return nil
		}
		if !slices.Contains(out, Invariant(i)) {
			out = append(out, Invariant(i))
		}
	}
	return out
}
