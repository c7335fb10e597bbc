package trial

import (
	"fmt"
	"strings"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// beginStep starts the current fault step: it waits for the step's time,
// then its event, then its delay.
func (r *Runner) beginStep() {
	if r.step >= len(r.plan.steps) {
		r.stepDone = true
		if d := r.plan.Scenario.Expect.ConvergeWithin; d > 0 && r.plan.steady == 0 {
			r.converging = true
			r.s.At(r.s.Now()+d, callConverge)
			r.watch()
		}
		r.maybeEnd()
		return
	}
	st := &r.plan.steps[r.step]
	if st.HasAt && r.s.Now() < st.At {
		r.waiting = false
		r.s.At(st.At, callStep) // the step's own call resumes it below
		r.atPending = true
		return
	}
	r.atPending = false
	if st.After != scenarios.AfterPrevious {
		r.waiting = true
		if r.tr != nil {
			r.emit(Event{Kind: EvNote, Node: -1, Text: "step " + r.stepName() + " waits for " + st.After.String()})
		}
		return
	}
	r.eventSeen()
}

// eventSeen moves the current step on from its event to its delay.
func (r *Runner) eventSeen() {
	r.waiting = false
	st := &r.plan.steps[r.step]
	r.s.At(r.s.Now()+st.Delay.Sample(&r.faults), callStep)
}

// applyStep is the current step's call coming due: either the end of its
// wait for At, or the end of its delay.
func (r *Runner) applyStep() {
	if r.atPending {
		r.atPending = false
		r.beginStep()
		return
	}
	st := &r.plan.steps[r.step]
	leader := r.currentLeader()
	for i := range st.Actions {
		r.apply(&st.Actions[i], leader)
		if r.stop {
			return
		}
	}
	if len(st.Actions) == 0 && r.tr != nil {
		text := "step " + r.stepName() + " done"
		if st.Note != "" {
			text += ": " + st.Note
		}
		r.emit(Event{Kind: EvNote, Node: -1, Text: text})
	}
	if leader >= 0 && r.removed(leader) {
		r.oldLeader = leader
		if r.plan.Scenario.Measure.From == scenarios.FromFault && !r.res.Started {
			r.startMeasuring(leader, r.nodes[leader].Term())
		}
	}
	r.topoDirty = true
	r.watch()
	r.step++
	r.beginStep()
}

func (r *Runner) stepName() string {
	if line := r.plan.steps[r.step].Line; line > 0 {
		return fmt.Sprintf("%d (line %d)", r.step+1, line)
	}
	return fmt.Sprint(r.step + 1) // a scenario made by a program
}

// currentLeader returns the live leader of the highest term, or -1.
func (r *Runner) currentLeader() int {
	best := -1
	for i, node := range r.nodes {
		if node.Role() == raft.Leader && !r.s.Crashed(i) && (best < 0 || node.Term() > r.nodes[best].Term()) {
			best = i
		}
	}
	return best
}

// removed reports whether leader can no longer lead: it is down, paused,
// or cut off from a majority.
func (r *Runner) removed(leader int) bool {
	return r.s.Crashed(leader) || r.s.Paused(leader) || r.nodes[leader].Role() != raft.Leader ||
		r.reach(leader) < r.nodes[leader].Config().Majority()
}

// reach counts the live, running nodes that i can exchange messages with,
// itself included.
func (r *Runner) reach(i int) int {
	n := 0
	for j := range r.nodes {
		if j == i || !r.s.Crashed(j) && !r.s.Paused(j) && !r.s.Net.Blocked(i, j) && !r.s.Net.Blocked(j, i) {
			n++
		}
	}
	return n
}

// apply applies one fault action.
func (r *Runner) apply(a *scenarios.Action, leader int) {
	nw := &r.s.Net
	var text string
	var nodeEvents []Event // per-node events, traced after the fault's own line
	switch a.Kind {
	case scenarios.Crash:
		ids := r.pick(a.Nodes, leader, func(i int) bool { return !r.s.Crashed(i) })
		for _, i := range ids {
			r.s.Crash(i)
			nodeEvents = append(nodeEvents, Event{Kind: EvDown, Node: i})
			r.hbGone(i)
			if i == r.holdFrom {
				r.holdFrom = -1 // a crashed leader sends nothing more: no message to hold back
			}
			if i == r.stale {
				r.staleEnded()
			}
			if a.RestartAfter != nil {
				r.s.At(r.s.Now()+a.RestartAfter.Sample(&r.faults), callRestart+i*callKinds)
			}
		}
		text = "crash " + names(ids)
		if a.RestartAfter != nil {
			text += " restart_after=" + scenarios.FormatDist(*a.RestartAfter)
		}
	case scenarios.Restart:
		ids := r.pick(a.Nodes, leader, func(i int) bool { return r.s.Crashed(i) && r.obs[i].started })
		r.faultNote("restart " + names(ids))
		for _, i := range ids {
			r.boot(i, true)
		}
		return
	case scenarios.Partition:
		taken := make([]bool, len(r.nodes))
		var groups [][]int
		var parts []string
		for _, g := range a.Groups {
			ids := r.pick(g, leader, func(i int) bool { return !taken[i] })
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
		text = "partition " + strings.Join(parts, " ")
	case scenarios.Isolate:
		ids := r.pick(a.Nodes, leader, func(i int) bool { return !r.s.Crashed(i) })
		for _, i := range ids {
			nw.Isolate(i)
		}
		text = "isolate " + names(ids)
	case scenarios.Heal:
		nw.Heal()
		text = "heal"
	case scenarios.Cut:
		from := r.pick(a.From, leader, func(int) bool { return true })
		to := r.pick(a.To, leader, func(int) bool { return true })
		for _, f := range from {
			for _, t := range to {
				if f != t {
					nw.Cut(f, t)
				}
			}
		}
		text = "cut " + names(from) + "->" + names(to)
	case scenarios.Pause:
		ids := r.pick(a.Nodes, leader, func(i int) bool { return !r.s.Crashed(i) && !r.s.Paused(i) })
		var spans []string
		for _, i := range ids {
			d := a.For.Sample(&r.faults)
			r.s.Pause(i, d)
			nodeEvents = append(nodeEvents, Event{Kind: EvPause, Node: i, Arrive: r.s.Now() + d})
			spans = append(spans, raft.ID(i).String()+" for "+scenarios.FormatDuration(d))
		}
		text = "pause " + strings.Join(spans, ", ")
	case scenarios.Drift:
		ids := r.pick(a.Nodes, leader, func(int) bool { return true })
		for _, i := range ids {
			r.s.SetRate(i, a.Factor)
		}
		text = fmt.Sprintf("drift %s factor=%g", names(ids), a.Factor)
	case scenarios.SetLoss:
		nw.SetLoss(a.Loss)
		text = fmt.Sprintf("loss %g", a.Loss)
	case scenarios.Write:
		r.write(a, leader)
		return
	}
	r.faultNote(text)
	if r.tr != nil {
		for _, e := range nodeEvents {
			r.emit(e)
		}
	}
}

func (r *Runner) faultNote(text string) {
	if r.tr != nil {
		r.emit(Event{Kind: EvFault, Node: -1, Text: text})
	}
}

// write makes the leader append entries. With reach, only that many random
// followers get them before the leader's next heartbeat: until then, every
// AppendEntries carrying entries to the others is discarded (the write's own,
// and the catch-up a heartbeat reply would prompt), so logs differ through a
// crash within the heartbeat interval.
func (r *Runner) write(a *scenarios.Action, leader int) {
	if leader < 0 || r.s.Paused(leader) {
		r.faultNote("write skipped: no running leader")
		return
	}
	var others []int
	for i := range r.nodes {
		if i != leader {
			others = append(others, i)
		}
	}
	reach := others
	if a.Reach >= 0 {
		reach = r.choose(others, a.Reach)
	}
	r.keep = r.keep[:0]
	r.keep = append(r.keep, reach...)
	r.faultNote(fmt.Sprintf("write %d entries at leader %v, reaching %s", a.Entries, raft.ID(leader), names(reach)))
	if a.Reach >= 0 {
		r.holdFrom = leader
	}
	r.nodes[leader].Propose(r.s.LocalNow(leader), a.Entries)
	r.afterInput(leader)
}

// reached reports whether a write with reach reaches node to.
func (r *Runner) reached(to int) bool {
	for _, k := range r.keep {
		if k == to {
			return true
		}
	}
	return false
}

// pick resolves a selector to node indexes, in increasing order. Random
// choices come from the fault stream and only consider nodes where ok.
func (r *Runner) pick(sel scenarios.Selector, leader int, ok func(int) bool) []int {
	var ids []int
	switch sel.Kind {
	case scenarios.Named:
		ids = append(ids, sel.IDs...)
	case scenarios.Leader:
		if leader >= 0 {
			ids = []int{leader}
		}
	case scenarios.OldLeader:
		if r.oldLeader >= 0 {
			ids = []int{r.oldLeader}
		}
	case scenarios.All:
		for i := range r.nodes {
			ids = append(ids, i)
		}
	case scenarios.Random, scenarios.RandomFollower:
		var pool []int
		for i := range r.nodes {
			if ok(i) && (sel.Kind == scenarios.Random || i != leader) {
				pool = append(pool, i)
			}
		}
		ids = r.choose(pool, sel.Count)
	}
	return ids
}

// choose returns k distinct members of pool (all of it if smaller), drawn
// from the fault stream, in increasing order.
func (r *Runner) choose(pool []int, k int) []int {
	pool = append([]int(nil), pool...)
	if k > len(pool) {
		k = len(pool)
	}
	for i := 0; i < k; i++ { // a partial Fisher–Yates shuffle
		j := i + r.faults.Intn(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	out := pool[:k]
	sortInts(out)
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func names(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = raft.ID(id).String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// hbGone stops waiting for node i to hear the new leader's first heartbeat.
func (r *Runner) hbGone(i int) {
	if r.hbLeader >= 0 && r.hbWaiting[i] {
		r.heartbeatReached(i)
	}
}

// watch runs the liveness watchdog: while a majority of nodes is up and
// connected, the cluster may be without a working leader for at most
// leader_within.
func (r *Runner) watch() {
	if r.steadyStart >= 0 {
		r.watchSteady()
	}
	if r.converging && r.workingLeader() {
		r.converging = false
		r.maybeEnd()
	}
	if r.measuring && r.plan.Scenario.Measure.Until == scenarios.UntilWorkingLeader {
		if l := r.workingLeaderNode(); l >= 0 {
			if l == r.stale {
				r.staleEnded() // the removed leader leads a majority again: no longer stale
			}
			r.measured(r.nodes[l].Term())
		}
	}
	lim := r.plan.Scenario.Expect.LeaderWithin
	if lim <= 0 || r.stop || r.plan.steady > 0 {
		return
	}
	if r.topoDirty {
		r.topoDirty = false
		r.majority = r.majorityConnected()
	}
	if !r.majority || r.workingLeader() {
		r.leaderless = false
		return
	}
	if !r.leaderless {
		r.leaderless, r.leaderlessSince = true, r.s.Now()
		r.s.At(r.s.Now()+lim, callWatchdog)
	}
}

// workingLeader reports whether some running leader reaches a majority of
// running nodes, none of which has a higher term.
func (r *Runner) workingLeader() bool { return r.workingLeaderNode() >= 0 }

// workingLeaderNode returns the working leader, or -1.
func (r *Runner) workingLeaderNode() int {
	for i, node := range r.nodes {
		if node.Role() != raft.Leader || r.s.Crashed(i) || r.s.Paused(i) {
			continue
		}
		n := 0
		ok := true
		for j, other := range r.nodes {
			if j == i || !r.s.Crashed(j) && !r.s.Paused(j) && !r.s.Net.Blocked(i, j) && !r.s.Net.Blocked(j, i) {
				n++
				if other.Term() > node.Term() {
					ok = false
				}
			}
		}
		if ok && n >= node.Config().Majority() {
			return i
		}
	}
	return -1
}

// majorityConnected reports whether some majority of started, running nodes
// can all exchange messages, judged by their connected component.
func (r *Runner) majorityConnected() bool {
	n := len(r.nodes)
	majority := n/2 + 1
	if !r.s.Net.HasCuts() {
		// Partitions alone: a group is a component.
		r.groupSize = r.groupSize[:0]
		for i := range r.nodes {
			if !r.up(i) {
				continue
			}
			g := int(r.s.Net.Group(i))
			for len(r.groupSize) <= g {
				r.groupSize = append(r.groupSize, 0)
			}
			r.groupSize[g]++
			if r.groupSize[g] >= majority {
				return true
			}
		}
		return false
	}
	seen := r.scratchSeen()
	for start := range r.nodes {
		if seen[start] || !r.up(start) {
			continue
		}
		size := 0
		stack := append(r.stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			for j := range r.nodes {
				if !seen[j] && r.up(j) && !r.s.Net.Blocked(i, j) && !r.s.Net.Blocked(j, i) {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		r.stack = stack
		if size >= majority {
			return true
		}
	}
	return false
}

func (r *Runner) up(i int) bool {
	return r.obs[i].started && !r.s.Crashed(i) && !r.s.Paused(i)
}

func (r *Runner) scratchSeen() []bool {
	if cap(r.seen) < len(r.nodes) {
		r.seen = make([]bool, len(r.nodes))
	}
	r.seen = r.seen[:len(r.nodes)]
	clear(r.seen)
	return r.seen
}
