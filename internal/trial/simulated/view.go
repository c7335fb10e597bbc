package simulated

import (
	"time"

	"github.com/raftsim/raftsim/raft"
)

// change is what one Ready changed.
type change struct {
	Prev raft.State // the state the node reported before
	// Wrote is the lowest log index the Ready wrote, or 0 when it wrote
	// none; at or below Prev.LastIndex, it overwrote entries.
	Wrote uint64
}

// roleOrTerm reports whether the role or the term changed.
func (c *change) roleOrTerm(cur *raft.State) bool {
	return cur.Role != c.Prev.Role || cur.Term != c.Prev.Term
}

// overwrote reports whether the Ready replaced entries the node held.
func (c *change) overwrote() bool { return c.Wrote > 0 && c.Wrote <= c.Prev.LastIndex }

// faultKind says what a [fault] was.
type faultKind uint8

// The faults.
const (
	faultAction faultKind = iota // a fault step's action; Text says what it did
	faultBoot                    // Node started, or restarted after a crash
	faultCrash                   // Node crashed
	faultPause                   // Node froze until Until
	faultResume                  // Node woke up
)

// fault is one thing a fault did, as the tracer hears it.
type fault struct {
	Kind  faultKind
	Node  int           // the node, or -1
	Text  string        // faultAction: as the trace shows it
	Until time.Duration // faultPause: when the node wakes up
	State raft.State    // faultBoot: the state the node booted in
}

// logs are the terms of each node's entries 1, 2, ..., as its Readys wrote
// them: what the safety checker and the tracer know of the nodes' logs.
type logs [][]uint64

func (l *logs) reset(n int) {
	for len(*l) < n {
		*l = append(*l, nil)
	}
	*l = (*l)[:n]
}

// write applies the log entries of a Ready to node i's log.
func (l logs) write(i int, first uint64, entries []uint64) {
	l[i] = append(l[i][:first-1], entries...)
}

// LogTerm returns the term of node i's entry idx, or 0 when it has none:
// logs are the safety checker's Logs (package safety). The receiver is a
// pointer, so that handing the logs to the checker as an interface does
// not allocate.
func (l *logs) LogTerm(i int, idx uint64) uint64 {
	if idx == 0 || idx > uint64(len((*l)[i])) {
		return 0
	}
	return (*l)[i][idx-1]
}

// setLen returns s with length n, reusing its storage when it is big
// enough; the elements it reuses keep their values.
func setLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
