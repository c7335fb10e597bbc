package live

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// meter measures a live trial into a trial.Result, as the simulator's
// meter does (trial/measure.go): from the origin (the start, or the fault
// that removed a leader) until a leader of a later term (or its first
// heartbeat's arrival, or a working leader), the time, the election rounds,
// split votes and messages; how long a removed but live leader went on
// believing it led; terms begun and leaders deposed. Its methods run under
// the observer's lock.
type meter struct {
	o   *observer
	res trial.Result

	measuring   bool
	origin      time.Duration
	originTerm  uint64
	originSends int
	sends       int
	cands       map[uint64]uint64 // by term: the nodes that asked for votes after the origin, one bit each
	stale       int               // the removed leader, while it still leads; -1 otherwise

	hbLeader  int // until: first-heartbeat: the new leader, or -1
	hbTerm    uint64
	hbWaiting uint64 // the nodes its first AppendEntries has yet to reach

	maxTerm          uint64
	newestLeaderTerm uint64
}

func (m *meter) reset(o *observer, term uint64) {
	*m = meter{o: o, cands: map[uint64]uint64{}, stale: -1, hbLeader: -1, maxTerm: term}
}

func (m *meter) sent() { m.sends++ }

// candidate notes node i asking for votes in term.
func (m *meter) candidate(i int, term uint64) {
	if m.measuring {
		m.cands[term] |= 1 << i
	}
}

// start starts the measurement at the origin, above term; removed is the
// leader a fault removed, or -1.
func (m *meter) start(removed int, term uint64, at time.Duration) {
	o := m.o
	m.res.Started = true
	m.measuring = true
	m.origin, m.originTerm, m.originSends = at, term, m.sends
	o.emit(traceNote(at, fmt.Sprintf("measure from here: a leader of a term above %d", term)))
	if removed >= 0 && o.leads(removed) && !o.down[removed] {
		m.res.HasStale = true
		m.stale = removed
	}
}

// leader notes node i leading term, a term no leader was seen in before.
func (m *meter) leader(i int, term uint64, at time.Duration) {
	o := m.o
	m.newestLeaderTerm = max(m.newestLeaderTerm, term)
	if !m.measuring || term <= m.originTerm {
		return
	}
	sc := o.sc
	if sc.Expect.NoLeader {
		o.fail(trial.KindUnexpectedLeader, fmt.Sprintf("%v became leader of term %d, but no leader was expected", raft.ID(i), term))
	}
	switch sc.Measure.Until {
	case scenarios.UntilLeader:
		m.measured(term, at)
		return
	case scenarios.UntilWorkingLeader:
		return // working decides
	}
	m.hbLeader, m.hbTerm, m.hbWaiting = i, term, 0
	for j := range o.n {
		if j != i && !o.down[j] && !o.topo.Blocked(i, j) {
			m.hbWaiting |= 1 << j
		}
	}
	if m.hbWaiting == 0 {
		m.measured(term, at)
	}
}

// heartbeatReached notes an AppendEntries of term from → to delivered.
func (m *meter) heartbeatReached(from, to int, term uint64) {
	if from != m.hbLeader || term != m.hbTerm || m.hbWaiting&(1<<to) == 0 {
		return
	}
	m.hbWaiting &^= 1 << to
	if m.hbWaiting == 0 {
		m.measured(m.hbTerm, m.o.now())
	}
}

// crashed notes node i killed: it waits for no heartbeat, and a removed
// leader that is killed no longer believes it leads.
func (m *meter) crashed(i int, at time.Duration) {
	if m.hbLeader >= 0 && m.hbWaiting&(1<<i) != 0 {
		m.hbWaiting &^= 1 << i
		if m.hbWaiting == 0 {
			m.measured(m.hbTerm, at)
		}
	}
	if i == m.stale {
		m.staleEnded(at)
	}
}

// stateChanged notes node i moving from (prevTerm, prevLeads) to (term,
// leads).
func (m *meter) stateChanged(i int, prevTerm uint64, prevLeads bool, term uint64, leads bool) {
	at := m.o.now()
	if i == m.stale && prevLeads && !leads {
		m.staleEnded(at)
	}
	if m.res.Started && prevLeads && !leads && term > prevTerm && prevTerm == m.newestLeaderTerm {
		m.res.Disruptions++ // the newest leader, deposed by a higher term
	}
	if term > m.maxTerm {
		if m.res.Started {
			m.res.TermsBumped += int(term - m.maxTerm)
		}
		m.maxTerm = term
	}
}

// working notes the cluster's working leader (or -1): until: working-leader
// ends the measurement at one.
func (m *meter) working(leader int, at time.Duration) {
	if !m.measuring || leader < 0 || m.o.sc.Measure.Until != scenarios.UntilWorkingLeader {
		return
	}
	if leader == m.stale {
		m.staleEnded(at) // the removed leader leads a majority again: no longer stale
	}
	m.measured(m.o.term[leader], at)
}

// measured ends the measurement with a leader in term.
func (m *meter) measured(term uint64, at time.Duration) {
	res := &m.res
	res.Measured = true
	res.TimeToLeader = at - m.origin
	res.Messages = m.sends - m.originSends
	counts := make([]int, term+1)
	for t, nodes := range m.cands {
		if t <= term {
			counts[t] = bits.OnesCount64(nodes)
		}
	}
	res.Rounds, res.SplitVotes, res.OtherLosses = trial.CountRounds(m.originTerm, term, counts)
	m.measuring, m.hbLeader = false, -1
	if w := m.o.sc.Expect.LeaderWithin; w > 0 && res.TimeToLeader > w {
		m.o.fail(trial.KindLiveness, fmt.Sprintf("time to leader %s is over leader_within %s", scenarios.FormatDuration(res.TimeToLeader), scenarios.FormatDuration(w)))
	}
}

func (m *meter) staleEnded(at time.Duration) {
	m.res.StaleLeader = at - m.origin
	m.stale = -1
}

// overdue reports whether a measurement under way has run past the
// scenario's leader_within: the trial can end, failed.
func (m *meter) overdue(now time.Duration) bool {
	w := m.o.sc.Expect.LeaderWithin
	return m.measuring && w > 0 && now-m.origin > w
}

// finish closes the measurement at the end of the trial.
func (m *meter) finish(end time.Duration) {
	if m.stale >= 0 {
		m.staleEnded(end) // still leading at the end
	}
	m.res.End = end
}
