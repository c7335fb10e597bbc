package sim

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// EventKind says what an [Event] is.
type EventKind uint8

// The events [Sim.Next] returns.
const (
	Deliver EventKind = iota // a message arrived at Node from From; see [Sim.Message]
	Timeout                  // timer Timer of Node fired
	Call                     // a call scheduled with [Sim.At] came due
	Drop                     // a message in flight was dropped on arrival; see [Sim.Message]
	Resume                   // the pause of Node ended; its backlog follows
)

var eventNames = [...]string{Deliver: "deliver", Timeout: "timeout", Call: "call", Drop: "drop", Resume: "resume"}

func (k EventKind) String() string { return eventNames[k] }

// Event is one thing that happened at [Sim.Now].
type Event struct {
	Kind   EventKind
	Node   int        // the node it happened to (a message's receiver)
	From   int        // Deliver, Drop: the sender
	Timer  int        // Timeout: which of the node's timers
	Call   int        // Call: the id given to [Sim.At]
	Reason DropReason // Drop: why
}

// Sent is what became of one [Sim.Send].
type Sent struct {
	Copies int        // 0 when dropped at once, 2 when duplicated
	Reason DropReason // why it was dropped, when Copies is 0
	Arrive [2]Time    // arrival time of each copy
}

// Time is virtual time: nanoseconds since the start of the trial.
type Time = time.Duration

// Sim is one trial's simulated world: a clock, an event queue, timers for
// each node, the network and each node's fault state. M is the message type;
// messages are stored by value in a slab so that sending one allocates
// nothing in steady state.
type Sim[M any] struct {
	now       Time
	seq       uint64
	queue     quadHeap
	timers    timerHeap
	perNode   int  // timers per node
	timerBits uint // a timer's id is node<<timerBits | k

	// Net is the network; configure it after [Sim.Reset].
	Net Network

	recs []record[M] // the slab of queued records, by slot
	free []int32     // free slots
	held int32       // slot of the message returned last, released on the next call to Next
	ev   Event       // what Next returned last

	nodes   []nodeState
	ready   []int32 // slots due now, ahead of the queue: a resumed node's backlog
	readyAt int

	events uint64
}

// nodeState is what the simulator knows of a node: whether it runs, and its
// clock.
type nodeState struct {
	crashed  bool
	paused   bool
	pauseEnd Time
	rate     float64 // local clock speed: 1.1 runs 10% fast
	lbase    Time    // local time at gbase
	gbase    Time
	backlog  []int32 // slots of deliveries held while paused, in arrival order
	expired  uint64  // timers that came due while paused (bit per timer)
}

// New returns a simulator for nodes nodes with timersPerNode timers each
// (at most 64), already reset with seed 0.
func New[M any](nodes, timersPerNode int) *Sim[M] {
	s := &Sim[M]{}
	s.Reset(nodes, timersPerNode, 0)
	return s
}

// Reset empties the simulator and sets it up for a new trial, keeping the
// storage it has grown. seed seeds the network's random stream.
func (s *Sim[M]) Reset(nodes, timersPerNode int, seed uint64) {
	if timersPerNode > 64 || timersPerNode < 1 {
		panic(fmt.Sprintf("sim: %d timers per node, want 1..64", timersPerNode))
	}
	s.now, s.seq, s.events = 0, 0, 0
	s.queue = s.queue[:0]
	s.perNode = timersPerNode
	s.timerBits = uint(bits.Len(uint(timersPerNode - 1)))
	s.timers.reset(nodes << s.timerBits)
	s.Net.reset(nodes, seed)
	s.recs = s.recs[:0]
	s.free = s.free[:0]
	s.held = -1
	if cap(s.nodes) < nodes {
		s.nodes = make([]nodeState, nodes)
	}
	s.nodes = s.nodes[:nodes]
	for i := range s.nodes {
		s.nodes[i] = nodeState{rate: 1, backlog: s.nodes[i].backlog[:0]}
	}
	s.ready = s.ready[:0]
	s.readyAt = 0
}

// Now returns the current virtual time.
func (s *Sim[M]) Now() Time { return s.now }

// Events returns how many events Next has returned since Reset.
func (s *Sim[M]) Events() uint64 { return s.events }

// Send puts a copy of m on the wire from → to, subject to the network.
func (s *Sim[M]) Send(from, to int, m *M) Sent { return s.SendAfter(from, to, m, 0) }

// SendAfter is Send for a message that leaves only after wait, as when the
// sender must first write to its disk. The network's draws are the same as
// for Send.
func (s *Sim[M]) SendAfter(from, to int, m *M, wait Time) Sent {
	nw := &s.Net
	if nw.Blocked(from, to) {
		return Sent{Reason: Partitioned}
	}
	l := nw.Link(from, to)
	// Three draws for every message, whatever the link's probabilities, so
	// that --loss or --duplicate shifts no later latency.
	lost := nw.rng.Chance(l.Loss)
	dup := nw.rng.Chance(l.Dup)
	lat := l.Latency.Sample(&nw.rng)
	if lost {
		return Sent{Reason: Lost}
	}
	r := Sent{Copies: 1}
	r.Arrive[0] = s.enqueue(from, to, m, wait+lat)
	if dup {
		r.Copies = 2
		r.Arrive[1] = s.enqueue(from, to, m, wait+l.Latency.Sample(&nw.dupRng))
	}
	return r
}

