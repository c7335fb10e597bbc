package simulated

import (
	"slices"

	"github.com/raftsim/raftsim/internal/trial/safety"
	"github.com/raftsim/raftsim/raft"
)

// checker checks Raft's safety properties after every observation, from
// what the nodes reported and sent: it feeds package safety's Checker the
// terms and roles each node's Readys reported, the votes its granted vote
// replies cast, and the log entries its Readys wrote and committed, and
// fails the trial on the first violation of an invariant the scenario
// checks.
type checker struct {
	d *Driver
	s safety.Checker
}

func (c *checker) reset(d *Driver) {
	c.d = d
	c.s.Reset(d.c.Cluster.N())
}

// report fails the trial with v, if the scenario checks its invariant.
func (c *checker) report(v *safety.Violation) {
	if v != nil && slices.Contains(c.d.plan.Scenario.Expect.Invariants, v.Invariant) {
		c.d.c.Fail(v.Invariant.String(), v.Detail)
	}
}

// stateChanged: a node's Ready changed its state or wrote entries.
func (c *checker) stateChanged(i int, ch *change) {
	d := c.d
	cur := &d.c.Cluster.State[i]
	if cur.Role != ch.Prev.Role || cur.Lead != ch.Prev.Lead {
		c.report(safety.CandidateFollows(i, cur.Role, cur.Term, int(cur.Lead)))
	}
	if ch.roleOrTerm(cur) {
		c.report(c.s.TermChanged(i, ch.Prev.Term, cur.Term))
		switch cur.Role {
		case raft.Candidate:
			c.report(c.s.Voted(i, cur.Term, i)) // a candidate votes for itself
		case raft.Leader:
			c.report(c.s.Led(i, cur.Term))
			c.report(c.s.LeaderComplete(i, cur, &d.logs))
		}
	}
	if cur.Commit > ch.Prev.Commit {
		c.report(c.s.Committed(i, ch.Prev.Commit+1, cur, &d.logs))
	}
	if ch.overwrote() {
		c.report(c.s.Overwrote(i, cur, &d.logs))
	}
}

// sent: a granted vote reply is a vote.
func (c *checker) sent(i int, m *raft.Message) {
	if m.Type == raft.MsgVoteResp && !m.Reject {
		c.report(c.s.Voted(i, m.Term, int(m.To)))
	}
}
