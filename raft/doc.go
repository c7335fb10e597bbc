// Package raft is the Raft node of raftsim's leader-election model, written
// as a pure state machine in the way of etcd's raft. A driver hands the node
// one input at a time — a message ([Node.Step]), a timer that fired
// ([Node.Tick]) or entries to append ([Node.Propose]) — and after each input
// drains one [Ready]: the messages to send, the timers to arm or stop, the
// node's state when it changed, the log entries to make durable, and whether
// term, vote or log must reach stable storage before the messages leave.
// The node follows the Raft paper's Figure 2 and §5.2/§5.4.1, with Pre-Vote,
// CheckQuorum and leader stickiness as options and a set of deliberate bugs
// for teaching.
//
// raft must never start goroutines, read a clock, use a global random source,
// do I/O or import another package of this module: time is whatever the
// driver passes in, and randomness comes from the [Rand] the driver injects.
// The simulator's trial driver is one driver; the real-time driver behind
// raftsim serve is another, so nothing here may assume either.
package raft
