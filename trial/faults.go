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

	action     int       // the next action of the current step to apply
	stepLeader int       // the leader when the current step began to apply
	bound      []binding // the nodes actions named with as:, by name
	stepTerms  []int     // by step position: 1 + the highest term when it was applied, 0 if not yet
	pending    *scenarios.Assertion
	pendingSeq int // the pending check's number: only its own deadline fails it

	// After a write with reach, until its leader's next heartbeat, crash or
	// step-down: that leader, and the followers the write reaches. -1 when
	// no write holds entries back.
	holdFrom int
	keep     []int
}

// binding is the nodes an action named.
type binding struct {
	name string
	ids  []int
}

func (f *faultSchedule) reset(d *Driver, seeds Seeds) {
	f.d, f.steps, f.seeds = d, d.plan.steps, seeds
	f.step, f.atPending, f.waiting, f.delaying, f.done = 0, false, false, false, false
	f.oldLeader, f.holdFrom = -1, -1
	f.bound = f.bound[:0]
	f.stepTerms = f.stepTerms[:0]
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
	for len(f.stepTerms) <= st.Index {
		f.stepTerms = append(f.stepTerms, 0)
	}
	f.stepTerms[st.Index] = int(v.maxTerm()) + 1
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
	name := "step " + f.stepName()
	switch {
	case f.pending != nil:
		return name + " never finished: its check had not come true"
	case f.atPending:
		return name + " never ran: waiting until " + scenarios.FormatDuration(st.At)
	case f.waiting:
		return name + " never ran: waiting for " + st.After.String()
	case f.delaying:
		return name + " never ran: its delay was not over"
	}
	return name + " never finished"
}

// failUnreached fails a trial whose timeline was not over when it ended,
// if a check step never ran: a check is an expectation.
func (f *faultSchedule) failUnreached(why string) {
	for k := f.step; k < len(f.steps); k++ {
		for _, a := range f.steps[k].Actions {
			if a.Kind == scenarios.Check {
				st := &f.steps[k]
				name := fmt.Sprint(st.Index)
				if st.Line > 0 {
					name = fmt.Sprintf("%d (line %d)", st.Index, st.Line)
				}
				f.d.fail(KindCheck, "the check of step "+name+" never ran: "+why)
				return
			}
		}
	}
}

func (f *faultSchedule) stepName() string {
	st := &f.steps[f.step]
	if st.Line > 0 {
		return fmt.Sprintf("%d (line %d)", st.Index, st.Line)
	}
	return fmt.Sprint(st.Index) // a scenario made by a program
}

// apply applies one fault action.
func (f *faultSchedule) apply(a *scenarios.Action, leader int) {
	d := f.d
	s, nw := d.s, &d.s.Net
	switch a.Kind {
	case scenarios.Crash:
		ids := f.pickOnly(a.Nodes, leader, func(i int) bool { return !s.Crashed(i) })
		f.bind(a.As, ids)
		text := "crash " + names(ids)
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
		f.bind(a.As, ids)
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "restart " + names(ids)})
		for _, i := range ids {
			d.boot(i, true)
		}
	case scenarios.Partition:
		taken := make([]bool, d.view.n())
		var groups [][]int
		var parts []string
		for _, g := range a.Groups {
			ids := f.pickOnly(g, leader, func(i int) bool { return !taken[i] })
			for _, i := range ids {
				taken[i] = true
			}
			groups = append(groups, ids)
			parts = append(parts, names(ids))
		}
		var rest []int
		for i := range taken {
			if !taken[i] {
				rest = append(rest, i)
			}
		}
		if len(rest) > 0 {
			parts = append(parts, names(rest))
		}
		nw.Partition(groups)
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "partition " + strings.Join(parts, " ")})
	case scenarios.Isolate:
		ids := f.pick(a.Nodes, leader, func(i int) bool { return !s.Crashed(i) })
		f.bind(a.As, ids)
		for _, i := range ids {
			nw.Isolate(i)
		}
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "isolate " + names(ids)})
	case scenarios.Heal:
		f.heal(a, leader)
	case scenarios.Cut:
		from := f.pick(a.From, leader, func(int) bool { return true })
		to := f.pick(a.To, leader, func(int) bool { return true })
		for _, x := range from {
			for _, y := range to {
				if x != y {
					nw.Cut(x, y)
				}
			}
		}
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: "cut " + names(from) + "->" + names(to)})
	case scenarios.Pause:
		ids := f.pickOnly(a.Nodes, leader, func(i int) bool { return !s.Crashed(i) && !s.Paused(i) })
		f.bind(a.As, ids)
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
		f.bind(a.As, ids)
		for _, i := range ids {
			s.SetRate(i, a.Factor)
		}
		d.faulted(Fault{Kind: FaultAction, Node: -1, Text: fmt.Sprintf("drift %s factor=%g", names(ids), a.Factor)})
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
		reach = f.choose(others, a.Reach)
	}
	f.keep = append(f.keep[:0], reach...)
	d.faulted(Fault{Kind: FaultAction, Node: -1, Text: fmt.Sprintf("write %d entries at leader %v, reaching %s", a.Entries, raft.ID(leader), names(reach))})
	if a.Reach >= 0 {
		f.holdFrom = leader
	}
	d.nodes[leader].Propose(d.s.LocalNow(leader), a.Entries)
	d.carryOut(leader, d.nodes[leader].Ready())
}

