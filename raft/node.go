package raft

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/rng"
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

// Rand is the source of the node's random election timeouts. The driver
// injects it, seeded, so that runs are reproducible. A [*rng.Rand] is drawn
// from directly, without the cost of an interface call.
type Rand interface {
	// Int63n returns a uniform value in [0, n).
	Int63n(n int64) int64
}

// Node is one Raft node. It is not safe for concurrent use; a driver feeds
// it one input at a time and then drains its outputs.
type Node struct {
	cfg      Config
	majority int
	rand     Rand
	fast     *rng.Rand     // rand, when it is one: drawn from with a direct call
	now      time.Duration // the node's clock, as of the last input

	// Persistent state: survives Restart.
	term uint64
	vote ID
	log  []uint64 // log[i] is the term of entry i; log[0] is a sentinel 0

	// Volatile state.
	role      Role
	lead      ID
	commit    uint64
	heardAt   time.Duration // when a leader (or, as leader, a majority) was last heard from
	heard     bool          // whether heardAt means anything
	granted   []int8        // per node, this round: +1 granted, -1 refused, 0 unknown
	votesFor  int
	votesAgst int
	next      []uint64 // leader: next entry to send to each node
	match     []uint64 // leader: highest entry known to match on each node
	active    []bool   // leader: heard from each node since the last CheckQuorum check

	timerDue     [NumTimers]time.Duration
	timerArmed   [NumTimers]bool
	timerVersion uint64
	stateVersion uint64
	truncations  uint64
	msgs         []Message
}

// New returns a node that has not started; call [Node.Start]. It panics if
// cfg is invalid: validate configurations from users with [Config.Validate].
func New(cfg Config, rand Rand) *Node {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("raft: %v", err))
	}
	n := &Node{rand: rand}
	n.fast, _ = rand.(*rng.Rand)
	n.Reset(cfg)
	return n
}

// Reset makes n a fresh node with configuration cfg, as New does, keeping
// its storage. It lets a driver reuse nodes from trial to trial.
func (n *Node) Reset(cfg Config) {
	n.cfg = cfg
	n.majority = cfg.Majority()
	n.term, n.vote = 0, None
	n.log = append(n.log[:0], 0)
	// Per-node state is not cleared here: clearVolatile clears the vote
	// tally below, and becomeLeader sets next, match and active before any
	// use. Clearing small slices costs a call each, on every trial.
	n.granted = setLen(n.granted, cfg.Size)
	n.next = setLen(n.next, cfg.Size)
	n.match = setLen(n.match, cfg.Size)
	n.active = setLen(n.active, cfg.Size)
	n.timerArmed = [NumTimers]bool{}
	n.timerVersion++
	n.truncations = 0
	n.msgs = n.msgs[:0]
	n.clearVolatile()
}

// SetPersistent sets the state a node keeps across restarts, before it
// starts: its term, its vote and the terms of its log entries 1, 2, ...
// Drivers use it to start a cluster from differing logs.
func (n *Node) SetPersistent(term uint64, vote ID, log []uint64) {
	n.term, n.vote = term, vote
	n.log = append(n.log[:1], log...)
	n.stateChanged()
}

func (n *Node) clearVolatile() {
	n.role, n.lead, n.commit, n.heard = Follower, None, 0, false
	n.stateChanged()
	clear(n.granted)
	n.votesFor, n.votesAgst = 0, 0
}

// Start boots the node as a follower with its election timer running.
func (n *Node) Start(now time.Duration) {
	n.now = now
	n.clearVolatile()
	n.stopTimer(HeartbeatTimer)
	n.resetElectionTimer()
}

// Restart boots the node again after a crash: volatile state is lost,
// currentTerm, votedFor and the log are kept.
func (n *Node) Restart(now time.Duration) {
	if n.cfg.Bugs&BugVoteNotPersisted != 0 {
		n.vote = None
	}
	n.Start(now)
}

