package trace

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
)

const ms = int64(time.Millisecond)

// election is a two-node trial: both boot, n1 campaigns and wins, n2
// crashes, n1 is isolated, and a check fails with a message in flight.
func election() *Page {
	vote := raft.Message{Type: raft.MsgVote, From: 0, To: 1, Term: 1}
	resp := raft.Message{Type: raft.MsgVoteResp, From: 1, To: 0, Term: 1}
	app := raft.Message{Type: raft.MsgApp, From: 0, To: 1, Term: 1}
	events := []Event{
		{At: 0, Kind: EvStart, Node: 0, Role: raft.Follower},
		{At: 0, Kind: EvStart, Node: 1, Role: raft.Follower},
		{At: 10, Kind: EvTimeout, Node: 0, Timer: raft.ElectionTimer},
		{At: 10, Kind: EvState, Node: 0, Role: raft.Candidate, Term: 1},
		{At: 10, Kind: EvVote, Node: 0, Vote: 0, Term: 1},
		{At: 10, Kind: EvSend, Node: 0, Peer: 1, Msg: vote, Arrive: 15},
		{At: 15, Kind: EvRecv, Node: 1, Peer: 0, Msg: vote},
		{At: 15, Kind: EvState, Node: 1, Role: raft.Follower, Term: 1},
		{At: 15, Kind: EvVote, Node: 1, Vote: 0, Term: 1},
		{At: 15, Kind: EvSend, Node: 1, Peer: 0, Msg: resp, Arrive: 20},
		{At: 20, Kind: EvRecv, Node: 0, Peer: 1, Msg: resp},
		{At: 20, Kind: EvState, Node: 0, Role: raft.Leader, Term: 1},
		{At: 20, Kind: EvSend, Node: 0, Peer: 1, Msg: app, Arrive: 26},
		{At: 25, Kind: EvDown, Node: 1},
		{At: 26, Kind: EvDrop, Node: 1, Peer: 0, Msg: app, Reason: "crashed"},
		{At: 30, Kind: EvFault, Node: -1, Text: "isolate {n1}"},
		{At: 31, Kind: EvSend, Node: 0, Peer: 1, Msg: app},
		{At: 31, Kind: EvDrop, Node: 1, Peer: 0, Msg: app, Reason: "partition"},
		{At: 39, Kind: EvSend, Node: 0, Peer: 1, Msg: app, Arrive: 45}, // in flight at the end: not lost
		{At: 40, Kind: EvViolation, Node: -1, Text: "made up"},
	}
	for i := range events {
		events[i].Seq = uint64(i)
		events[i].At *= time.Duration(ms)
		events[i].Arrive *= time.Duration(ms)
	}
	details := []Detail{
		{Before: 1, At: 0, Kind: DetailBoot, Node: 0, State: raft.State{Vote: raft.None}},
		{Before: 1, At: 0, Kind: DetailTimer, Node: 0, Due: 10 * time.Millisecond},
		{Before: 2, At: 0, Kind: DetailBoot, Node: 1, State: raft.State{Vote: raft.None}},
		{Before: 5, At: 10 * time.Millisecond, Kind: DetailTimer, Node: 0, Due: 200 * time.Millisecond},
		{Before: 12, At: 20 * time.Millisecond, Kind: DetailTimer, Node: 0, Due: -1},
		{Before: 12, At: 20 * time.Millisecond, Kind: DetailLog, Node: 0, Index: 1, Terms: []uint64{1}},
		{Before: 16, At: 30 * time.Millisecond, Kind: DetailLinks, Node: -1, Blocked: [][2]int{{0, 1}, {1, 0}}},
	}
	return &Page{Title: "two nodes", Nodes: 2, ElectionMax: 300 * time.Millisecond, Events: events, Details: details}
}

