package trial

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Plan is a scenario made ready for running many trials, in the simulator
// or live. It is read-only once made, and may be shared by many drivers.
type Plan struct {
	Scenario *scenarios.Scenario
	steps    []scenarios.Step
	links    []linkRule
	// steady, when above 0, makes every trial a steady-state run: it
	// measures stability for this long from the first leader on.
	steady time.Duration
}

type linkRule struct {
	from, to int
	link     sim.Link
}

// NewPlan prepares s for running. s must be valid, as
// [scenarios.Overrides.Apply] returns scenarios: plans trust it.
func NewPlan(s *scenarios.Scenario) *Plan {
	return &Plan{Scenario: s, steps: s.Timeline(), links: linkRules(s)}
}

// NewSteadyPlan prepares steady-state runs of s, each measuring run of
// virtual time from its first leader on, under the scenario's network and
// background faults ([scenarios.Scenario.SteadyTimeline]). Invariants are
// checked; the scenario's other expectations are about its failure, not
// its weather, and are not.
func NewSteadyPlan(s *scenarios.Scenario, run time.Duration) (*Plan, error) {
	if run <= 0 {
		return nil, fmt.Errorf("steady-state run of %v: want above 0", run)
	}
	return &Plan{Scenario: s, steps: s.SteadyTimeline(), links: linkRules(s), steady: run}, nil
}

// SeedOf returns the seed of trial index of a run with the given scenario
// seed: the scenario's own trial_seeds when it lists them (they name
// trials exactly, as a failure report does), else one derived from the
// scenario seed and the index.
func (p *Plan) SeedOf(scenarioSeed uint64, index int) uint64 {
	if ts := p.Scenario.TrialSeeds; ts != nil && p.steady == 0 {
		return ts[index%len(ts)]
	}
	return Seed(scenarioSeed, index)
}

// Steady returns the length of each steady-state run, or 0 for a plan of
// ordinary trials.
func (p *Plan) Steady() time.Duration { return p.steady }

func linkRules(s *scenarios.Scenario) []linkRule {
	var rules []linkRule
	def := (&Plan{Scenario: s}).DefaultLink()
	n := s.Cluster.Nodes
	expand := func(sel scenarios.Selector) []int {
		if sel.Kind == scenarios.All {
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			return all
		}
		return sel.IDs
	}
	for _, o := range s.Network.Links {
		l := def
		if o.Latency != nil {
			l.Latency = *o.Latency
		}
		if o.Loss != nil {
			l.Loss = *o.Loss
		}
		if o.Dup != nil {
			l.Dup = *o.Dup
		}
		for _, from := range expand(o.From) {
			for _, to := range expand(o.To) {
				if from == to {
					continue
				}
				rules = append(rules, linkRule{from, to, l})
				if o.Both {
					rules = append(rules, linkRule{to, from, l})
				}
			}
		}
	}
	return rules
}

// DefaultLink returns how a link behaves that no link override names.
func (p *Plan) DefaultLink() sim.Link {
	net := &p.Scenario.Network
	return sim.Link{Latency: net.Latency, Loss: net.Loss, Dup: net.Dup}
}

// EachLink calls set for every link override, in order: a later one for
// the same link replaces an earlier one.
func (p *Plan) EachLink(set func(from, to int, l sim.Link)) {
	for _, r := range p.links {
		set(r.from, r.to, r.link)
	}
}

// Link returns how the link from → to behaves in the plan's scenario: the
// network's default, or the last of its link overrides that names the link.
func (p *Plan) Link(from, to int) sim.Link {
	l := p.DefaultLink()
	for _, r := range p.links {
		if r.from == from && r.to == to {
			l = r.link
		}
	}
	return l
}

// InitialLog returns the terms of node i's entries at the start of a
// trial: the scenario's cluster.logs, or none.
func (p *Plan) InitialLog(i int) []uint64 {
	var log []uint64
	for _, l := range p.Scenario.Cluster.Logs {
		if l.Node == i {
			log = l.Terms
		}
	}
	return log
}

// StartTime returns when node i boots in the trial whose streams seeds
// derive: the scenario's cluster.start, drawn from the node's own stream,
// or 0.
func (p *Plan) StartTime(seeds Seeds, i int) time.Duration {
	start := p.Scenario.Cluster.Start
	if len(start) == 0 {
		return 0
	}
	var r sim.Rand
	r.Seed(seeds.Start(i))
	return start[min(i, len(start)-1)].Sample(&r)
}
