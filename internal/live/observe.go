package live

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/live/proxy"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/safety"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// observer is live's wire view of one trial: every RPC the proxy carried
// and every /status answer, checked for safety (package safety, the
// simulator's checks) and turned into what the trial's [trial.Conductor]
// hears, the same observations the simulator reports: a node's term and
// role as far as the wire shows them, messages sent, AppendEntries
// delivered, leaders' heartbeats. It never asks a node what it thinks
// beyond /status, and counts the majority from the cluster size. Its
// methods are safe for concurrent use: mu guards it and the conductor.
type observer struct {
	mu    sync.Mutex
	sc    *scenarios.Scenario
	now   func() time.Duration
	n     int
	names wire.Names // n1, n2, ...: what /status calls the leader
	c     *trial.Conductor

	check    safety.Checker
	said     map[said]string // the first observation of each leadership and vote, for evidence
	evidence []string
	events   []trace.Event
	notes    []string

	// wireAt is, by node, when a message of its own last told its role or
	// term: a /status answer asked for before then is older.
	wireAt []time.Duration
	// answered is, by node, whether it has answered /status since it last
	// started; unanswered counts the requests it left without an answer
	// while it ran.
	answered   []bool
	unanswered []int

	cost Overheads

	// settle, when above 0, is how long a node must go on saying in
	// /status that it leads a term before the leadership counts for
	// election safety: an etcd member reports the term of its last
	// applied entry, which a new leader's first entry moves only a moment
	// after its election, while a cut-off old leader goes on saying the
	// same term (claimed: when each claim was first seen).
	settle  time.Duration
	claimed map[said]time.Duration
}

// said keys the evidence of a leadership (candidate < 0) or a vote.
type said struct {
	node, candidate int
	term            uint64
}

func newObserver(sc *scenarios.Scenario, c *trial.Conductor, now func() time.Duration) *observer {
	n := sc.Cluster.Nodes
	o := &observer{sc: sc, c: c, now: now, n: n, names: wire.NodeNames(n), said: map[said]string{}, claimed: map[said]time.Duration{},
		wireAt: make([]time.Duration, n), answered: make([]bool, n), unanswered: make([]int, n)}
	o.check.Reset(n)
	return o
}

// emit adds an event to the timeline; the caller holds o.mu.
func (o *observer) emit(e trace.Event) {
	o.events = append(o.events, e)
}

// report fails the trial with a safety violation, if the scenario checks
// its invariant, naming the observations that show it.
func (o *observer) report(v *safety.Violation, keys ...said) {
	if v == nil || !slices.Contains(o.sc.Expect.Invariants, v.Invariant) || o.c.Failed() {
		return
	}
	for _, k := range keys {
		if line, ok := o.said[k]; ok {
			o.evidence = append(o.evidence, line)
		}
	}
	o.c.Fail(v.Invariant.String(), v.Detail)
}

// Sent implements proxy.Observer.
func (o *observer) Sent(m *raft.Message, at, arrive time.Duration, dropped string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	from, to := int(m.From), int(m.To)
	if dropped == "" {
		o.emit(trace.Event{At: at, Kind: trace.EvSend, Node: from, Peer: to, Msg: *m, Arrive: arrive})
	} else {
		o.emit(trace.Event{At: at, Kind: trace.EvSend, Node: from, Peer: to, Msg: *m})
		if arrive == at {
			o.emit(trace.Event{At: at, Kind: trace.EvDrop, Node: to, Peer: from, Msg: *m, Reason: dropped})
		}
	}
	o.c.Sent()
	line := fmt.Sprintf("t=%s %v->%v %s (on the wire)", trace.FormatTime(at), m.From, m.To, m.String())
	switch {
	case m.Type == raft.MsgVote:
		o.remember(said{from, from, m.Term}, line)
		o.report(o.check.Voted(from, m.Term, from), o.voteKeys(from, m.Term)...) // a candidate votes for itself
	case m.Type == raft.MsgVoteResp && !m.Reject:
		o.remember(said{from, to, m.Term}, line)
		o.emit(trace.Event{At: at, Kind: trace.EvVote, Node: from, Vote: to, Term: m.Term})
		o.report(o.check.Voted(from, m.Term, to), o.voteKeys(from, m.Term)...)
	case m.Type == raft.MsgApp:
		o.led(from, m.Term, line)
	}
	if m.Type != raft.MsgPreVote && !(m.Type == raft.MsgPreVoteResp && !m.Reject) {
		o.showsTerm(from, m.Term, roleShown(m), at)
	}
	if m.Type == raft.MsgApp {
		o.c.Heartbeat(from) // a leader's AppendEntries on the wire: its heartbeat, as far as live can tell
	}
	o.c.Watch()
}