func TestPageData(t *testing.T) {
	p := election()
	d := buildPageData(p, p.Events)
	if d.Start != 0 || d.End != 40*ms || !d.Ring || len(d.Lines) != len(p.Events) || d.Times[3] != 10*ms {
		t.Errorf("start %d, end %d, ring %v, %d lines, times %v", d.Start, d.End, d.Ring, len(d.Lines), d.Times)
	}
	n1, n2 := d.Node[0], d.Node[1]
	wantSpans := [][4]int64{{0, 10 * ms, int64(Follower), 0}, {10 * ms, 20 * ms, int64(Candidate), 1}, {20 * ms, 40 * ms, int64(Leader), 1}}
	if !reflect.DeepEqual(n1.Spans, wantSpans) {
		t.Errorf("n1's spans %v, want %v", n1.Spans, wantSpans)
	}
	if last := n2.Spans[len(n2.Spans)-1]; last[2] != int64(Down) || last[0] != 25*ms {
		t.Errorf("n2's last span %v, want down from 25ms", last)
	}
	// n2's vote: none at boot, cleared by term 1, then n1.
	if want := [][2]int64{{0, -1}, {15 * ms, -1}, {15 * ms, 0}}; !reflect.DeepEqual(n2.Votes, want) {
		t.Errorf("n2's votes %v, want %v", n2.Votes, want)
	}
	if want := [][2]int64{{0, 10 * ms}, {10 * ms, 200 * ms}, {20 * ms, -1}}; !reflect.DeepEqual(n1.Timers, want) {
		t.Errorf("n1's timers %v, want %v", n1.Timers, want)
	}
	if len(n1.Logs) != 1 || n1.Logs[0].T != 20*ms || !slices.Equal(n1.Logs[0].Terms, []uint64{1}) {
		t.Errorf("n1's log writes %+v", n1.Logs)
	}
	if !slices.Equal(d.Elections, []int64{10 * ms}) {
		t.Errorf("elections %v, want [10ms]", d.Elections)
	}
	if len(d.Flows) != 4 || d.Flows[0].Type != "RequestVote" || d.Flows[1].Lost || !d.Flows[2].Lost || d.Flows[3].Lost {
		t.Errorf("flows %+v: want RequestVote and its reply delivered, the AppendEntries to the crashed n2 lost, the last in flight", d.Flows)
	}
	if len(d.Drops) != 1 || d.Drops[0].T != 31*ms || d.Drops[0].From != 0 || d.Drops[0].To != 1 {
		t.Errorf("drops %+v, want the partitioned AppendEntries at 31ms", d.Drops)
	}
	if len(d.Links) != 1 || d.Links[0].T != 30*ms || len(d.Links[0].Blocked) != 2 {
		t.Errorf("links %+v", d.Links)
	}
	if d.Violation == nil || *d.Violation != 40*ms || len(d.Faults) != 2 || !d.Faults[1].Violation {
		t.Errorf("violation %v, faults %+v", d.Violation, d.Faults)
	}
}

// TestPageFilter: the filter picks the listed events, the messages and the
// slider's range; the nodes' states still come from every event.
func TestPageFilter(t *testing.T) {
	p := election()
	p.Filter = &Filter{Kinds: []EventKind{EvState}, From: 12 * time.Millisecond, To: 35 * time.Millisecond, HasTo: true}
	d := buildPageData(p, p.Filter.Select(p.Events))
	if len(d.Lines) != 2 || !strings.Contains(d.Lines[0], "n2 state follower term=1") {
		t.Errorf("lines %q, want the two state changes from 12ms to 35ms", d.Lines)
	}
	if len(d.Flows) != 0 || len(d.Drops) != 0 {
		t.Errorf("flows %+v and drops %+v shown when only state events are", d.Flows, d.Drops)
	}
	if d.Start != 12*ms || d.End != 35*ms {
		t.Errorf("range %d-%d, want 12ms-35ms", d.Start, d.End)
	}
	if len(d.Node[0].Spans) != 3 || len(d.Node[1].Votes) != 3 {
		t.Errorf("the filter thinned the nodes' states: %+v", d.Node)
	}
}

func TestPageLanesOnlyPastTheRingLimit(t *testing.T) {
	for _, n := range []int{maxRingNodes, maxRingNodes + 1} {
		p := &Page{Nodes: n, Events: []Event{{Kind: EvStart, Node: n - 1}}}
		if d := buildPageData(p, p.Events); d.Ring != (n <= maxRingNodes) {
			t.Errorf("%d nodes: ring %v", n, d.Ring)
		}
	}
}

// TestWriteHTML: the page fetches nothing, carries the page data whole,
// and is the same bytes every time.
func TestWriteHTML(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteHTML(&a, election()); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&b, election()); err != nil {
		t.Fatal(err)
	}
	page := a.String()
	if page != b.String() {
		t.Fatal("the same trial gave two different pages")
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("not a whole HTML document:\n%.200s", page)
	}
	// The only URL is the SVG namespace: no script, style, font or image is fetched.
	for _, url := range regexp.MustCompile(`(?:src|href)=|url\(["']?[a-z]+:|(?:https?:)?//[a-z0-9.-]+`).FindAllString(page, -1) {
		if url != "//www.w3.org" && url != "http://www.w3.org" {
			t.Errorf("the page refers to %q", url)
		}
	}
	if n := strings.Count(page, "</script>"); n != 2 {
		t.Errorf("%d </script> tags, want 2: the data and the script end nowhere else", n)
	}
	m := regexp.MustCompile(`<script id="trial" type="application/json">(.*)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no page data")
	}
	var got pageData
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		t.Fatal(err)
	}
	p := election()
	if want := buildPageData(p, p.Events); !reflect.DeepEqual(&got, want) {
		t.Errorf("the page's data\n%+v\nwant\n%+v", got, *want)
	}
	if !strings.Contains(page, "<h1>two nodes</h1>") || !strings.Contains(page, `<svg xmlns="http://www.w3.org/2000/svg" width=`) {
		t.Error("the page lacks its title or its swimlanes")
	}
}

func TestWriteHTMLNeedsTheWholeTrace(t *testing.T) {
	p := election()
	p.Events = p.Events[3:]
	if err := WriteHTML(&bytes.Buffer{}, p); err == nil {
		t.Error("a page of a trace cut at its start was written")
	}
}
