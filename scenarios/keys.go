package scenarios

import (
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// The keys of every mapping of the scenario format, each spelled once: its
// name, its default and its meaning as the format reference
// (scenarios/README.md) gives them, and how its value is read. The decoder
// walks these tables, its errors list their keys, and a test holds the
// reference to them.

// key is one key of a mapping read into a T.
type key[T any] struct {
	name    string
	def     string // the default, as the reference shows it; [required] if the key must be there
	meaning string // one line
	read    func(d *decoder, v *yaml.Node, field string, x *T)
}

// required is the default of a key that must be written.
const required = "required"

// keys is the table of one kind of mapping, in the order the reference
// lists them.
type keys[T any] []key[T]

func (ks keys[T]) names() []string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.name
	}
	return names
}

// decode reads mapping n into x as ks say, and returns the keys it held.
func (ks keys[T]) decode(d *decoder, n *yaml.Node, path string, x *T) map[string]bool {
	seen := map[string]bool{}
	d.fields(n, path, ks.names(), func(i int, v *yaml.Node, field string) {
		seen[ks[i].name] = true
		ks[i].read(d, v, field, x)
	})
	for _, k := range ks {
		if k.def == required && !seen[k.name] && d.err == nil {
			d.fail(n, path, "missing %s: %s", k.name, k.meaning)
		}
	}
	return seen
}

// mapping is the key name of a T whose value is a mapping that ks read
// into the part of the T at returns.
func mapping[T, U any](name, def, meaning string, ks keys[U], at func(*T) *U) key[T] {
	return key[T]{name, def, meaning, func(d *decoder, v *yaml.Node, f string, x *T) { ks.decode(d, v, f, at(x)) }}
}

var scenarioKeys = keys[Scenario]{
	{"name", "—", "shown in reports",
		func(d *decoder, v *yaml.Node, f string, s *Scenario) { s.Name = d.str(v, f) }},
	{"description", "—", "one or two sentences, shown by raftsim list",
		func(d *decoder, v *yaml.Node, f string, s *Scenario) { s.Description = d.str(v, f) }},
	mapping("cluster", "see below", "the Raft cluster", clusterKeys, func(s *Scenario) *Cluster { return &s.Cluster }),
	mapping("network", "see below", "the simulated network", networkKeys, func(s *Scenario) *Network { return &s.Network }),
	{"faults", "none", "the fault timeline",
		func(d *decoder, v *yaml.Node, f string, s *Scenario) { s.Faults = d.steps(v, f) }},
	mapping("measure", "see below", "what to measure, how long to run", measureKeys, func(s *Scenario) *Measure { return &s.Measure }),
	mapping("expect", "see below", "what must hold in every trial", expectKeys, func(s *Scenario) *Expect { return &s.Expect }),
	mapping("steady", "none", "steady-state runs for stability", steadyKeys, func(s *Scenario) *Steady { return &s.Steady }),
	mapping("sweep", "none", "default lists for raftsim sweep", sweepKeys, func(s *Scenario) *Sweep { return &s.Sweep }),
	{"trials", strconv.Itoa(DefaultTrials), "number of trials",
		func(d *decoder, v *yaml.Node, f string, s *Scenario) { s.Trials = int(d.integer(v, f, 1, MaxTrials)) }},
	{"seed", strconv.FormatUint(DefaultSeed, 10), "scenario seed; trial i runs with a seed derived from it and i",
		func(d *decoder, v *yaml.Node, f string, s *Scenario) { s.Seed = d.seed(v, f) }},
	{"trial_seeds", "none", "the trials' own seeds, one a trial, instead of seeds derived from seed (a failure's seed reproduces it)",
		func(d *decoder, v *yaml.Node, f string, s *Scenario) { s.TrialSeeds = listOf(d, v, f, (*decoder).seed) }},
}

