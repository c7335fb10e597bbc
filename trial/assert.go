package trial

import (
	"fmt"
	"strings"

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
			f.d.note("step " + f.stepName() + " check holds: " + f.describe(c))
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
	leader := v.currentLeader()
	judged := f.pickOnly(c.Among, leader, func(i int) bool { return v.booted[i] && !f.d.s.Crashed(i) })
	var leaders []int
	for _, i := range judged {
		if v.state[i].Role == raft.Leader {
			leaders = append(leaders, i)
		}
	}
	among := c.Among.Text + " " + names(judged)
	switch c.Leader {
	case scenarios.CheckLeaderOne:
		if len(leaders) != 1 {
			return false, fmt.Sprintf("want one leader among %s, found %s", among, f.leaders(leaders))
		}
	case scenarios.CheckLeaderNone:
		if len(leaders) != 0 {
			return false, fmt.Sprintf("want no leader among %s, found %s", among, f.leaders(leaders))
		}
	case scenarios.CheckLeaderIs:
		want := f.pick(c.Is, leader, func(int) bool { return true })
		if len(leaders) != 1 || len(want) != 1 || leaders[0] != want[0] {
			return false, fmt.Sprintf("want %s %s as the one leader among %s, found %s", c.Is.Text, names(want), among, f.leaders(leaders))
		}
	}
	if c.Not != nil {
		not := f.pick(*c.Not, leader, func(int) bool { return true })
		for _, l := range leaders {
			for _, x := range not {
				if l == x {
					return false, fmt.Sprintf("want no leader of %s %s among %s, found %s", c.Not.Text, names(not), among, f.leaders(leaders))
				}
			}
		}
	}
	if c.Agree {
		var follows []string
		agree := len(judged) > 0
		for _, i := range judged {
			lead := v.state[i].Lead
			follows = append(follows, fmt.Sprintf("%v follows %v", raft.ID(i), lead))
			agree = agree && lead != raft.None && lead == v.state[judged[0]].Lead
		}
		if !agree {
			return false, fmt.Sprintf("want every node of %s to follow the same leader: %s", among, strings.Join(follows, ", "))
		}
	}
	if k := c.TermSince; k > 0 {
		if k >= len(f.stepTerms) || f.stepTerms[k] == 0 {
			return false, fmt.Sprintf("step %d, whose term this check compares with, never ran", k)
		}
		if then, now := f.stepTerms[k]-1, int(v.maxTerm()); now != then {
			return false, fmt.Sprintf("want no term begun since step %d (term %d then), found term %d", k, then, now)
		}
	}
	return true, ""
}

// leaders lists leading nodes with their terms, or says none.
func (f *faultSchedule) leaders(ids []int) string {
	if len(ids) == 0 {
		return "none"
	}
	parts := make([]string, len(ids))
	for k, i := range ids {
		parts[k] = fmt.Sprintf("%v (term %d)", raft.ID(i), f.d.view.state[i].Term)
	}
	return fmt.Sprintf("%d: %s", len(ids), strings.Join(parts, ", "))
}

// describe says what a check asserts, for the trace.
func (f *faultSchedule) describe(c *scenarios.Assertion) string {
	var parts []string
	switch c.Leader {
	case scenarios.CheckLeaderOne:
		parts = append(parts, "one leader")
	case scenarios.CheckLeaderNone:
		parts = append(parts, "no leader")
	case scenarios.CheckLeaderIs:
		parts = append(parts, c.Is.Text+" leads")
	}
	if c.Not != nil {
		parts = append(parts, c.Not.Text+" does not lead")
	}
	if c.Agree {
		parts = append(parts, "every node follows the same leader")
	}
	if c.TermSince > 0 {
		parts = append(parts, fmt.Sprintf("no term begun since step %d", c.TermSince))
	}
	return strings.Join(parts, ", ") + " among " + c.Among.Text
}