// Accessors for drivers and checkers.

func (n *Node) ID() ID              { return n.cfg.ID }
func (n *Node) Config() *Config     { return &n.cfg }
func (n *Node) Role() Role          { return n.role }
func (n *Node) Term() uint64        { return n.term }
func (n *Node) Vote() ID            { return n.vote }
func (n *Node) Lead() ID            { return n.lead }
func (n *Node) Commit() uint64      { return n.commit }
func (n *Node) LastIndex() uint64   { return uint64(len(n.log) - 1) }
func (n *Node) LastTerm() uint64    { return n.log[len(n.log)-1] }
func (n *Node) Truncations() uint64 { return n.truncations }

// LogTerm returns the term of entry i, or 0 when the log has no entry i.
func (n *Node) LogTerm(i uint64) uint64 {
	if i < uint64(len(n.log)) {
		return n.log[i]
	}
	return 0
}

// Timer returns when timer t is due on the node's clock, and whether it is
// armed at all.
func (n *Node) Timer(t Timer) (due time.Duration, armed bool) {
	return n.timerDue[t], n.timerArmed[t]
}

// TimerVersion changes whenever a timer is armed, moved or stopped, so that
// a driver can tell cheaply whether it must look at [Node.Timer].
func (n *Node) TimerVersion() uint64 { return n.timerVersion }

// StateVersion changes whenever the node's role, term, vote, commit index
// or log changes, so that a driver can tell with one comparison whether it
// must look at them: most inputs (a heartbeat, a reply to one) change none.
func (n *Node) StateVersion() uint64 { return n.stateVersion }

// stateChanged notes a change that StateVersion promises to show.
func (n *Node) stateChanged() { n.stateVersion++ }

// Messages returns the messages the node has sent since the last call, and
// forgets them. The slice is valid until the next input to the node.
func (n *Node) Messages() []Message {
	m := n.msgs
	n.msgs = n.msgs[:0]
	return m
}

// Propose makes a leader append count entries of its term and send them at
// once. It reports false, doing nothing, when n is not the leader.
func (n *Node) Propose(now time.Duration, count int) bool {
	n.now = now
	if n.role != Leader {
		return false
	}
	for i := 0; i < count; i++ {
		n.log = append(n.log, n.term)
	}
	n.stateChanged()
	n.match[n.cfg.ID] = n.LastIndex()
	n.maybeCommit(n.LastIndex())
	n.broadcastApp()
	return true
}

// Tick tells the node that its timer t has fired.
func (n *Node) Tick(now time.Duration, t Timer) {
	n.now = now
	n.timerArmed[t] = false
	n.timerVersion++
	switch t {
	case ElectionTimer:
		switch n.role {
		case Leader:
			n.checkQuorum()
		case Candidate:
			if n.cfg.Bugs&BugNoRetry != 0 {
				return // the bug: only followers' timers start elections
			}
			n.campaign()
		default:
			n.campaign()
		}
	case HeartbeatTimer:
		if n.role == Leader {
			n.broadcastApp()
		}
	}
}

// campaign starts a Pre-Vote round or, without Pre-Vote, an election.
func (n *Node) campaign() {
	if n.cfg.PreVote {
		n.becomePreCandidate()
	} else {
		n.becomeCandidate()
	}
}

