package trial

import (
	"fmt"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// timeline runs a trial's fault timeline. Steps run in order: a step
// starts when the previous one is done, waits until its time (if it has
// one), then for its trigger (a leader elected, the leader's heartbeat, a
// working leader), then for its delay, then applies its actions in the
// order written: to the world (crash, restart, pause, drift, the network,
// a write) or to the judge (a check). Which nodes an action picks, the
// random draws it makes and the trace line it leaves are decided here, the
// same in every world.
type timeline struct {
	c     *Conductor
	steps []scenarios.Step
	seeds Seeds
	rand  sim.Rand // the current step's random delay and node choices

	origin    time.Duration // the timeline's time zero: steps' at: count from it
	step      int           // the current step
	atPending bool          // the step's call ends its wait for its time, not its delay
	waiting   bool          // the step waits for its trigger
	delaying  bool          // the step waits for its delay
	done      bool          // every step has been applied
	oldLeader int           // the leader the latest leader-removing step removed; -1 before one

	action     int // the next action of the current step to apply
	stepLeader int // the leader when the current step began to apply
	bound      scenarios.Bindings
	stepTerms  scenarios.StepTerms
	pending    *scenarios.Assertion
	pendingSeq int // the pending check's number: only its own deadline fails it
}

func (tl *timeline) reset(c *Conductor, seeds Seeds) {
	tl.c, tl.steps, tl.seeds = c, c.plan.steps, seeds
	tl.step, tl.atPending, tl.waiting, tl.delaying, tl.done = 0, false, false, false, false
	tl.oldLeader = -1
	tl.bound.Reset()
	tl.stepTerms.Reset()
	tl.pending = nil
}

// roleOrTermChanged: a leader elected may be what the step waits for.
func (tl *timeline) roleOrTermChanged(i int, cur *raft.State) {
	if cur.Role == raft.Leader && tl.waitsFor(scenarios.AfterLeaderElected) {
		tl.triggered()
	}
}

// heartbeat: the current leader's heartbeat may be what the step waits
// for (a cut-off old leader's is not).
func (tl *timeline) heartbeat(i int) {
	if i == tl.c.Cluster.CurrentLeader() && tl.waitsFor(scenarios.AfterHeartbeat) {
		tl.triggered()
	}
}

// watch looks again after anything that may have given the cluster a
// working leader, or made a pending check hold.
func (tl *timeline) watch() {
	if tl.waitsFor(scenarios.AfterLeaderExists) && tl.c.Cluster.WorkingLeader() >= 0 {
		tl.triggered()
	}
	if tl.pending != nil {
		if ok, _ := tl.asserts(tl.pending); ok {
			tl.pending = nil
			tl.applyActions()
		}
	}
}

func (tl *timeline) waitsFor(t scenarios.Trigger) bool {
	return tl.waiting && tl.steps[tl.step].After == t
}

// begin starts the timeline at origin.
func (tl *timeline) begin(origin time.Duration) {
	tl.origin = origin
	tl.start()
}

// start starts the current step: it waits for the step's time, then its
// trigger, then its delay.
func (tl *timeline) start() {
	c := tl.c
	if tl.step >= len(tl.steps) {
		tl.done = true
		c.watchdog.timelineOver()
		c.maybeEnd()
		return
	}
	st := &tl.steps[tl.step]
	tl.rand.Seed(tl.seeds.Step(st.Index))
	if at := tl.origin + st.At; st.HasAt && c.w.Now() < at {
		tl.waiting = false
		c.w.At(at, call(callStep, 0)) // the step's own call resumes it below
		tl.atPending = true
		return
	}
	tl.atPending = false
	if st.After == scenarios.AfterHeartbeat && c.heartbeatsUnseen {
		hb := c.plan.Scenario.Cluster.HeartbeatInterval()
		wait := time.Duration(tl.rand.Float64() * float64(hb))
		if c.w.Tracing() {
			c.w.Note("step " + tl.stepName() + " waits " + scenarios.FormatSpan(wait) + ": the heartbeats are unseen, and the next comes within one interval")
		}
		tl.waiting, tl.delaying = false, true
		c.w.At(c.w.Now()+wait+st.Delay.Sample(&tl.rand), call(callStep, 0))
		return
	}
	if st.After != scenarios.AfterPrevious && !(st.After == scenarios.AfterLeaderExists && c.Cluster.WorkingLeader() >= 0) {
		tl.waiting = true
		if c.w.Tracing() {
			c.w.Note("step " + tl.stepName() + " waits for " + st.After.String())
		}
		return
	}
	tl.triggered()
}

// triggered moves the current step on from its trigger to its delay.
func (tl *timeline) triggered() {
	tl.waiting, tl.delaying = false, true
	st := &tl.steps[tl.step]
	tl.c.w.At(tl.c.w.Now()+st.Delay.Sample(&tl.rand), call(callStep, 0))
}

// due is the current step's call coming due: either the end of its wait
// for its time, or the end of its delay.
func (tl *timeline) due() {
	if tl.atPending {
		tl.atPending = false
		tl.start()
		return
	}
	cl := &tl.c.Cluster
	st := &tl.steps[tl.step]
	tl.delaying = false
	tl.stepLeader, tl.action = cl.CurrentLeader(), 0
	tl.stepTerms.Record(st.Index, cl.MaxTerm())
	tl.applyActions()
}

// applyActions applies the current step's actions from tl.action on, in
// order. A check that does not hold yet suspends them until it does or its
// deadline passes; then the step is done and the next one begins.
func (tl *timeline) applyActions() {
	c, cl := tl.c, &tl.c.Cluster
	st := &tl.steps[tl.step]
	for ; tl.action < len(st.Actions); tl.action++ {
		a := &st.Actions[tl.action]
		if a.Kind == scenarios.Check {
			if !tl.check(a) {
				return // pending, or failed
			}
			continue
		}
		// After a check has waited, "leader" means the leader by then.
		leader := tl.stepLeader
		if tl.action > 0 && st.Actions[tl.action-1].Kind == scenarios.Check {
			leader = cl.CurrentLeader()
		}
		tl.apply(a, leader)
		if c.ended {
			return
		}
	}
	if len(st.Actions) == 0 && c.w.Tracing() {
		text := "step " + tl.stepName() + " done"
		if st.Note != "" {
			text += ": " + st.Note
		}
		c.w.Note(text)
	}
	if leader := tl.stepLeader; leader >= 0 && cl.Removed(leader) {
		tl.oldLeader = leader
		if c.plan.Scenario.Measure.From == scenarios.FromFault && !c.res.Started {
			c.meter.start(leader, cl.State[leader].Term)
		}
	}
	cl.topoDirty = true
	c.Watch()
	tl.step++
	tl.start()
}

// unfinished says why the timeline was not over when the trial ended, or
// returns "" when it was.
func (tl *timeline) unfinished() string {
	if tl.done {
		return ""
	}
	st := &tl.steps[tl.step]
	switch {
	case tl.pending != nil:
		return st.Unfinished(scenarios.Checking)
	case tl.atPending:
		return st.Unfinished(scenarios.WaitingForTime)
	case tl.waiting:
		return st.Unfinished(scenarios.WaitingForTrigger)
	case tl.delaying:
		return st.Unfinished(scenarios.Delaying)
	}
	return "step " + st.Name() + " never finished"
}

// failUnreached fails a trial whose timeline was not over when it ended,
// if a check step never ran: a check is an expectation.
func (tl *timeline) failUnreached(why string) {
	if st := scenarios.FirstCheck(tl.steps[tl.step:]); st != nil {
		tl.c.Fail(KindCheck, "the check of step "+st.Name()+" never ran: "+why)
	}
}

func (tl *timeline) stepName() string { return tl.steps[tl.step].Name() }

// apply applies one fault action; leader is the current leader when the
// step began (or, after a check, when it held), or -1.
func (tl *timeline) apply(a *scenarios.Action, leader int) {
	c, cl, w := tl.c, &tl.c.Cluster, tl.c.w
	switch a.Kind {
	case scenarios.Crash:
		ids := tl.pickOnly(a.Nodes, leader, func(i int) bool { return !cl.crashed[i] })
		tl.bound.Bind(a.As, ids)
		text := "crash " + scenarios.NodeSet(ids)
		if a.RestartAfter != nil {
			text += " restart_after=" + scenarios.FormatDist(*a.RestartAfter)
		}
		w.Fault(text)
		for _, i := range ids {
			cl.crashed[i], cl.paused[i], cl.topoDirty = true, false, true
			w.Crash(i)
			c.meter.crashed(i)
			if a.RestartAfter != nil {
				w.At(w.Now()+a.RestartAfter.Sample(&tl.rand), call(callRestart, i))
			}
		}
	case scenarios.Restart:
		ids := tl.pickOnly(a.Nodes, leader, func(i int) bool { return cl.crashed[i] && cl.booted[i] })
		tl.bound.Bind(a.As, ids)
		w.Fault("restart " + scenarios.NodeSet(ids))
		for _, i := range ids {
			w.Restart(i)
		}
	case scenarios.Partition, scenarios.Isolate, scenarios.Cut, scenarios.Heal:
		text := tl.picker(leader).ApplyNetwork(a, cl.Topo, func(i int) bool { return !cl.crashed[i] })
		cl.topoDirty = true
		w.NetworkChanged()
		w.Fault(text)
	case scenarios.Pause:
		ids := tl.pickOnly(a.Nodes, leader, func(i int) bool { return !cl.crashed[i] && !cl.paused[i] })
		tl.bound.Bind(a.As, ids)
		spans := make([]string, len(ids))
		durs := make([]time.Duration, len(ids))
		for k, i := range ids {
			durs[k] = a.For.Sample(&tl.rand)
			spans[k] = raft.ID(i).String() + " for " + scenarios.FormatDuration(durs[k])
		}
		w.Fault("pause " + strings.Join(spans, ", "))
		for k, i := range ids {
			cl.paused[i], cl.topoDirty = true, true
			w.Pause(i, durs[k])
		}
	case scenarios.Drift:
		ids := tl.pick(a.Nodes, leader, func(int) bool { return true })
		tl.bound.Bind(a.As, ids)
		for _, i := range ids {
			w.Drift(i, a.Factor)
		}
		w.Fault(fmt.Sprintf("drift %s factor=%g", scenarios.NodeSet(ids), a.Factor))
	case scenarios.SetLoss:
		w.SetLoss(a.Loss)
		w.Fault(fmt.Sprintf("loss %g", a.Loss))
	case scenarios.Write:
		tl.write(a, leader)
	}
}

// write makes the leader append entries. With reach, only that many
// random followers get them, drawn among those the leader can reach (up,
// and not cut off from it); the world holds the entries back from the
// others for a while, so that logs differ through a crash soon after.
func (tl *timeline) write(a *scenarios.Action, leader int) {
	cl, w := &tl.c.Cluster, tl.c.w
	if leader < 0 || cl.crashed[leader] || cl.paused[leader] {
		w.Fault("write skipped: no running leader")
		return
	}
	var others []int // the followers the write can reach: up, and not cut off from the leader
	for i := range cl.N() {
		if i != leader && !cl.crashed[i] && !cl.Topo.Blocked(leader, i) {
			others = append(others, i)
		}
	}
	reach := others
	if a.Reach >= 0 {
		reach = scenarios.Choose(others, a.Reach, &tl.rand)
	}
	w.Fault(fmt.Sprintf("write %s at leader %v, reaching %s", scenarios.Count(a.Entries, "entry", "entries"), raft.ID(leader), scenarios.NodeSet(reach)))
	w.Write(leader, a.Entries, reach, a.Reach >= 0)
}

// picker resolves selectors as the cluster is now, with the current
// step's draws.
func (tl *timeline) picker(leader int) *scenarios.Picker {
	cl := &tl.c.Cluster
	return &scenarios.Picker{N: cl.N(), Leader: leader, OldLeader: tl.oldLeader, Bound: &tl.bound, Rand: &tl.rand,
		Connected: cl.Connected}
}

func (tl *timeline) pick(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	return tl.picker(leader).Pick(sel, ok)
}

func (tl *timeline) pickOnly(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	return tl.picker(leader).PickOnly(sel, ok)
}

// KindCheck is the failure of a check step.
const KindCheck = "check"

// check applies a check step's action: it reports whether the timeline
// goes on at once. A check that holds does; one that does not fails the
// trial, or, with a deadline, suspends the timeline until it holds (the
// conductor's watch looks again after every change) or the deadline
// passes.
func (tl *timeline) check(a *scenarios.Action) bool {
	c, w := tl.c, tl.c.w
	ck := a.Assert
	ok, why := tl.asserts(ck)
	if ok {
		if w.Tracing() {
			w.Note("step " + tl.stepName() + " check holds: " + ck.Describe())
		}
		return true
	}
	if ck.Within == 0 {
		c.Fail(KindCheck, "step "+tl.stepName()+": "+why)
		return false
	}
	tl.pending = ck
	tl.pendingSeq++
	w.At(w.Now()+ck.Within, call(callCheck, tl.pendingSeq))
	return false
}

// deadline is a pending check's deadline coming due: seq says which check.
func (tl *timeline) deadline(seq int) {
	if tl.pending == nil || seq != tl.pendingSeq {
		return // it held in time
	}
	_, why := tl.asserts(tl.pending)
	tl.c.Fail(KindCheck, fmt.Sprintf("step %s: %s (within %s)", tl.stepName(), why, scenarios.FormatDuration(tl.pending.Within)))
}

// asserts judges an assertion against the nodes as they show themselves,
// and says why it does not hold.
func (tl *timeline) asserts(ck *scenarios.Assertion) (bool, string) {
	cl := &tl.c.Cluster
	j := scenarios.Judge{
		Picker: tl.picker(cl.CurrentLeader()),
		Node: func(i int) scenarios.NodeView {
			st := &cl.State[i]
			return scenarios.NodeView{Leads: st.Role == raft.Leader, Term: st.Term, Lead: int(st.Lead)}
		},
		Up:    cl.Up,
		Terms: tl.stepTerms,
	}
	return j.Holds(ck)
}
