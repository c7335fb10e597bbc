package trial

import (
	"fmt"
	"slices"
	"strings"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// faultSchedule runs a trial's fault timeline. Steps run in order: a step
// starts when the previous one is done, waits until its time (if it has
// one), then for its trigger (a leader elected, the leader's heartbeat),
// then for its delay, then applies its actions in the order written.
type faultSchedule struct {
	noObserver
	d     *Driver
	steps []scenarios.Step
	seeds Seeds
	rand  sim.Rand // the current step's random delay and node choices

	step      int  // the current step
	atPending bool // the step's call ends its wait for its time, not its delay
	waiting   bool // the step waits for its trigger
	delaying  bool // the step waits for its delay
	done      bool // every step has been applied
	oldLeader int  // the leader the latest leader-removing step removed; -1 before one

	action     int // the next action of the current step to apply
	stepLeader int // the leader when the current step began to apply
	bound      scenarios.Bindings
	stepTerms  scenarios.StepTerms
	pending    *scenarios.Assertion
	pendingSeq int // the pending check's number: only its own deadline fails it

	// After a write with reach, until its leader's next heartbeat, crash or
	// step-down: that leader, and the followers the write reaches. -1 when
	// no write holds entries back.
	holdFrom int
	keep     []int
}

func (f *faultSchedule) reset(d *Driver, seeds Seeds) {
	f.d, f.steps, f.seeds = d, d.plan.steps, seeds
	f.step, f.atPending, f.waiting, f.delaying, f.done = 0, false, false, false, false
	f.oldLeader, f.holdFrom = -1, -1
	f.bound.Reset()
	f.stepTerms.Reset()
	f.pending = nil
}

// StateChanged implements [Observer]: a leader elected may be what the
// step waits for; a write's hold ends with its leader's leadership.
func (f *faultSchedule) StateChanged(i int, ch Change) {
	cur := &f.d.view.state[i]
	if !ch.roleOrTerm(cur) {
		return
	}
	if i == f.holdFrom && cur.Role != raft.Leader {
		f.holdFrom = -1
	}
	if cur.Role == raft.Leader && f.waitsFor(scenarios.AfterLeaderElected) {
		f.triggered()
	}
}

// watch looks again after anything that may have given the cluster a
// working leader, or made a pending check hold.
func (f *faultSchedule) watch() {
	if f.waitsFor(scenarios.AfterLeaderExists) && f.d.view.workingLeader() >= 0 {
		f.triggered()
	}
	if f.pending != nil {
		if ok, _ := f.asserts(f.pending); ok {
			f.pending = nil
			f.applyActions()
		}
	}
}

// TimerFired implements [Observer]: the leader's heartbeat may be what the
// step waits for, and ends a write's hold (the broadcast it starts carries
// the entries to every follower).
func (f *faultSchedule) TimerFired(i int, t raft.Timer) {
	if t != raft.HeartbeatTimer {
		return
	}
	if i == f.holdFrom {
		f.holdFrom = -1
	}
	if i == f.d.view.currentLeader() && f.waitsFor(scenarios.AfterHeartbeat) {
		f.triggered() // the current leader's heartbeat, not a cut-off old leader's
	}
}

func (f *faultSchedule) waitsFor(t scenarios.Trigger) bool {
	return f.waiting && f.steps[f.step].After == t
}

// holds reports whether a write's hold discards m, which node from sends:
// an AppendEntries carrying entries to a follower the write does not reach.
func (f *faultSchedule) holds(from int, m *raft.Message) bool {
	return from == f.holdFrom && m.Type == raft.MsgApp && m.NEntries > 0 && !slices.Contains(f.keep, int(m.To))
}

// begin starts the current step: it waits for the step's time, then its
// trigger, then its delay.
func (f *faultSchedule) begin() {
	d := f.d
	if f.step >= len(f.steps) {
		f.done = true
		d.live.timelineOver()
		d.maybeEnd()
		return
	}
	st := &f.steps[f.step]
	f.rand.Seed(f.seeds.Step(st.Index))
	if st.HasAt && d.s.Now() < st.At {
		f.waiting = false
		d.s.At(st.At, callStep) // the step's own call resumes it below
		f.atPending = true
		return
	}
	f.atPending = false
	if st.After != scenarios.AfterPrevious && !(st.After == scenarios.AfterLeaderExists && d.view.workingLeader() >= 0) {
		f.waiting = true
		if d.tracing() {
			d.note("step " + f.stepName() + " waits for " + st.After.String())
		}
		return
	}
	f.triggered()
}

// triggered moves the current step on from its trigger to its delay.
func (f *faultSchedule) triggered() {
	f.waiting, f.delaying = false, true
	st := &f.steps[f.step]
	f.d.s.At(f.d.s.Now()+st.Delay.Sample(&f.rand), callStep)
}

// due is the current step's call coming due: either the end of its wait
// for its time, or the end of its delay.
func (f *faultSchedule) due() {
	if f.atPending {
		f.atPending = false
		f.begin()
		return
	}
	v := &f.d.view
	st := &f.steps[f.step]
	f.delaying = false
	f.stepLeader, f.action = v.currentLeader(), 0
	f.stepTerms.Record(st.Index, v.maxTerm())
	f.applyActions()
}

// applyActions applies the current step's actions from f.action on, in
// order. A check that does not hold yet suspends them until it does or its
// deadline passes; then the step is done and the next one begins.
func (f *faultSchedule) applyActions() {
	d, v := f.d, &f.d.view
	st := &f.steps[f.step]
	for ; f.action < len(st.Actions); f.action++ {
		a := &st.Actions[f.action]
		if a.Kind == scenarios.Check {
			if !f.check(a) {
				return // pending, or failed
			}
			continue
		}
		// After a check has waited, "leader" means the leader by then.
		leader := f.stepLeader
		if f.action > 0 && st.Actions[f.action-1].Kind == scenarios.Check {
			leader = v.currentLeader()
		}
		f.apply(a, leader)
		if d.stop {
			return
		}
	}
	if len(st.Actions) == 0 && d.tracing() {
		text := "step " + f.stepName() + " done"
		if st.Note != "" {
			text += ": " + st.Note
		}
		d.note(text)
	}
	if leader := f.stepLeader; leader >= 0 && v.removed(leader) {
		f.oldLeader = leader
		if d.plan.Scenario.Measure.From == scenarios.FromFault && !d.res.Started {
			d.meter.start(leader, v.state[leader].Term)
		}
	}
	v.topoDirty = true
	d.watch()
	f.step++
	f.begin()
}

// unfinished says why the timeline was not over when the trial ended, or
// returns "" when it was.
func (f *faultSchedule) unfinished() string {
	if f.done {
		return ""
	}
	st := &f.steps[f.step]
	switch {
	case f.pending != nil:
		return st.Unfinished(scenarios.Checking)
	case f.atPending:
		return st.Unfinished(scenarios.WaitingForTime)
	case f.waiting:
		return st.Unfinished(scenarios.WaitingForTrigger)
	case f.delaying:
		return st.Unfinished(scenarios.Delaying)
	}
	return "step " + st.Name() + " never finished"
}

// failUnreached fails a trial whose timeline was not over when it ended,
// if a check step never ran: a check is an expectation.
func (f *faultSchedule) failUnreached(why string) {
	if st := scenarios.FirstCheck(f.steps[f.step:]); st != nil {
		f.d.fail(KindCheck, "the check of step "+st.Name()+" never ran: "+why)
	}
}

func (f *faultSchedule) stepName() string { return f.steps[f.step].Name() }

// apply applies one fault action.
func (f *faultSchedule) apply(a *scenarios.Action, leader int) {
	d := f.d
	s, nw := d.s, &d.s.Net
	switch a.Kind {
	case scenarios.Crash:
		ids := f.pickOnly(a.Nodes, leader, func(i int) bool { return !s.Crashed(i) })
		f.bound.Bind(a.As, ids)
		text := "crash " + scenarios.NodeSet(ids)
		if a.RestartAfter != nil {
			text += " restart_after=" + scenarios.FormatDist(*a.RestartAfter)
		}
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: text})
		for _, i := range ids {
			s.Crash(i)
			if i == f.holdFrom {
				f.holdFrom = -1 // a crashed leader sends nothing more: no message to hold back
			}
			d.faulted(Fault{Kind: FaultCrash, Node: i})
			if a.RestartAfter != nil {
				s.At(s.Now()+a.RestartAfter.Sample(&f.rand), callRestart+i*callKinds)
			}
		}
	case scenarios.Restart:
		ids := f.pickOnly(a.Nodes, leader, func(i int) bool { return s.Crashed(i) && d.view.booted[i] })
		f.bound.Bind(a.As, ids)
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "restart " + scenarios.NodeSet(ids)})
		for _, i := range ids {
			d.boot(i, true)
		}
	case scenarios.Partition, scenarios.Isolate, scenarios.Cut, scenarios.Heal:
		text := f.picker(leader).ApplyNetwork(a, &nw.Topology, func(i int) bool { return !s.Crashed(i) })
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: text})
	case scenarios.Pause:
		ids := f.pickOnly(a.Nodes, leader, func(i int) bool { return !s.Crashed(i) && !s.Paused(i) })
		f.bound.Bind(a.As, ids)
		spans := make([]string, len(ids))
		until := make([]sim.Time, len(ids))
		for k, i := range ids {
			dur := a.For.Sample(&f.rand)
			until[k] = s.Now() + dur
			spans[k] = raft.ID(i).String() + " for " + scenarios.FormatDuration(dur)
		}
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "pause " + strings.Join(spans, ", ")})
		for k, i := range ids {
			s.Pause(i, until[k]-s.Now())
			d.faulted(Fault{Kind: FaultPause, Node: i, Until: until[k]})
		}
	case scenarios.Drift:
		ids := f.pick(a.Nodes, leader, func(int) bool { return true })
		f.bound.Bind(a.As, ids)
		for _, i := range ids {
			s.SetRate(i, a.Factor)
		}
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: fmt.Sprintf("drift %s factor=%g", scenarios.NodeSet(ids), a.Factor)})
	case scenarios.SetLoss:
		nw.SetLoss(a.Loss)
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: fmt.Sprintf("loss %g", a.Loss)})
	case scenarios.Write:
		f.write(a, leader)
	}
}