var clusterKeys = keys[Cluster]{
	{"nodes", strconv.Itoa(DefaultNodes), "cluster size N, 1 to 10000",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.Nodes = d.nodes(v, f) }},
	{"election_timeout", DefaultElectionTimeout.String(), "MIN-MAX; each timer reset draws uniformly from it",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.ElectionTimeout = d.rangeOf(v, f) }},
	{"heartbeat", DefaultHeartbeat.String(), "the leader's AppendEntries interval, or a percentage of the minimum election timeout",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.Heartbeat = d.heartbeat(v, f) }},
	mapping("options", "all false", "the protocol options", optionKeys, func(c *Cluster) *raft.Options { return &c.Options }),
	{"impl", ImplRaftsim.String(), "the Raft every node runs: raftsim (raftsim's own node) or etcd (etcd's raft, go.etcd.io/raft/v3)",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) {
			c.Impl = enum[Impl](d, v, f, "implementation", implNames[:])
		}},
	{"tick", FormatDuration(DefaultTick), "etcd's tick (impl: etcd): its ElectionTick and HeartbeatTick count them",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) {
			if c.Tick = d.duration(v, f); d.err == nil && c.Tick == 0 {
				d.fail(v, f, "a tick of 0s: want a duration above 0, such as 1ms")
			}
		}},
	{"start", "0s", "boot times: one distribution for every node, or one per node",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) {
			if v.Kind == yaml.SequenceNode {
				c.Start = listOf(d, v, f, (*decoder).dist)
			} else {
				c.Start = []sim.Dist{d.dist(v, f)}
			}
		}},
	{"term", "0", "the current term every node boots with, up to 2^53-1",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.Term = d.term(v, f, 0) }},
	{"logs", "empty", "the terms of each node's log entries at boot",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.Logs = d.logs(v, f) }},
	{"persist", "none", "disk write time (a distribution)",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.Persist = d.optionalDist(v, f) }},
	{"timer_jitter", "none", "every timer fires late by a random amount (a distribution)",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.TimerJitter = d.optionalDist(v, f) }},
	{"processing", "none", "how long a node takes to react to each input before what it sends leaves (a distribution)",
		func(d *decoder, v *yaml.Node, f string, c *Cluster) { c.Processing = d.optionalDist(v, f) }},
}

// optionKeys are the keys of cluster.options, one per [ProtocolOptions].
var optionKeys = func() keys[raft.Options] {
	var ks keys[raft.Options]
	for _, o := range ProtocolOptions {
		ks = append(ks, key[raft.Options]{o.Key, "false", o.Help,
			func(d *decoder, v *yaml.Node, f string, x *raft.Options) { *o.Field(x) = d.boolean(v, f) }})
	}
	return ks
}()

var networkKeys = keys[Network]{
	{"latency", FormatDist(DefaultLatency), "one-way latency of each message, drawn independently",
		func(d *decoder, v *yaml.Node, f string, nw *Network) { nw.Latency = d.dist(v, f) }},
	{"loss", "0", "probability that a message is lost",
		func(d *decoder, v *yaml.Node, f string, nw *Network) { nw.Loss = d.probability(v, f) }},
	{"duplicate", "0", "probability that a message is delivered twice",
		func(d *decoder, v *yaml.Node, f string, nw *Network) { nw.Dup = d.probability(v, f) }},
	{"fifo", "false", "a message never overtakes an earlier one on the same link",
		func(d *decoder, v *yaml.Node, f string, nw *Network) { nw.FIFO = d.boolean(v, f) }},
	{"links", "none", "per-link overrides",
		func(d *decoder, v *yaml.Node, f string, nw *Network) { nw.Links = listOf(d, v, f, (*decoder).link) }},
}

var linkKeys = keys[LinkOverride]{
	{"from", required, "the sending nodes: a node, a list of nodes or all",
		func(d *decoder, v *yaml.Node, f string, l *LinkOverride) { l.From = d.selector(v, f) }},
	{"to", required, "the receiving nodes: a node, a list of nodes or all",
		func(d *decoder, v *yaml.Node, f string, l *LinkOverride) { l.To = d.selector(v, f) }},
	{"both", "false", "also set the reverse direction",
		func(d *decoder, v *yaml.Node, f string, l *LinkOverride) { l.Both = d.boolean(v, f) }},
	{"latency", "the network's", "one-way latency on these links",
		func(d *decoder, v *yaml.Node, f string, l *LinkOverride) { l.Latency = d.optionalDist(v, f) }},
	{"loss", "the network's", "loss probability on these links",
		func(d *decoder, v *yaml.Node, f string, l *LinkOverride) { x := d.probability(v, f); l.Loss = &x }},
	{"duplicate", "the network's", "duplication probability on these links",
		func(d *decoder, v *yaml.Node, f string, l *LinkOverride) { x := d.probability(v, f); l.Dup = &x }},
}

