// Package safety judges Raft's safety properties from what nodes said and
// sent, and the liveness deadline of a cluster without a working leader:
//
//   - election-safety: at most one node leads each term;
//   - vote-once: a node grants at most one candidate its vote per term
//     (standing as a candidate is a vote for itself), across crashes too;
//   - term-monotonic: a node's term never goes backwards;
//   - leader-completeness: no committed entry is lost — a new leader holds
//     every entry committed in an earlier term, and no node overwrites or
//     commits one differently;
//   - leader_within: no stretch without a working leader longer than a
//     limit while a majority is up and connected ([Watch]).
//
// The simulator's trial driver feeds a [Checker] what each node's Readys
// and messages said; raftsim live feeds it what the proxy saw on the wire
// and what /status answered. Both are judged by the same code.
//
// safety must never read a node: the majority comes from the cluster size
// and the votes from the replies that were sent. It allocates nothing per
// observation unless it finds a violation.
package safety

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// Violation is a property that did not hold.
type Violation struct {
	Invariant scenarios.Invariant
	Detail    string
}

// CandidateFollows checks Figure 2's rule for candidates: one that hears
// an AppendEntries from the leader of its term becomes a follower. Node i
// shows itself in role and term following lead (-1: none); a candidate that
// names a leader other than itself broke the rule. It needs no history: the
// one showing is the evidence.
func CandidateFollows(i int, role raft.Role, term uint64, lead int) *Violation {
	if role != raft.Candidate || lead < 0 || lead == i {
		return nil
	}
	return violation(scenarios.CandidateStepsDown, "%v is a candidate of term %d following %v, its term's leader: it heard the leader and did not become a follower",
		raft.ID(i), term, raft.ID(lead))
}

func violation(inv scenarios.Invariant, format string, args ...any) *Violation {
	return &Violation{Invariant: inv, Detail: fmt.Sprintf(format, args...)}
}

// Logs is what the checker knows of the nodes' logs, as their writes
// reported them.
type Logs interface {
	// LogTerm returns the term of node i's entry idx, or 0 when it has none.
	LogTerm(i int, idx uint64) uint64
}

// Checker checks the safety properties of one cluster's run. The zero
// Checker is ready for [Checker.Reset].
type Checker struct {
	leaderOf  byTerm   // the node that led each term
	votes     []byTerm // by node: the candidate it voted for in each term
	committed []uint64 // by index: the term of the committed entry
	commitAt  []uint64 // by index: the lowest term in which some node knew it committed
}

// Reset readies c for a run of n nodes, reusing its storage.
func (c *Checker) Reset(n int) {
	c.leaderOf.reset()
	if cap(c.votes) < n {
		c.votes = make([]byTerm, n)
	}
	c.votes = c.votes[:n]
	for i := range c.votes {
		c.votes[i].reset()
	}
	c.committed = append(c.committed[:0], 0)
	c.commitAt = append(c.commitAt[:0], 0)
}

// TermChanged checks node i's term moving from one reported term to the next.
func (c *Checker) TermChanged(i int, from, to uint64) *Violation {
	if to < from {
		return violation(scenarios.TermMonotonic, "%v went from term %d back to %d", raft.ID(i), from, to)
	}
	return nil
}

// Voted records that node i voted for candidate in term: it sent a granted
// vote reply, or stood as candidate itself.
func (c *Checker) Voted(i int, term uint64, candidate int) *Violation {
	if prev := c.votes[i].get(term); prev >= 0 && int(prev) != candidate {
		return violation(scenarios.VoteOnce, "%v voted for %v and then for %v in term %d", raft.ID(i), raft.ID(prev), raft.ID(candidate), term)
	}
	c.votes[i].set(term, int32(candidate))
	return nil
}

