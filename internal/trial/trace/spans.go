package trace

import (
	"slices"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// State is what a node is during a span of time.
type State uint8

// Node states drawn on a timeline.
const (
	Follower State = iota
	PreCandidate
	Candidate
	Leader
	Down // crashed, or not yet booted
)

var stateNames = [...]string{Follower: "follower", PreCandidate: "pre-candidate", Candidate: "candidate", Leader: "leader", Down: "down"}

func (s State) String() string { return stateNames[s] }

func stateOf(r raft.Role) State {
	switch r {
	case raft.PreCandidate:
		return PreCandidate
	case raft.Candidate:
		return Candidate
	case raft.Leader:
		return Leader
	}
	return Follower
}

// Span is a stretch of time a node spent in one state and term.
type Span struct {
	Node       int
	Start, End time.Duration
	State      State
	Term       uint64
}

// Pause is a stretch of time a node was frozen.
type Pause struct {
	Node       int
	Start, End time.Duration
}

// Flow is one message from its sending to its arrival.
type Flow struct {
	ID           int
	Seq          uint64 // the event that sent it
	From, To     int
	Sent, Arrive time.Duration
	Msg          raft.Message
	Dup          bool // the network's second copy of a message
	Delivered    bool // false: dropped on arrival, or still in flight when the trace ends
	Dropped      bool // dropped on arrival (receiver down, or partitioned in flight)
}

// Picture is everything a timeline drawing needs, derived from events.
type Picture struct {
	Nodes      int
	Start, End time.Duration
	Spans      []Span
	Pauses     []Pause
	Flows      []Flow
	SendDrops  []Event // messages dropped as they were sent
	Faults     []Event // cluster-wide faults and violations
	// Lanes are the nodes drawn, in order; nil draws every node. A
	// picture of a [Filter] sets them, leaving out HiddenNodes nodes.
	Lanes       []int
	HiddenNodes int
	// HiddenFlows counts the messages left out beyond MaxFlows.
	HiddenFlows int
}

// Limits that keep a drawing of a large cluster or a long trial readable.
const (
	// MaxLanes bounds the nodes a picture draws: beyond it, those that
	// stood for election or led, then the lowest-numbered.
	MaxLanes = 40
	// MaxFlows bounds the messages a picture draws, the first sent first.
	MaxFlows = 10000
)

// Picture returns what a drawing of a trial's events shows under f. The
// nodes' states come from all the events, then are clipped to f's time
// window, so that each lane starts with its node's state at the window's
// start, and the picture spans the window. Messages, drops and faults are
// those f keeps (a message when its sending or arrival is in the window
// and f keeps its kind). The lanes are the nodes f names, or every node up
// to [MaxLanes].
func (f *Filter) Picture(events []Event, nodes int) *Picture {
	all := Analyse(events, nodes)
	p := &Picture{Nodes: nodes, Start: all.Start, End: all.End}
	if f.From > 0 {
		p.Start = f.From
	}
	if f.HasTo {
		p.End = f.To
	}
	p.Lanes = f.lanes(all, p.Start, p.End)
	drawn := make([]bool, nodes)
	for _, n := range p.Lanes {
		drawn[n] = true
	}
	p.HiddenNodes = nodes - len(p.Lanes)
	for _, s := range all.Spans {
		if drawn[s.Node] && s.End >= p.Start && s.Start <= p.End {
			s.Start, s.End = max(s.Start, p.Start), min(s.End, p.End)
			p.Spans = append(p.Spans, s)
		}
	}
	for _, ps := range all.Pauses {
		if drawn[ps.Node] && ps.End >= p.Start && ps.Start <= p.End {
			ps.Start, ps.End = max(ps.Start, p.Start), min(ps.End, p.End)
			p.Pauses = append(p.Pauses, ps)
		}
	}
	for _, fl := range all.Flows {
		if !drawn[fl.From] || !drawn[fl.To] || fl.Arrive < p.Start || fl.Sent > p.End || !f.keepsKind(EvSend, EvRecv, EvDrop, EvDup) {
			continue
		}
		if len(p.Flows) == MaxFlows {
			p.HiddenFlows++
			continue
		}
		p.Flows = append(p.Flows, fl)
	}
	for _, e := range all.SendDrops {
		if drawn[e.Peer] && f.Keep(&e) {
			p.SendDrops = append(p.SendDrops, e)
		}
	}
	for _, e := range all.Faults {
		if f.keepsTimeAndKind(&e) {
			p.Faults = append(p.Faults, e)
		}
	}
	return p
}

// lanes returns the nodes a picture of f draws: those f names, or every
// node; beyond MaxLanes, the nodes that stood for election or led within
// [from, to] come first, then the lowest-numbered, drawn in node order.
func (f *Filter) lanes(all *Picture, from, to time.Duration) []int {
	if f.Nodes != nil {
		lanes := slices.Clone(f.Nodes)
		slices.Sort(lanes)
		return slices.Compact(lanes)
	}
	pick := make([]bool, all.Nodes)
	n := 0
	for _, s := range all.Spans {
		if n < MaxLanes && !pick[s.Node] && s.State != Follower && s.State != Down && s.End >= from && s.Start <= to {
			pick[s.Node] = true
			n++
		}
	}
	for node := 0; node < all.Nodes && n < MaxLanes; node++ {
		if !pick[node] {
			pick[node] = true
			n++
		}
	}
	var lanes []int
	for node, ok := range pick {
		if ok {
			lanes = append(lanes, node)
		}
	}
	return lanes
}

// Analyse derives the spans, pauses and message flows of nodes from events.
func Analyse(events []Event, nodes int) *Picture {
	p := &Picture{Nodes: nodes}
	if len(events) == 0 {
		return p
	}
	p.Start, p.End = events[0].At, events[len(events)-1].At
	open := make([]*Span, nodes)
	pausedAt := make([]time.Duration, nodes)
	for i := range pausedAt {
		pausedAt[i] = -1
	}
	begin := func(node int, t time.Duration, st State, term uint64) {
		if s := open[node]; s != nil {
			if s.State == st && s.Term == term {
				return
			}
			s.End = t
			p.Spans = append(p.Spans, *s)
		}
		open[node] = &Span{Node: node, Start: t, State: st, Term: term}
	}
	type key struct {
		from, to int
		arrive   time.Duration
	}
	inFlight := map[key][]int{} // lookup only: flows are kept in p.Flows in send order
	for i := range events {
		e := &events[i]
		switch e.Kind {
		case EvStart, EvState:
			begin(e.Node, e.At, stateOf(e.Role), e.Term)
		case EvDown:
			term := uint64(0)
			if s := open[e.Node]; s != nil {
				term = s.Term
			}
			begin(e.Node, e.At, Down, term)
		case EvPause:
			pausedAt[e.Node] = e.At
		case EvResume:
			if pausedAt[e.Node] >= 0 {
				p.Pauses = append(p.Pauses, Pause{Node: e.Node, Start: pausedAt[e.Node], End: e.At})
				pausedAt[e.Node] = -1
			}
		case EvSend, EvDup:
			if e.Arrive == 0 {
				continue // dropped at once; its drop event follows
			}
			k := key{e.Node, e.Peer, e.Arrive}
			inFlight[k] = append(inFlight[k], len(p.Flows))
			p.Flows = append(p.Flows, Flow{ID: len(p.Flows) + 1, Seq: e.Seq, From: e.Node, To: e.Peer, Sent: e.At, Arrive: e.Arrive,
				Msg: e.Msg, Dup: e.Kind == EvDup})
		case EvRecv, EvDrop:
			k := key{e.Peer, e.Node, e.At}
			if ids := inFlight[k]; len(ids) > 0 {
				p.Flows[ids[0]].Delivered = e.Kind == EvRecv
				p.Flows[ids[0]].Dropped = e.Kind == EvDrop
				inFlight[k] = ids[1:]
			} else if e.Kind == EvDrop {
				p.SendDrops = append(p.SendDrops, *e)
			}
		case EvFault, EvViolation:
			p.Faults = append(p.Faults, *e)
		}
	}
	for node, s := range open {
		if s != nil {
			s.End = p.End
			p.Spans = append(p.Spans, *s)
		}
		if pausedAt[node] >= 0 {
			p.Pauses = append(p.Pauses, Pause{Node: node, Start: pausedAt[node], End: p.End})
		}
	}
	return p
}
