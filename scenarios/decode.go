package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Parse decodes a scenario from YAML, strictly: an unknown key, a repeated
// key, a value of the wrong type or an impossible value is an [*Error]
// naming file, line and field. It does not apply defaults for what later
// overrides may change; call [Scenario.Validate] once overrides are applied.
func Parse(file string, data []byte) (*Scenario, error) {
	return parse(file, data, filesOf(file))
}

// ParseWithData is [Parse] for a scenario whose data files are in memory,
// not yet on disk: empirical:NAME reads files[P], P where Parse would read
// it (NAME beside file). A program that builds a scenario and its data
// together (raftsim tune) parses them before it writes them, or without
// writing them at all. A name files lacks is an error, as a missing file is.
func ParseWithData(file string, data []byte, files map[string][]byte) (*Scenario, error) {
	f := filesOf(file)
	f.read = func(path string) ([]byte, error) {
		if data, ok := files[path]; ok {
			return data, nil
		}
		return nil, fmt.Errorf("%s: no such data file", path)
	}
	return parse(file, data, f)
}

func parse(file string, data []byte, files dataFiles) (*Scenario, error) {
	s := &Scenario{Source: file, lines: map[string]int{}, Trials: DefaultTrials, Seed: DefaultSeed}
	s.Measure.Limit = DefaultLimit
	d := &decoder{s: s, files: files}
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	scenarioKeys.decode(d, root, "", d.s)
	if d.err != nil {
		return nil, d.err
	}
	d.s.applyDefaults()
	return d.s, nil
}

// decoder walks a YAML node tree into a Scenario, keeping the first error.
// What each key means and how its value is read is in the tables of
// keys.go; here are the walk and the readers of values.
type decoder struct {
	s     *Scenario
	err   error
	depth int       // of nested repeat groups, while their steps are read
	files dataFiles // where empirical:FILE is read: beside the scenario file
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
// with the key's index in allowed, refusing keys not in allowed and keys
// written twice.
func (d *decoder) fields(n *yaml.Node, path string, allowed []string, handle func(i int, v *yaml.Node, field string)) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping with keys %s, got %s", strings.Join(allowed, ", "), describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		at := slices.Index(allowed, k.Value)
		if at < 0 {
			d.fail(k, field, "unknown key %q (allowed here: %s)", k.Value, strings.Join(allowed, ", "))
			return
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, field, "key written twice (first at line %d)", first)
			return
		}
		seen[k.Value] = k.Line
		d.s.lines[field] = k.Line
		handle(at, v, field)
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

