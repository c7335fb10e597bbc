package trial

import (
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Observer is what happens in a trial, in order, as a concern of the trial
// hears it: the tracer, the safety checker, the fault timeline and the
// meter are each one (the watchdog only looks at the view when the driver
// asks it to). None of them reads a node. A concern implements the
// observations it listens to and embeds noObserver for the rest; the
// driver's dispatch methods (driver.go) list who hears what.
type Observer interface {
	// StateChanged: node i reported a new state in a Ready, or wrote log
	// entries. The view holds the new state and log; c says what changed.
	StateChanged(i int, c Change)
	// TimerFired: node i's timer t fired; the node has not handled it yet.
	TimerFired(i int, t raft.Timer)
	// Sent: node i sent m; fate is what the network did with it.
	Sent(i int, m *raft.Message, fate sim.Sent)
	// Delivered: m reached node i, or was dropped on arrival when reason
	// says why.
	Delivered(i int, m *raft.Message, reason sim.DropReason)
	// Faulted: a fault happened: a step's action, or a node booting,
	// crashing, pausing or waking up.
	Faulted(f Fault)
}

// Change is what one Ready changed.
type Change struct {
	Prev raft.State // the state the node reported before
	// Wrote is the lowest log index the Ready wrote, or 0 when it wrote
	// none; at or below Prev.LastIndex, it overwrote entries.
	Wrote uint64
}

// roleOrTerm reports whether the role or the term changed.
func (c *Change) roleOrTerm(cur *raft.State) bool {
	return cur.Role != c.Prev.Role || cur.Term != c.Prev.Term
}

// overwrote reports whether the Ready replaced entries the node held.
func (c *Change) overwrote() bool { return c.Wrote > 0 && c.Wrote <= c.Prev.LastIndex }

// FaultKind says what a [Fault] was.
type FaultKind uint8

// The faults.
const (
	FaultAction  FaultKind = iota // a fault step's action; Text says what it did
	FaultBoot                     // Node started, or restarted after a crash
	FaultCrash                    // Node crashed
	FaultPause                    // Node froze until Until
	FaultResume                   // Node woke up
	FaultNetwork                  // the network changed (part of an action)
)

// Fault is one thing a fault did.
type Fault struct {
	Kind  FaultKind
	Node  int           // the node, or -1
	Text  string        // FaultAction: as the trace shows it
	Until time.Duration // FaultPause: when the node wakes up
	State raft.State    // FaultBoot: the state the node booted in
}

// noObserver is an Observer that ignores everything; concerns embed it and
// implement what they need.
type noObserver struct{}

func (noObserver) StateChanged(int, Change)                     {}
func (noObserver) TimerFired(int, raft.Timer)                   {}
func (noObserver) Sent(int, *raft.Message, sim.Sent)            {}
func (noObserver) Delivered(int, *raft.Message, sim.DropReason) {}
func (noObserver) Faulted(Fault)                                {}

// view is what a trial's concerns may know of the cluster: what each node
// reported in its Readys (its state, and the log its Readys wrote), whether
// it has ever booted, and the simulator's view of which nodes run and which
// links are blocked. Nothing in it comes from reading a node, and the
// majority is counted from the cluster size.
type view struct {
	s        *sim.Sim[raft.Message]
	state    []raft.State // as each node last reported it
	logs     [][]uint64   // the terms of each node's entries 1, 2, ..., as its Readys wrote them
	booted   []bool
	majority int // ⌊N/2⌋+1 of the whole cluster

	topoDirty bool // nodes went up or down, or the network changed, since connected was computed
	connected bool // some majority of running nodes can all exchange messages
	seen      []bool
	stack     []int
	groupSize []int
}

func (v *view) reset(s *sim.Sim[raft.Message], n int) {
	v.s = s
	v.state = setLen(v.state, n)
	v.booted = setLen(v.booted, n)
	clear(v.booted)
	for len(v.logs) < n {
		v.logs = append(v.logs, nil)
	}
	v.logs = v.logs[:n]
	v.majority = n/2 + 1
	v.topoDirty = true
}

// write applies the log entries of a Ready to node i's log.
func (v *view) write(i int, first uint64, entries []uint64) {
	v.logs[i] = append(v.logs[i][:first-1], entries...)
}

// LogTerm returns the term of node i's entry idx, or 0 when it has none: the
// view is the safety checker's Logs (package safety).
func (v *view) LogTerm(i int, idx uint64) uint64 {
	if idx == 0 || idx > uint64(len(v.logs[i])) {
		return 0
	}
	return v.logs[i][idx-1]
}

func (v *view) n() int { return len(v.state) }

// running reports whether node i runs: not crashed and not paused.
func (v *view) running(i int) bool { return !v.s.Crashed(i) && !v.s.Paused(i) }

// up reports whether node i has booted and runs.
func (v *view) up(i int) bool { return v.booted[i] && v.running(i) }

// linked reports whether i and j can exchange messages both ways.
func (v *view) linked(i, j int) bool { return !v.s.Net.Blocked(i, j) && !v.s.Net.Blocked(j, i) }

// leads reports whether node i says it leads and is not down.
func (v *view) leads(i int) bool { return v.state[i].Role == raft.Leader && !v.s.Crashed(i) }

// currentLeader returns the live leader of the highest term, or -1.
func (v *view) currentLeader() int {
	best := -1
	for i := range v.state {
		if v.leads(i) && (best < 0 || v.state[i].Term > v.state[best].Term) {
			best = i
		}
	}
	return best
}

// reach counts the running nodes that i can exchange messages with, itself
// included.
func (v *view) reach(i int) int {
	n := 0
	for j := range v.state {
		if j == i || v.running(j) && v.linked(i, j) {
			n++
		}
	}
	return n
}

// removed reports whether leader can no longer lead: it is down, paused, no
// longer leader, or cut off from a majority.
func (v *view) removed(leader int) bool {
	return v.s.Crashed(leader) || v.s.Paused(leader) || v.state[leader].Role != raft.Leader ||
		v.reach(leader) < v.majority
}

// workingLeader returns a running leader that reaches a majority of running
// nodes, none of which has a higher term, or -1.
func (v *view) workingLeader() int {
	for i := range v.state {
		if v.state[i].Role != raft.Leader || !v.running(i) {
			continue
		}
		n := 0
		ok := true
		for j := range v.state {
			if j == i || v.running(j) && v.linked(i, j) {
				n++
				if v.state[j].Term > v.state[i].Term {
					ok = false
				}
			}
		}
		if ok && n >= v.majority {
			return i
		}
	}
	return -1
}

// majorityConnected reports whether some majority of booted, running nodes
// can all exchange messages, judged by their connected component. It is
// recomputed only when the topology changed.
func (v *view) majorityConnected() bool {
	if v.topoDirty {
		v.topoDirty = false
		v.connected = v.findMajority()
	}
	return v.connected
}

func (v *view) findMajority() bool {
	if v.s.Net.GroupsOnly() {
		// Partitions alone: a group is a component.
		v.groupSize = v.groupSize[:0]
		for i := range v.state {
			if !v.up(i) {
				continue
			}
			g := int(v.s.Net.Group(i))
			for len(v.groupSize) <= g {
				v.groupSize = append(v.groupSize, 0)
			}
			v.groupSize[g]++
			if v.groupSize[g] >= v.majority {
				return true
			}
		}
		return false
	}
	v.seen = setLen(v.seen, v.n())
	clear(v.seen)
	for start := range v.state {
		if v.seen[start] || !v.up(start) {
			continue
		}
		size := 0
		stack := append(v.stack[:0], start)
		v.seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			for j := range v.state {
				if !v.seen[j] && v.up(j) && v.linked(i, j) {
					v.seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		v.stack = stack
		if size >= v.majority {
			return true
		}
	}
	return false
}

// setLen returns s with length n, reusing its storage when it is big
// enough; the elements it reuses keep their values.
func setLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// maxTerm returns the highest term any node has reported.
func (v *view) maxTerm() uint64 {
	var t uint64
	for i := range v.state {
		t = max(t, v.state[i].Term)
	}
	return t
}
