package runner

import (
	"strconv"

	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// A Hunt is what raftsim check hunts through: the trials of one scenario,
// which all share its plan, or, in a swarm, trials that each draw a whole
// scenario of their own from their seed.
type Hunt struct {
	// Base is the scenario of the hunt (in a swarm, the one drawn from seed
	// 1): its seed seeds the hunt's trials, and its name and bugs name the
	// hunt in reports.
	Base *scenarios.Scenario
	// fresh builds the scenario of the trial with the given seed and
	// cluster size (0: its own), as a replay command builds it.
	fresh  func(seed uint64, nodes int) (*scenarios.Scenario, error)
	shared *trial.Plan // the plan every trial shares; nil in a swarm
}

// ScenarioHunt hunts through the trials of the scenario that fresh returns,
// a new copy at each call (shrinking changes the copies it gets).
func ScenarioHunt(fresh func() (*scenarios.Scenario, error)) (*Hunt, error) {
	s, err := fresh()
	if err != nil {
		return nil, err
	}
	plan := trial.NewPlan(s)
	sized := func(_ uint64, nodes int) (*scenarios.Scenario, error) {
		s, err := fresh()
		if err != nil || nodes == 0 {
			return s, err
		}
		s.Cluster.Nodes = nodes // what --nodes does
		return s, s.Validate()
	}
	return &Hunt{Base: s, shared: plan, fresh: sized}, nil
}

// SwarmHunt hunts through trials that each draw their scenario from their
// seed with the overrides o ([swarm.Draw]).
func SwarmHunt(o scenarios.Overrides) (*Hunt, error) {
	draw := func(seed uint64, nodes int) (*scenarios.Scenario, error) {
		o := o // Set on a copy leaves the hunt's as it was
		if nodes > 0 {
			if err := o.Set("nodes", strconv.Itoa(nodes)); err != nil {
				return nil, err
			}
		}
		return swarm.Draw(seed, o)
	}
	base, err := draw(1, 0)
	if err != nil {
		return nil, err
	}
	return &Hunt{Base: base, fresh: draw}, nil
}

// Trial returns trial i's plan and seed: the hunt is a [Source].
func (h *Hunt) Trial(i int) (*trial.Plan, uint64, error) {
	if h.shared != nil {
		return h.shared, h.shared.SeedOf(h.Base.Seed, i), nil
	}
	seed := trial.Seed(h.Base.Seed, i)
	s, err := h.fresh(seed, 0)
	if err != nil {
		return nil, 0, err
	}
	return trial.NewPlan(s), seed, nil
}

// Scenario returns a new copy of the scenario of the trial with the given
// seed, for shrinking, with the given cluster size (0: its own), built as
// its replay command builds it with --nodes.
func (h *Hunt) Scenario(seed uint64, nodes int) (*scenarios.Scenario, error) {
	return h.fresh(seed, nodes)
}

// Swarm reports whether each trial draws its own scenario.
func (h *Hunt) Swarm() bool { return h.shared == nil }