func (s *Sim[M]) enqueue(from, to int, m *M, lat Time) Time {
	at := s.now + lat
	if s.Net.fifo {
		i := from*s.Net.n + to
		at = max(at, s.Net.arrival[i])
		s.Net.arrival[i] = at
	}
	slot := s.alloc()
	r := &s.recs[slot]
	r.kind, r.node, r.from = evDeliver, int32(to), int32(from)
	r.msg = *m // copied straight into the slab, not through a temporary
	s.push(at, slot)
	return at
}

// alloc returns a free record slot.
func (s *Sim[M]) alloc() int32 {
	if n := len(s.free); n > 0 {
		slot := s.free[n-1]
		s.free = s.free[:n-1]
		return slot
	}
	if len(s.recs) > slotMask {
		panic("sim: more than 16M events in flight")
	}
	s.recs = append(s.recs, record[M]{})
	return int32(len(s.recs) - 1)
}

func (s *Sim[M]) push(at Time, slot int32) {
	s.queue.push(entry{at: at, key: s.seq<<slotBits | uint64(slot)})
	s.seq++
}

// Message returns the message of the last Deliver or Drop event. It stays
// valid until the next call to Next.
func (s *Sim[M]) Message() *M { return &s.recs[s.held].msg }

// At schedules a Call event with id call at time t (or now, if t is past).
func (s *Sim[M]) At(t Time, call int) {
	slot := s.alloc()
	r := &s.recs[slot]
	r.kind, r.node, r.from, r.ref = evCall, -1, -1, int32(call)
	s.push(max(t, s.now), slot)
}

// LocalNow returns node's own clock, which drifts from virtual time when its
// rate is not 1.
func (s *Sim[M]) LocalNow(node int) Time {
	ns := &s.nodes[node]
	if ns.rate == 1 {
		return ns.lbase + (s.now - ns.gbase)
	}
	return ns.lbase + Time(float64(s.now-ns.gbase)*ns.rate)
}

// SetTimer arms timer k of node to fire when the node's own clock reads
// localDue (at once, if that is past). Arming an armed timer moves it.
func (s *Sim[M]) SetTimer(node, k int, localDue Time) {
	ns := &s.nodes[node]
	ns.expired &^= 1 << k
	wait := localDue - s.LocalNow(node)
	if ns.rate != 1 {
		wait = Time(math.Ceil(float64(wait) / ns.rate))
	}
	due := s.now + max(wait, 0)
	s.timers.set(s.timerID(node, k), due, s.seq)
	s.seq++
}

// timerID returns the id of timer k of node in s.timers.
func (s *Sim[M]) timerID(node, k int) int32 { return int32(node<<s.timerBits | k) }

// StopTimer disarms timer k of node.
func (s *Sim[M]) StopTimer(node, k int) {
	s.nodes[node].expired &^= 1 << k
	s.timers.stop(s.timerID(node, k))
}

// TimerArmed reports whether timer k of node is armed.
func (s *Sim[M]) TimerArmed(node, k int) bool {
	return s.timers.armed(s.timerID(node, k)) || s.nodes[node].expired&(1<<k) != 0
}

// TimerDue returns the virtual time timer k of node fires at, and whether
// it is armed. A timer that came due while the node was paused is due now.
func (s *Sim[M]) TimerDue(node, k int) (Time, bool) {
	id := s.timerID(node, k)
	switch {
	case s.timers.armed(id):
		return s.timers.dueAt(id), true
	case s.nodes[node].expired&(1<<k) != 0:
		return s.now, true
	}
	return 0, false
}

// Crash stops node at once: its timers stop, messages held for it are lost,
// and messages that reach it while it is down are dropped.
func (s *Sim[M]) Crash(node int) {
	ns := &s.nodes[node]
	ns.crashed, ns.paused, ns.expired = true, false, 0
	s.free = append(s.free, ns.backlog...)
	ns.backlog = ns.backlog[:0]
	for k := 0; k < s.perNode; k++ {
		s.timers.stop(s.timerID(node, k))
	}
}

// Restart brings a crashed node back; the driver restarts what runs on it.
func (s *Sim[M]) Restart(node int) { s.nodes[node].crashed = false }

// Crashed reports whether node is down.
func (s *Sim[M]) Crashed(node int) bool { return s.nodes[node].crashed }

// Pause freezes node for d: it handles nothing, messages for it wait, and
// timers that come due wait. When the pause ends the node handles its
// backlog in arrival order, then the timers that came due. Pausing a paused
// node extends the pause; pausing a crashed node does nothing.
func (s *Sim[M]) Pause(node int, d Time) {
	ns := &s.nodes[node]
	if ns.crashed {
		return
	}
	end := s.now + d
	if ns.paused && end <= ns.pauseEnd {
		return
	}
	ns.paused, ns.pauseEnd = true, end
	slot := s.alloc()
	r := &s.recs[slot]
	r.kind, r.node, r.from = evResume, int32(node), -1
	s.push(end, slot)
}

