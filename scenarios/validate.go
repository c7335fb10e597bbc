package scenarios

import (
	"slices"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// Defaults for what a scenario leaves out: the built-in default scenario's
// cluster and network.
var (
	DefaultNodes           = 5
	DefaultElectionTimeout = Range{Min: 150 * time.Millisecond, Max: 300 * time.Millisecond}
	DefaultHeartbeat       = Heartbeat{D: 50 * time.Millisecond}
	DefaultLatency         = sim.UniformDist(5*time.Millisecond, 10*time.Millisecond)
)

// Defaults of a run of trials.
var (
	DefaultTrials        = 1000
	DefaultSeed   uint64 = 1
	DefaultLimit         = 60 * time.Second
)

// Limits on what a scenario may ask for.
const (
	MaxNodes  = 10000         // cluster size
	MaxTrials = 1_000_000_000 // trials of one run
	MaxSteps  = 100000        // fault steps once repeat groups are unrolled
)

func (s *Scenario) applyDefaults() {
	c := &s.Cluster
	if c.Nodes == 0 {
		c.Nodes = DefaultNodes
	}
	// A zero that is written is kept, for Validate to judge: a meaningless
	// one (no heartbeat, no election timeout) is refused, not replaced.
	if c.ElectionTimeout == (Range{}) && s.line("cluster.election_timeout") == 0 {
		c.ElectionTimeout = DefaultElectionTimeout
	}
	if c.Heartbeat == (Heartbeat{}) && s.line("cluster.heartbeat") == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if s.TrialSeeds != nil && s.line("trials") == 0 {
		s.Trials = len(s.TrialSeeds)
	}
	if s.Network.Latency == (sim.Dist{}) && s.line("network.latency") == 0 {
		s.Network.Latency = DefaultLatency // a latency of 0 that is written means 0
	}
	if s.Expect.Invariants == nil {
		s.Expect.Invariants = AllInvariants()
	}
}

// SettleTime returns how long trials run after the timeline and the
// measurement: the settle time written, or the maximum election timeout.
func (s *Scenario) SettleTime() time.Duration {
	if s.Measure.SettleSet {
		return s.Measure.Settle
	}
	return s.Cluster.ElectionTimeout.Max
}

// Validate checks what depends on more than one field, after any overrides
// have been applied: node references against the cluster size, timeouts,
// and expectations that contradict each other.
func (s *Scenario) Validate() error {
	c := &s.Cluster
	switch {
	case c.Nodes < 1 || c.Nodes > MaxNodes:
		return s.errorf(s.line("cluster.nodes"), "cluster.nodes", "%d nodes: want 1 to %d", c.Nodes, MaxNodes)
	case c.ElectionTimeout.Min <= 0:
		return s.errorf(s.line("cluster.election_timeout"), "cluster.election_timeout", "the minimum election timeout must be above 0")
	case c.HeartbeatInterval() <= 0:
		return s.errorf(s.line("cluster.heartbeat"), "cluster.heartbeat", "the heartbeat interval must be above 0")
	case len(c.Start) > 1 && len(c.Start) != c.Nodes:
		return s.errorf(s.line("cluster.start"), "cluster.start", "%d start times for %d nodes: give one for all or one per node", len(c.Start), c.Nodes)
	case s.Measure.Limit <= 0:
		return s.errorf(s.line("measure.limit"), "measure.limit", "a trial needs a limit above 0")
	case s.Expect.NoLeader && s.Expect.LeaderWithin > 0:
		return s.errorf(s.line("expect.no_leader"), "expect.no_leader", "no_leader and leader_within contradict each other")
	case s.Trials < 1:
		return s.errorf(s.line("trials"), "trials", "want at least 1 trial")
	case s.TrialSeeds != nil && s.Trials != len(s.TrialSeeds):
		return s.errorf(s.line("trials"), "trials", "%d trials, but trial_seeds gives %d seeds: one a trial", s.Trials, len(s.TrialSeeds))
	}
	if err := s.checkImpl(); err != nil {
		return err
	}
	for _, l := range c.Logs {
		if l.Node >= c.Nodes {
			return s.errorf(l.Line, "cluster.logs."+NodeName(l.Node), "node %s does not exist (the cluster has %s)", NodeName(l.Node), Count(c.Nodes, "node", "nodes"))
		}
		if len(l.Terms) > 0 && l.Terms[len(l.Terms)-1] > c.Term {
			return s.errorf(l.Line, "cluster.logs."+NodeName(l.Node), "an entry of term %d is newer than the cluster's term %d (set cluster.term)", l.Terms[len(l.Terms)-1], c.Term)
		}
	}
	for _, l := range s.Network.Links {
		if err := s.checkNodes(l.From); err != nil {
			return err
		}
		if err := s.checkNodes(l.To); err != nil {
			return err
		}
	}
	if n := max(countSteps(s.Faults), countSteps(s.Steady.Faults)); n > MaxSteps {
		return s.errorf(s.line("faults"), "faults", "%d steps once repeats are unrolled: at most %d", n, MaxSteps)
	}
	if err := s.checkTimeline(s.unroll(s.Faults)); err != nil {
		return err
	}
	return s.checkTimeline(s.unroll(s.Steady.Faults))
}

// checkTimeline checks the steps of a timeline, unrolled, in the order they
// run: the nodes they name exist, a name given with as: is given before it
// is used, no node is named in two partition groups, and a check's
// term_since names an earlier step.
func (s *Scenario) checkTimeline(steps []Step) error {
	var bound []string
	for _, st := range steps {
		for i := range st.Actions {
			a := &st.Actions[i]
			for _, sel := range a.selectors() {
				if err := s.checkSelector(sel, bound); err != nil {
					return err
				}
			}
			if err := s.checkAction(a, &st); err != nil {
				return err
			}
			if a.As != "" && !slices.Contains(bound, a.As) {
				bound = append(bound, a.As)
			}
		}
	}
	return nil
}

func (s *Scenario) checkAction(a *Action, st *Step) error {
	field := a.Field
	if field == "" {
		field = a.Kind.String() // an action a program made
	}
	switch a.Kind {
	case Write:
		if a.Reach > s.Cluster.Nodes-1 {
			return s.errorf(a.Line, field+".reach", "reach %d is more than the %d followers", a.Reach, s.Cluster.Nodes-1)
		}
	case Partition:
		seen := map[int]bool{} // looked up only
		for _, g := range a.Groups {
			for _, id := range g.named() {
				if seen[id] {
					return s.errorf(g.Line, g.Field, "%s is in two groups: a node can be in one only", NodeName(id))
				}
				seen[id] = true
			}
		}
	case Check:
		if k := a.Assert.TermSince; k >= st.Index {
			return s.errorf(a.Line, field+".term_since", "step %d is not before this step (%d): term_since names an earlier step", k, st.Index)
		}
	}
	return nil
}

func (s *Scenario) checkSelector(sel Selector, bound []string) error {
	if sel.Kind == Bound && !slices.Contains(bound, sel.Name) {
		return s.errorf(sel.Line, sel.Field, "no earlier step names nodes %q (give an action as: %s first)", sel.Name, sel.Name)
	}
	for _, item := range sel.Items {
		if err := s.checkSelector(item, bound); err != nil {
			return err
		}
	}
	return s.checkNodes(sel)
}

// checkNodes checks that the nodes sel names or counts exist.
func (s *Scenario) checkNodes(sel Selector) error {
	for _, id := range sel.IDs {
		if id >= s.Cluster.Nodes {
			return s.errorf(sel.Line, sel.Field, "node %s does not exist (the cluster has %s)", NodeName(id), Count(s.Cluster.Nodes, "node", "nodes"))
		}
	}
	if sel.Count > s.Cluster.Nodes {
		return s.errorf(sel.Line, sel.Field, "%s picks %s of %d", sel.Text, Count(sel.Count, "node", "nodes"), s.Cluster.Nodes)
	}
	return nil
}

func countSteps(steps []Step) int {
	n := 0
	for _, st := range steps {
		if st.Repeat > 0 {
			n += st.Repeat * countSteps(st.Steps)
		} else {
			n++
		}
		if n > MaxSteps {
			return n
		}
	}
	return n
}

// Timeline returns the fault steps with repeat groups unrolled, in order,
// and delays given relative to the heartbeat resolved.
func (s *Scenario) Timeline() []Step {
	steps := s.unroll(s.Faults)
	if len(s.Skip) == 0 {
		return steps
	}
	var kept []Step
	for i, st := range steps {
		if !slices.Contains(s.Skip, i+1) {
			kept = append(kept, st)
		}
	}
	return kept
}

// SteadyTimeline returns the background faults of a steady-state run,
// unrolled: the steady section's own, or the timeline's pause, drift and
// loss actions.
func (s *Scenario) SteadyTimeline() []Step {
	if s.Steady.FaultsSet {
		return s.unroll(s.Steady.Faults)
	}
	steps := s.Timeline()
	for i := range steps {
		var kept []Action
		for _, a := range steps[i].Actions {
			if a.Kind == Pause || a.Kind == Drift || a.Kind == SetLoss {
				kept = append(kept, a)
			}
		}
		steps[i].Actions = kept
	}
	return steps
}

func (s *Scenario) unroll(steps []Step) []Step {
	var out []Step
	var walk func([]Step)
	walk = func(steps []Step) {
		for _, st := range steps {
			if st.Repeat == 0 {
				if st.DelayInHeartbeat {
					st.Delay = sim.UniformDist(0, s.Cluster.HeartbeatInterval())
				}
				st.Index = len(out) + 1
				out = append(out, st)
				continue
			}
			for i := 0; i < st.Repeat; i++ {
				walk(st.Steps)
			}
		}
	}
	walk(steps)
	return out
}

// selectors returns every selector of the action.
func (a *Action) selectors() []Selector {
	sels := append([]Selector{a.Nodes, a.From, a.To}, a.Groups...)
	if c := a.Assert; c != nil {
		sels = append(sels, c.Is, c.Among)
		if c.Not != nil {
			sels = append(sels, *c.Not)
		}
	}
	return sels
}

// named returns the nodes sel names by name, itself or in its items.
func (sel Selector) named() []int {
	ids := slices.Clone(sel.IDs)
	for _, item := range sel.Items {
		ids = append(ids, item.named()...)
	}
	return ids
}

// Checks counts the check actions of the timeline, repeats unrolled.
func (s *Scenario) Checks() int {
	n := 0
	for _, st := range s.Timeline() {
		for _, a := range st.Actions {
			if a.Kind == Check {
				n++
			}
		}
	}
	return n
}
