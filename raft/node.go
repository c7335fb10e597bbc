package raft

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Role is what a node currently is.
type Role uint8

// The roles of a node. PreCandidate is a follower running a Pre-Vote round.
const (
	Follower Role = iota
	PreCandidate
	Candidate
	Leader
)

var roleNames = [...]string{Follower: "follower", PreCandidate: "pre-candidate", Candidate: "candidate", Leader: "leader"}

func (r Role) String() string { return roleNames[r] }

// Timer names one of a node's two timers.
type Timer int

// A node's timers. A leader uses its election timer for CheckQuorum.
const (
	ElectionTimer Timer = iota
	HeartbeatTimer
	NumTimers
)

var timerNames = [...]string{ElectionTimer: "election", HeartbeatTimer: "heartbeat"}

func (t Timer) String() string { return timerNames[t] }

// MaxTerm is the highest term a node reaches: 2^53-1, the largest integer
// a JSON number carries exactly. The course's nodes send terms as JSON
// numbers, and its TypeScript nodes hold them as JavaScript numbers (IEEE
// 754 doubles), which cannot tell 2^53 from 2^53+1. A node whose term is
// MaxTerm does not campaign (its election would need a term above it), and
// a node ignores messages of higher terms, which no node sends honestly; so
// a term never passes what every node can hold, nor wraps around to 0.
const MaxTerm = 1<<53 - 1

// Rand is the source of the node's random election timeouts. Each driver
// provides one, seeded, so that its runs are reproducible.
type Rand interface {
	// Int63n returns a uniform value in [0, n).
	Int63n(n int64) int64
}

// Node is one Raft node. It is not safe for concurrent use: a driver feeds
// it one input at a time and drains a [Ready] after each.
type Node struct {
	cfg      Config
	majority int // votes that win an election, acknowledgements that commit
	rand     Rand
	now      time.Duration // the node's clock, as of the last input

	// Persistent state (Figure 2): survives Restart.
	term uint64
	vote ID
	log  []uint64 // log[i] is the term of entry i; log[0] is a sentinel 0

	// Volatile state.
	role         Role
	lead         ID
	commit       uint64
	timeout      time.Duration // the election timeout drawn last
	redraw       bool          // KeepTimeout: the term or role changed since it was drawn
	heardAt      time.Duration // when a leader (or, as leader, a majority) was last heard from
	heard        bool          // whether heardAt means anything
	answered     []bool        // per node: its (pre-)vote of this round is counted
	votesFor     int
	votesAgainst int
	next         []uint64 // leader: next entry to send to each node
	match        []uint64 // leader: highest entry known to match on each node
	active       []bool   // leader: heard from each node since the last CheckQuorum check
	sorted       []uint64 // scratch for the quorum's match index
	timers       [NumTimers]struct {
		due   time.Duration
		armed bool
	}

	// What the next Ready reports.
	rd           Ready
	reported     State  // the State of the previous Ready
	dirty        bool   // the state may differ from reported: most inputs change none of it
	unstable     uint64 // the lowest log index written since then; noEntries: none
	timerChanged [NumTimers]bool
	timerBuf     [NumTimers]TimerSetting
	msgs         []Message
	// campaignRefused: the election timer fired at MaxTerm (Ready.CampaignRefused).
	campaignRefused bool
}

// New returns a node that has not started: give it its persistent state
// with [Node.Restore] if it has any, then call [Node.Start]. It panics if
// cfg is invalid: validate configurations from users with [Config.Validate].
func New(cfg Config, rand Rand) *Node {
	n := &Node{rand: rand}
	n.Reset(cfg)
	return n
}

// Reset makes n a fresh node with configuration cfg, as New does, keeping
// its storage. It lets a driver reuse nodes from trial to trial.
func (n *Node) Reset(cfg Config) {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("raft: %v", err))
	}
	n.cfg = cfg
	n.majority = Majority(cfg.Size)
	if cfg.Bugs&BugPeersMajority != 0 {
		n.majority = Majority(cfg.Size - 1) // the bug: a majority of the peers only
	}
	n.term, n.vote = 0, None
	n.log = append(n.log[:0], 0)
	n.answered = setLen(n.answered, cfg.Size)
	n.next = setLen(n.next, cfg.Size)
	n.match = setLen(n.match, cfg.Size)
	n.active = setLen(n.active, cfg.Size)
	n.timers = [NumTimers]struct {
		due   time.Duration
		armed bool
	}{}
	n.timerChanged = [NumTimers]bool{}
	n.msgs = n.msgs[:0]
	n.unstable = noEntries
	n.campaignRefused = false
	n.clearVolatile()
	n.reported, n.dirty = n.State(), false
}