// link reads one per-link override; links are fixed before a trial starts,
// so they name nodes or all.
func (d *decoder) link(n *yaml.Node, path string) LinkOverride {
	l := LinkOverride{Line: n.Line}
	linkKeys.decode(d, n, path, &l)
	for _, s := range []*Selector{&l.From, &l.To} {
		if d.err == nil && s.Kind != Named && s.Kind != All {
			d.fail(n, s.Field, "links are fixed before the trial starts: name nodes (n1, [n1, n2]) or all, not %q", s.Text)
		}
	}
	return l
}

// timelineKeys are the keys of a fault step other than its actions.
var timelineKeys = keys[Step]{
	{"at", "", "do not start before this virtual time",
		func(d *decoder, v *yaml.Node, f string, st *Step) { st.At, st.HasAt = d.duration(v, f), true }},
	{"after", "", "wait for an event: leader-elected, leader-exists or heartbeat",
		func(d *decoder, v *yaml.Node, f string, st *Step) {
			st.After = enum[Trigger](d, v, f, "event", triggerNames[:])
		}},
	{"delay", "", "then wait this long: a duration, a distribution, or within-heartbeat",
		func(d *decoder, v *yaml.Node, f string, st *Step) {
			if v.Kind == yaml.ScalarNode && v.Value == "within-heartbeat" {
				st.DelayInHeartbeat = true
				return
			}
			st.Delay = d.dist(v, f)
		}},
	{"note", "", "text shown in traces",
		func(d *decoder, v *yaml.Node, f string, st *Step) { st.Note = d.str(v, f) }},
	{"repeat", "", "run the nested steps this many times",
		func(d *decoder, v *yaml.Node, f string, st *Step) { st.Repeat = int(d.integer(v, f, 1, 100000)) }},
	{"steps", "", "the steps a repeat group repeats",
		func(d *decoder, v *yaml.Node, f string, st *Step) {
			d.depth++
			st.Steps = d.steps(v, f)
			d.depth--
		}},
}

// stepKeys are every key of a fault step: [timelineKeys], then one per
// action, named by actionNames.
var stepKeys keys[Step]

func init() {
	stepKeys = slices.Clone(timelineKeys)
	for i, name := range actionNames {
		kind := ActionKind(i)
		stepKeys = append(stepKeys, key[Step]{name, "", actionForms[kind].meaning,
			func(d *decoder, v *yaml.Node, f string, st *Step) {
				st.Actions = append(st.Actions, d.action(kind, v, f))
			}})
	}
}

// actionForm is how an action is written: a short form (a node selector,
// a number, true), a mapping of keys, or either.
type actionForm struct {
	meaning string
	short   func(d *decoder, v *yaml.Node, field string, a *Action)
	keys    keys[Action]
}

func readNodes(d *decoder, v *yaml.Node, f string, a *Action) { a.Nodes = d.selector(v, f) }

// asKey names the nodes an action picked, for the selectors of later steps.
var asKey = key[Action]{"as", "none", "a name for the nodes picked, which later steps can use as a selector",
	func(d *decoder, v *yaml.Node, f string, a *Action) {
		if a.As = d.str(v, f); d.err == nil && !bindable(a.As) {
			d.fail(v, f, "%q cannot name nodes: want a lower-case word such as old or f1, not a selector word or a node name", a.As)
		}
	}}

