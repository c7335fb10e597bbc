package main

import (
	"github.com/raftsim/raftsim/internal/node/etcdnode"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

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
