package trace

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
)

func ev(at time.Duration, kind EventKind, node, peer int) Event {
	return Event{At: at * time.Millisecond, Kind: kind, Node: node, Peer: peer}
}

func TestFilter(t *testing.T) {
	events := []Event{
		ev(1, EvState, 0, 0), ev(2, EvSend, 1, 2), ev(3, EvRecv, 2, 0),
		ev(4, EvFault, -1, 0), ev(9, EvState, 1, 0),
	}
	f := Filter{Nodes: []int{0}, From: 2 * time.Millisecond, To: 8 * time.Millisecond, HasTo: true}
	got := f.Select(events)
	// n1's own events, messages with n1 at either end, cluster events; 2ms..8ms.
	if len(got) != 2 || got[0].Kind != EvRecv || got[1].Kind != EvFault {
		t.Fatalf("selected %+v", got)
	}
	k := Filter{Kinds: []EventKind{EvState}}
	if n := len(k.Select(events)); n != 2 {
		t.Errorf("kind filter kept %d, want 2", n)
	}
}

func TestAnalyse(t *testing.T) {
	m := raft.Message{Type: raft.MsgVote, From: 0, To: 1, Term: 1}
	events := []Event{
		{At: 0, Kind: EvStart, Node: 0, Role: raft.Follower},
		{At: 0, Kind: EvStart, Node: 1, Role: raft.Follower},
		{At: 10, Kind: EvState, Node: 0, Role: raft.Candidate, Term: 1},
		{At: 10, Kind: EvSend, Node: 0, Peer: 1, Msg: m, Arrive: 15},
		{At: 15, Kind: EvRecv, Node: 1, Peer: 0, Msg: m},
		{At: 20, Kind: EvDown, Node: 1},
		{At: 25, Kind: EvPause, Node: 0, Arrive: 30},
		{At: 30, Kind: EvResume, Node: 0},
		{At: 40, Kind: EvState, Node: 0, Role: raft.Leader, Term: 1},
	}
	p := Analyse(events, 2)
	want := []Span{{0, 0, 10, Follower, 0}, {1, 0, 20, Follower, 0}, {0, 10, 40, Candidate, 1}, {0, 40, 40, Leader, 1}, {1, 20, 40, Down, 0}}
	if len(p.Spans) != len(want) {
		t.Fatalf("spans %+v", p.Spans)
	}
	for i := range want {
		if p.Spans[i] != want[i] {
			t.Errorf("span %d = %+v, want %+v", i, p.Spans[i], want[i])
		}
	}
	if len(p.Flows) != 1 || !p.Flows[0].Delivered || p.Flows[0].Arrive != 15 {
		t.Errorf("flows %+v", p.Flows)
	}
	if len(p.Pauses) != 1 || p.Pauses[0] != (Pause{0, 25, 30}) {
		t.Errorf("pauses %+v", p.Pauses)
	}
}