var actionForms = [...]actionForm{
	Crash: {"the nodes stop at once (running ones only); optionally they restart later", readNodes, keys[Action]{
		{"nodes", required, "the nodes to crash", readNodes},
		{"restart_after", "none", "restart them after this long (a distribution)",
			func(d *decoder, v *yaml.Node, f string, a *Action) { a.RestartAfter = d.optionalDist(v, f) }},
		asKey,
	}},
	Restart: {"crashed nodes boot again (running ones are left alone)", readNodes, keys[Action]{
		{"nodes", required, "the nodes to restart", readNodes},
		asKey,
	}},
	Partition: {"split the network into groups: each a selector or a list mixing them", func(d *decoder, v *yaml.Node, f string, a *Action) {
		a.Groups = listOf(d, v, f, (*decoder).selector)
		if d.err == nil && len(a.Groups) == 0 {
			d.fail(v, f, "a partition needs at least one group, such as [[n1, n2], [n3, n4, n5]]")
		}
	}, nil},
	Isolate: {"each selected node gets a group of its own", readNodes, keys[Action]{
		{"nodes", required, "the nodes to isolate", readNodes},
		asKey,
	}},
	Heal: {"true: remove every partition and cut; a selector: bring those nodes back", func(d *decoder, v *yaml.Node, f string, a *Action) {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
			if !d.boolean(v, f) && d.err == nil {
				d.fail(v, f, "heal: false does nothing; leave it out")
			}
			return
		}
		a.Nodes = d.selector(v, f)
	}, keys[Action]{
		{"nodes", "", "bring these nodes back into the main network and remove their cuts", readNodes},
		{"from", "", "open the links from these nodes ...", func(d *decoder, v *yaml.Node, f string, a *Action) { a.From = d.selector(v, f) }},
		{"to", "", "... to these nodes", func(d *decoder, v *yaml.Node, f string, a *Action) { a.To = d.selector(v, f) }},
		{"both", "false", "open the reverse direction too", func(d *decoder, v *yaml.Node, f string, a *Action) { a.Both = d.boolean(v, f) }},
	}},
	Cut: {"block the one-way links from → to", nil, keys[Action]{
		{"from", required, "the sending nodes", func(d *decoder, v *yaml.Node, f string, a *Action) { a.From = d.selector(v, f) }},
		{"to", required, "the receiving nodes", func(d *decoder, v *yaml.Node, f string, a *Action) { a.To = d.selector(v, f) }},
	}},
	Pause: {"the nodes freeze for a while", nil, keys[Action]{
		{"nodes", required, "the nodes to pause", readNodes},
		{"for", required, "how long (a distribution)", func(d *decoder, v *yaml.Node, f string, a *Action) {
			if a.For = d.dist(v, f); d.err == nil && a.For == (sim.Dist{}) {
				d.fail(v, f, "a pause for 0s does nothing; leave it out")
			}
		}},
		asKey,
	}},
	Drift: {"the nodes' clocks run at this rate", nil, keys[Action]{
		{"nodes", required, "the nodes whose clocks drift", readNodes},
		{"factor", required, fmt.Sprintf("the clocks' rate, %g to %g, such as 1.1 for a clock 10%% fast", MinDrift, MaxDrift),
			func(d *decoder, v *yaml.Node, f string, a *Action) {
				if a.Factor = d.positive(v, f); d.err == nil && (a.Factor < MinDrift || a.Factor > MaxDrift) {
					d.fail(v, f, "%g is outside [%g, %g]: a clock %g times fast fires its timers so often that a trial never ends, "+
						"and one %g times slow hardly fires them at all", a.Factor, MinDrift, MaxDrift, MaxDrift, 1/MinDrift)
				}
			}},
		asKey,
	}},
	SetLoss: {"set the loss probability of every link",
		func(d *decoder, v *yaml.Node, f string, a *Action) { a.Loss = d.probability(v, f) }, nil},
	Write: {"the leader appends entries and sends them at once",
		func(d *decoder, v *yaml.Node, f string, a *Action) { a.Entries = int(d.integer(v, f, 1, 1000)) }, keys[Action]{
			{"entries", "1", "how many entries",
				func(d *decoder, v *yaml.Node, f string, a *Action) { a.Entries = int(d.integer(v, f, 1, 1000)) }},
			{"reach", "every follower", "how many random followers it can reach get them before the leader's next heartbeat",
				func(d *decoder, v *yaml.Node, f string, a *Action) { a.Reach = int(d.integer(v, f, 0, MaxNodes)) }},
		}},
	Check: {"assert the state of the cluster: the trial fails when it does not hold", nil, keys[Action]{
		{"leader", "—", "one (exactly one node believes it leads), none, or a node: the one leader is that node",
			func(d *decoder, v *yaml.Node, f string, a *Action) {
				c := a.assertion()
				switch text, _ := d.scalar(v, f, "one, none or a node"); text {
				case "one":
					c.Leader = CheckLeaderOne
				case "none":
					c.Leader = CheckLeaderNone
				default:
					c.Leader, c.Is = CheckLeaderIs, d.selector(v, f)
				}
			}},
		{"leader_not", "—", "no node that leads is one of these",
			func(d *decoder, v *yaml.Node, f string, a *Action) { sel := d.selector(v, f); a.assertion().Not = &sel }},
		{"agree", "false", "every node judged follows the same leader",
			func(d *decoder, v *yaml.Node, f string, a *Action) { a.assertion().Agree = d.boolean(v, f) }},
		{"term_since", "—", "no node has begun a term since step K (an earlier step's number) was applied",
			func(d *decoder, v *yaml.Node, f string, a *Action) {
				a.assertion().TermSince = int(d.integer(v, f, 1, MaxSteps))
			}},
		{"among", "connected", "the nodes judged",
			func(d *decoder, v *yaml.Node, f string, a *Action) { a.assertion().Among = d.selector(v, f) }},
		{"within", "0s", "the deadline: it must hold by then (checked after every change), or at once",
			func(d *decoder, v *yaml.Node, f string, a *Action) { a.assertion().Within = d.duration(v, f) }},
	}},
}

