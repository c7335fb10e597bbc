package raft

import "time"

// Machine is a Raft node as a driver sees it: inputs go in one at a time,
// and after each the driver drains one [Ready]. *[Node] is one; a node of
// another implementation is another when it translates its messages and
// Readys into this package's (raftsim's internal/trial/etcdnode does so for
// etcd's raft), so that the simulator's trial driver and the real-time
// driver behind raftsim serve run either without knowing which.
type Machine interface {
	// Reset makes the machine a fresh node with configuration cfg: term 0,
	// no vote, an empty log, not started.
	Reset(cfg Config)
	// Restore gives a node that has not started the state it keeps on
	// stable storage, as [Node.Restore] does.
	Restore(term uint64, vote ID, log []uint64)
	// Start boots the node for the first time; Restart boots it again after
	// a crash, with its persistent state and nothing else.
	Start(now time.Duration)
	Restart(now time.Duration)
	// Step hands the node a message addressed to it.
	Step(now time.Duration, m *Message)
	// Tick tells the node that its timer t has fired.
	Tick(now time.Duration, t Timer)
	// Propose makes a leader append count entries; it reports false,
	// doing nothing, when the node does not lead.
	Propose(now time.Duration, count int) bool
	// Ready drains what the node did since the previous Ready.
	Ready() *Ready
	// State returns the node's state now.
	State() State
}

var _ Machine = (*Node)(nil)