// Step hands the node a message addressed to it.
func (n *Node) Step(now time.Duration, m *Message) {
	n.now = now
	switch {
	case m.Term > n.term:
		if (m.Type == MsgVote || m.Type == MsgPreVote) && n.cfg.LeaderStickiness && n.inLease() {
			return // §4.2.3: a current leader exists; neither adopt the term nor vote
		}
		switch {
		case m.Type == MsgPreVote:
			// A Pre-Vote request never changes the receiver's term.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// A granted pre-vote carries the candidate's next term, not a real one.
		case m.IsResponse() && n.cfg.Bugs&BugIgnoreReplyTerm != 0:
			return
		case n.role == Leader && n.cfg.Bugs&BugLeaderNoStepDown != 0:
			if m.Type != MsgVote && m.Type != MsgApp {
				return
			}
			// Requests are still answered, from the old term.
		default:
			lead := None
			if m.Type == MsgApp {
				lead = m.From
			}
			n.becomeFollower(m.Term, lead)
		}
	case m.Term < n.term:
		// A stale sender learns the current term from the refusal.
		switch m.Type {
		case MsgApp:
			r := n.send(MsgAppResp, m.From)
			r.Reject, r.Index = true, n.LastIndex()
		case MsgVote:
			n.send(MsgVoteResp, m.From).Reject = true
		case MsgPreVote:
			n.send(MsgPreVoteResp, m.From).Reject = true
		}
		return
	}
	switch m.Type {
	case MsgVote:
		n.handleVote(m)
		return
	case MsgPreVote:
		n.handlePreVote(m)
		return
	}
	// The step function of n's role. A switch rather than a function value
	// swapped on each transition (as etcd does): an indirect call costs
	// several times a direct one, and this runs for every message. It is
	// written out here, not in a function of its own, to save a call.
	switch n.role {
	case Follower:
		stepFollower(n, m)
	case PreCandidate:
		stepPreCandidate(n, m)
	case Candidate:
		stepCandidate(n, m)
	case Leader:
		stepLeader(n, m)
	}
}

// inLease reports whether the node is a leader or heard from one within the
// minimum election timeout.
func (n *Node) inLease() bool {
	if n.role == Leader {
		return true
	}
	return n.lead != None && n.heard && n.now-n.heardAt < n.cfg.ElectionMin
}

func stepFollower(n *Node, m *Message) {
	if m.Type == MsgApp {
		n.acceptLeader(m.From)
		n.handleApp(m)
	}
}

func stepPreCandidate(n *Node, m *Message) {
	switch m.Type {
	case MsgApp:
		n.becomeFollower(m.Term, m.From)
		n.acceptLeader(m.From)
		n.handleApp(m)
	case MsgPreVoteResp:
		// Granted replies carry our next term; refusals carry the voter's,
		// which is ours (a higher one has already made us a follower).
		if !m.Reject && m.Term != n.term+1 || m.Reject && m.Term != n.term {
			return
		}
		switch n.poll(m.From, !m.Reject) {
		case won:
			n.becomeCandidate()
		case lost:
			n.becomeFollower(n.term, None)
		}
	}
}

func stepCandidate(n *Node, m *Message) {
	switch m.Type {
	case MsgApp:
		n.becomeFollower(m.Term, m.From)
		n.acceptLeader(m.From)
		n.handleApp(m)
	case MsgVoteResp:
		if n.poll(m.From, !m.Reject) == won {
			n.becomeLeader()
		}
	}
}

func stepLeader(n *Node, m *Message) {
	if m.Type != MsgAppResp {
		return // another leader of our term only exists under a deliberate bug
	}
	from := m.From
	n.active[from] = true
	if m.Reject {
		// Back up to the follower's last entry (or one before what we tried).
		n.next[from] = max(1, min(n.next[from]-1, m.Index+1))
		n.sendApp(from)
		return
	}
	if m.Index > n.LastIndex() {
		return // a match beyond our log cannot come from a follower of this term
	}
	if m.Index > n.match[from] {
		n.match[from] = m.Index
		n.maybeCommit(m.Index)
	}
	n.next[from] = max(n.next[from], n.match[from]+1)
	if n.next[from] <= n.LastIndex() {
		n.sendApp(from)
	}
}

type pollResult uint8

const (
	pending pollResult = iota
	won
	lost
)

