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

// oneVote: a node grants at most one candidate its vote in a term.
func oneVote(h *harness) (Outcome, string) {
	t, err := h.startTerm()
	if err != nil {
		return noAnswer("/status", err)
	}
	r, err := h.call(raft.Message{Type: raft.MsgVote, From: 1, Term: t})
	if err != nil {
		return noAnswer("n2's RequestVote", err)
	}
	if r.Reject {
		return Fail, fmt.Sprintf("refused n2, the first candidate of term %d, whose log (empty) is as up-to-date as its own", t)
	}
	r, err = h.call(raft.Message{Type: raft.MsgVote, From: 2, Term: t})
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
	for _, p := range h.peers {
		p.setGrant(true)
	}
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
	if votes := h.campaigns(k); len(votes) > 0 {
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

// campaignAgain: a candidate whose election fails (both peers refuse:
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
		return Fail, fmt.Sprintf("it stood in term %d, both peers refused (a split vote), and it never stood again within %v", first, wait)
	}
	return Pass, ""
}

// campaigns returns the RequestVote and Pre-Vote requests n1 sent from
// index k of what it sent on.
func (h *harness) campaigns(k int) []raft.Message {
	return append(h.requestsFrom(k, raft.MsgVote), h.requestsFrom(k, raft.MsgPreVote)...)
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
