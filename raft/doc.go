// Package raft is the Raft node of raftsim's leader-election model, written
// as a pure state machine: messages and timer expiries go in through
// [Node.Step] and [Node.Tick], messages come out of [Node.Messages], and the
// node says when its timers should fire through [Node.Timer]. It follows the
// Raft paper's Figure 2 and §5.2/§5.4.1, with Pre-Vote, CheckQuorum and
// leader stickiness as options and a set of deliberate bugs for teaching.
//
// raft must never start goroutines, read a clock, use a global random source
// or do I/O: time is whatever the driver passes in, and randomness comes from
// the generator the driver injects. The simulator is one driver; a real-time
// driver over a network is another, so nothing here may assume the
// simulator.
package raft