// poll records a (pre-)vote reply, counting each voter once.
func (n *Node) poll(from ID, granted bool) pollResult {
	if n.granted[from] == 0 {
		if granted {
			n.granted[from] = 1
			n.votesFor++
		} else {
			n.granted[from] = -1
			n.votesAgst++
		}
	}
	switch {
	case n.votesFor >= n.majority:
		return won
	case n.votesAgst > n.cfg.Size-n.majority:
		return lost
	}
	return pending
}

func (n *Node) resetPoll() {
	clear(n.granted)
	n.granted[n.cfg.ID] = 1
	n.votesFor, n.votesAgst = 1, 0
}

// handleVote applies the vote rule: grant iff the term is current, the node
// has not voted for someone else in it, and the candidate's log is at least
// as up-to-date as its own.
func (n *Node) handleVote(m *Message) {
	grant := (n.vote == None || n.vote == m.From) && n.upToDate(m.LogTerm, m.Index)
	if grant {
		n.vote = m.From
		n.stateChanged()
		n.resetElectionTimer()
	} else if n.cfg.Bugs&BugResetOnAnyVote != 0 && n.role == Follower {
		n.resetElectionTimer()
	}
	n.send(MsgVoteResp, m.From).Reject = !grant
}

// handlePreVote grants a pre-vote for a later term to an up-to-date
// candidate when no leader has been heard from within the minimum election
// timeout. It changes neither the term nor the vote.
func (n *Node) handlePreVote(m *Message) {
	grant := m.Term > n.term && n.upToDate(m.LogTerm, m.Index) && !n.inLease()
	r := n.send(MsgPreVoteResp, m.From)
	r.Reject = !grant
	if grant {
		r.Term = m.Term // the candidate counts it in the term it asked about
	}
}

// upToDate reports whether a log ending at (lastTerm, lastIndex) is at least
// as up-to-date as n's: a later last term, or the same and at least as long.
func (n *Node) upToDate(lastTerm, lastIndex uint64) bool {
	if n.cfg.Bugs&BugNoLogCheck != 0 {
		return true
	}
	return lastTerm > n.LastTerm() || lastTerm == n.LastTerm() && lastIndex >= n.LastIndex()
}

// acceptLeader notes a valid AppendEntries from the leader of this term.
func (n *Node) acceptLeader(from ID) {
	n.lead = from
	n.heard, n.heardAt = true, n.now
	n.resetElectionTimer()
}

// handleApp applies AppendEntries from the current leader with the
// consistency check.
func (n *Node) handleApp(m *Message) {
	if m.Index > n.LastIndex() || n.log[m.Index] != m.LogTerm {
		r := n.send(MsgAppResp, m.From)
		r.Reject, r.Index = true, min(n.LastIndex(), m.Index-1)
		return
	}
	for i := uint64(0); i < uint64(m.NEntries); i++ {
		idx := m.Index + 1 + i
		if idx <= n.LastIndex() {
			if n.log[idx] == m.Entries[i] {
				continue
			}
			n.log = n.log[:idx] // a conflicting suffix is overwritten
			n.truncations++
		}
		n.log = append(n.log, m.Entries[i])
		n.stateChanged()
	}
	lastNew := m.Index + uint64(m.NEntries)
	if m.Commit > n.commit {
		n.commit = max(n.commit, min(m.Commit, lastNew))
		n.stateChanged()
	}
	n.send(MsgAppResp, m.From).Index = lastNew
}

func (n *Node) becomeFollower(term uint64, lead ID) {
	wasLeader := n.role == Leader
	if term > n.term {
		n.term, n.vote = term, None
	}
	n.role, n.lead = Follower, lead
	n.stateChanged()
	n.stopTimer(HeartbeatTimer)
	if wasLeader || n.cfg.ResetTimerOnStepDown || !n.timerArmed[ElectionTimer] {
		n.resetElectionTimer()
	}
}

func (n *Node) becomePreCandidate() {
	n.role, n.lead = PreCandidate, None
	n.stateChanged()
	n.resetPoll()
	n.resetElectionTimer()
	if n.votesFor >= n.majority {
		n.becomeCandidate()
		return
	}
	n.requestVotes(MsgPreVote, n.term+1)
}

