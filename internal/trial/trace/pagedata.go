package trace

import (
	"slices"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// maxRingNodes is the largest cluster a page draws as a ring: past it the
// nodes are too small to read, and the page shows the lanes only.
const maxRingNodes = 40

// pageData is what a page's script plays, as JSON: every time is virtual
// time in nanoseconds, and each list is in time order. The script only
// looks things up in it; everything is worked out here, in Go, where the
// tests can reach it.
type pageData struct {
	Title       string      `json:"title"`
	Nodes       int         `json:"nodes"`
	Ring        bool        `json:"ring"` // false: too many nodes for a ring
	MaxRing     int         `json:"maxRing"`
	ElectionMax int64       `json:"electionMax"`
	Start       int64       `json:"start"` // the slider's range
	End         int64       `json:"end"`
	Lines       []string    `json:"lines"` // the listed events, one trace line each
	Times       []int64     `json:"times"` // and their times
	Elections   []int64     `json:"elections"`
	Violation   *int64      `json:"violation"`
	Faults      []pageFault `json:"faults"`
	Node        []pageNode  `json:"node"`
	Flows       []pageFlow  `json:"flows"`
	Drops       []pageDrop  `json:"drops"`
	Links       []pageLinks `json:"links"`
	Lanes       pageLanes   `json:"lanes"`
}

// pageNode is one node's life: lists of [time, value] or [start, end]
// pairs, each taking effect at its time.
type pageNode struct {
	Name    string     `json:"name"`
	Spans   [][4]int64 `json:"spans"` // [start, end, state, term], state indexing stateNames
	Votes   [][2]int64 `json:"votes"` // [time, candidate], -1: no vote in the term
	Commits [][2]int64 `json:"commits"`
	Timers  [][2]int64 `json:"timers"` // [time, due], due -1: stopped
	Pauses  [][2]int64 `json:"pauses"`
	Logs    []pageLog  `json:"logs"`
}

// pageLog is a log write: from Index on, the log holds Terms.
type pageLog struct {
	T     int64    `json:"t"`
	Index uint64   `json:"index"`
	Terms []uint64 `json:"terms"`
}

// pageFlow is a message from its sending to its arrival.
type pageFlow struct {
	From    int    `json:"from"`
	To      int    `json:"to"`
	Sent    int64  `json:"sent"`
	Arrive  int64  `json:"arrive"`
	Type    string `json:"type"`
	Reject  bool   `json:"reject,omitempty"`
	Entries int    `json:"entries,omitempty"`
	Dup     bool   `json:"dup,omitempty"`
	Lost    bool   `json:"lost,omitempty"` // dropped on arrival
	Msg     string `json:"msg"`
}

// pageDrop is a message dropped as it was sent.
type pageDrop struct {
	T    int64  `json:"t"`
	From int    `json:"from"`
	To   int    `json:"to"`
	Type string `json:"type"`
	Line string `json:"line"`
}

type pageFault struct {
	T         int64  `json:"t"`
	Text      string `json:"text"`
	Violation bool   `json:"violation,omitempty"`
}

// pageLinks: from T on, the directed links Blocked drop every message.
type pageLinks struct {
	T       int64    `json:"t"`
	Blocked [][2]int `json:"blocked"`
}

// pageLanes says where the swimlane drawing puts virtual time: Start is at
// x = X0 and Start+Span at X0+Width, in the drawing's own units.
type pageLanes struct {
	X0    float64 `json:"x0"`
	Width float64 `json:"width"`
	Start int64   `json:"start"`
	Span  int64   `json:"span"`
}

// buildPageData works out what p's page plays. shown are the events the
// filter keeps, in order.
func buildPageData(p *Page, shown []Event) *pageData {
	all := Analyse(p.Events, p.Nodes)
	// Lists are empty, never null, so that the script need not check.
	d := &pageData{Title: p.Title, Nodes: p.Nodes, Ring: p.Nodes <= maxRingNodes, MaxRing: maxRingNodes,
		ElectionMax: int64(p.ElectionMax), Lines: []string{}, Times: []int64{}, Elections: []int64{},
		Faults: []pageFault{}, Flows: []pageFlow{}, Drops: []pageDrop{}, Links: []pageLinks{}}
	d.Start, d.End = p.timeRange()
	for i := range shown {
		d.Lines = append(d.Lines, shown[i].Line())
		d.Times = append(d.Times, int64(shown[i].At))
	}
	d.Node = make([]pageNode, p.Nodes)
	for i := range d.Node {
		d.Node[i] = pageNode{Name: raft.ID(i).String(), Spans: [][4]int64{}, Votes: [][2]int64{}, Commits: [][2]int64{},
			Timers: [][2]int64{}, Pauses: [][2]int64{}, Logs: []pageLog{}}
	}
	for _, s := range all.Spans {
		n := &d.Node[s.Node]
		n.Spans = append(n.Spans, [4]int64{int64(s.Start), int64(s.End), int64(s.State), int64(s.Term)})
		if s.State == PreCandidate || s.State == Candidate {
			d.Elections = append(d.Elections, int64(s.Start))
		}
	}
	slices.Sort(d.Elections)
	d.Elections = slices.Compact(d.Elections)
	for _, ps := range all.Pauses { // each node's in time order
		n := &d.Node[ps.Node]
		n.Pauses = append(n.Pauses, [2]int64{int64(ps.Start), int64(ps.End)})
	}
	d.addFlows(all, p)
	d.addLives(p)
	p.addLanes(d)
	return d
}

// timeRange returns the slider's range: the filter's time window, within
// the trial.
func (p *Page) timeRange() (start, end int64) {
	end = int64(p.End)
	if end == 0 && len(p.Events) > 0 {
		end = int64(p.Events[len(p.Events)-1].At)
	}
	if f := p.Filter; f != nil {
		start = int64(f.From)
		if f.HasTo {
			end = min(end, int64(f.To))
		}
	}
	if end <= start {
		end = start + int64(time.Millisecond)
	}
	return start, end
}

// addFlows adds the messages whose sending the filter keeps, and the drops
// it keeps.
func (d *pageData) addFlows(all *Picture, p *Page) {
	keep := func(e *Event) bool { return p.Filter == nil || p.Filter.Keep(e) }
	for _, f := range all.Flows {
		if !keep(&p.Events[f.Seq]) {
			continue
		}
		d.Flows = append(d.Flows, pageFlow{From: f.From, To: f.To, Sent: int64(f.Sent), Arrive: int64(f.Arrive),
			Type: f.Msg.Type.String(), Reject: f.Msg.Reject, Entries: int(f.Msg.NEntries), Dup: f.Dup,
			Lost: f.Dropped, Msg: f.Msg.String()})
	}
	for i := range all.SendDrops {
		e := &all.SendDrops[i]
		if keep(e) {
			d.Drops = append(d.Drops, pageDrop{T: int64(e.At), From: e.Peer, To: e.Node, Type: e.Msg.Type.String(), Line: e.Line()})
		}
	}
}

// addLives goes through the events and details in order and records each
// node's vote, commit index, election timer and log writes, the faults and
// the blocked links.
func (d *pageData) addLives(p *Page) {
	term := make([]uint64, p.Nodes)
	k := 0
	for i := range p.Events {
		for ; k < len(p.Details) && p.Details[k].Before <= p.Events[i].Seq; k++ {
			d.addDetail(&p.Details[k])
		}
		e := &p.Events[i]
		t := int64(e.At)
		switch e.Kind {
		case EvState:
			if e.Term != term[e.Node] { // a new term clears the vote
				term[e.Node] = e.Term
				d.Node[e.Node].Votes = append(d.Node[e.Node].Votes, [2]int64{t, -1})
			}
		case EvStart:
			term[e.Node] = e.Term
		case EvVote:
			d.Node[e.Node].Votes = append(d.Node[e.Node].Votes, [2]int64{t, int64(e.Vote)})
		case EvCommit:
			d.Node[e.Node].Commits = append(d.Node[e.Node].Commits, [2]int64{t, int64(e.Term)})
		case EvFault:
			d.Faults = append(d.Faults, pageFault{T: t, Text: e.Text})
		case EvViolation:
			d.Faults = append(d.Faults, pageFault{T: t, Text: e.Text, Violation: true})
			d.Violation = &t
		}
	}
	for ; k < len(p.Details); k++ {
		d.addDetail(&p.Details[k])
	}
}

func (d *pageData) addDetail(dt *Detail) {
	t := int64(dt.At)
	switch dt.Kind {
	case DetailBoot:
		n := &d.Node[dt.Node]
		n.Votes = append(n.Votes, [2]int64{t, int64(dt.State.Vote)})
		n.Commits = append(n.Commits, [2]int64{t, int64(dt.State.Commit)})
	case DetailTimer:
		d.Node[dt.Node].Timers = append(d.Node[dt.Node].Timers, [2]int64{t, int64(dt.Due)})
	case DetailLog:
		d.Node[dt.Node].Logs = append(d.Node[dt.Node].Logs, pageLog{T: t, Index: dt.Index, Terms: dt.Terms})
	case DetailLinks:
		d.Links = append(d.Links, pageLinks{T: t, Blocked: append([][2]int{}, dt.Blocked...)})
	}
}

// addLanes writes where the page's swimlanes ([Page.lanes]) put time.
func (p *Page) addLanes(d *pageData) {
	lp := p.lanes()
	d.Lanes = pageLanes{X0: marginLeft, Width: plotWidth, Start: int64(lp.Start), Span: int64(lp.laneSpan())}
}

// lanes returns what the page's swimlanes draw: the filter's picture of
// the whole trace, each lane starting with its node's state at the
// window's start.
func (p *Page) lanes() *Picture {
	f := p.Filter
	if f == nil {
		f = &Filter{}
	}
	return f.Picture(p.Events, p.Nodes)
}
