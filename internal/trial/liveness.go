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
	d          *Driver
	leaderless safety.Watch // leader_within's account of stretches without a working leader
	converging bool         // the timeline is over and no working leader has appeared since
}

func (w *watchdog) reset(d *Driver) {
	w.d = d
	w.leaderless.Reset(d.plan.Scenario.Expect.LeaderWithin)
	w.converging = false
}

// timelineOver starts the wait for convergence, if the scenario asks for one.
func (w *watchdog) timelineOver() {
	d := w.d
	if lim := d.plan.Scenario.Expect.ConvergeWithin; lim > 0 && d.plan.steady == 0 {
		w.converging = true
		d.s.At(d.s.Now()+lim, callConverge)
		d.watch()
	}
}

// watch looks again after anything that may have given or taken the
// cluster's working leader.
func (w *watchdog) watch() {
	d, v := w.d, &w.d.view
	if w.converging && v.workingLeader() >= 0 {
		w.converging = false
		d.maybeEnd()
	}
	if w.leaderless.Limit <= 0 || d.stop || d.plan.steady > 0 {
		return
	}
	if due, begun := w.leaderless.Look(d.s.Now(), v.majorityConnected(), v.workingLeader() >= 0); begun {
		d.s.At(due, callWatchdog)
	}
}

// watchdogDue is a leaderless stretch's deadline coming due.
func (w *watchdog) watchdogDue() {
	if detail, over := w.leaderless.Due(w.d.s.Now()); over {
		w.d.fail(KindLiveness, detail)
	}
}

// convergeDue is converge_within coming due.
func (w *watchdog) convergeDue() {
	if w.converging {
		w.d.fail(KindLiveness, fmt.Sprintf("no working leader within %s of the last fault (converge_within)",
			scenarios.FormatDuration(w.d.plan.Scenario.Expect.ConvergeWithin)))
	}
}

// finish checks the expectations about the end of a trial.
func (w *watchdog) finish() {
	d := w.d
	ex := &d.plan.Scenario.Expect
	res := &d.res
	if res.Failure != nil {
		return
	}
	if ex.ConvergeWithin > 0 && res.Unfinished != "" {
		d.fail(KindLiveness, "converge_within was never put to the test: the fault timeline never finished ("+res.Unfinished+")")
		return
	}
	if ex.LeaderWithin > 0 && res.Started && !res.Measured {
		d.fail(KindLiveness, fmt.Sprintf("no leader within the trial's %s after the origin", scenarios.FormatDuration(res.End-d.meter.origin)))
		return
	}
	if ex.OneLeaderAtEnd {
		var leaders []string
		v := &d.view
		for i := range v.n() {
			if v.leads(i) {
				leaders = append(leaders, fmt.Sprintf("%v (term %d)", raft.ID(i), v.state[i].Term))
			}
		}
		if len(leaders) != 1 {
			d.fail(KindLeadersAtEnd, fmt.Sprintf("%d nodes believe they lead at the end: %v", len(leaders), leaders))
		}
	}
}