// heal removes every partition and cut, or brings nodes back into the main
// network, or opens links.
func (f *faultSchedule) heal(a *scenarios.Action, leader int) {
	nw := &f.d.s.Net
	all := func(int) bool { return true }
	text := "heal"
	switch {
	case a.Nodes.Text != "":
		ids := f.pick(a.Nodes, leader, all)
		for _, i := range ids {
			nw.HealNode(i)
		}
		text += " " + names(ids)
	case a.From.Text != "":
		from, to := f.pick(a.From, leader, all), f.pick(a.To, leader, all)
		for _, x := range from {
			for _, y := range to {
				if x != y {
					nw.HealLink(x, y)
					if a.Both {
						nw.HealLink(y, x)
					}
				}
			}
		}
		arrow := "->"
		if a.Both {
			arrow = "<->"
		}
		text += " " + names(from) + arrow + names(to)
	default:
		nw.Heal()
	}
	f.d.faulted(Fault{Kind: FaultAction, Node: -1, Text: text})
}

// pick resolves a selector to node indexes, in increasing order. Random
// choices come from the step's stream and only consider nodes where ok.
func (f *faultSchedule) pick(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	v := &f.d.view
	var ids []int
	switch sel.Kind {
	case scenarios.Named:
		ids = append(ids, sel.IDs...)
	case scenarios.Leader:
		if leader >= 0 {
			ids = []int{leader}
		}
	case scenarios.OldLeader:
		if f.oldLeader >= 0 {
			ids = []int{f.oldLeader}
		}
	case scenarios.All:
		for i := range v.n() {
			ids = append(ids, i)
		}
	case scenarios.Connected:
		for i := range v.n() {
			if v.booted[i] && !f.d.s.Crashed(i) && f.d.s.Net.Main(i) {
				ids = append(ids, i)
			}
		}
	case scenarios.Bound:
		for _, b := range f.bound {
			if b.name == sel.Name {
				ids = append(ids, b.ids...)
			}
		}
	case scenarios.Union:
		for _, item := range sel.Items {
			for _, i := range f.pick(item, leader, ok) {
				if !slices.Contains(ids, i) {
					ids = append(ids, i)
				}
			}
		}
		slices.Sort(ids)
	case scenarios.Random, scenarios.RandomFollower:
		var pool []int
		for i := range v.n() {
			if ok(i) && (sel.Kind == scenarios.Random || i != leader) {
				pool = append(pool, i)
			}
		}
		ids = f.choose(pool, sel.Count)
	}
	return ids
}

// pickOnly is pick for an action that applies to the nodes where ok alone,
// whatever picked them: crash running nodes, restart crashed ones.
func (f *faultSchedule) pickOnly(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	return slices.DeleteFunc(f.pick(sel, leader, ok), func(i int) bool { return !ok(i) })
}

// bind gives the nodes an action picked the name it says (as: name).
func (f *faultSchedule) bind(name string, ids []int) {
	if name == "" {
		return
	}
	for k := range f.bound {
		if f.bound[k].name == name {
			f.bound[k].ids = slices.Clone(ids)
			return
		}
	}
	f.bound = append(f.bound, binding{name, slices.Clone(ids)})
}

// choose returns k distinct members of pool (all of it if smaller), drawn
// from the fault stream, in increasing order.
func (f *faultSchedule) choose(pool []int, k int) []int {
	pool = slices.Clone(pool)
	k = min(k, len(pool))
	for i := range k { // a partial Fisher–Yates shuffle
		j := i + f.rand.Intn(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	out := pool[:k]
	slices.Sort(out)
	return out
}

func names(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = raft.ID(id).String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}