// voteKeys returns the evidence keys of every vote node cast in term.
func (o *observer) voteKeys(node int, term uint64) []said {
	var keys []said
	for c := range o.n {
		keys = append(keys, said{node, c, term})
	}
	return keys
}

func (o *observer) remember(k said, line string) {
	if _, ok := o.said[k]; !ok {
		o.said[k] = line
	}
}

// late hears how late etcd's proxy delivered bytes ([lateRecorder]).
func (o *observer) late(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cost.Late.Add(int64(d))
}

// Delivered implements proxy.Observer.
func (o *observer) Delivered(m *raft.Message, at, late time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cost.Late.Add(int64(late))
	o.emit(trace.Event{At: at, Kind: trace.EvRecv, Node: int(m.To), Peer: int(m.From), Msg: *m})
	if m.Type == raft.MsgApp {
		o.c.AppendEntriesDelivered(int(m.From), int(m.To), m.Term)
	}
}

// Answered implements proxy.Observer: how long nodes take to answer, with
// a disk write (a vote granted, a new term, entries) and without.
func (o *observer) Answered(req, reply *raft.Message, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if req.Type == raft.MsgVote && !reply.Reject || req.Term > o.c.Cluster.State[req.To].Term || req.Type == raft.MsgApp && req.NEntries > 0 {
		o.cost.AnswerSync.Add(int64(took))
	} else {
		o.cost.Answer.Add(int64(took))
	}
}

// Dropped implements proxy.Observer. A request to a node that runs but did
// not answer in the proxy's time is the node's slowness: it is counted for
// the report.
func (o *observer) Dropped(m *raft.Message, at time.Duration, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.emit(trace.Event{At: at, Kind: trace.EvDrop, Node: int(m.To), Peer: int(m.From), Msg: *m, Reason: reason})
	if to := int(m.To); reason == proxy.DropCrashed && o.answered[to] && o.c.Cluster.Up(to) && !o.c.Cluster.Paused(to) && isRequest(m.Type) {
		o.unanswered[to]++ // it runs, and has started up: it was too slow, or broke the connection
	}
}

func isRequest(t raft.MsgType) bool {
	return t == raft.MsgVote || t == raft.MsgPreVote || t == raft.MsgApp
}

// slowNotes say which nodes left requests unanswered while they ran,
// started up, over a whole run: unanswered[i] requests of node i.
func slowNotes(unanswered []int) []string {
	var notes []string
	for i, k := range unanswered {
		if k > 0 {
			notes = append(notes, fmt.Sprintf("%v, running and started up, left %s unanswered in the proxy's time (%v): they were lost; a node must answer each RPC at once",
				raft.ID(i), scenarios.Count(k, "request", "requests"), proxyTimeout))
		}
	}
	return notes
}

// maxNotes bounds the notes about unreadable messages kept per trial.
const maxNotes = 5