// Led records that node i leads term.
func (c *Checker) Led(i int, term uint64) *Violation {
	prev := c.leaderOf.get(term)
	c.leaderOf.set(term, int32(i))
	if prev >= 0 && int(prev) != i {
		return violation(scenarios.ElectionSafety, "%v and %v both leaders in term %d", raft.ID(prev), raft.ID(i), term)
	}
	return nil
}

// Leader returns the node known to lead term, or -1.
func (c *Checker) Leader(term uint64) int {
	return int(c.leaderOf.get(term))
}

// LeaderComplete checks that node i, which just became leader in state st,
// holds every entry committed in an earlier term. By the Log Matching
// property, holding the last such entry is enough; entries committed in
// this term or later (by nodes that have moved on) are not its business.
func (c *Checker) LeaderComplete(i int, st *raft.State, logs Logs) *Violation {
	term := st.Term
	k := uint64(len(c.committed) - 1)
	for k > 0 && c.commitAt[k] >= term {
		k--
	}
	if k > 0 && logs.LogTerm(i, k) != c.committed[k] {
		return violation(scenarios.LeaderCompleteness, "%v became leader of term %d without entry %d (term %d), committed in term %d; its log ends at %d/%d",
			raft.ID(i), term, k, c.committed[k], c.commitAt[k], st.LastTerm, st.LastIndex)
	}
	return nil
}

// Committed records (or checks against the record) entries lo up to
// st.Commit, which node i now counts as committed.
func (c *Checker) Committed(i int, lo uint64, st *raft.State, logs Logs) *Violation {
	for idx := lo; idx <= st.Commit; idx++ {
		t := logs.LogTerm(i, idx)
		if idx < uint64(len(c.committed)) {
			if c.committed[idx] != t {
				return violation(scenarios.LeaderCompleteness, "%v committed entry %d of term %d, but entry %d of term %d was committed before",
					raft.ID(i), idx, t, idx, c.committed[idx])
			}
			c.commitAt[idx] = min(c.commitAt[idx], st.Term)
			continue
		}
		c.committed = append(c.committed, t)
		c.commitAt = append(c.commitAt, st.Term)
	}
	return nil
}

// Overwrote checks node i, in state st, which has just overwritten entries
// of its log: it must not have lost a committed one.
func (c *Checker) Overwrote(i int, st *raft.State, logs Logs) *Violation {
	if k := min(st.Commit, st.LastIndex); k > 0 && st.Commit > st.LastIndex ||
		k < uint64(len(c.committed)) && c.committed[k] != 0 && logs.LogTerm(i, k) != c.committed[k] {
		return violation(scenarios.LeaderCompleteness, "%v overwrote its committed entry %d", raft.ID(i), st.Commit)
	}
	return nil
}

// Watch keeps leader_within's account: how long the cluster has been
// without a working leader while a majority was up and connected.
type Watch struct {
	Limit      time.Duration // 0: no limit
	leaderless bool
	since      time.Duration
}

// Reset forgets any stretch under way.
func (w *Watch) Reset(limit time.Duration) { *w = Watch{Limit: limit} }

// Look notes, at time now, whether a majority is up and connected and
// whether a working leader exists. When a leaderless stretch begins, it
// returns the time at which to call [Watch.Due].
func (w *Watch) Look(now time.Duration, majorityConnected, working bool) (due time.Duration, begun bool) {
	if w.Limit <= 0 || !majorityConnected || working {
		w.leaderless = false
		return 0, false
	}
	if w.leaderless {
		return 0, false
	}
	w.leaderless, w.since = true, now
	return now + w.Limit, true
}

// Due checks, at time now, whether the stretch under way has lasted the
// limit, and describes it if so.
func (w *Watch) Due(now time.Duration) (string, bool) {
	if !w.leaderless || now-w.since < w.Limit {
		return "", false
	}
	return fmt.Sprintf("no working leader for %s while a majority was up and connected (leader_within %s)",
		scenarios.FormatSpan(now-w.since), scenarios.FormatDuration(w.Limit)), true
}
