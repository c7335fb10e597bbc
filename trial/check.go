package trial

import (
	"fmt"
	"slices"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// checker checks Raft's safety properties after every observation, from
// what the nodes reported and sent:
//
//   - election-safety: at most one node reports leading each term;
//   - vote-once: a node grants at most one candidate a vote per term, judged
//     from the vote replies it sent (and the vote it gives itself by standing
//     as a candidate), across crashes too;
//   - term-monotonic: a node's reported term never goes backwards;
//   - leader-completeness: no committed entry is lost — a new leader's log
//     (as its Readys wrote it) holds every entry committed in an earlier
//     term, and no node overwrites or commits one differently.
type checker struct {
	noObserver
	d *Driver

	leaderOf  []int32   // by term: the node that led it, or -1
	votes     [][]int32 // by node, by term: the candidate it voted for, or -1
	committed []uint64  // by index: the term of the committed entry
	commitAt  []uint64  // by index: the lowest term in which some node knew it committed
}

func (c *checker) reset(d *Driver) {
	c.d = d
	c.leaderOf = c.leaderOf[:0]
	c.votes = setLen(c.votes, d.view.n())
	for i := range c.votes {
		c.votes[i] = c.votes[i][:0]
	}
	c.committed = append(c.committed[:0], 0)
	c.commitAt = append(c.commitAt[:0], 0)
}

// fail fails the trial, if the scenario checks inv.
func (c *checker) fail(inv scenarios.Invariant, format string, args ...any) {
	if slices.Contains(c.d.plan.Scenario.Expect.Invariants, inv) {
		c.d.fail(inv.String(), fmt.Sprintf(format, args...))
	}
}

// StateChanged implements [Observer].
func (c *checker) StateChanged(i int, ch Change) {
	cur := &c.d.view.state[i]
	if ch.roleOrTerm(cur) {
		if cur.Term < ch.Prev.Term {
			c.fail(scenarios.TermMonotonic, "%v went from term %d back to %d", raft.ID(i), ch.Prev.Term, cur.Term)
		}
		switch cur.Role {
		case raft.Candidate:
			c.voted(i, cur.Term, i) // a candidate votes for itself
		case raft.Leader:
			c.becameLeader(i, cur)
		}
	}
	if cur.Commit > ch.Prev.Commit {
		c.committedUpTo(i, ch.Prev.Commit+1, cur)
	}
	if ch.overwrote() {
		v := &c.d.view
		if k := min(cur.Commit, cur.LastIndex); k > 0 && cur.Commit > cur.LastIndex ||
			k < uint64(len(c.committed)) && c.committed[k] != 0 && v.logTerm(i, k) != c.committed[k] {
			c.fail(scenarios.LeaderCompleteness, "%v overwrote its committed entry %d", raft.ID(i), cur.Commit)
		}
	}
}

// Sent implements [Observer]: a granted vote reply is a vote.
func (c *checker) Sent(i int, m *raft.Message, _ sim.Sent) {
	if m.Type == raft.MsgVoteResp && !m.Reject {
		c.voted(i, m.Term, int(m.To))
	}
}

// voted records that node i voted for candidate in term.
func (c *checker) voted(i int, term uint64, candidate int) {
	byTerm := c.votes[i]
	for uint64(len(byTerm)) <= term {
		byTerm = append(byTerm, -1)
	}
	c.votes[i] = byTerm
	if prev := byTerm[term]; prev >= 0 && int(prev) != candidate {
		c.fail(scenarios.VoteOnce, "%v voted for %v and then for %v in term %d", raft.ID(i), raft.ID(prev), raft.ID(candidate), term)
		return
	}
	byTerm[term] = int32(candidate)
}

// becameLeader checks a node that reports leading a term.
func (c *checker) becameLeader(i int, st *raft.State) {
	term := st.Term
	for uint64(len(c.leaderOf)) <= term {
		c.leaderOf = append(c.leaderOf, -1)
	}
	if prev := c.leaderOf[term]; prev >= 0 && int(prev) != i {
		c.fail(scenarios.ElectionSafety, "%v and %v both leaders in term %d", raft.ID(prev), raft.ID(i), term)
	}
	c.leaderOf[term] = int32(i)
	// Leader Completeness: the leader of a term holds every entry committed
	// in an earlier term. By the Log Matching property, holding the last
	// such entry is enough; entries committed in this term or later (by
	// nodes that have moved on) are not its business.
	k := uint64(len(c.committed) - 1)
	for k > 0 && c.commitAt[k] >= term {
		k--
	}
	if k > 0 && c.d.view.logTerm(i, k) != c.committed[k] {
		c.fail(scenarios.LeaderCompleteness, "%v became leader of term %d without entry %d (term %d), committed in term %d; its log ends at %d/%d",
			raft.ID(i), term, k, c.committed[k], c.commitAt[k], st.LastTerm, st.LastIndex)
	}
}

// committedUpTo records (or checks against the record) entries lo up to
// st.Commit, which node i now counts as committed.
func (c *checker) committedUpTo(i int, lo uint64, st *raft.State) {
	v := &c.d.view
	for idx := lo; idx <= st.Commit; idx++ {
		t := v.logTerm(i, idx)
		if idx < uint64(len(c.committed)) {
			if c.committed[idx] != t {
				c.fail(scenarios.LeaderCompleteness, "%v committed entry %d of term %d, but entry %d of term %d was committed before",
					raft.ID(i), idx, t, idx, c.committed[idx])
				return
			}
			c.commitAt[idx] = min(c.commitAt[idx], st.Term)
			continue
		}
		c.committed = append(c.committed, t)
		c.commitAt = append(c.commitAt, st.Term)
	}
}
