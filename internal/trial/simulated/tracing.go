package simulated

import (
	"slices"
	"time"

	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// tracing turns a trial's observations into trace events for its tracer,
// and, for a tracer that wants them, into details: what the text trace
// leaves out but a picture of the trial needs (see [trace.Detail]).
// A violation is a trial's last event: anything after it is left out.
type tracing struct {
	d       *Driver
	out     trace.Tracer
	details trace.DetailTracer // out, when it hears details; nil otherwise
	seq     uint64
	ended   bool // the violation has been traced

	due     []time.Duration // per node: its election timer's due as last told, -1: stopped
	blocked [][2]int        // the blocked links as last told
}

func (t *tracing) reset(d *Driver) {
	t.d, t.seq, t.ended = d, 0, false
	if t.details == nil {
		return
	}
	t.due = setLen(t.due, d.c.Cluster.N())
	for i := range t.due {
		t.due[i] = -1 // no node has booted
	}
	t.blocked = nil
	for i, log := range d.logs {
		if len(log) > 0 { // the scenario starts this node with entries
			t.detail(trace.Detail{Kind: trace.DetailLog, Node: i, Index: 1, Terms: slices.Clone(log)})
		}
	}
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

// detail hands dt to a tracer that wants details; it comes before the next
// event.
func (t *tracing) detail(dt trace.Detail) {
	if t.details == nil || t.ended {
		return
	}
	dt.At = t.d.s.Now()
	dt.Before = t.seq
	t.details.Detail(&dt)
}

// stateChanged: role and term, vote, commit index, and the entries
// written.
func (t *tracing) stateChanged(i int, ch *change) {
	cur := &t.d.c.Cluster.State[i]
	if ch.roleOrTerm(cur) {
		t.emit(trace.Event{Kind: trace.EvState, Node: i, Role: cur.Role, Term: cur.Term})
	}
	if cur.Vote != raft.None && (cur.Vote != ch.Prev.Vote || cur.Term != ch.Prev.Term) {
		t.emit(trace.Event{Kind: trace.EvVote, Node: i, Vote: int(cur.Vote), Term: cur.Term})
	}
	if cur.Commit > ch.Prev.Commit {
		t.emit(trace.Event{Kind: trace.EvCommit, Node: i, Term: cur.Commit})
	}
	if ch.Wrote > 0 && t.details != nil {
		t.detail(trace.Detail{Kind: trace.DetailLog, Node: i, Index: ch.Wrote, Terms: slices.Clone(t.d.logs[i][ch.Wrote-1:])})
	}
}

func (t *tracing) timerFired(i int, tm raft.Timer) {
	t.emit(trace.Event{Kind: trace.EvTimeout, Node: i, Timer: tm})
}

// timersSet tells of node i's election timer when the driver has armed,
// moved or stopped its timers.
func (t *tracing) timersSet(i int) {
	if t.details == nil {
		return
	}
	due, armed := t.d.s.TimerDue(i, int(raft.ElectionTimer))
	if !armed {
		due = -1
	}
	if due != t.due[i] {
		t.due[i] = due
		t.detail(trace.Detail{Kind: trace.DetailTimer, Node: i, Due: due})
	}
}

// linksSet tells which links are blocked when that changed.
func (t *tracing) linksSet() {
	if t.details == nil {
		return
	}
	nw := &t.d.s.Net
	var blocked [][2]int
	n := t.d.c.Cluster.N()
	for from := range n {
		for to := range n {
			if from != to && nw.Blocked(from, to) {
				blocked = append(blocked, [2]int{from, to})
			}
		}
	}
	if !slices.Equal(blocked, t.blocked) {
		t.blocked = blocked
		t.detail(trace.Detail{Kind: trace.DetailLinks, Node: -1, Blocked: blocked})
	}
}

// sent: a message sent, and its fate when sending decided it (lost, cut
// off, held back by a write, duplicated).
func (t *tracing) sent(i int, m *raft.Message, fate sim.Sent) {
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

func (t *tracing) delivered(i int, m *raft.Message, reason sim.DropReason) {
	if reason == sim.NotDropped {
		t.emit(trace.Event{Kind: trace.EvRecv, Node: i, Peer: int(m.From), Msg: *m})
		return
	}
	t.emit(trace.Event{Kind: trace.EvDrop, Node: i, Peer: int(m.From), Msg: *m, Reason: reason.String()})
}

// faulted: a fault may stop timers (a crash) or move them (clock drift),
// and an action may change the network.
func (t *tracing) faulted(f fault) {
	switch f.Kind {
	case faultAction:
		t.emit(trace.Event{Kind: trace.EvFault, Node: -1, Text: f.Text})
		t.linksSet()
		for i := range t.d.c.Cluster.N() {
			t.timersSet(i)
		}
	case faultBoot:
		t.emit(trace.Event{Kind: trace.EvStart, Node: f.Node, Role: f.State.Role, Term: f.State.Term})
		t.detail(trace.Detail{Kind: trace.DetailBoot, Node: f.Node, State: f.State})
	case faultCrash:
		t.emit(trace.Event{Kind: trace.EvDown, Node: f.Node})
		t.timersSet(f.Node)
	case faultPause:
		t.emit(trace.Event{Kind: trace.EvPause, Node: f.Node, Arrive: f.Until})
	case faultResume:
		t.emit(trace.Event{Kind: trace.EvResume, Node: f.Node})
	}
}
