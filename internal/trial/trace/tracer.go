package trace

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// Tracer receives every event of a trial, in order.
type Tracer interface {
	Event(e *Event)
}

// Recorder is a [DetailTracer] that keeps every event and every detail.
type Recorder struct {
	Events  []Event
	Details []Detail
}

// Event implements [Tracer].
func (r *Recorder) Event(e *Event) { r.Events = append(r.Events, *e) }

// Detail implements [DetailTracer].
func (r *Recorder) Detail(d *Detail) { r.Details = append(r.Details, *d) }

// TextWriter is a [Tracer] that writes one line per event.
type TextWriter struct {
	w   *bufio.Writer
	err error
}

// NewTextWriter returns a tracer writing lines to w; call Flush at the end.
func NewTextWriter(w io.Writer) *TextWriter { return &TextWriter{w: bufio.NewWriter(w)} }

// Event implements [Tracer].
func (t *TextWriter) Event(e *Event) {
	if t.err == nil {
		_, t.err = t.w.WriteString(e.Line() + "\n")
	}
}

// Flush writes what is buffered and returns the first write error.
func (t *TextWriter) Flush() error {
	if t.err != nil {
		return t.err
	}
	return t.w.Flush()
}

// Tee is a [Tracer] that hands every event to each of its tracers.
type Tee []Tracer

// Event implements [Tracer].
func (t Tee) Event(e *Event) {
	for _, x := range t {
		x.Event(e)
	}
}

// Tail is a [Tracer] that keeps only the last N lines.
type Tail struct {
	N     int
	lines []string
	next  int
}

// Event implements [Tracer].
func (t *Tail) Event(e *Event) {
	if len(t.lines) < t.N {
		t.lines = append(t.lines, e.Line())
		return
	}
	t.lines[t.next] = e.Line()
	t.next = (t.next + 1) % t.N
}

// Lines returns the kept lines, oldest first.
func (t *Tail) Lines() []string {
	return append(append([]string(nil), t.lines[t.next:]...), t.lines[:t.next]...)
}

// Hash is a [Tracer] that computes the SHA-256 of the text trace, one
// line per event: two trials with the same hash are the same trial, event
// for event. It is the one trace hash replay and check print.
type Hash struct {
	h hash.Hash
}

// NewHash returns an empty trace hash.
func NewHash() *Hash { return &Hash{h: sha256.New()} }

// Event implements [Tracer].
func (h *Hash) Event(e *Event) { io.WriteString(h.h, e.Line()+"\n") }

// Sum returns the hash of the events so far, in hex.
func (h *Hash) Sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// HashOf returns the hash of events.
func HashOf(events []Event) string {
	h := NewHash()
	for i := range events {
		h.Event(&events[i])
	}
	return h.Sum()
}
