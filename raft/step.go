package raft

import (
	"slices"
	"time"
)

// Step hands the node a message addressed to it. The rules are the Raft
// paper's Figure 2, in its order: first the rule for all servers about
// terms, then the receiver's rules for each RPC, then the rules of the
// node's role.
func (n *Node) Step(now time.Duration, m *Message) {
	n.now = now
	if m.Term > MaxTerm {
		return // no node reaches such a term (MaxTerm); adopting it could never be undone
	}
	if m.Term < n.term {
		n.refuseStale(m)
		return
	}
	if m.Term > n.term && !n.stepHigherTerm(m) {
		return
	}
	if m.Type == MsgVote {
		n.handleVote(m)
		return
	}
	if m.Type == MsgPreVote {
		n.handlePreVote(m)
		return
	}
	// The step function of n's role. A switch rather than a function value
	// swapped on each transition (as etcd does): an indirect call costs
	// several times a direct one, and this runs for every message.
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

// stepHigherTerm applies Figure 2's rule for all servers to a message of a
// term above the node's: adopt the term and become a follower. It reports
// whether the message is to be handled further.
func (n *Node) stepHigherTerm(m *Message) bool {
	if n.cfg.LeaderStickiness && isVoteRequest(m) && n.inLease() {
		return false // §4.2.3: a current leader exists; neither adopt the term nor vote
	}
	if m.Type == MsgPreVote || m.Type == MsgPreVoteResp && !m.Reject {
		// A pre-vote asks about a term nobody has started (a granted reply
		// carries it back): it makes no term current.
		return true
	}
	if m.IsResponse() && n.cfg.Bugs&BugIgnoreReplyTerm != 0 {
		return false // the bug: a reply's higher term goes unnoticed
	}
	if n.role == Leader && n.cfg.Bugs&BugLeaderNoStepDown != 0 {
		return m.Type == MsgVote // the bug: the leader keeps its term and role, and answers only votes
	}
	n.becomeFollower(m.Term, leaderOf(m)) // the rule: adopt the term, follow its leader if it is the sender
	return true
}

func isVoteRequest(m *Message) bool { return m.Type == MsgVote || m.Type == MsgPreVote }

// leaderOf returns the leader a message of a higher term reveals: the
// sender of an AppendEntries, and nobody else.
func leaderOf(m *Message) ID {
	if m.Type == MsgApp {
		return m.From
	}
	return None
}

// refuseStale answers a request of a lower term with a refusal (Figure 2:
// "reply false if term < currentTerm"), which tells the stale sender the
// current term. Stale replies are ignored.
func (n *Node) refuseStale(m *Message) {
	switch m.Type {
	case MsgApp:
		r := n.send(MsgAppResp, m.From)
		r.Reject, r.Index = true, n.lastIndex()
	case MsgVote:
		n.send(MsgVoteResp, m.From).Reject = true
	case MsgPreVote:
		n.send(MsgPreVoteResp, m.From).Reject = true
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
		n.followLeader(m)
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
		n.followLeader(m)
	case MsgVoteResp:
		// Figure 2, candidates: votes from a majority make it leader.
		if n.poll(m.From, !m.Reject) == won {
			n.becomeLeader()
		}
	}
}

// followLeader applies Figure 2's rule for candidates (and pre-candidates):
// AppendEntries from the leader of their term makes them its follower; then
// the AppendEntries is handled as a follower's.
func (n *Node) followLeader(m *Message) {
	if n.role == Candidate && n.cfg.Bugs&BugCandidateStays != 0 {
		n.acceptLeader(m.From) // the bug: it notes the leader and resets its timer, and stays a candidate
		n.handleApp(m)
		return
	}
	n.becomeFollower(m.Term, m.From)
	n.acceptLeader(m.From)
	n.handleApp(m)
}

func stepLeader(n *Node, m *Message) {
	if m.Type != MsgAppResp {
		return // another leader of our term only exists under a deliberate bug
	}
	from := m.From
	n.active[from] = true
	if m.Reject {
		// Figure 2, leaders: on a failed consistency check, decrement
		// nextIndex and retry — here straight back to the follower's last
		// entry when that is further.
		n.next[from] = max(1, min(n.next[from]-1, m.Index+1))
		n.sendApp(from)
		return
	}
	if m.Index > n.lastIndex() {
		return // a match beyond our log cannot come from a follower of this term
	}
	if m.Index > n.match[from] {
		n.match[from] = m.Index
		n.maybeCommit()
	}
	n.next[from] = max(n.next[from], n.match[from]+1)
	if n.next[from] <= n.lastIndex() {
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
	if !n.answered[from] {
		n.answered[from] = true
		if granted {
			n.votesFor++
		} else {
			n.votesAgainst++
		}
	}
	if n.votesFor >= n.majority {
		return won
	}
	if n.votesAgainst > n.cfg.Size-n.majority {
		return lost // a majority can no longer be reached
	}
	return pending
}

// resetPoll starts a new round of (pre-)votes with the node's own.
func (n *Node) resetPoll() {
	clear(n.answered)
	n.answered[n.cfg.ID] = true
	n.votesFor, n.votesAgainst = 1, 0
}

// handleVote applies Figure 2's RequestVote receiver rule: grant iff the
// term is current (a higher one was adopted above), the node has not voted
// for another candidate in it, and the candidate's log is at least as
// up-to-date as its own (§5.4.1). A granted vote resets the election timer.
func (n *Node) handleVote(m *Message) {
	grant := (n.vote == None || n.vote == m.From) && n.upToDate(m.LogTerm, m.Index)
	if grant {
		n.recordVote(m.From)
		n.resetElectionTimer()
	} else if n.cfg.Bugs&BugResetOnAnyVote != 0 && n.role == Follower {
		n.resetElectionTimer() // the bug: a refused vote resets the timer too
	}
	n.send(MsgVoteResp, m.From).Reject = !grant
}

// recordVote sets votedFor, which must be durable before the reply leaves.
func (n *Node) recordVote(candidate ID) {
	if n.cfg.Bugs&BugVoteUnrecorded != 0 {
		return // the bug: the vote is granted but never recorded
	}
	n.vote = candidate
	n.dirty = true
}

// handlePreVote grants a pre-vote for a later term to an up-to-date
// candidate when no leader has been heard from within the minimum election
// timeout (thesis §9.6). It changes neither the term nor the vote.
func (n *Node) handlePreVote(m *Message) {
	grant := m.Term > n.term && n.upToDate(m.LogTerm, m.Index) && !n.inLease()
	r := n.send(MsgPreVoteResp, m.From)
	r.Reject = !grant
	if grant {
		r.Term = m.Term // the candidate counts it in the term it asked about
	}
}

// upToDate reports whether a log ending at (lastTerm, lastIndex) is at least
// as up-to-date as n's (§5.4.1): a later last term, or the same and at least
// as long.
func (n *Node) upToDate(lastTerm, lastIndex uint64) bool {
	if n.cfg.Bugs&BugNoLogCheck != 0 {
		return true // the bug: any log will do
	}
	return lastTerm > n.lastTerm() || lastTerm == n.lastTerm() && lastIndex >= n.lastIndex()
}

// acceptLeader notes a valid AppendEntries from the leader of this term:
// Figure 2 resets the election timer on it.
func (n *Node) acceptLeader(from ID) {
	n.dirty = n.dirty || n.lead != from
	n.lead = from
	n.heard, n.heardAt = true, n.now
	n.resetElectionTimer()
}

// handleApp applies Figure 2's AppendEntries receiver rules: refuse when the
// log has no entry at prevLogIndex of prevLogTerm; delete a conflicting
// entry and all that follow it; append new entries; advance the commit index
// to min(leaderCommit, index of the last new entry).
func (n *Node) handleApp(m *Message) {
	if m.Index > n.lastIndex() || n.log[m.Index] != m.LogTerm {
		r := n.send(MsgAppResp, m.From)
		r.Reject, r.Index = true, min(n.lastIndex(), m.Index-1)
		return
	}
	for i := range uint64(m.NEntries) {
		idx := m.Index + 1 + i
		if idx <= n.lastIndex() {
			if n.log[idx] == m.Entries[i] {
				continue
			}
			n.truncate(idx)
		}
		n.appendEntry(m.Entries[i])
	}
	lastNew := m.Index + uint64(m.NEntries)
	n.setCommit(max(n.commit, min(m.Commit, lastNew)))
	n.send(MsgAppResp, m.From).Index = lastNew
}

// maybeCommit applies Figure 2's rule for leaders: commit the largest N
// above commitIndex that a majority holds (the quorum's match index), if
// log[N] is of the current term (§5.4.2). Since terms never decrease along
// a log, no smaller N of the current term can qualify when N does not.
func (n *Node) maybeCommit() {
	s := append(n.sorted[:0], n.match...)
	slices.Sort(s)
	n.sorted = s
	quorum := s[len(s)-n.majority] // held by the majority nodes with the highest matches
	if n.log[quorum] == n.term {
		n.setCommit(max(n.commit, quorum))
	}
}

func (n *Node) setCommit(c uint64) {
	n.dirty = n.dirty || c != n.commit
	n.commit = c
}

func (n *Node) broadcastApp() {
	for i := range n.cfg.Size {
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
	for i := prev + 1; i <= n.lastIndex() && m.NEntries < MaxEntries; i++ {
		m.Entries[m.NEntries] = n.log[i]
		m.NEntries++
	}
}

// requestVotes sends a vote request of type t (RequestVote or Pre-Vote) for
// term to every other node, with the node's last log entry.
func (n *Node) requestVotes(t MsgType, term uint64) {
	for i := range n.cfg.Size {
		if ID(i) != n.cfg.ID {
			m := n.send(t, ID(i))
			m.Term, m.LogTerm, m.Index = term, n.lastTerm(), n.lastIndex()
		}
	}
}
