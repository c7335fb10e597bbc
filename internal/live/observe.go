package live

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/safety"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// observer is what one live trial knows: every RPC the proxy carried and
// every /status answer, fed to the safety checker (package safety, the
// simulator's checks), the trial's measurements, its timeline, and the
// view of the cluster the fault timeline and the liveness checks read. It
// never asks a node what it thinks beyond /status, and counts the majority
// from the cluster size. Its methods are safe for concurrent use.
type observer struct {
	mu       sync.Mutex
	sc       *scenarios.Scenario
	now      func() time.Duration
	n        int
	names    wire.Names // n1, n2, ...: what /status calls the leader
	majority int
	kick     chan struct{} // wakes the fault timeline when something happened

	check    safety.Checker
	said     map[said]string // the first observation of each leadership and vote, for evidence
	failure  *trial.Failure
	evidence []string
	events   []trace.Event
	notes    []string

	// The cluster as the trial sees it. term is the highest term node i
	// has shown (in /status or a message of its own), role its role in it
	// as far as the trial knows: a RequestVote shows a candidate, an
	// AppendEntries a leader, another message of a higher term a follower.
	term     []uint64
	role     []raft.Role
	booted   []bool
	down     []bool // killed and not restarted
	paused   []bool
	wireAt   []time.Duration // by node: when a message of its own last told its role or term
	lead     []int           // by node: the leader its /status names, or -1
	topo     *sim.Topology
	leaders  int // leader elections seen: terms that got their first leader
	topTerm  uint64
	apps     []int // by node: AppendEntries it sent, for after: heartbeat
	watch    safety.Watch
	converge time.Duration // converge_within's deadline while converging; 0 otherwise

	// unfinished says why the fault timeline would be unfinished if the
	// trial ended now, and stepsLeft are its steps not yet done.
	unfinished string
	stepsLeft  []scenarios.Step

	meter meter
	cost  Overheads
}

// said keys the evidence of a leadership (candidate < 0) or a vote.
type said struct {
	node, candidate int
	term            uint64
}

func newObserver(sc *scenarios.Scenario, now func() time.Duration) *observer {
	n := sc.Cluster.Nodes
	o := &observer{sc: sc, now: now, n: n, names: wire.NodeNames(n), majority: n/2 + 1, kick: make(chan struct{}, 1), said: map[said]string{},
		term: make([]uint64, n), role: make([]raft.Role, n), booted: make([]bool, n), down: make([]bool, n), paused: make([]bool, n),
		wireAt: make([]time.Duration, n), apps: make([]int, n), lead: make([]int, n), topo: sim.NewTopology(n)}
	o.check.Reset(n)
	o.watch.Reset(sc.Expect.LeaderWithin)
	for i := range o.term {
		o.term[i], o.lead[i] = sc.Cluster.Term, -1
	}
	o.topTerm = sc.Cluster.Term
	o.meter.reset(o, sc.Cluster.Term)
	return o
}

// emit adds an event to the timeline; the caller holds o.mu.
func (o *observer) emit(e trace.Event) {
	o.events = append(o.events, e)
}

// failed says whether the trial has failed.
func (o *observer) failed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failure != nil
}

// fail ends the trial with its first failure; the caller holds o.mu.
func (o *observer) fail(kind, detail string, evidence ...string) {
	if o.failure != nil {
		return
	}
	at := o.now()
	o.failure = &trial.Failure{Kind: kind, Detail: detail, At: at, Event: uint64(len(o.events))}
	o.evidence = evidence
	o.emit(trace.Event{At: at, Kind: trace.EvViolation, Node: -1, Text: kind + ": " + detail})
	o.wake()
}

// report fails the trial with a safety violation, if the scenario checks
// its invariant, naming the observations that show it.
func (o *observer) report(v *safety.Violation, keys ...said) {
	if v == nil || !slices.Contains(o.sc.Expect.Invariants, v.Invariant) {
		return
	}
	var ev []string
	for _, k := range keys {
		if line, ok := o.said[k]; ok {
			ev = append(ev, line)
		}
	}
	o.fail(v.Invariant.String(), v.Detail, ev...)
}

