package trial

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// meter measures a trial into its Result, from what its world reports:
// from the origin (the start, or the fault that removed a leader) until a
// leader of a later term (or its first heartbeat's arrival, or a working
// leader), the time, the election rounds, split votes and messages; how
// long a removed but live leader went on believing it led; terms begun and
// leaders deposed. In a steady-state run it measures stability instead:
// from the first leader on, every election is a needless one.
type meter struct {
	c *Conductor

	measuring   bool
	origin      time.Duration
	originTerm  uint64
	originSends int
	sends       int          // messages sent so far
	base        uint64       // the term the nodes start in: stands counts from it
	stands      []termStands // by term above base: who stood as candidate after the origin, and when
	stale       int          // the removed leader, while it still leads; -1 otherwise

	// until: first-heartbeat: the new leader whose first AppendEntries is
	// awaited, and the nodes still waiting for it.
	hbLeader    int
	hbTerm      uint64
	hbWaiting   []bool
	hbRemaining int

	// until: commit: the new leader, its term, and the index of its first
	// entry of that term, whose commit is awaited; cmLeader is -1 when none.
	cmLeader int
	cmTerm   uint64
	cmIndex  uint64

	maxTerm          uint64 // the highest term any node has reached
	newestLeaderTerm uint64 // the highest term that has had a leader

	steadyStart  time.Duration // steady runs: when the first leader was elected, or -1
	leaderlessAt time.Duration // steady runs: since when no leader works, or -1
}

func (m *meter) reset(c *Conductor, term uint64) {
	m.c = c
	m.measuring, m.sends, m.stale, m.hbLeader, m.cmLeader = false, 0, -1, -1, -1
	m.base, m.stands = term, m.stands[:0]
	m.hbWaiting = setLen(m.hbWaiting, c.Cluster.N())
	m.maxTerm, m.newestLeaderTerm = term, 0
	m.steadyStart, m.leaderlessAt = -1, -1
	m.growTerms(term)
}

// termStands is what the measurement knows of one term's candidates: how
// many stood, when the last of them did, and whether two stood within one
// election timeout of each other: close enough to have split the vote.
// Two further apart could not have: the first had won, or timed out into
// a higher term, before the second stood (a node booted late standing in
// term 1 while the others are in term 4 lost alone, and split nothing).
type termStands struct {
	candidates uint16
	split      bool
	last       time.Duration
}

// stood notes a candidate standing at now; within is one election timeout.
func (s *termStands) stood(now, within time.Duration) {
	if s.candidates > 0 && now-s.last <= within {
		s.split = true
	}
	s.candidates++
	s.last = now
}

// growTerms makes room to count the candidates of term. Terms count from
// the nodes' first (a scenario may start them at a term as high as
// raft.MaxTerm), and no term is below it.
func (m *meter) growTerms(term uint64) {
	for uint64(len(m.stands)) <= term-m.base {
		m.stands = append(m.stands, termStands{})
	}
}

// roleOrTermChanged notes node i moving from prev to cur.
func (m *meter) roleOrTermChanged(i int, prev, cur *raft.State) {
	res := &m.c.res
	m.growTerms(cur.Term)
	if prev.Role == raft.Leader && i == m.stale {
		m.staleEnded()
	}
	counting := res.Started || m.steadyStart >= 0 // after the origin, or the first leader of a steady run
	if counting && prev.Role == raft.Leader && cur.Role != raft.Leader && cur.Term > prev.Term && prev.Term == m.newestLeaderTerm {
		res.Disruptions++ // the newest leader, deposed by a higher term
	}
	if cur.Term > m.maxTerm {
		if counting {
			res.TermsBumped += int(cur.Term - m.maxTerm)
		}
		m.maxTerm = cur.Term
	}
	switch cur.Role {
	case raft.Candidate:
		if m.measuring { // elections the measurement counts: those after its origin
			// Stands are in time order, so two within one election
			// timeout of each other are, if any are, two in a row.
			m.stands[cur.Term-m.base].stood(m.c.w.Now(), m.c.plan.Scenario.Cluster.ElectionTimeout.Max)
		}
		if m.steadyStart >= 0 {
			res.Elections++
		}
	case raft.Leader:
		m.newestLeaderTerm = max(m.newestLeaderTerm, cur.Term)
		m.leader(i, cur.Term)
	}
}