// write makes the leader append entries. With reach, only that many random
// followers get them before the leader's next heartbeat: until then, every
// AppendEntries carrying entries to the others is discarded (the write's own,
// and the catch-up a heartbeat reply would prompt), so logs differ through a
// crash within the heartbeat interval.
func (f *faultSchedule) write(a *scenarios.Action, leader int) {
	d := f.d
	if leader < 0 || d.s.Paused(leader) {
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "write skipped: no running leader"})
		return
	}
	var others []int // the followers the write can reach: up, and not cut off from the leader
	for i := range d.view.n() {
		if i != leader && !d.s.Crashed(i) && !d.s.Net.Blocked(leader, i) {
			others = append(others, i)
		}
	}
	reach := others
	if a.Reach >= 0 {
		reach = scenarios.Choose(others, a.Reach, &f.rand)
	}
	f.keep = append(f.keep[:0], reach...)
	d.faulted(Fault{Kind: FaultAction, Node: -1, Text: fmt.Sprintf("write %d entries at leader %v, reaching %s", a.Entries, raft.ID(leader), scenarios.NodeSet(reach))})
	if a.Reach >= 0 {
		f.holdFrom = leader
	}
	d.nodes[leader].Propose(d.s.LocalNow(leader), a.Entries)
	d.carryOut(leader, d.nodes[leader].Ready())
}

// picker resolves selectors as the cluster is now, with the current
// step's draws.
func (f *faultSchedule) picker(leader int) *scenarios.Picker {
	d := f.d
	return &scenarios.Picker{
		N: d.view.n(), Leader: leader, OldLeader: f.oldLeader, Bound: &f.bound, Rand: &f.rand,
		Connected: func(i int) bool { return d.view.booted[i] && !d.s.Crashed(i) && d.s.Net.Main(i) },
	}
}

func (f *faultSchedule) pick(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	return f.picker(leader).Pick(sel, ok)
}

func (f *faultSchedule) pickOnly(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	return f.picker(leader).PickOnly(sel, ok)
}
