package trial

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/raftsim/raftsim/trace"
)

// tracing turns a trial's observations into trace events for its tracer.
// A violation is a trial's last event: anything after it is left out.
type tracing struct {
	d     *Driver
	out   trace.Tracer
	seq   uint64
	ended bool // the violation has been traced
}

func (t *tracing) reset(d *Driver) {
	t.d, t.seq, t.ended = d, 0, false
}

func (t *tracing) emit(e trace.Event) {
	if t.ended {
		return
	}
	t.ended = e.Kind == trace.EvViolation
	e.At = t.d.s.Now()
	e.Seq = t.seq
	t.seq++
	t.out.Event(&e)
}

// StateChanged implements [Observer]: role and term, vote, commit index.
func (t *tracing) StateChanged(i int, ch Change) {
	cur := &t.d.view.state[i]
	if ch.roleOrTerm(cur) {
		t.emit(trace.Event{Kind: trace.EvState, Node: i, Role: cur.Role, Term: cur.Term})
	}
	if cur.Vote != raft.None && (cur.Vote != ch.Prev.Vote || cur.Term != ch.Prev.Term) {
		t.emit(trace.Event{Kind: trace.EvVote, Node: i, Vote: int(cur.Vote), Term: cur.Term})
	}
	if cur.Commit > ch.Prev.Commit {
		t.emit(trace.Event{Kind: trace.EvCommit, Node: i, Term: cur.Commit})
	}
}

// TimerFired implements [Observer].
func (t *tracing) TimerFired(i int, tm raft.Timer) {
	t.emit(trace.Event{Kind: trace.EvTimeout, Node: i, Timer: tm})
}

// Sent implements [Observer]: a message sent, and its fate when sending
// decided it (lost, cut off, held back by a write, duplicated).
func (t *tracing) Sent(i int, m *raft.Message, fate sim.Sent) {
	to := int(m.To)
	switch {
	case fate.Copies == 0 && fate.Reason == sim.Discarded:
		t.emit(trace.Event{Kind: trace.EvDrop, Node: to, Peer: i, Msg: *m, Reason: fate.Reason.String()})
	case fate.Copies == 0:
		t.emit(trace.Event{Kind: trace.EvSend, Node: i, Peer: to, Msg: *m})
		t.emit(trace.Event{Kind: trace.EvDrop, Node: to, Peer: i, Msg: *m, Reason: fate.Reason.String()})
	default:
		t.emit(trace.Event{Kind: trace.EvSend, Node: i, Peer: to, Msg: *m, Arrive: fate.Arrive[0]})
		if fate.Copies == 2 {
			t.emit(trace.Event{Kind: trace.EvDup, Node: i, Peer: to, Msg: *m, Arrive: fate.Arrive[1]})
		}
	}
}

// Delivered implements [Observer].
func (t *tracing) Delivered(i int, m *raft.Message, reason sim.DropReason) {
	if reason == sim.NotDropped {
		t.emit(trace.Event{Kind: trace.EvRecv, Node: i, Peer: int(m.From), Msg: *m})
		return
	}
	t.emit(trace.Event{Kind: trace.EvDrop, Node: i, Peer: int(m.From), Msg: *m, Reason: reason.String()})
}

// Faulted implements [Observer].
func (t *tracing) Faulted(f Fault) {
	switch f.Kind {
	case FaultAction:
		t.emit(trace.Event{Kind: trace.EvFault, Node: -1, Text: f.Text})
	case FaultBoot:
		t.emit(trace.Event{Kind: trace.EvStart, Node: f.Node, Role: f.State.Role, Term: f.State.Term})
	case FaultCrash:
		t.emit(trace.Event{Kind: trace.EvDown, Node: f.Node})
	case FaultPause:
		t.emit(trace.Event{Kind: trace.EvPause, Node: f.Node, Arrive: f.Until})
	case FaultResume:
		t.emit(trace.Event{Kind: trace.EvResume, Node: f.Node})
	}
}
