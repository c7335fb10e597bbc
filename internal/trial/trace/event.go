package trace

import (
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// EventKind says what a trace [Event] records.
type EventKind uint8

// The kinds of trace events.
const (
	EvStart     EventKind = iota // a node booted (or rebooted)
	EvTimeout                    // a node's timer fired
	EvState                      // a node changed role or term
	EvVote                       // a node voted
	EvCommit                     // a node's commit index advanced
	EvSend                       // a message was sent (and when it will arrive)
	EvRecv                       // a message was delivered
	EvDrop                       // a message was dropped
	EvDup                        // a message was duplicated
	EvFault                      // a fault was applied
	EvDown                       // a node crashed
	EvPause                      // a node froze
	EvResume                     // a paused node woke up
	EvViolation                  // an invariant or expectation failed
	EvNote                       // anything else worth a line: a step waiting, measurement marks
	numEventKinds
)

var eventKindNames = [...]string{EvStart: "start", EvTimeout: "timeout", EvState: "state", EvVote: "vote",
	EvCommit: "commit", EvSend: "send", EvRecv: "recv", EvDrop: "drop", EvDup: "dup", EvFault: "fault",
	EvDown: "down", EvPause: "pause", EvResume: "resume", EvViolation: "violation", EvNote: "note"}

func (k EventKind) String() string { return eventKindNames[k] }

// ParseEventKind returns the kind named s.
func ParseEventKind(s string) (EventKind, bool) {
	for k, name := range eventKindNames {
		if name == s {
			return EventKind(k), true
		}
	}
	return 0, false
}

// EventKindNames lists the names of every event kind.
func EventKindNames() []string { return append([]string(nil), eventKindNames[:]...) }

// Event is one line of a trial's trace.
type Event struct {
	Seq    uint64        // position in the trace, from 0
	At     time.Duration // virtual time
	Kind   EventKind
	Node   int // the node it happened at, or -1 for the cluster
	Peer   int // messages: the other end (sender of a recv, receiver of a send)
	Msg    raft.Message
	Role   raft.Role // EvStart, EvState: the new role
	Term   uint64    // EvStart, EvState, EvVote: the term; EvCommit: the index
	Vote   int       // EvVote: the candidate
	Timer  raft.Timer
	Arrive time.Duration // EvSend, EvDup: arrival time; EvPause: when it ends
	Reason string        // EvDrop: why
	Text   string        // EvFault, EvViolation, EvNote: what
}

// FormatTime prints virtual time as trace lines show it: t=152.301ms.
func FormatTime(t time.Duration) string {
	return strconv.FormatFloat(float64(t)/1e6, 'f', 3, 64) + "ms"
}

// Line formats e as one stable, greppable trace line, for example
//
//	t=152.301ms n3 timeout election
//	t=159.870ms n3->n1 send RequestVote term=4 log=2/7 arrive=166.204ms
func (e *Event) Line() string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(FormatTime(e.At))
	b.WriteByte(' ')
	switch e.Kind {
	case EvSend, EvDup:
		b.WriteString(raft.ID(e.Node).String() + "->" + raft.ID(e.Peer).String())
	case EvRecv, EvDrop:
		b.WriteString(raft.ID(e.Peer).String() + "->" + raft.ID(e.Node).String())
	default:
		if e.Node >= 0 {
			b.WriteString(raft.ID(e.Node).String())
		} else {
			b.WriteString("cluster")
		}
	}
	b.WriteByte(' ')
	b.WriteString(e.Kind.String())
	switch e.Kind {
	case EvStart, EvState:
		b.WriteString(" " + e.Role.String() + " term=" + strconv.FormatUint(e.Term, 10))
	case EvTimeout:
		b.WriteString(" " + e.Timer.String())
	case EvVote:
		b.WriteString(" " + raft.ID(e.Vote).String() + " term=" + strconv.FormatUint(e.Term, 10))
	case EvCommit:
		b.WriteString(" index=" + strconv.FormatUint(e.Term, 10))
	case EvSend, EvDup:
		b.WriteString(" " + e.Msg.String())
		if e.Arrive > 0 {
			b.WriteString(" arrive=" + FormatTime(e.Arrive))
		}
	case EvRecv:
		b.WriteString(" " + e.Msg.String())
	case EvDrop:
		b.WriteString(" " + e.Msg.String() + " reason=" + e.Reason)
	case EvPause:
		b.WriteString(" until=" + FormatTime(e.Arrive))
	default:
		if e.Text != "" {
			b.WriteString(" " + e.Text)
		}
	}
	return b.String()
}
