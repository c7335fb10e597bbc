package trial

import (
	"fmt"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// meter measures a trial into its Result: from the origin (the start, or
// the fault that removed a leader) until a leader of a later term (or its
// first heartbeat's arrival, or a working leader), the time, the election
// rounds, split votes and messages; how long a removed but live leader went
// on believing it led; terms begun and leaders deposed. In a steady-state
// run it measures stability instead: from the first leader on, every
// election is a needless one.
type meter struct {
	noObserver
	d *Driver

	measuring   bool
	origin      sim.Time
	originTerm  uint64
	originSends int
	sends       int      // messages sent so far
	cands       []uint16 // by term: nodes that stood as candidate after the origin
	stale       int      // the removed leader, while it still leads; -1 otherwise

	// until: first-heartbeat: the new leader whose first AppendEntries is
	// awaited, and the nodes still waiting for it.
	hbLeader    int
	hbTerm      uint64
	hbWaiting   []bool
	hbRemaining int

	maxTerm          uint64 // the highest term any node has reached
	newestLeaderTerm uint64 // the highest term that has had a leader

	steadyStart  sim.Time // steady runs: when the first leader was elected, or -1
	leaderlessAt sim.Time // steady runs: since when no leader works, or -1
}

func (m *meter) reset(d *Driver, term uint64) {
	m.d = d
	m.measuring, m.sends, m.stale, m.hbLeader = false, 0, -1, -1
	m.cands = m.cands[:0]
	m.hbWaiting = setLen(m.hbWaiting, d.view.n())
	m.maxTerm, m.newestLeaderTerm = term, 0
	m.steadyStart, m.leaderlessAt = -1, -1
	m.growTerms(term)
}

func (m *meter) growTerms(term uint64) {
	for uint64(len(m.cands)) <= term {
		m.cands = append(m.cands, 0)
	}
}

// StateChanged implements [Observer].
func (m *meter) StateChanged(i int, ch Change) {
	cur := &m.d.view.state[i]
	if !ch.roleOrTerm(cur) {
		return
	}
	res := &m.d.res
	m.growTerms(cur.Term)
	prev := &ch.Prev
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
		if m.measuring {
			m.cands[cur.Term]++ // elections the measurement counts: those after its origin
		}
		if m.steadyStart >= 0 {
			res.Elections++
		}
	case raft.Leader:
		m.newestLeaderTerm = max(m.newestLeaderTerm, cur.Term)
		m.leader(i, cur.Term)
	}
}

// Sent implements [Observer].
func (m *meter) Sent(int, *raft.Message, sim.Sent) { m.sends++ }

// Delivered implements [Observer]: with until: first-heartbeat, the new
// leader's AppendEntries reaching a node counts.
func (m *meter) Delivered(i int, msg *raft.Message, reason sim.DropReason) {
	if reason == sim.NotDropped && m.hbLeader >= 0 && msg.Type == raft.MsgApp && int(msg.From) == m.hbLeader && msg.Term == m.hbTerm {
		m.heartbeatReached(i)
	}
}

// Faulted implements [Observer]: a node that crashes no longer waits for a
// heartbeat, and a removed leader that crashes no longer believes it leads.
func (m *meter) Faulted(f Fault) {
	if f.Kind != FaultCrash {
		return
	}
	if m.hbLeader >= 0 && m.hbWaiting[f.Node] {
		m.heartbeatReached(f.Node)
	}
	if f.Node == m.stale {
		m.staleEnded()
	}
}