// Paused reports whether node is paused.
func (s *Sim[M]) Paused(node int) bool { return s.nodes[node].paused }

// SetRate makes node's clock run at rate times virtual time from now on
// (1.1: 10% fast). Armed timers keep the local time they are due at.
func (s *Sim[M]) SetRate(node int, rate float64) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		panic(fmt.Sprintf("sim: clock rate %v of n%d is not positive", rate, node+1))
	}
	ns := &s.nodes[node]
	local := s.LocalNow(node)
	var due [64]Time
	armed := uint64(0)
	for k := 0; k < s.perNode; k++ {
		id := s.timerID(node, k)
		if s.timers.armed(id) {
			due[k] = local + s.localSpan(ns, s.timers.dueAt(id)-s.now)
			armed |= 1 << k
		}
	}
	ns.lbase, ns.gbase, ns.rate = local, s.now, rate
	for k := 0; k < s.perNode; k++ {
		if armed&(1<<k) != 0 {
			s.SetTimer(node, k, due[k])
		}
	}
}

func (s *Sim[M]) localSpan(ns *nodeState, d Time) Time {
	if ns.rate == 1 {
		return d
	}
	return Time(float64(d) * ns.rate)
}

// Next advances the clock to the next event and returns it, or nil when
// nothing is left to happen. The event is valid until the next call.
func (s *Sim[M]) Next() *Event {
	if s.held >= 0 {
		s.free = append(s.free, s.held)
		s.held = -1
	}
	for {
		var slot int32
		if s.readyAt < len(s.ready) {
			slot = s.takeReady()
		} else {
			first := never() // the queue's first event: a timer due before it fires first
			if len(s.queue) > 0 {
				first = s.queue[0]
			}
			if t := s.timers.first(first); t >= 0 {
				if s.fire(t) {
					return &s.ev
				}
				continue
			}
			if len(s.queue) == 0 {
				return nil
			}
			s.queue.pop()
			s.now = first.at
			slot = int32(first.key & slotMask)
		}
		if s.dispatch(slot) {
			s.events++
			return &s.ev
		}
	}
}

// takeReady returns the next slot of a resumed node's backlog.
func (s *Sim[M]) takeReady() int32 {
	slot := s.ready[s.readyAt]
	s.readyAt++
	if s.readyAt == len(s.ready) {
		s.ready, s.readyAt = s.ready[:0], 0
	}
	return slot
}

// fire pops timer t, which is due, and turns it into s.ev, or, when its
// node is paused, marks it expired and reports false.
func (s *Sim[M]) fire(t int32) bool {
	s.now = s.timers.dueAt(t)
	s.timers.pop(t)
	node, k := int(t)>>s.timerBits, int(t)&(1<<s.timerBits-1)
	if ns := &s.nodes[node]; ns.paused {
		ns.expired |= 1 << k
		return false
	}
	s.events++
	s.ev = Event{Kind: Timeout, Node: node, Timer: k}
	return true
}

// dispatch turns the due record in slot into s.ev and reports true, or
// holds it back (a message for a paused node; a superseded resume or
// timer) and reports false.
func (s *Sim[M]) dispatch(slot int32) bool {
	r := &s.recs[slot]
	node := int(r.node)
	if r.kind == evDeliver {
		ns := &s.nodes[node]
		s.ev = Event{Kind: Deliver, Node: node, From: int(r.from)}
		switch {
		case ns.crashed:
			s.ev.Kind, s.ev.Reason = Drop, Crashed
		case s.Net.Blocked(int(r.from), node):
			s.ev.Kind, s.ev.Reason = Drop, Partitioned
		case ns.paused:
			ns.backlog = append(ns.backlog, slot)
			return false
		}
		s.held = slot
		return true
	}
	kind, ref := r.kind, int(r.ref)
	s.free = append(s.free, slot)
	switch kind {
	case evCall:
		s.ev = Event{Kind: Call, Node: -1, Call: ref}
		return true
	case evResume:
		ns := &s.nodes[node]
		if !ns.paused || ns.pauseEnd != s.now {
			return false // superseded by a longer pause, or crashed meanwhile
		}
		ns.paused = false
		s.ready = append(s.ready, ns.backlog...)
		ns.backlog = ns.backlog[:0]
		for k := 0; k < s.perNode; k++ {
			if ns.expired&(1<<k) != 0 {
				t := s.alloc()
				tr := &s.recs[t]
				tr.kind, tr.node, tr.ref = evTimer, int32(node), int32(k)
				s.ready = append(s.ready, t)
			}
		}
		s.ev = Event{Kind: Resume, Node: node}
		return true
	}
	// evTimer
	ns := &s.nodes[node]
	if ns.expired&(1<<ref) == 0 {
		return false // re-armed or stopped while the backlog was handled
	}
	ns.expired &^= 1 << ref
	s.ev = Event{Kind: Timeout, Node: node, Timer: ref}
	return true
}
