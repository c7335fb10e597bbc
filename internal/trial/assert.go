package trial

import (
	"fmt"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// KindCheck is the failure of a check step.
const KindCheck = "check"

// check applies a check step's action: it reports whether the timeline
// goes on at once. A check that holds does; one that does not fails the
// trial, or, with a deadline, suspends the timeline until it holds (the
// driver's watch looks again after every change) or the deadline passes.
func (f *faultSchedule) check(a *scenarios.Action) bool {
	c := a.Assert
	ok, why := f.asserts(c)
	if ok {
		if f.d.tracing() {
			f.d.note("step " + f.stepName() + " check holds: " + c.Describe())
		}
		return true
	}
	if c.Within == 0 {
		f.d.fail(KindCheck, "step "+f.stepName()+": "+why)
		return false
	}
	f.pending = c
	f.pendingSeq++
	f.d.s.At(f.d.s.Now()+c.Within, callCheck+f.pendingSeq*callKinds)
	return false
}

// deadline is a pending check's deadline coming due: seq says which check.
func (f *faultSchedule) deadline(seq int) {
	if f.pending == nil || seq != f.pendingSeq {
		return // it held in time
	}
	_, why := f.asserts(f.pending)
	f.d.fail(KindCheck, fmt.Sprintf("step %s: %s (within %s)", f.stepName(), why, scenarios.FormatDuration(f.pending.Within)))
}

// asserts judges an assertion against the nodes as they report themselves,
// and says why it does not hold.
func (f *faultSchedule) asserts(c *scenarios.Assertion) (bool, string) {
	v := &f.d.view
	j := scenarios.Judge{
		Picker: f.picker(v.currentLeader()),
		Node: func(i int) scenarios.NodeView {
			st := &v.state[i]
			return scenarios.NodeView{Leads: st.Role == raft.Leader, Term: st.Term, Lead: int(st.Lead)}
		},
		Up:    func(i int) bool { return v.booted[i] && !f.d.s.Crashed(i) },
		Terms: f.stepTerms,
	}
	return j.Holds(c)
}