// leader notes node i becoming leader of term.
func (m *meter) leader(i int, term uint64) {
	d := m.d
	if d.plan.steady > 0 {
		m.steadyLeader()
		return
	}
	if !m.measuring || term <= m.originTerm {
		return
	}
	sc := d.plan.Scenario
	if sc.Expect.NoLeader {
		d.fail(KindUnexpectedLeader, fmt.Sprintf("%v became leader of term %d, but no leader was expected", raft.ID(i), term))
	}
	switch sc.Measure.Until {
	case scenarios.UntilLeader:
		m.measured(term)
		return
	case scenarios.UntilWorkingLeader:
		return // watch decides
	}
	// until: first-heartbeat: wait for every other live node the new
	// leader can reach to accept its AppendEntries.
	m.hbLeader, m.hbTerm, m.hbRemaining = i, term, 0
	for j := range m.hbWaiting {
		m.hbWaiting[j] = j != i && !d.s.Crashed(j) && !d.s.Net.Blocked(i, j)
		if m.hbWaiting[j] {
			m.hbRemaining++
		}
	}
	if m.hbRemaining == 0 {
		m.measured(term)
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
	d := m.d
	d.res.Started = true
	m.measuring = true
	m.origin, m.originTerm, m.originSends = d.s.Now(), term, m.sends
	if d.tracing() {
		d.note(fmt.Sprintf("measure from here: a leader of a term above %d", term))
	}
	if removed >= 0 && d.view.state[removed].Role == raft.Leader && !d.s.Crashed(removed) {
		d.res.HasStale = true // a live leader was cut off or paused: how long does it believe it leads?
		m.stale = removed
	}
}

// measured ends the measurement with a leader in term.
func (m *meter) measured(term uint64) {
	d := m.d
	res := &d.res
	res.Measured = true
	res.TimeToLeader = d.s.Now() - m.origin
	res.Messages = m.sends - m.originSends
	res.Rounds, res.SplitVotes, res.OtherLosses = CountRounds(m.originTerm, term, m.cands)
	m.measuring, m.hbLeader = false, -1
	if w := d.plan.Scenario.Expect.LeaderWithin; w > 0 && res.TimeToLeader > w {
		d.fail(KindLiveness, fmt.Sprintf("time to leader %s is over leader_within %s", scenarios.FormatDuration(res.TimeToLeader), scenarios.FormatDuration(w)))
	}
	d.maybeEnd()
}

// CountRounds counts the election rounds of a measurement from the term
// above origin to won, the term a leader won: the terms with a candidate,
// won included; split votes, the lost terms with two or more; and other
// lost elections, those with one. candidates holds each term's number of
// candidates, by term, up to won at least.
func CountRounds[N ~uint16 | ~int](origin, won uint64, candidates []N) (rounds, splits, others int) {
	for t := origin + 1; t <= won; t++ {
		switch c := candidates[t]; {
		case c == 0:
			continue
		case t == won:
		case c >= 2:
			splits++
		default:
			others++
		}
		rounds++
	}
	return rounds, splits, others
}

func (m *meter) staleEnded() {
	m.d.res.StaleLeader = m.d.s.Now() - m.origin
	m.stale = -1
}

// watch looks again after anything that may have given or taken the
// cluster's working leader: a steady run keeps its account of time without
// one, and until: working-leader ends the measurement at one.
func (m *meter) watch() {
	d, v := m.d, &m.d.view
	if m.steadyStart >= 0 {
		working := v.workingLeader() >= 0
		switch {
		case working && m.leaderlessAt >= 0:
			d.res.Leaderless += d.s.Now() - m.leaderlessAt
			m.leaderlessAt = -1
		case !working && m.leaderlessAt < 0:
			m.leaderlessAt = d.s.Now()
		}
	}
	if m.measuring && d.plan.Scenario.Measure.Until == scenarios.UntilWorkingLeader {
		if l := v.workingLeader(); l >= 0 {
			if l == m.stale {
				m.staleEnded() // the removed leader leads a majority again: no longer stale
			}
			m.measured(v.state[l].Term)
		}
	}
}

// steadyLeader notes a leader elected in a steady-state run: the first one
// starts the measurement, every later one is a leader change.
func (m *meter) steadyLeader() {
	d := m.d
	if m.steadyStart < 0 {
		m.steadyStart = d.s.Now()
		d.s.At(d.s.Now()+d.plan.steady, callEnd)
		return
	}
	d.res.LeaderChanges++
}

// finish closes the measurement at the end of the trial.
func (m *meter) finish() {
	d := m.d
	if m.stale >= 0 {
		m.staleEnded() // still leading at the end
	}
	if d.plan.steady == 0 || m.steadyStart < 0 {
		return // a steady run that never elected a leader measured nothing
	}
	if m.leaderlessAt >= 0 {
		d.res.Leaderless += d.s.Now() - m.leaderlessAt
	}
	d.res.SteadyTime = d.s.Now() - m.steadyStart
}
