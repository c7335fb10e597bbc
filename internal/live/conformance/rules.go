package conformance

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
)

// Each rule starts from the node's term as /status gives it and works well
// above it, so that the node's own elections, which the stand-ins refuse,
// cannot reach the terms a rule uses.

// startTerm returns a term well above the node's.
func (h *harness) startTerm() (uint64, error) {
	s, err := h.status()
	if err != nil {
		return 0, err
	}
	return s.Term + 10, nil
}

func noAnswer(what string, err error) (Outcome, string) {
	return Fail, fmt.Sprintf("no answer to %s: %v", what, err)
}

// votedForN2 has the node vote for n2, the first candidate of a fresh
// term; it returns the term, or the outcome when the node did not.
func votedForN2(h *harness) (t uint64, o Outcome, why string) {
	t, err := h.startTerm()
	if err != nil {
		o, why = noAnswer("/status", err)
		return 0, o, why
	}
	r, err := h.call(raft.Message{Type: raft.MsgVote, From: 1, Term: t})
	if err != nil {
		o, why = noAnswer("n2's RequestVote", err)
		return 0, o, why
	}
	if r.Reject {
		return 0, Fail, fmt.Sprintf("refused n2, the first candidate of term %d, whose log (empty) is as up-to-date as its own", t)
	}
	return t, Pass, ""
}

// oneVote: a node grants at most one candidate its vote in a term.
func oneVote(h *harness) (Outcome, string) {
	t, o, why := votedForN2(h)
	if t == 0 {
		return o, why
	}
	r, err := h.call(raft.Message{Type: raft.MsgVote, From: 2, Term: t})
	if err != nil {
		return noAnswer("n3's RequestVote", err)
	}
	if !r.Reject {
		return Fail, fmt.Sprintf("granted n3 a vote in term %d after granting n2 one", t)
	}
	return Pass, ""
}

// staleTerm: a request of a term below the node's is refused, and the
// reply carries the node's term.
func staleTerm(h *harness) (Outcome, string) {
	t, err := h.startTerm()
	if err != nil {
		return noAnswer("/status", err)
	}
	if _, err := h.call(raft.Message{Type: raft.MsgApp, From: 1, Term: t}); err != nil {
		return noAnswer("n2's AppendEntries", err)
	}
	r, err := h.call(raft.Message{Type: raft.MsgVote, From: 2, Term: t - 1})
	if err != nil {
		return noAnswer("a RequestVote of a stale term", err)
	}
	if !r.Reject || r.Term < t {
		return Fail, fmt.Sprintf("answered a RequestVote of term %d, below its term %d, with %s", t-1, t, r.String())
	}
	a, err := h.call(raft.Message{Type: raft.MsgApp, From: 2, Term: t - 1})
	if err != nil {
		return noAnswer("an AppendEntries of a stale term", err)
	}
	if !a.Reject || a.Term < t {
		return Fail, fmt.Sprintf("answered an AppendEntries of term %d, below its term %d, with %s", t-1, t, a.String())
	}
	return Pass, ""
}

// stepDown: a leader that hears of a higher term adopts it and becomes a
// follower.
func stepDown(h *harness) (Outcome, string) {
	h.grantFrom(len(h.peers))
	wait := 10 * h.opt.ElectionMax
	var lead wire.Status
	for end := time.Now().Add(wait); ; {
		s, err := h.status()
		if err == nil && s.State == wire.StateLeader {
			lead = s
			break
		}
		if time.Now().After(end) {
			return Fail, fmt.Sprintf("with both peers granting their votes, it did not become leader within %v", wait)
		}
		h.sleep(h.opt.ElectionMin / 4)
	}
	higher := lead.Term + 5
	a, err := h.call(raft.Message{Type: raft.MsgApp, From: 1, Term: higher})
	if err != nil {
		return noAnswer("n2's AppendEntries of a higher term", err)
	}
	if a.Term != higher {
		return Fail, fmt.Sprintf("answered n2's AppendEntries of term %d with term %d: it did not adopt the higher term", higher, a.Term)
	}
	s, err := h.status()
	if err != nil {
		return noAnswer("/status", err)
	}
	if s.State != wire.StateFollower || s.Term != higher {
		return Fail, fmt.Sprintf("after an AppendEntries of term %d from n2 its /status says %s term %d, not follower term %d", higher, s.State, s.Term, higher)
	}
	return Pass, ""
}

// logBehind: a candidate whose log is less up-to-date gets no vote.
func logBehind(h *harness) (Outcome, string) {
	t, err := h.startTerm()
	if err != nil {
		return noAnswer("/status", err)
	}
	app := raft.Message{Type: raft.MsgApp, From: 1, Term: t, NEntries: 1, Entries: [raft.MaxEntries]uint64{t}}
	a, err := h.call(app)
	if err != nil {
		return noAnswer("n2's AppendEntries with an entry", err)
	}
	if a.Reject {
		return Skip, "it refused the entry n2 sent (no log replication?), so no candidate's log can be behind its own"
	}
	if a.Index == 0 {
		return Skip, "it answered the entry n2 sent with success and matchIndex 0: it holds no entry (no log replication), so no candidate's log can be behind its own"
	}
	r, err := h.call(raft.Message{Type: raft.MsgVote, From: 2, Term: t + 1})
	if err != nil {
		return noAnswer("n3's RequestVote", err)
	}
	if !r.Reject {
		return Fail, fmt.Sprintf("granted n3 a vote in term %d though n3's log is empty and its own holds entry 1 of term %d", t+1, t)
	}
	return Pass, ""
}

