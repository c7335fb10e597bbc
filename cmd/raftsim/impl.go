package main

import (
	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/scenarios"
)

// swarmScenario draws the scenario of swarm trial seed and applies the
// overrides o to it; under --impl etcd, the drawn timing is first put on
// etcd's ticks (swarm.OnTicks), which etcd could not run otherwise.
func swarmScenario(o scenarios.Overrides, seed uint64) (*scenarios.Scenario, error) {
	s := swarm.Scenario(seed)
	if o.Text("impl") == scenarios.ImplEtcd.String() {
		tick := scenarios.DefaultTick
		if text := o.Text("tick"); text != "" {
			tick, _ = scenarios.ParseDuration(text) // canonical: Set read it
		}
		swarm.OnTicks(s, tick)
	}
	return o.Apply(s)
}