// term reads a term: a whole number from lo to raft.MaxTerm, 2^53-1, the
// highest term a node reaches (the largest integer a JSON number carries
// exactly), so that a scenario starts only from states raftsim serve and
// the course's nodes can hold too.
func (d *decoder) term(n *yaml.Node, field string, lo uint64) uint64 {
	v, ok := d.scalar(n, field, "a term (a whole number)")
	if !ok {
		return 0
	}
	digits := strings.ReplaceAll(v, "_", "")
	if n.Tag != "!!int" && n.Tag != "!!float" { // a quoted number is text
		d.fail(n, field, "want a term, a whole number from %d to %d (2^53-1), got %q", lo, uint64(raft.MaxTerm), v)
		return 0
	}
	x, err := strconv.ParseUint(strings.TrimPrefix(digits, "+"), 0, 64)
	switch {
	case err == nil && x > raft.MaxTerm, errors.Is(err, strconv.ErrRange): // YAML reads digits past 2^64 as a float
		d.fail(n, field, "%s is above %d (2^53-1), the largest term: the largest integer a JSON number carries exactly, and so what the course's nodes can hold", v, uint64(raft.MaxTerm))
	case err == nil && x < lo:
		d.fail(n, field, "%s is outside [%d, %d]", v, lo, uint64(raft.MaxTerm))
	case err == nil:
		return x
	default:
		if _, err := strconv.ParseInt(digits, 0, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			d.fail(n, field, "%s is outside [%d, %d]", v, lo, uint64(raft.MaxTerm)) // negative
		} else {
			d.fail(n, field, "want a term, a whole number from %d to %d (2^53-1), got %q", lo, uint64(raft.MaxTerm), v)
		}
	}
	return 0
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

// probability reads a number in [0, 1].
func (d *decoder) probability(n *yaml.Node, field string) float64 {
	return parsed(d, n, field, "a probability between 0 and 1", ParseProbability)
}

// positive reads a finite number above 0, such as a clock's drift factor.
func (d *decoder) positive(n *yaml.Node, field string) float64 {
	return parsed(d, n, field, "a positive number", parsePositive)
}

func (d *decoder) duration(n *yaml.Node, field string) time.Duration {
	return parsed(d, n, field, "a duration such as 150ms", ParseDuration)
}

func (d *decoder) dist(n *yaml.Node, field string) sim.Dist {
	return parsed(d, n, field, "a duration or a distribution such as uniform:5ms-10ms",
		func(text string) (sim.Dist, error) { return parseDist(text, d.files, false) })
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

// enum reads one of names, the text forms of E's values, E(0) first.
func enum[E ~uint8](d *decoder, n *yaml.Node, field, what string, names []string) E {
	v := d.str(n, field)
	i := slices.Index(names, v)
	if i < 0 {
		if d.err == nil {
			d.fail(n, field, "unknown %s %q (want %s)", what, v, oneOf(names))
		}
		return 0
	}
	return E(i)
}

// oneOf lists names as a choice: "a, b or c".
func oneOf(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// listOf reads a list, each item with read; items are named field[i].
func listOf[T any](d *decoder, n *yaml.Node, field string, read func(d *decoder, n *yaml.Node, field string) T) []T {
	var out []T
	for i, e := range d.list(n, field) {
		out = append(out, read(d, e, field+"["+strconv.Itoa(i)+"]"))
	}
	return out
}

func (d *decoder) nodes(n *yaml.Node, field string) int { return int(d.integer(n, field, 1, MaxNodes)) }

func (d *decoder) heartbeat(n *yaml.Node, field string) Heartbeat {
	return parsed(d, n, field, "a duration such as 50ms, or a percentage such as 50%", ParseHeartbeat)
}

// steps reads a fault timeline, or the steps of a repeat group.
func (d *decoder) steps(n *yaml.Node, path string) []Step {
	if d.depth > 4 {
		d.fail(n, path, "repeat groups nest too deep (at most 4)")
		return nil
	}
	var out []Step
	for i, e := range d.list(n, path) {
		out = append(out, d.step(e, path+"["+strconv.Itoa(i)+"]"))
		if d.err != nil {
			return nil
		}
	}
	return out
}

func (d *decoder) step(n *yaml.Node, path string) Step {
	st := Step{Line: n.Line}
	seen := stepKeys.decode(d, n, path, &st)
	if d.err != nil {
		return st
	}
	hasSteps := seen["steps"]
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

// action reads one action of a step: its short form (a selector, a
// number, true), or its mapping of keys, as [actionForms] says.
func (d *decoder) action(kind ActionKind, n *yaml.Node, path string) Action {
	a := Action{Kind: kind, Line: n.Line, Field: path, Reach: -1}
	if kind == Write {
		a.Entries = 1
	}
	form := &actionForms[kind]
	if form.keys != nil && (n.Kind == yaml.MappingNode || form.short == nil) {
		form.keys.decode(d, n, path, &a)
	} else {
		form.short(d, n, path, &a)
	}
	if d.err != nil {
		return a
	}
	switch {
	case kind == Check && (a.Assert == nil || a.Assert.Leader == CheckLeaderAny && a.Assert.Not == nil && !a.Assert.Agree && a.Assert.TermSince == 0):
		d.fail(n, path, "a check needs at least one of leader, leader_not, agree and term_since")
	case kind == Heal && n.Kind == yaml.MappingNode && (a.Nodes.Text != "") == (a.From.Text != "" || a.To.Text != ""):
		d.fail(n, path, "heal takes nodes (bring them back), or from and to (open those links), not both")
	case kind == Heal && (a.From.Text == "") != (a.To.Text == ""):
		d.fail(n, path, "healing links needs both from and to")
	}
	return a
}

// logs reads {n1: [1, 1, 2], n2: [1]}: the terms of each node's entries.
func (d *decoder) logs(n *yaml.Node, path string) []NodeLog {
	var logs []NodeLog
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping from node (n1, n2, ...) to a list of entry terms, got %s", describe(n))
		return nil
	}
	for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		id, ok := parseNodeName(k.Value)
		if !ok {
			d.fail(k, field, "want a node name such as n1, got %q", k.Value)
			return nil
		}
		if slices.ContainsFunc(logs, func(l NodeLog) bool { return l.Node == id }) {
			d.fail(k, field, "node written twice")
			return nil
		}
		terms := []uint64{}
		var prev uint64
		for j, e := range d.list(v, field) {
			t := d.term(e, field+"["+strconv.Itoa(j)+"]", 1)
			if t < prev {
				d.fail(e, field, "entry terms must not decrease (%d after %d)", t, prev)
				return nil
			}
			prev = t
			terms = append(terms, t)
		}
		logs = append(logs, NodeLog{Node: id, Terms: terms, Line: k.Line})
	}
	return logs
}

// selector reads a node selector: n3, leader, follower, random, random:3,
// follower:2, all, or a list of node names.
func (d *decoder) selector(n *yaml.Node, field string) Selector {
	s := Selector{Line: n.Line, Field: field}
	if n.Kind == yaml.SequenceNode {
		// A list of node names, or of selectors of any kind: [leader, n2].
		var texts []string
		allNamed := true
		for _, e := range n.Content {
			v, ok := d.scalar(e, field, "a node name such as n1, or a selector such as leader")
			if !ok {
				return s
			}
			item, err := ParseSelector(v)
			if err != nil {
				d.fail(e, field, "%v", err)
				return s
			}
			if slices.Contains(texts, v) {
				d.fail(e, field, "%s is listed twice", v)
				return s
			}
			item.Line, item.Field = e.Line, field
			s.Items = append(s.Items, item)
			s.IDs = append(s.IDs, item.IDs...)
			allNamed = allNamed && item.Kind == Named
			texts = append(texts, v)
		}
		if len(s.Items) == 0 {
			d.fail(n, field, "an empty list selects no node")
		}
		s.Text = "[" + strings.Join(texts, ",") + "]"
		if allNamed {
			s.Kind, s.Items = Named, nil
		} else {
			s.Kind, s.IDs = Union, nil
		}
		return s
	}
	v, ok := d.scalar(n, field, "a node: n1, leader, old-leader, follower, random, random:K, all, connected, a name given with as:, or a list [n1, leader]")
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