// heartbeatResets: heartbeats from the current leader keep a follower from
// campaigning; when they stop, it campaigns.
func heartbeatResets(h *harness) (Outcome, string) {
	t, err := h.startTerm()
	if err != nil {
		return noAnswer("/status", err)
	}
	k := h.sentSoFar()
	span := 4 * h.opt.ElectionMax
	h.heartbeats(t, span)
	// A campaign of a term up to t began before the node heard of term t
	// (its timer fired as the first heartbeat was on its way): only one
	// above t is a timer the heartbeats did not reset.
	if votes := h.campaignsAbove(k, t); len(votes) > 0 {
		return Fail, fmt.Sprintf("it asked for votes (%s) while n2, leader of term %d, sent heartbeats every %v", votes[0].String(), t, h.opt.Heartbeat)
	}
	s, err := h.status()
	if err != nil {
		return noAnswer("/status", err)
	}
	if s.State != wire.StateFollower || s.Term != t {
		return Fail, fmt.Sprintf("after %v of heartbeats from n2 in term %d its /status says %s term %d", span, t, s.State, s.Term)
	}
	k = h.sentSoFar()
	wait := 3*h.opt.ElectionMax + time.Second
	if !h.waitFor(wait, func() bool { return len(h.campaigns(k)) > 0 }) {
		return Fail, fmt.Sprintf("it never asked for votes within %v of the heartbeats stopping: its election timer does not run", wait)
	}
	return Pass, ""
}

// campaignAgain: a candidate whose election fails (its peers refuse:
// they voted for someone else) campaigns again in a later term.
func campaignAgain(h *harness) (Outcome, string) {
	wait := 3*h.opt.ElectionMax + time.Second
	var first uint64
	if !h.waitFor(wait, func() bool {
		votes := h.requestsFrom(0, raft.MsgVote)
		if len(votes) > 0 {
			first = votes[0].Term
		}
		return len(votes) > 0
	}) {
		return Fail, fmt.Sprintf("it never stood for election within %v of its start", wait)
	}
	if !h.waitFor(wait, func() bool {
		for _, m := range h.requestsFrom(0, raft.MsgVote) {
			if m.Term > first {
				return true
			}
		}
		return false
	}) {
		return Fail, fmt.Sprintf("it stood in term %d, its peers refused (a split vote), and it never stood again within %v", first, wait)
	}
	return Pass, ""
}

// campaigns returns the RequestVote and Pre-Vote requests n1 sent from
// index k of what it sent on.
func (h *harness) campaigns(k int) []raft.Message {
	return append(h.requestsFrom(k, raft.MsgVote), h.requestsFrom(k, raft.MsgPreVote)...)
}