// Unreadable implements proxy.Observer.
func (o *observer) Unreadable(from, to int, at time.Duration, what string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	text := fmt.Sprintf("%v->%v %s: %v", raft.ID(from), raft.ID(to), what, err)
	o.emit(traceNote(at, text))
	if len(o.notes) < maxNotes {
		o.notes = append(o.notes, text)
	}
}

// status takes node i's /status answer to a request sent at asked.
func (o *observer) status(i int, asked time.Duration, s wire.Status) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cl := &o.c.Cluster
	if !cl.Up(i) {
		return // an answer from before the kill
	}
	o.answered[i] = true
	at := o.now()
	cur := &cl.State[i]
	line := fmt.Sprintf("t=%s /status of %v: %s term=%d", trace.FormatTime(at), raft.ID(i), s.State, s.Term)
	if s.Term < cur.Term && asked > o.wireAt[i] {
		o.report(o.check.TermChanged(i, cur.Term, s.Term))
	}
	if s.State == wire.StateLeader {
		k := said{i, -1, s.Term}
		first, seen := o.claimed[k]
		if !seen {
			first = at
			o.claimed[k] = at
		}
		if at-first >= o.settle {
			o.led(i, s.Term, line)
		}
	}
	if s.State == wire.StateCandidate && s.Leader != nil {
		if id, ok := o.names.ID(*s.Leader); ok {
			o.remember(said{i, int(id), s.Term}, line)
			o.report(safety.CandidateFollows(i, raft.Candidate, s.Term, int(id)), said{i, int(id), s.Term})
		}
	}
	// An answer asked for before the node's own messages last spoke is
	// older than they are: it may only raise the term.
	if fresh := asked >= o.wireAt[i]; s.Term > cur.Term || fresh && s.Term == cur.Term {
		lead := raft.None
		if s.Leader != nil {
			if id, ok := o.names.ID(*s.Leader); ok {
				lead = id
			}
		}
		o.setState(i, s.Term, wire.RoleOf(s.State), lead, at)
	}
	o.c.Watch()
}

// led notes that node i leads term: it said so in /status, or sent
// AppendEntries of that term.
func (o *observer) led(i int, term uint64, line string) {
	o.remember(said{i, -1, term}, line)
	if v := o.check.Led(i, term); v != nil {
		var keys []said
		for j := range o.n {
			keys = append(keys, said{j, -1, term})
		}
		o.report(v, keys...)
	}
}

// roleShown returns the role a message shows its sender in: a candidate
// asks for votes, a leader sends AppendEntries, and anything else comes from
// a follower (when its term is news).
func roleShown(m *raft.Message) raft.Role {
	switch m.Type {
	case raft.MsgVote:
		return raft.Candidate
	case raft.MsgApp:
		return raft.Leader
	}
	return raft.Follower
}

// showsTerm notes that a message of node i's own shows it in term, in
// role.
func (o *observer) showsTerm(i int, term uint64, role raft.Role, at time.Duration) {
	o.wireAt[i] = at
	cur := &o.c.Cluster.State[i]
	switch {
	case term > cur.Term:
		o.setState(i, term, role, raft.None, at)
	case term == cur.Term && role > cur.Role: // a candidate of its term, then its leader
		o.setState(i, term, role, cur.Lead, at)
	}
}

// setState records node i's term, role and leader, and tells the
// conductor when the role or term changed.
func (o *observer) setState(i int, term uint64, role raft.Role, lead raft.ID, at time.Duration) {
	cur := &o.c.Cluster.State[i]
	prev := *cur
	if role == raft.Leader {
		lead = raft.ID(i)
	}
	cur.Term, cur.Role, cur.Lead = term, role, lead
	if prev.Term == term && prev.Role == role {
		return
	}
	o.emit(trace.Event{At: at, Kind: trace.EvState, Node: i, Role: role, Term: term})
	o.c.StateChanged(i, &prev)
}

func traceNote(at time.Duration, text string) trace.Event {
	return trace.Event{At: at, Kind: trace.EvNote, Node: -1, Text: text}
}
