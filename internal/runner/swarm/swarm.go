// Package swarm draws a trial's whole configuration from its seed, as
// TigerBeetle's simulator does: cluster size, timeouts, the latency
// distribution, loss, duplication, protocol options and a timeline of
// partitions, cuts, crashes, pauses, drift and writes, with some kinds of
// fault switched off entirely. Swarm testing reaches corners that fixed
// scenarios never do. After the fault phase everything is healed and the
// cluster must converge on a working leader within a bound that holds by
// construction: [Converge] derives it from the configuration so that an
// honest node misses it with probability below [Level]. A configuration
// for which no bound up to [MaxWithin] can be derived is drawn all the
// same, with its safety invariants and no liveness expectation.
//
// A swarm configuration must be a pure function of the trial seed (and the
// overrides): swarm never reads the clock or a global random source.
package swarm

import (
	"fmt"
	"math"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Name is what swarm scenarios are called in reports.
const Name = "swarm"

// kinds of fault a swarm may switch on.
var faultKinds = []scenarios.ActionKind{scenarios.Crash, scenarios.Partition, scenarios.Isolate, scenarios.Cut,
	scenarios.Pause, scenarios.Drift, scenarios.SetLoss, scenarios.Write}

// Scenario returns the scenario that trial seed seed runs under --swarm.
// It is a pure function of the seed.
func Scenario(seed uint64) *scenarios.Scenario {
	s := draw(seed)
	expect(s)
	return s
}

// Draw returns the scenario that trial seed seed runs under --swarm with
// the overrides o, validated: its converge_within derived for the
// configuration the overrides make (a narrower timeout range needs a
// longer bound, or has none).
//
// Under --impl etcd the drawn timing is first put on etcd's ticks
// ([OnTicks]), which etcd could not run otherwise, and the liveness bound
// is derived for etcd's raft ([ConvergeEtcd]).
func Draw(seed uint64, o scenarios.Overrides) (*scenarios.Scenario, error) {
	s := draw(seed)
	tick, etcd := etcdTick(o)
	if etcd {
		OnTicks(s, tick)
	}
	s, err := o.Apply(s)
	if err != nil {
		return nil, err
	}
	if etcd {
		etcdBounds(s, tick) // of the timing the overrides left
		limit(s)
		return s, nil
	}
	expect(s)
	return s, nil
}

// BoundText says how the liveness bound of s, a drawn scenario, was derived.
func BoundText(s *scenarios.Scenario) string {
	if s.Cluster.Impl == scenarios.ImplEtcd {
		return ConvergeEtcd(s, Level, s.Cluster.TickLength()).String() +
			"; for etcd's raft: its timer restarts on any higher term, and its timeouts are whole ticks, two of them counted as timer jitter"
	}
	return Converge(s, Level).String()
}

// expect sets the liveness expectation of s, and a time limit that lets
// the trial put it to the test: its converge_within may be as long as
// MaxWithin, after a fault timeline of any length.
func expect(s *scenarios.Scenario) {
	s.Expect.ConvergeWithin = Converge(s, Level).Within
	limit(s)
}

// limit sets the time limit of s, a drawn scenario, to let its
// converge_within run out after its fault timeline.
func limit(s *scenarios.Scenario) {
	for _, st := range s.Faults {
		s.Measure.Limit += max(0, st.Delay.Max()) // constant in a swarm
	}
	s.Measure.Limit = (s.Measure.Limit + s.Expect.ConvergeWithin + time.Millisecond - 1).Truncate(time.Millisecond)
}

// draw draws the configuration of seed, without its liveness expectation.
func draw(seed uint64) *scenarios.Scenario {
	r := sim.NewRand(trial.Seeds(seed).Swarm())
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	coin := func(p float64) bool { return r.Chance(p) }

	s := &scenarios.Scenario{Name: Name, Trials: 1, Seed: seed}
	c := &s.Cluster
	c.Nodes = []int{1, 2, 3, 3, 3, 4, 5, 5, 5, 5, 6, 7, 7, 9}[r.Intn(14)]
	min := ms(20 * math.Pow(25, r.Float64())) // 20ms to 500ms, log-uniform
	c.ElectionTimeout = scenarios.Range{Min: min, Max: ms(float64(min) / 1e6 * uniform(1.2, 3))}
	c.Heartbeat.D = ms(float64(min) / 1e6 * uniform(0.1, 0.5))
	c.Options.PreVote = coin(0.5)
	c.Options.CheckQuorum = coin(0.5)
	c.Options.LeaderStickiness = coin(0.3)
	c.Options.ResetTimerOnStepDown = coin(0.3)

	// Latency well below the timeouts: Raft's timing requirement, without
	// which no bound on convergence would hold.
	mean := float64(min) / 1e6 * uniform(0.005, 0.12)
	nw := &s.Network
	switch r.Intn(5) {
	case 0:
		nw.Latency = sim.ConstDist(ms(mean))
	case 1:
		nw.Latency = sim.UniformDist(ms(mean/2), ms(mean*1.5))
	case 2:
		nw.Latency = mustDist(sim.Normal, us(mean), us(mean/3))
	case 3:
		nw.Latency = mustDist(sim.Exp, us(mean/2), us(mean))
	default:
		nw.Latency = mustDist(sim.LogNormal, us(mean), us(mean/2))
	}
	if coin(0.5) {
		nw.Loss = uniform(0, 0.1)
	}
	if coin(0.3) {
		nw.Dup = uniform(0, 0.05)
	}
	nw.FIFO = coin(0.3)

	// The fault phase: some kinds on, the rest off entirely.
	var on []scenarios.ActionKind
	for _, k := range faultKinds {
		if coin(0.5) {
			on = append(on, k)
		}
	}
	maxT := float64(c.ElectionTimeout.Max) / 1e6
	steps := []scenarios.Step{{After: scenarios.AfterLeaderElected, Note: "the first leader"}}
	for i, n := 0, r.Intn(16); i < n && len(on) > 0; i++ {
		st := scenarios.Step{Delay: sim.ConstDist(ms(maxT * 4 * r.Exp()))}
		st.Actions = append(st.Actions, action(r, on[r.Intn(len(on))], c.Nodes, maxT))
		if coin(0.3) {
			st.Actions = append(st.Actions, scenarios.Action{Kind: scenarios.Heal, Reach: -1})
		}
		steps = append(steps, st)
	}
	// Heal everything, bring every node back, and stop the weather from
	// getting worse: then the cluster must converge.
	all := scenarios.Selector{Kind: scenarios.All, Text: "all"}
	steps = append(steps, scenarios.Step{Delay: sim.ConstDist(ms(maxT)), Note: "heal everything", Actions: []scenarios.Action{
		{Kind: scenarios.Heal, Reach: -1},
		{Kind: scenarios.Restart, Nodes: all, Reach: -1},
		{Kind: scenarios.Drift, Nodes: all, Factor: 1, Reach: -1},
		{Kind: scenarios.SetLoss, Loss: nw.Loss, Reach: -1},
	}})
	s.Faults = steps
	s.Measure = scenarios.Measure{From: scenarios.FromStart, Until: scenarios.UntilLeader,
		Settle: ms(maxT * 2), SettleSet: true, Limit: 10 * time.Minute} // and the timeline and the bound: see expect
	s.Expect = scenarios.Expect{Invariants: scenarios.AllInvariants()}
	return s
}

// action draws one fault of kind k.
func action(r *sim.Rand, k scenarios.ActionKind, nodes int, maxT float64) scenarios.Action {
	some := func() scenarios.Selector {
		switch r.Intn(3) {
		case 0:
			return scenarios.Selector{Kind: scenarios.Leader, Text: "leader"}
		case 1:
			n := 1 + r.Intn(max(1, nodes/2))
			return scenarios.Selector{Kind: scenarios.Random, Count: n, Text: fmt.Sprintf("random:%d", n)}
		}
		id := r.Intn(nodes)
		return scenarios.Selector{Kind: scenarios.Named, IDs: []int{id}, Text: scenarios.NodeName(id)}
	}
	a := scenarios.Action{Kind: k, Reach: -1}
	switch k {
	case scenarios.Crash:
		a.Nodes = some()
		if r.Chance(0.7) {
			d := sim.ConstDist(ms(maxT * 3 * r.Exp()))
			a.RestartAfter = &d
		}
	case scenarios.Partition:
		n := 1 + r.Intn(max(1, nodes-1))
		a.Groups = []scenarios.Selector{{Kind: scenarios.Random, Count: n, Text: fmt.Sprintf("random:%d", n)}}
	case scenarios.Isolate:
		a.Nodes = some()
	case scenarios.Cut:
		a.From, a.To = some(), some()
	case scenarios.Pause:
		a.Nodes = some()
		a.For = sim.ConstDist(ms(maxT * 2 * r.Exp()))
	case scenarios.Drift:
		a.Nodes = some()
		a.Factor = 0.9 + 0.2*r.Float64()
	case scenarios.SetLoss:
		a.Loss = 0.3 * r.Float64()
	case scenarios.Write:
		a.Entries = 1 + r.Intn(3)
		if nodes > 1 && r.Chance(0.7) {
			a.Reach = r.Intn(nodes)
		}
	}
	return a
}

// ms turns milliseconds into a duration rounded to the microsecond, so that
// a last-bit difference in floating point never shows.
func ms(x float64) time.Duration { return time.Duration(math.Round(x*1000)) * time.Microsecond }

// us turns milliseconds into a whole number of microseconds, one above the
// rounded value so that it is never 0.
func us(ms float64) time.Duration { return (time.Duration(math.Round(ms*1000)) + 1) * time.Microsecond }

func mustDist(kind sim.DistKind, a, b time.Duration) sim.Dist {
	d, err := sim.NewDist(kind, a, b)
	if err != nil {
		panic(err)
	}
	return d
}
