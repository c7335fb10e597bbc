// Package timeline turns the events of one traced trial into what people
// and tools read: filtered text lines, JSON lines, the Chrome / Perfetto
// trace-event format, and an SVG swimlane picture. It only reads events;
// running trials is package trial's job.
package timeline

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/trial"
)

// Filter selects events: by node, by virtual time and by kind. The zero
// Filter keeps everything.
type Filter struct {
	Nodes    []int // keep events at these nodes (messages: at either end); nil keeps all
	From, To time.Duration
	HasTo    bool
	Kinds    []trial.EventKind // nil keeps all
}

// Keep reports whether e passes the filter. Cluster-wide events (faults,
// notes, violations) pass a node filter.
func (f *Filter) Keep(e *trial.Event) bool {
	if e.At < f.From || f.HasTo && e.At > f.To {
		return false
	}
	if f.Kinds != nil && !slices.Contains(f.Kinds, e.Kind) {
		return false
	}
	if f.Nodes == nil || e.Node < 0 {
		return true
	}
	if slices.Contains(f.Nodes, e.Node) {
		return true
	}
	switch e.Kind {
	case trial.EvSend, trial.EvRecv, trial.EvDrop, trial.EvDup:
		return slices.Contains(f.Nodes, e.Peer)
	}
	return false
}

// Select returns the events f keeps, in order.
func (f *Filter) Select(events []trial.Event) []trial.Event {
	var out []trial.Event
	for i := range events {
		if f.Keep(&events[i]) {
			out = append(out, events[i])
		}
	}
	return out
}

// WriteText writes one line per event.
func WriteText(w io.Writer, events []trial.Event) error {
	bw := bufio.NewWriter(w)
	for i := range events {
		bw.WriteString(events[i].Line())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// jsonEvent is the machine-readable form of an event: one JSON object a line.
type jsonEvent struct {
	Seq      uint64   `json:"seq"`
	TNs      int64    `json:"t_ns"`
	Kind     string   `json:"kind"`
	Node     string   `json:"node"`
	Peer     string   `json:"peer,omitempty"`
	Msg      *jsonMsg `json:"msg,omitempty"`
	Role     string   `json:"role,omitempty"`
	Term     *uint64  `json:"term,omitempty"`
	Index    *uint64  `json:"index,omitempty"`
	Vote     string   `json:"vote,omitempty"`
	Timer    string   `json:"timer,omitempty"`
	ArriveNs *int64   `json:"arrive_ns,omitempty"`
	UntilNs  *int64   `json:"until_ns,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Text     string   `json:"text,omitempty"`
	Line     string   `json:"line"`
}

type jsonMsg struct {
	Type    string   `json:"type"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Term    uint64   `json:"term"`
	LogTerm uint64   `json:"log_term"`
	Index   uint64   `json:"index"`
	Commit  uint64   `json:"commit,omitempty"`
	Entries []uint64 `json:"entries,omitempty"`
	Reject  bool     `json:"reject,omitempty"`
}

func nodeName(i int) string {
	if i < 0 {
		return "cluster"
	}
	return raft.ID(i).String()
}

func toJSON(e *trial.Event) jsonEvent {
	j := jsonEvent{Seq: e.Seq, TNs: int64(e.At), Kind: e.Kind.String(), Node: nodeName(e.Node), Line: e.Line()}
	u := func(x uint64) *uint64 { return &x }
	t := func(x time.Duration) *int64 { v := int64(x); return &v }
	switch e.Kind {
	case trial.EvSend, trial.EvRecv, trial.EvDrop, trial.EvDup:
		m := &e.Msg
		j.Peer = nodeName(e.Peer)
		j.Msg = &jsonMsg{Type: m.Type.String(), From: m.From.String(), To: m.To.String(), Term: m.Term,
			LogTerm: m.LogTerm, Index: m.Index, Commit: m.Commit, Entries: append([]uint64(nil), m.Entries[:m.NEntries]...), Reject: m.Reject}
		if e.Kind == trial.EvDrop {
			j.Reason = e.Reason
		}
		if e.Arrive > 0 {
			j.ArriveNs = t(e.Arrive)
		}
	case trial.EvStart, trial.EvState:
		j.Role, j.Term = e.Role.String(), u(e.Term)
	case trial.EvVote:
		j.Vote, j.Term = nodeName(e.Vote), u(e.Term)
	case trial.EvCommit:
		j.Index = u(e.Term)
	case trial.EvTimeout:
		j.Timer = e.Timer.String()
	case trial.EvPause:
		j.UntilNs = t(e.Arrive)
	default:
		j.Text = e.Text
	}
	return j
}

// WriteJSONL writes one JSON object per event, each on its own line.
func WriteJSONL(w io.Writer, events []trial.Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range events {
		if err := enc.Encode(toJSON(&events[i])); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func itoa(i int) string { return strconv.Itoa(i) }