func (n *Node) becomeCandidate() {
	n.term++
	n.vote = n.cfg.ID
	n.role, n.lead = Candidate, None
	n.stateChanged()
	n.resetPoll()
	n.resetElectionTimer()
	if n.votesFor >= n.majority {
		n.becomeLeader()
		return
	}
	n.requestVotes(MsgVote, n.term)
}

func (n *Node) becomeLeader() {
	if n.role != Candidate {
		panic(fmt.Sprintf("raft: %v term %d: %v -> leader", n.cfg.ID, n.term, n.role))
	}
	n.role, n.lead = Leader, n.cfg.ID
	n.heard, n.heardAt = true, n.now
	last := n.LastIndex()
	for i := range n.next {
		n.next[i], n.match[i], n.active[i] = last+1, 0, false
	}
	n.log = append(n.log, n.term) // the no-op entry of the new term
	n.stateChanged()
	n.match[n.cfg.ID] = n.LastIndex()
	n.active[n.cfg.ID] = true
	n.stopTimer(ElectionTimer)
	if n.cfg.CheckQuorum {
		n.setTimer(ElectionTimer, n.cfg.ElectionMin)
	}
	n.maybeCommit(n.LastIndex())
	n.broadcastApp()
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

// maybeCommit commits entry idx if a majority holds it and it is of the
// leader's term (§5.4.2); earlier entries are committed with it.
func (n *Node) maybeCommit(idx uint64) {
	if idx <= n.commit || n.log[idx] != n.term {
		return
	}
	count := 0
	for _, m := range n.match {
		if m >= idx {
			count++
		}
	}
	if count >= n.majority {
		n.commit = idx
		n.stateChanged()
	}
}

func (n *Node) broadcastApp() {
	for i := 0; i < n.cfg.Size; i++ {
		if ID(i) != n.cfg.ID {
			n.sendApp(ID(i))
		}
	}
	n.setTimer(HeartbeatTimer, n.cfg.Heartbeat)
}

// sendApp sends AppendEntries with the entries from next[to] on, up to
// MaxEntries of them.
func (n *Node) sendApp(to ID) {
	prev := n.next[to] - 1
	m := n.send(MsgApp, to)
	m.Index, m.LogTerm, m.Commit = prev, n.log[prev], n.commit
	for i := prev + 1; i <= n.LastIndex() && m.NEntries < MaxEntries; i++ {
		m.Entries[m.NEntries] = n.log[i]
		m.NEntries++
	}
}

// requestVotes sends a vote request of type t (RequestVote or Pre-Vote) for
// term to every other node, with the node's last log entry.
func (n *Node) requestVotes(t MsgType, term uint64) {
	for i := 0; i < n.cfg.Size; i++ {
		if ID(i) != n.cfg.ID {
			m := n.send(t, ID(i))
			m.Term, m.LogTerm, m.Index = term, n.LastTerm(), n.LastIndex()
		}
	}
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

func (n *Node) resetElectionTimer() {
	span := int64(n.cfg.ElectionMax-n.cfg.ElectionMin) + 1
	var d int64
	if n.fast != nil {
		d = n.fast.Int63n(span) // the simulator's case, once per heartbeat received: inlined
	} else {
		d = n.rand.Int63n(span)
	}
	n.setTimer(ElectionTimer, n.cfg.ElectionMin+time.Duration(d))
}

func (n *Node) setTimer(t Timer, after time.Duration) {
	n.timerDue[t], n.timerArmed[t] = n.now+after, true
	n.timerVersion++
}

func (n *Node) stopTimer(t Timer) {
	if n.timerArmed[t] {
		n.timerArmed[t] = false
		n.timerVersion++
	}
}

// setLen returns s with length n, reusing its storage when it is big
// enough; the elements it reuses keep their values.
func setLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