func (o *observer) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
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
	o.meter.sent()
	line := fmt.Sprintf("t=%s %v->%v %s (on the wire)", trace.FormatTime(at), m.From, m.To, m.String())
	switch {
	case m.Type == raft.MsgVote:
		o.remember(said{from, from, m.Term}, line)
		o.report(o.check.Voted(from, m.Term, from), o.voteKeys(from, m.Term)...) // a candidate votes for itself
		o.meter.candidate(from, m.Term)
	case m.Type == raft.MsgVoteResp && !m.Reject:
		o.remember(said{from, to, m.Term}, line)
		o.emit(trace.Event{At: at, Kind: trace.EvVote, Node: from, Vote: to, Term: m.Term})
		o.report(o.check.Voted(from, m.Term, to), o.voteKeys(from, m.Term)...)
	case m.Type == raft.MsgApp:
		o.apps[from]++
		o.led(from, m.Term, at, line)
	}
	if m.Type != raft.MsgPreVote && !(m.Type == raft.MsgPreVoteResp && !m.Reject) {
		o.showsTerm(from, m.Term, roleShown(m), at)
	}
	o.look(at)
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

// Delivered implements proxy.Observer.
func (o *observer) Delivered(m *raft.Message, at, late time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cost.Late.Add(int64(late))
	o.emit(trace.Event{At: at, Kind: trace.EvRecv, Node: int(m.To), Peer: int(m.From), Msg: *m})
	if m.Type == raft.MsgApp {
		o.meter.heartbeatReached(int(m.From), int(m.To), m.Term)
	}
}

// Answered implements proxy.Observer: how long nodes take to answer, with
// a disk write (a vote granted, a new term, entries) and without.
func (o *observer) Answered(req, reply *raft.Message, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if req.Type == raft.MsgVote && !reply.Reject || req.Term > o.term[req.To] || req.Type == raft.MsgApp && req.NEntries > 0 {
		o.cost.AnswerSync.Add(int64(took))
	} else {
		o.cost.Answer.Add(int64(took))
	}
}

// Dropped implements proxy.Observer.
func (o *observer) Dropped(m *raft.Message, at time.Duration, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.emit(trace.Event{At: at, Kind: trace.EvDrop, Node: int(m.To), Peer: int(m.From), Msg: *m, Reason: reason})
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
	if o.down[i] {
		return // an answer from before the kill
	}
	at := o.now()
	line := fmt.Sprintf("t=%s /status of %v: %s term=%d", trace.FormatTime(at), raft.ID(i), s.State, s.Term)
	if s.Term < o.term[i] && asked > o.wireAt[i] {
		o.report(o.check.TermChanged(i, o.term[i], s.Term))
	}
	if s.State == wire.StateLeader {
		o.led(i, s.Term, at, line)
	}
	// An answer asked for before the node's own messages last spoke is
	// older than they are: it may only raise the term.
	fresh := asked >= o.wireAt[i]
	if s.Term > o.term[i] || fresh && s.Term == o.term[i] {
		role := wire.RoleOf(s.State)
		if s.Term != o.term[i] || role != o.role[i] {
			o.setState(i, s.Term, role, at)
		}
		o.lead[i] = -1
		if s.Leader != nil {
			if id, ok := o.names.ID(*s.Leader); ok {
				o.lead[i] = int(id)
			}
		}
	}
	o.look(at)
}