// appendEntriesDelivered: with until: first-heartbeat, the new leader's
// AppendEntries reaching a node counts.
func (m *meter) appendEntriesDelivered(from, to int, term uint64) {
	if m.hbLeader >= 0 && from == m.hbLeader && term == m.hbTerm {
		m.heartbeatReached(to)
	}
}

// crashed: a node that crashes no longer waits for a heartbeat, and a
// removed leader that crashes no longer believes it leads.
func (m *meter) crashed(i int) {
	if m.hbLeader >= 0 && m.hbWaiting[i] {
		m.heartbeatReached(i)
	}
	if i == m.stale {
		m.staleEnded()
	}
}

// leader notes node i becoming leader of term.
func (m *meter) leader(i int, term uint64) {
	c := m.c
	if c.plan.steady > 0 {
		m.steadyLeader()
		return
	}
	if !m.measuring || term <= m.originTerm {
		return
	}
	sc := c.plan.Scenario
	if sc.Expect.NoLeader {
		c.Fail(KindUnexpectedLeader, fmt.Sprintf("%v became leader of term %d, but no leader was expected", raft.ID(i), term))
	}
	switch sc.Measure.Until {
	case scenarios.UntilLeader:
		m.measured(term)
		return
	case scenarios.UntilWorkingLeader:
		return // watch decides
	case scenarios.UntilCommit:
		// A new leader's first entry of its term is its no-op, the last
		// in its log as it takes office.
		m.cmLeader, m.cmTerm, m.cmIndex = i, term, c.Cluster.State[i].LastIndex
		m.committed(i)
		return
	}
	// until: first-heartbeat: wait for every other live node the new
	// leader can reach to accept its AppendEntries.
	cl := &c.Cluster
	m.hbLeader, m.hbTerm, m.hbRemaining = i, term, 0
	for j := range m.hbWaiting {
		m.hbWaiting[j] = j != i && !cl.crashed[j] && !cl.Topo.Blocked(i, j)
		if m.hbWaiting[j] {
			m.hbRemaining++
		}
	}
	if m.hbRemaining == 0 {
		m.measured(term)
	}
}

// committed: node i's commit index moved; with until: commit, the awaited
// leader's reaching its first entry of its term ends the measurement.
func (m *meter) committed(i int) {
	if !m.measuring || i != m.cmLeader {
		return
	}
	st := &m.c.Cluster.State[i]
	if st.Role == raft.Leader && st.Term == m.cmTerm && st.Commit >= m.cmIndex {
		m.cmLeader = -1
		m.measured(m.cmTerm)
	}
}

func (m *meter) heartbeatReached(j int) {
	if !m.hbWaiting[j] {
		return
	}
	m.hbWaiting[j] = false
	m.hbRemaining--
	if m.hbRemaining == 0 {
		m.measured(m.hbTerm)
	}
}

// start starts the measurement at the origin, above term; removed is the
// leader a fault removed, or -1.
func (m *meter) start(removed int, term uint64) {
	c := m.c
	c.res.Started = true
	m.measuring = true
	m.origin, m.originTerm, m.originSends = c.w.Now(), term, m.sends
	if c.w.Tracing() {
		c.w.Note(fmt.Sprintf("measure from here: a leader of a term above %d", term))
	}
	if removed >= 0 && c.Cluster.State[removed].Role == raft.Leader && !c.Cluster.crashed[removed] {
		c.res.HasStale = true // a live leader was cut off or paused: how long does it believe it leads?
		m.stale = removed
	}
}

