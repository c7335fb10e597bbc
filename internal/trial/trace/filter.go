package trace

import (
	"bufio"
	"io"
	"slices"
	"time"
)

// Filter selects events: by node, by virtual time and by kind. The zero
// Filter keeps everything.
type Filter struct {
	Nodes    []int // keep events at these nodes (messages: at either end); nil keeps all
	From, To time.Duration
	HasTo    bool
	Kinds    []EventKind // nil keeps all
}

// Keep reports whether e passes the filter. Cluster-wide events (faults,
// notes, violations) pass a node filter.
func (f *Filter) Keep(e *Event) bool {
	if !f.keepsTimeAndKind(e) {
		return false
	}
	if f.Nodes == nil || e.Node < 0 {
		return true
	}
	if slices.Contains(f.Nodes, e.Node) {
		return true
	}
	switch e.Kind {
	case EvSend, EvRecv, EvDrop, EvDup:
		return slices.Contains(f.Nodes, e.Peer)
	}
	return false
}

// keepsKind reports whether f keeps any of the kinds.
func (f *Filter) keepsKind(kinds ...EventKind) bool {
	if f.Kinds == nil {
		return true
	}
	for _, k := range kinds {
		if slices.Contains(f.Kinds, k) {
			return true
		}
	}
	return false
}

// keepsTimeAndKind is Keep without the node filter: for cluster-wide
// events drawn across every lane.
func (f *Filter) keepsTimeAndKind(e *Event) bool {
	return e.At >= f.From && (!f.HasTo || e.At <= f.To) && f.keepsKind(e.Kind)
}

// Select returns the events f keeps, in order.
func (f *Filter) Select(events []Event) []Event {
	var out []Event
	for i := range events {
		if f.Keep(&events[i]) {
			out = append(out, events[i])
		}
	}
	return out
}

// WriteText writes one line per event.
func WriteText(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	for i := range events {
		bw.WriteString(events[i].Line())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