// assertion returns the check's assertion, made on first use.
func (a *Action) assertion() *Assertion {
	if a.Assert == nil {
		a.Assert = &Assertion{Among: Selector{Kind: Connected, Text: "connected"}}
	}
	return a.Assert
}

// The bounds of a clock's drift factor.
const (
	MinDrift = 0.01
	MaxDrift = 100.0
)

var measureKeys = keys[Measure]{
	{"from", fromNames[FromStart], "the origin of the measurement: start, or the first step that removes a leader",
		func(d *decoder, v *yaml.Node, f string, m *Measure) {
			m.From = enum[From](d, v, f, "origin", fromNames[:])
		}},
	{"until", untilNames[UntilLeader], "the end of the measurement",
		func(d *decoder, v *yaml.Node, f string, m *Measure) {
			m.Until = enum[Until](d, v, f, "end", untilNames[:])
		}},
	{"settle", "the maximum election timeout", "how long the trial runs on after the timeline and the measurement are done",
		func(d *decoder, v *yaml.Node, f string, m *Measure) { m.Settle, m.SettleSet = d.duration(v, f), true }},
	{"limit", FormatDuration(DefaultLimit), "the most virtual time a trial may take",
		func(d *decoder, v *yaml.Node, f string, m *Measure) {
			if m.Limit = d.duration(v, f); d.err == nil && m.Limit == 0 {
				d.fail(v, f, "a trial needs a limit above 0")
			}
		}},
}

var expectKeys = keys[Expect]{
	{"invariants", "all", "which safety properties to check after every event",
		func(d *decoder, v *yaml.Node, f string, e *Expect) { e.Invariants = d.invariants(v, f) }},
	{"leader_within", "none", "bound on the time to leader and on any stretch without a working leader",
		func(d *decoder, v *yaml.Node, f string, e *Expect) { e.LeaderWithin = d.duration(v, f) }},
	{"no_leader", "false", "no node may become leader after the origin",
		func(d *decoder, v *yaml.Node, f string, e *Expect) { e.NoLeader = d.boolean(v, f) }},
	{"one_leader_at_end", "false", "at the end exactly one live node believes it leads",
		func(d *decoder, v *yaml.Node, f string, e *Expect) { e.OneLeaderAtEnd = d.boolean(v, f) }},
	{"converge_within", "none", "once the fault timeline is over, a working leader must appear within this time",
		func(d *decoder, v *yaml.Node, f string, e *Expect) { e.ConvergeWithin = d.duration(v, f) }},
}

var steadyKeys = keys[Steady]{
	{"duration", "", "steady-state time for stability measurements",
		func(d *decoder, v *yaml.Node, f string, st *Steady) { st.Duration = d.duration(v, f) }},
	{"faults", "", "the background faults of steady-state runs",
		func(d *decoder, v *yaml.Node, f string, st *Steady) { st.Faults, st.FaultsSet = d.steps(v, f), true }},
}

// sweepKeys are the keys of a sweep: section: one for each swept parameter
// that has one (SweptParams).
var sweepKeys = func() keys[Sweep] {
	var ks keys[Sweep]
	for _, p := range SweptParams {
		if p.Key != "" {
			ks = append(ks, key[Sweep]{p.Key, "", p.list, p.read})
		}
	}
	return ks
}()