// measured ends the measurement with a leader in term.
func (m *meter) measured(term uint64) {
	c := m.c
	res := &c.res
	res.Measured = true
	res.TimeToLeader = c.w.Now() - m.origin
	res.Messages = m.sends - m.originSends
	res.Rounds, res.SplitVotes, res.OtherLosses = countRounds(m.originTerm-m.base, term-m.base, true, m.stands)
	m.measuring, m.hbLeader, m.cmLeader = false, -1, -1
	if w := c.plan.Scenario.Expect.LeaderWithin; w > 0 && res.TimeToLeader > w {
		c.Fail(KindLiveness, fmt.Sprintf("time to leader %s is over leader_within %s", scenarios.FormatSpan(res.TimeToLeader), scenarios.FormatDuration(w)))
	}
	c.maybeEnd()
}

// countRounds counts the election rounds of a measurement from the term
// above origin to last: the terms with a candidate, last included; split
// votes, the terms lost by candidates that stood within one election
// timeout of each other; and other lost elections. A leader won last, or
// (won false) none: a measurement that never found its leader counts the
// terms it saw, all lost. stands holds each term's candidates, by term
// (counted from any base origin and last share), up to last at least.
func countRounds(origin, last uint64, won bool, stands []termStands) (rounds, splits, others int) {
	for t := origin + 1; t <= last; t++ {
		switch s := &stands[t]; {
		case s.candidates == 0:
			continue
		case won && t == last:
		case s.split:
			splits++
		default:
			others++
		}
		rounds++
	}
	return rounds, splits, others
}

func (m *meter) staleEnded() {
	m.c.res.StaleLeader = m.c.w.Now() - m.origin
	m.stale = -1
}

// watch looks again after anything that may have given or taken the
// cluster's working leader: a steady run keeps its account of time without
// one, and until: working-leader ends the measurement at one.
func (m *meter) watch() {
	c, cl := m.c, &m.c.Cluster
	if m.steadyStart >= 0 {
		working := cl.WorkingLeader() >= 0
		switch {
		case working && m.leaderlessAt >= 0:
			c.res.Leaderless += c.w.Now() - m.leaderlessAt
			m.leaderlessAt = -1
		case !working && m.leaderlessAt < 0:
			m.leaderlessAt = c.w.Now()
		}
	}
	if m.measuring && c.plan.Scenario.Measure.Until == scenarios.UntilWorkingLeader {
		if l := cl.WorkingLeader(); l >= 0 {
			if l == m.stale {
				m.staleEnded() // the removed leader leads a majority again: no longer stale
			}
			m.measured(cl.State[l].Term)
		}
	}
}

// steadyLeader notes a leader elected in a steady-state run: the first one
// starts the measurement, every later one is a leader change.
func (m *meter) steadyLeader() {
	c := m.c
	if m.steadyStart < 0 {
		m.steadyStart = c.w.Now()
		c.w.At(c.w.Now()+c.plan.steady, call(callEnd, 0))
		return
	}
	c.res.LeaderChanges++
}

// overdue reports whether a measurement under way has run past the
// scenario's leader_within, so that the trial can end: a world whose time
// is expensive (live) need not wait for the trial's limit.
func (m *meter) overdue() bool {
	w := m.c.plan.Scenario.Expect.LeaderWithin
	return m.measuring && w > 0 && m.c.w.Now()-m.origin > w
}

// finish closes the measurement at the end of the trial.
func (m *meter) finish() {
	c := m.c
	if m.stale >= 0 {
		m.staleEnded() // still leading at the end
	}
	if m.measuring { // no leader found: its elections, all lost, count too
		res := &c.res
		res.Rounds, res.SplitVotes, res.OtherLosses = countRounds(m.originTerm-m.base, m.maxTerm-m.base, false, m.stands)
	}
	if c.plan.steady == 0 || m.steadyStart < 0 {
		return // a steady run that never elected a leader measured nothing
	}
	if m.leaderlessAt >= 0 {
		c.res.Leaderless += c.w.Now() - m.leaderlessAt
	}
	c.res.SteadyTime = c.w.Now() - m.steadyStart
}
