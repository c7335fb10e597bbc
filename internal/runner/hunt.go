package runner

import (
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
	Base   *scenarios.Scenario
	fresh  func(seed uint64) (*scenarios.Scenario, error)
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
	return &Hunt{Base: s, shared: plan, fresh: func(uint64) (*scenarios.Scenario, error) { return fresh() }}, nil
}

// SwarmHunt hunts through trials whose scenario draw returns from each
// trial's seed.
func SwarmHunt(draw func(seed uint64) (*scenarios.Scenario, error)) (*Hunt, error) {
	base, err := draw(1)
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
	s, err := h.fresh(seed)
	if err != nil {
		return nil, 0, err
	}
	return trial.NewPlan(s), seed, nil
}

// Scenario returns a new copy of the scenario of the trial with the given
// seed, for shrinking. It built once already, so it builds again.
func (h *Hunt) Scenario(seed uint64) *scenarios.Scenario {
	s, err := h.fresh(seed)
	if err != nil {
		panic("runner: a hunt's scenario built once and not again: " + err.Error())
	}
	return s
}

// Swarm reports whether each trial draws its own scenario.
func (h *Hunt) Swarm() bool { return h.shared == nil }