// Restore gives a node that has not started the state it keeps on stable
// storage: its term, its vote and the terms of its log entries 1, 2, ...
// A driver uses it to restart a node from its disk, or to start a cluster
// from differing logs. The state is durable already: the next Ready does not
// ask to write it. It panics if term, or the term of an entry, is above
// MaxTerm: drivers check the state they read.
func (n *Node) Restore(term uint64, vote ID, log []uint64) {
	if term > MaxTerm || slices.ContainsFunc(log, func(t uint64) bool { return t > MaxTerm }) {
		panic(fmt.Sprintf("raft: %v: restored term %d or log above MaxTerm %d", n.cfg.ID, term, uint64(MaxTerm)))
	}
	n.term, n.vote = term, vote
	n.log = append(n.log[:1], log...)
	n.reported, n.dirty = n.State(), false
}

func (n *Node) clearVolatile() {
	n.role, n.lead, n.commit, n.heard = Follower, None, 0, false
	n.dirty, n.redraw = true, true
	clear(n.answered)
	n.votesFor, n.votesAgainst = 0, 0
}

// Start boots the node as a follower with its election timer running.
func (n *Node) Start(now time.Duration) {
	n.now = now
	n.clearVolatile()
	n.stopTimer(HeartbeatTimer)
	n.resetElectionTimer()
}

// Restart boots the node again after a crash: volatile state is lost;
// currentTerm, votedFor and the log are kept.
func (n *Node) Restart(now time.Duration) {
	if n.cfg.Bugs&BugVoteNotPersisted != 0 {
		n.vote = None // the bug: votedFor was never written to stable storage
		n.dirty = true
	}
	n.Start(now)
}

// ID returns the node's id.
func (n *Node) ID() ID { return n.cfg.ID }

// State returns the node's state now.
func (n *Node) State() State {
	return State{Role: n.role, Term: n.term, Vote: n.vote, Lead: n.lead, Commit: n.commit,
		LastIndex: n.lastIndex(), LastTerm: n.lastTerm()}
}

// LogTerm returns the term of entry i, or 0 when the log has no entry i.
func (n *Node) LogTerm(i uint64) uint64 {
	if i > n.lastIndex() {
		return 0
	}
	return n.log[i]
}

func (n *Node) lastIndex() uint64 { return uint64(len(n.log) - 1) }
func (n *Node) lastTerm() uint64  { return n.log[len(n.log)-1] }

// Propose makes a leader append count entries of its term and send them at
// once. It reports false, doing nothing, when n is not the leader.
func (n *Node) Propose(now time.Duration, count int) bool {
	n.now = now
	if n.role != Leader {
		return false
	}
	for range count {
		n.appendEntry(n.term)
	}
	n.match[n.cfg.ID] = n.lastIndex()
	n.maybeCommit()
	n.broadcastApp()
	return true
}

// Tick tells the node that its timer t has fired.
func (n *Node) Tick(now time.Duration, t Timer) {
	n.now = now
	n.timers[t].armed = false
	n.timerChanged[t] = true
	if t == HeartbeatTimer {
		if n.role == Leader {
			n.broadcastApp()
		}
		return
	}
	if n.role == Leader {
		n.checkQuorum()
		return
	}
	if n.role == Candidate && n.cfg.Bugs&BugNoRetry != 0 {
		return // the bug: only a follower's timer starts an election, so a split vote is forever
	}
	n.campaign() // §5.2: no leader heard from within the election timeout
}

// The transitions between roles. Each is legal only from some roles; any
// other is a broken invariant and panics naming the node, term, from and to.

func (n *Node) becomeFollower(term uint64, lead ID) {
	wasLeader := n.role == Leader
	if term > n.term {
		n.term, n.vote = term, None
	}
	n.role, n.lead = Follower, lead
	n.dirty, n.redraw = true, true
	n.stopTimer(HeartbeatTimer)
	// Figure 2 resets the election timer only on a valid AppendEntries, a
	// granted vote or a new election; a deposed leader has none running.
	if wasLeader || n.cfg.ResetTimerOnStepDown || !n.timers[ElectionTimer].armed {
		n.resetElectionTimer()
	}
}

func (n *Node) becomePreCandidate() {
	n.mustBe(PreCandidate, Follower, PreCandidate, Candidate)
	n.role, n.lead = PreCandidate, None
	n.dirty = true
	n.resetPoll()
	n.resetElectionTimer()
	if n.votesFor >= n.majority {
		n.becomeCandidate()
		return
	}
	n.requestVotes(MsgPreVote, n.term+1)
}