// campaignsAbove returns the campaigns from index k on for a term above t
// (a Pre-Vote asks about the term it would stand in).
func (h *harness) campaignsAbove(k int, t uint64) []raft.Message {
	var out []raft.Message
	for _, m := range h.campaigns(k) {
		if m.Term > t {
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls cond until it holds or d passes.
func (h *harness) waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; {
		if cond() {
			return true
		}
		if time.Now().After(end) || h.ctx.Err() != nil {
			return false
		}
		h.sleep(10 * time.Millisecond)
	}
}

// standing waits for the node's first RequestVote, with its stand-ins as
// they are set; it returns the term it stands in.
func (h *harness) standing(k int) (uint64, bool) {
	var term uint64
	ok := h.waitFor(3*h.opt.ElectionMax+time.Second, func() bool {
		if votes := h.requestsFrom(k, raft.MsgVote); len(votes) > 0 {
			term = votes[0].Term
			return true
		}
		return false
	})
	return term, ok
}

// candidateStepsDown: a candidate that hears an AppendEntries of its own
// term from that term's leader becomes its follower (Figure 2: "If
// AppendEntries RPC received from new leader: convert to follower").
func candidateStepsDown(h *harness) (Outcome, string) {
	t, ok := h.standing(0)
	if !ok {
		return Fail, fmt.Sprintf("it never stood for election within %v of its start", 3*h.opt.ElectionMax+time.Second)
	}
	a, err := h.call(raft.Message{Type: raft.MsgApp, From: 1, Term: t})
	if err != nil {
		return noAnswer("n2's AppendEntries of the node's own term", err)
	}
	if a.Reject && a.Term > t {
		return Skip, fmt.Sprintf("it had moved on to term %d before n2's AppendEntries of term %d arrived (a busy machine?)", a.Term, t)
	}
	s, err := h.status()
	if err != nil {
		return noAnswer("/status", err)
	}
	switch {
	case s.Term != t:
		return Skip, fmt.Sprintf("it had moved on to term %d before its /status was read (a busy machine?)", s.Term)
	case s.State != wire.StateFollower:
		return Fail, fmt.Sprintf("a candidate of term %d, it heard n2, leader of term %d, and its /status says %s (leader %s): it should be n2's follower",
			t, t, s.State, nameOr(s.Leader))
	}
	return Pass, ""
}

// wholeMajority: a candidate leads only with the votes of a majority of
// the whole cluster, ⌊N/2⌋+1, itself included. The stand-ins grant one
// vote too few; a node that counts the majority over its peers only
// (⌊(N-1)/2⌋+1, the chapter's) leads with them in an even cluster.
func wholeMajority(h *harness) (Outcome, string) {
	n, m := h.opt.Size, h.majority()
	if n%2 == 1 {
		return Skip, fmt.Sprintf("in a cluster of %d a majority over the peers is the real one; --nodes 4 tests it", n)
	}
	h.grantFrom(m - 2)
	if _, ok := h.standing(0); !ok {
		return Fail, fmt.Sprintf("it never stood for election within %v of its start", 3*h.opt.ElectionMax+time.Second)
	}
	wait := 3*h.opt.ElectionMax + time.Second
	if h.waitFor(wait, func() bool { return len(h.requestsFrom(0, raft.MsgApp)) > 0 }) {
		led := h.requestsFrom(0, raft.MsgApp)[0]
		return Fail, fmt.Sprintf("it led term %d (it sent %s) with %d votes, its own and %d of %d peers': a majority of %d nodes is %d (a majority over its peers only is %d)",
			led.Term, led.String(), m-1, m-2, n-1, n, m, raft.Majority(n-1))
	}
	s, err := h.status()
	if err != nil {
		return noAnswer("/status", err)
	}
	if s.State == wire.StateLeader {
		return Fail, fmt.Sprintf("its /status says leader of term %d with %d votes of %d nodes, its own included: a majority is %d", s.Term, m-1, n, m)
	}
	return Pass, ""
}

// noWaitForAll: a candidate leads as soon as a majority granted, without
// waiting for the peers that have not answered (a frozen peer may never).
// The stand-ins grant just enough votes at once; one more holds its
// answer for as long as the rule runs.
func noWaitForAll(h *harness) (Outcome, string) {
	m := h.majority()
	h.grantFrom(m - 1)
	held := h.peers[m-1]
	held.set(false, true)
	k := h.sentSoFar()
	t, ok := h.standing(k)
	if !ok {
		return Fail, fmt.Sprintf("it never stood for election within %v of its start", 3*h.opt.ElectionMax+time.Second)
	}
	bound := h.opt.ElectionMin
	stood := time.Now()
	if h.waitFor(bound, func() bool { return len(h.requestsFrom(k, raft.MsgApp)) > 0 }) {
		return Pass, ""
	}
	heldName := h.names[m]
	if h.waitFor(h.opt.ElectionMax+maxHold, func() bool { return len(h.requestsFrom(k, raft.MsgApp)) > 0 }) {
		return Fail, fmt.Sprintf("it stood in term %d, had a majority (%d votes, its own included) at once, and led only %v later, after %s's request, which raftsim held, failed: it waits for every peer to answer",
			t, m, time.Since(stood).Round(time.Millisecond), heldName)
	}
	return Fail, fmt.Sprintf("it stood in term %d, had a majority (%d votes, its own included) at once, and did not lead while %s's answer was held: it waits for every peer to answer",
		t, m, heldName)
}

// keepsAcrossRestart: term and vote survive kill -9 and a restart with
// the same data directory, so that a restarted node never votes twice in
// one term.
func keepsAcrossRestart(h *harness) (Outcome, string) {
	t, o, why := votedForN2(h)
	if t == 0 {
		return o, why
	}
	h.note("raftsim kills n1 (kill -9) and starts it again with its data directory")
	if err := h.cluster.Kill(0); err != nil {
		return Fail, fmt.Sprintf("could not kill the node: %v", err)
	}
	if err := h.cluster.Start(0, time.Now()); err != nil {
		return Fail, fmt.Sprintf("could not start the node again: %v", err)
	}
	if err := h.cluster.WaitReady(h.ctx, 0); err != nil {
		return Fail, fmt.Sprintf("restarted, it did not come back: %v", err)
	}
	s, err := h.status()
	if err != nil {
		return noAnswer("/status", err)
	}
	if s.Term < t {
		return Fail, fmt.Sprintf("it voted in term %d, was killed and restarted, and its /status says term %d: it did not keep its term (store it in DATA_DIR before answering)", t, s.Term)
	}
	r, err := h.call(raft.Message{Type: raft.MsgVote, From: 2, Term: t})
	if err != nil {
		return noAnswer("n3's RequestVote after the restart", err)
	}
	if !r.Reject {
		return Fail, fmt.Sprintf("it voted for n2 in term %d, was killed and restarted, then granted n3 a vote in term %d: it did not keep its vote (store it in DATA_DIR before answering)", t, t)
	}
	return Pass, ""
}
