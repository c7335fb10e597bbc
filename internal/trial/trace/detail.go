package trace

import (
	"time"

	"github.com/raftsim/raftsim/raft"
)

// DetailKind says what a [Detail] records.
type DetailKind uint8

// The kinds of details.
const (
	DetailBoot  DetailKind = iota // Node booted in State; its start line says role and term, not vote or commit index
	DetailTimer                   // Node's election timer now fires at Due, or is stopped (Due < 0)
	DetailLog                     // Node's log from Index on now holds Terms, and nothing after them
	DetailLinks                   // the links that drop every message are now Blocked
)

// Detail is something a trial's text trace leaves out but a picture of the
// trial needs: when each node's election timer will fire, what its log
// holds, which links are cut. Details are no lines of the trace: the text,
// its hash and the filters never see them, so adding a detail changes no
// golden trace. A driver hands them only to a [DetailTracer].
type Detail struct {
	// Before is the Seq of the event the detail comes before: it happened
	// after every event of a lower Seq, at virtual time At.
	Before  uint64
	At      time.Duration
	Kind    DetailKind
	Node    int           // -1 for DetailLinks
	State   raft.State    // DetailBoot
	Due     time.Duration // DetailTimer: virtual time; -1 when stopped
	Index   uint64        // DetailLog: the first index written
	Terms   []uint64      // DetailLog: the terms of entries Index, Index+1, ...
	Blocked [][2]int      // DetailLinks: directed links (from, to), in order
}

// DetailTracer is a [Tracer] that also hears the details of a trial.
type DetailTracer interface {
	Tracer
	Detail(d *Detail)
}