func (n *Node) becomeCandidate() {
	n.mustBe(Candidate, Follower, PreCandidate, Candidate)
	n.term++
	n.vote = n.cfg.ID
	n.role, n.lead = Candidate, None
	n.dirty, n.redraw = true, true
	n.resetPoll()
	n.resetElectionTimer()
	if n.votesFor >= n.majority {
		n.becomeLeader()
		return
	}
	n.requestVotes(MsgVote, n.term)
}

func (n *Node) becomeLeader() {
	n.mustBe(Leader, Candidate)
	n.role, n.lead = Leader, n.cfg.ID
	n.dirty, n.redraw = true, true
	n.heard, n.heardAt = true, n.now
	last := n.lastIndex()
	for i := range n.next {
		n.next[i], n.match[i], n.active[i] = last+1, 0, false
	}
	n.appendEntry(n.term) // the no-op entry of the new term
	n.match[n.cfg.ID] = n.lastIndex()
	n.active[n.cfg.ID] = true
	n.stopTimer(ElectionTimer)
	if n.cfg.CheckQuorum {
		n.setTimer(ElectionTimer, n.cfg.ElectionMin)
	}
	n.maybeCommit()
	n.broadcastApp()
}

// mustBe panics unless the node's role is one of from: the transition to
// role to is not legal from anything else.
func (n *Node) mustBe(to Role, from ...Role) {
	for _, r := range from {
		if n.role == r {
			return
		}
	}
	panic(fmt.Sprintf("raft: %v term %d: illegal transition %v -> %v", n.cfg.ID, n.term, n.role, to))
}

// campaign starts a Pre-Vote round or, without Pre-Vote, an election,
// unless the node's term is MaxTerm: then it stays, or becomes, a follower
// with its election timer off (firing again would change nothing) and says
// so in its Ready. A leader or a candidate of MaxTerm can still be heard
// from, and arms the timer again.
func (n *Node) campaign() {
	if n.term >= MaxTerm {
		if n.role != Follower {
			n.becomeFollower(n.term, None)
		}
		n.stopTimer(ElectionTimer)
		n.campaignRefused = true
		return
	}
	if n.cfg.PreVote {
		n.becomePreCandidate()
	} else {
		n.becomeCandidate()
	}
}

// checkQuorum steps a leader down unless a majority has answered it since
// the last check (CheckQuorum; the leader's election timer runs it).
func (n *Node) checkQuorum() {
	heard := 0
	for i, a := range n.active {
		if a || ID(i) == n.cfg.ID {
			heard++
		}
		n.active[i] = false
	}
	if heard < n.majority {
		n.becomeFollower(n.term, None)
		return
	}
	n.heardAt = n.now
	n.setTimer(ElectionTimer, n.cfg.ElectionMin)
}

// noEntries is the value of unstable when no entry was written.
const noEntries = math.MaxUint64

// appendEntry appends an entry of term to the log.
func (n *Node) appendEntry(term uint64) {
	n.log = append(n.log, term)
	n.unstable = min(n.unstable, n.lastIndex())
	n.dirty = true
}

// truncate drops the entries from index i on: a conflicting suffix.
func (n *Node) truncate(i uint64) {
	n.log = n.log[:i]
	n.unstable = min(n.unstable, i)
	n.dirty = true
}

// send queues a message of type t to node to, from this node in its current
// term, and returns it for the caller to fill in; the pointer is valid until
// the next send. The message is built in place: a Message is 80 bytes, and
// building one on the stack and copying it in costs more than filling it
// where it will stay.
func (n *Node) send(t MsgType, to ID) *Message {
	n.msgs = append(n.msgs, Message{})
	m := &n.msgs[len(n.msgs)-1]
	m.Type, m.From, m.To, m.Term = t, n.cfg.ID, to, n.term
	return m
}

// resetElectionTimer restarts the election timer with a fresh election
// timeout, uniform in [ElectionMin, ElectionMax]: at every reset, or, with
// KeepTimeout, only the first since the term or role changed.
func (n *Node) resetElectionTimer() {
	if !n.cfg.KeepTimeout || n.redraw {
		span := int64(n.cfg.ElectionMax-n.cfg.ElectionMin) + 1
		n.timeout = n.cfg.ElectionMin + time.Duration(n.rand.Int63n(span))
		n.redraw = false
	}
	n.setTimer(ElectionTimer, n.timeout)
}

func (n *Node) setTimer(t Timer, after time.Duration) {
	n.timers[t].due, n.timers[t].armed = n.now+after, true
	n.timerChanged[t] = true
}

func (n *Node) stopTimer(t Timer) {
	if n.timers[t].armed {
		n.timers[t].armed = false
		n.timerChanged[t] = true
	}
}

// setLen returns s with length n, reusing its storage when it is big
// enough; the elements it reuses keep their values.
func setLen[T any](s []T, n int) []T { return slices.Grow(s[:0], n)[:n] }