// led notes that node i leads term: it said so in /status, or sent
// AppendEntries of that term.
func (o *observer) led(i int, term uint64, at time.Duration, line string) {
	o.remember(said{i, -1, term}, line)
	if v := o.check.Led(i, term); v != nil {
		var keys []said
		for j := range o.n {
			keys = append(keys, said{j, -1, term})
		}
		o.report(v, keys...)
	}
	if term > o.topTerm || o.leaders == 0 && term >= o.topTerm {
		o.topTerm = term
		o.leaders++
		o.meter.leader(i, term, at)
		o.wake()
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
	switch {
	case term > o.term[i]:
		o.setState(i, term, role, at)
	case term == o.term[i] && role > o.role[i]: // a candidate of its term, then its leader
		o.setState(i, term, role, at)
	}
}

// leads reports whether node i leads in the term it has shown.
func (o *observer) leads(i int) bool { return o.role[i] == raft.Leader }

// setState records node i's new term and role.
func (o *observer) setState(i int, term uint64, role raft.Role, at time.Duration) {
	prevTerm, prevLeads := o.term[i], o.leads(i)
	if term != prevTerm {
		o.lead[i] = -1 // it has not heard of a leader of its new term yet
	}
	if role == raft.Leader {
		o.lead[i] = i
	}
	o.term[i], o.role[i] = term, role
	o.emit(trace.Event{At: at, Kind: trace.EvState, Node: i, Role: role, Term: term})
	o.meter.stateChanged(i, prevTerm, prevLeads, term, o.leads(i))
}

// look re-judges the cluster's working leader after anything that may
// have given or taken it; the caller holds o.mu.
func (o *observer) look(at time.Duration) {
	working := o.workingLeader()
	o.watch.Look(at, o.majorityConnected(), working >= 0)
	if o.converge > 0 && working >= 0 {
		o.converge = 0
	}
	o.meter.working(working, at)
}

// due checks the deadlines that come due with time alone.
func (o *observer) due() {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	o.look(now)
	if detail, over := o.watch.Due(now); over {
		o.fail(trial.KindLiveness, detail)
	}
	if o.converge > 0 && now >= o.converge {
		o.fail(trial.KindLiveness, fmt.Sprintf("no working leader within %s of the last fault (converge_within)",
			scenarios.FormatDuration(o.sc.Expect.ConvergeWithin)))
	}
}

// up reports whether node i has booted and runs: not killed, not paused.
func (o *observer) up(i int) bool { return o.booted[i] && !o.down[i] && !o.paused[i] }

// linked reports whether i and j can exchange messages both ways.
func (o *observer) linked(i, j int) bool { return !o.topo.Blocked(i, j) && !o.topo.Blocked(j, i) }

// maxTerm returns the highest term any node has shown.
func (o *observer) maxTerm() uint64 { return slices.Max(o.term) }

// workingLeader returns a running leader that reaches a majority of
// running nodes, none of which is in a higher term, or -1.
func (o *observer) workingLeader() int {
	for i := range o.n {
		if !o.leads(i) || !o.up(i) {
			continue
		}
		reach, ok := 0, true
		for j := range o.n {
			if j == i || o.up(j) && o.linked(i, j) {
				reach++
				ok = ok && o.term[j] <= o.term[i]
			}
		}
		if ok && reach >= o.majority {
			return i
		}
	}
	return -1
}

// majorityConnected reports whether some majority of running nodes can
// all exchange messages: a connected component of the running nodes.
func (o *observer) majorityConnected() bool {
	var seen uint64 // live clusters are small: see maxLiveNodes
	for start := range o.n {
		if seen&(1<<start) != 0 || !o.up(start) {
			continue
		}
		component := uint64(1) << start
		for grew := true; grew; {
			grew = false
			for i := range o.n {
				if component&(1<<i) == 0 {
					continue
				}
				for j := range o.n {
					if component&(1<<j) == 0 && o.up(j) && o.linked(i, j) {
						component |= 1 << j
						grew = true
					}
				}
			}
		}
		seen |= component
		if bits.OnesCount64(component) >= o.majority {
			return true
		}
	}
	return false
}

// currentLeader returns the running leader of the highest term, or -1.
func (o *observer) currentLeader() int {
	best := -1
	for i := range o.n {
		if o.leads(i) && !o.down[i] && (best < 0 || o.term[i] > o.term[best]) {
			best = i
		}
	}
	return best
}

// removed reports whether leader can no longer lead: it is down, paused,
// no longer leader, or cut off from a majority.
func (o *observer) removed(leader int) bool {
	if o.down[leader] || o.paused[leader] || !o.leads(leader) {
		return true
	}
	reach := 0
	for j := range o.n {
		if j == leader || !o.down[j] && !o.paused[j] && o.linked(leader, j) {
			reach++
		}
	}
	return reach < o.majority
}

func traceNote(at time.Duration, text string) trace.Event {
	return trace.Event{At: at, Kind: trace.EvNote, Node: -1, Text: text}
}

// fault notes a fault in the timeline; the caller holds o.mu.
func (o *observer) fault(e trace.Event) {
	e.At = o.now()
	o.emit(e)
}

// note adds a line to the timeline.
func (o *observer) note(text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.emit(traceNote(o.now(), text))
}
