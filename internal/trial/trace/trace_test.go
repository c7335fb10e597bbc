package trace

import (
	"regexp"
	"slices"
	"strings"
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

// TestPictureWindow: a window's picture starts every lane with the node's
// state at the window's start, spans exactly the window, and keeps only
// the lanes a node filter names.
func TestPictureWindow(t *testing.T) {
	m := raft.Message{Type: raft.MsgApp, From: 0, To: 1, Term: 1}
	events := []Event{
		{At: 0, Kind: EvStart, Node: 0, Role: raft.Follower},
		{At: 0, Kind: EvStart, Node: 1, Role: raft.Follower},
		{At: 0, Kind: EvStart, Node: 2, Role: raft.Follower},
		{At: 10, Kind: EvState, Node: 0, Role: raft.Leader, Term: 1},
		{At: 50, Kind: EvSend, Node: 0, Peer: 1, Msg: m, Arrive: 55},
		{At: 55, Kind: EvRecv, Node: 1, Peer: 0, Msg: m},
		{At: 70, Kind: EvFault, Node: -1, Text: "crash n1"},
		{At: 70, Kind: EvDown, Node: 0},
		{At: 90, Kind: EvState, Node: 1, Role: raft.Candidate, Term: 2},
		{At: 100, Kind: EvState, Node: 1, Role: raft.Leader, Term: 2},
	}
	f := Filter{From: 40, To: 95, HasTo: true}
	p := f.Picture(events, 3)
	if p.Start != 40 || p.End != 95 {
		t.Errorf("picture spans %v-%v, want the window 40ns-95ns", p.Start, p.End)
	}
	want := []Span{{1, 40, 90, Follower, 0}, {2, 40, 95, Follower, 0}, {0, 40, 70, Leader, 1}, {0, 70, 95, Down, 1}, {1, 90, 95, Candidate, 2}}
	if len(p.Spans) != len(want) {
		t.Fatalf("spans %+v, want %+v", p.Spans, want)
	}
	for _, w := range want {
		if !slices.Contains(p.Spans, w) {
			t.Errorf("no span %+v in %+v", w, p.Spans)
		}
	}
	if len(p.Flows) != 1 || len(p.Faults) != 1 {
		t.Errorf("flows %+v, faults %+v", p.Flows, p.Faults)
	}
	n2 := Filter{Nodes: []int{1}, From: 60}
	p = n2.Picture(events, 3)
	if !slices.Equal(p.Lanes, []int{1}) || p.HiddenNodes != 2 || len(p.Flows) != 0 || p.Spans[0] != (Span{1, 60, 90, Follower, 0}) {
		t.Errorf("--node n2 --from 60: lanes %v (%d hidden), spans %+v, flows %+v", p.Lanes, p.HiddenNodes, p.Spans, p.Flows)
	}
}

// TestPictureLargeCluster: beyond MaxLanes nodes, the picture draws the
// nodes that stood for election or led, then the lowest-numbered.
func TestPictureLargeCluster(t *testing.T) {
	var events []Event
	for n := range 100 {
		events = append(events, Event{At: 0, Kind: EvStart, Node: n, Role: raft.Follower})
	}
	events = append(events, Event{At: 5, Kind: EvState, Node: 77, Role: raft.Candidate, Term: 1},
		Event{At: 9, Kind: EvState, Node: 77, Role: raft.Leader, Term: 1})
	p := (&Filter{}).Picture(events, 100)
	if len(p.Lanes) != MaxLanes || p.HiddenNodes != 100-MaxLanes || !slices.Contains(p.Lanes, 77) || p.Lanes[0] != 0 ||
		!slices.IsSorted(p.Lanes) {
		t.Errorf("lanes %v, %d hidden", p.Lanes, p.HiddenNodes)
	}
	var b strings.Builder
	if err := p.WriteSVG(&b, "big"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "40 of 100 nodes drawn") || strings.Count(b.String(), `font-size="13" font-weight="bold"`) != MaxLanes {
		t.Errorf("the SVG does not say it draws 40 of 100 nodes, or draws another number of lanes")
	}
}

// TestPictureManyMessages: beyond MaxFlows messages, the first are drawn
// and the rest counted.
func TestPictureManyMessages(t *testing.T) {
	m := raft.Message{Type: raft.MsgApp, From: 0, To: 1, Term: 1}
	events := []Event{{At: 0, Kind: EvStart, Node: 0}, {At: 0, Kind: EvStart, Node: 1}}
	for i := range MaxFlows + 5 {
		at := time.Duration(10 * (i + 1))
		events = append(events, Event{At: at, Kind: EvSend, Node: 0, Peer: 1, Msg: m, Arrive: at + 5},
			Event{At: at + 5, Kind: EvRecv, Node: 1, Peer: 0, Msg: m})
	}
	p := (&Filter{}).Picture(events, 2)
	if len(p.Flows) != MaxFlows || p.HiddenFlows != 5 || p.Flows[0].Sent != 10 {
		t.Errorf("%d flows drawn, %d hidden", len(p.Flows), p.HiddenFlows)
	}
}

// TestPageLanesWindow: the page's swimlanes are the filter's picture: with
// a time window, every lane starts at the window's start with its state.
func TestPageLanesWindow(t *testing.T) {
	var events []Event
	for n := range 3 {
		events = append(events, Event{At: 0, Kind: EvStart, Node: n, Role: raft.Follower})
	}
	events = append(events, Event{At: 10 * time.Millisecond, Kind: EvState, Node: 0, Role: raft.Leader, Term: 1},
		Event{At: 90 * time.Millisecond, Kind: EvState, Node: 1, Role: raft.Candidate, Term: 2})
	for i := range events {
		events[i].Seq = uint64(i)
	}
	p := &Page{Title: "window", Nodes: 3, ElectionMax: 300 * time.Millisecond, Events: events,
		Filter: &Filter{From: 40 * time.Millisecond, To: 95 * time.Millisecond, HasTo: true}}
	var b strings.Builder
	if err := WriteHTML(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n1 leader", "n2 follower", "n3 follower"} {
		if !strings.Contains(b.String(), `<rect x="56.00" y="`) || !regexp.MustCompile(`<rect x="56.00" [^>]*><title>`+n).MatchString(b.String()) {
			t.Errorf("the page's lane of %s does not start at the window's start", n)
		}
	}
}
