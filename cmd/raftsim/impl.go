package main

import (
	"github.com/raftsim/raftsim/internal/node/etcdnode"
	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/raft"
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

// serveMachine returns what makes raftsim serve's node for the cluster c:
// nil for raftsim's own, or etcd's raft in c's ticks.
func serveMachine(c *scenarios.Cluster) func(raft.Config, raft.Rand) raft.Machine {
	if c.Impl != scenarios.ImplEtcd {
		return nil
	}
	ticks, err := c.Etcd()
	if err != nil {
		panic("serve: a validated cluster etcd cannot run: " + err.Error())
	}
	return func(cfg raft.Config, r raft.Rand) raft.Machine { return etcdnode.New(cfg, ticks, r) }
}
