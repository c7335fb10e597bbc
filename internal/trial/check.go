package trial

import (
	"slices"

	"github.com/raftsim/raftsim/internal/trial/safety"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// checker checks Raft's safety properties after every observation, from
// what the nodes reported and sent: it feeds package safety's Checker the
// terms and roles each node's Readys reported, the votes its granted vote
// replies cast, and the log entries its Readys wrote and committed, and
// fails the trial on the first violation of an invariant the scenario
// checks.
type checker struct {
	noObserver
	d *Driver
	s safety.Checker
}

func (c *checker) reset(d *Driver) {
	c.d = d
	c.s.Reset(d.view.n())
}

// report fails the trial with v, if the scenario checks its invariant.
func (c *checker) report(v *safety.Violation) {
	if v != nil && slices.Contains(c.d.plan.Scenario.Expect.Invariants, v.Invariant) {
		c.d.fail(v.Invariant.String(), v.Detail)
	}
}

// StateChanged implements [Observer].
func (c *checker) StateChanged(i int, ch Change) {
	v := &c.d.view
	cur := &v.state[i]
	if ch.roleOrTerm(cur) {
		c.report(c.s.TermChanged(i, ch.Prev.Term, cur.Term))
		switch cur.Role {
		case raft.Candidate:
			c.report(c.s.Voted(i, cur.Term, i)) // a candidate votes for itself
		case raft.Leader:
			c.report(c.s.Led(i, cur.Term))
			c.report(c.s.LeaderComplete(i, cur, v))
		}
	}
	if cur.Commit > ch.Prev.Commit {
		c.report(c.s.Committed(i, ch.Prev.Commit+1, cur, v))
	}
	if ch.overwrote() {
		c.report(c.s.Overwrote(i, cur, v))
	}
}

// Sent implements [Observer]: a granted vote reply is a vote.
func (c *checker) Sent(i int, m *raft.Message, _ sim.Sent) {
	if m.Type == raft.MsgVoteResp && !m.Reject {
		c.report(c.s.Voted(i, m.Term, int(m.To)))
	}
}
