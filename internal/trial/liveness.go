package trial

import (
	"fmt"

	"github.com/raftsim/raftsim/internal/trial/safety"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// watchdog checks liveness: while a majority of the cluster is up and
// connected, the cluster may be without a working leader for at most
// leader_within; once the fault timeline is over, a working leader must
// appear within converge_within. At the end of a trial it checks the
// scenario's end expectations: a leader after the origin, and exactly one
// node that believes it leads.
type watchdog struct {
	c          *Conductor
	leaderless safety.Watch // leader_within's account of stretches without a working leader
	converging bool         // the timeline is over and no working leader has appeared since
}

func (w *watchdog) reset(c *Conductor) {
	w.c = c
	w.leaderless.Reset(c.plan.Scenario.Expect.LeaderWithin)
	w.converging = false
}

// timelineOver starts the wait for convergence, if the scenario asks for one.
func (w *watchdog) timelineOver() {
	c := w.c
	if lim := c.plan.Scenario.Expect.ConvergeWithin; lim > 0 && c.plan.steady == 0 {
		w.converging = true
		c.w.At(c.w.Now()+lim, call(callConverge, 0))
		c.Watch()
	}
}

// watch looks again after anything that may have given or taken the
// cluster's working leader.
func (w *watchdog) watch() {
	c, cl := w.c, &w.c.Cluster
	if w.converging && cl.WorkingLeader() >= 0 {
		w.converging = false
		c.maybeEnd()
	}
	if w.leaderless.Limit <= 0 || !c.begun || c.ended || c.plan.steady > 0 {
		return // before the trial begins (nodes starting up, live) nothing is due
	}
	if due, begun := w.leaderless.Look(c.w.Now(), cl.MajorityConnected(), cl.WorkingLeader() >= 0); begun {
		c.w.At(due, call(callWatchdog, 0))
	}
}

// watchdogDue is a leaderless stretch's deadline coming due.
func (w *watchdog) watchdogDue() {
	if detail, over := w.leaderless.Due(w.c.w.Now()); over {
		w.c.Fail(KindLiveness, detail)
	}
}

// convergeDue is converge_within coming due.
func (w *watchdog) convergeDue() {
	if w.converging {
		w.c.Fail(KindLiveness, fmt.Sprintf("no working leader within %s of the last fault (converge_within)",
			scenarios.FormatDuration(w.c.plan.Scenario.Expect.ConvergeWithin)))
	}
}

// finish checks the expectations about the end of a trial.
func (w *watchdog) finish() {
	c := w.c
	ex := &c.plan.Scenario.Expect
	res := &c.res
	if res.Failure != nil {
		return
	}
	if ex.ConvergeWithin > 0 && res.Unfinished != "" {
		c.Fail(KindLiveness, "converge_within was never put to the test: the fault timeline never finished ("+res.Unfinished+")")
		return
	}
	if ex.LeaderWithin > 0 && res.Started && !res.Measured {
		c.Fail(KindLiveness, fmt.Sprintf("no leader within the trial's %s after the origin", scenarios.FormatSpan(res.End-c.meter.origin)))
		return
	}
	if ex.OneLeaderAtEnd {
		var leaders []string
		cl := &c.Cluster
		for i := range cl.N() {
			if cl.Leads(i) {
				leaders = append(leaders, fmt.Sprintf("%v (term %d)", raft.ID(i), cl.State[i].Term))
			}
		}
		if len(leaders) != 1 {
			c.Fail(KindLeadersAtEnd, fmt.Sprintf("%d nodes believe they lead at the end: %v", len(leaders), leaders))
		}
	}
}
