package trial

import (
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// World is what a trial runs in: the simulator (virtual time, direct calls
// to the nodes) or real processes (live: wall-clock time, signals and a
// proxy). A [Conductor] tells it what to do; the world carries it out and
// reports back what happened through the Conductor's methods. A world
// decides nothing about the trial: what its timeline does, what it
// measures and how it is judged is the Conductor's, the same in both.
type World interface {
	// Now is the trial's clock.
	Now() time.Duration
	// Events counts the events the trial has seen so far, for a failure's
	// event number.
	Events() uint64
	// At asks for [Conductor.Due] of call once the clock reaches t.
	At(t time.Duration, call Call)
	// Tracing reports whether anyone reads the trial's notes and fault
	// lines; when not, the Conductor does not build them.
	Tracing() bool
	// Note traces a line that is not an observation: a step waiting, the
	// measurement's origin, a check that holds.
	Note(text string)
	// Fault traces what a fault action did, as the timeline words it.
	Fault(text string)
	// End ends the trial now, failed with f when f is not nil: nothing more
	// happens in it. The Conductor calls it once.
	End(f *Failure)

	// Crash crashes node i at once; Restart boots a crashed node again
	// (the world then reports [Conductor.Booted]).
	Crash(i int)
	Restart(i int)
	// Pause freezes node i for d; the world reports [Conductor.Resumed]
	// when it wakes.
	Pause(i int, d time.Duration)
	// Drift makes node i's clock run at factor times the trial's.
	Drift(i int, factor float64)
	// SetLoss sets the loss probability of every link.
	SetLoss(p float64)
	// NetworkChanged says that the Cluster's topology changed: the world
	// enforces it from now on.
	NetworkChanged()
	// Write makes leader append entries. With hold, the AppendEntries that
	// carry them to followers other than reach are held back for a while
	// (the simulator: until the leader's next heartbeat, crash or
	// step-down; live: one heartbeat interval), so that logs differ.
	Write(leader, entries int, reach []int, hold bool)
}

// Call is a wake-up a Conductor asked its world for ([World.At]): a kind
// and an argument packed into one integer.
type Call int

// The kinds of call, packed as kind + arg*callKinds.
const (
	callStep     = iota // the current step's time or delay is up
	callRestart         // arg: the node to restart
	callCheck           // arg: the pending check's number
	callConverge        // converge_within is up
	callWatchdog        // a leaderless stretch's deadline
	callEnd             // the trial's time is up
	callKinds
)

func call(kind, arg int) Call { return Call(kind + arg*callKinds) }

// Conductor runs one trial of a plan in a world: its fault timeline (the
// steps and the actions they apply), its measurements, its liveness watch
// and the expectations at its end, all against the world's [Cluster]. It
// is written once for both worlds, so that a simulated and a live trial of
// one scenario differ only in what their worlds do. A Conductor is not safe
// for concurrent use: live calls it under one lock.
type Conductor struct {
	Cluster Cluster

	plan     *Plan
	w        World
	timeline timeline
	meter    meter
	watchdog watchdog
	res      Result

	begun     bool // Begin was called: the trial's clock runs
	ended     bool // the world was told to end the trial
	endQueued bool // the end after settling is scheduled

	heartbeatsUnseen bool // the world cannot report heartbeats: see [Conductor.HeartbeatsUnseen]
}

// HeartbeatsUnseen says that the world cannot see the leader's heartbeats
// (real etcd members send them inside their TCP streams): a step that
// waits for the next one waits instead a uniformly random part of one
// heartbeat interval, drawn from the step's random stream. From a moment
// unrelated to the heartbeats' phase, as a step's start is, the wait for
// the next heartbeat is just that long.
func (c *Conductor) HeartbeatsUnseen() { c.heartbeatsUnseen = true }

// NewConductor returns a conductor of plan's trials.
func NewConductor(plan *Plan) *Conductor { return &Conductor{plan: plan} }

// Plan returns the plan the conductor runs.
func (c *Conductor) Plan() *Plan { return c.plan }

// Reset readies the conductor for the trial with the given seed in world
// w, over the topology topo the world enforces: every node is down and
// nothing is scheduled. The world then sets the nodes' initial states
// (Cluster.State), calls [Conductor.Begin], and boots the nodes.
func (c *Conductor) Reset(seed uint64, w World, topo *sim.Topology) {
	n := c.plan.Scenario.Cluster.Nodes
	c.w = w
	c.res = Result{Seed: seed}
	c.begun, c.ended, c.endQueued = false, false, false
	c.Cluster.reset(n, topo)
	c.meter.reset(c, c.plan.Scenario.Cluster.Term)
	c.watchdog.reset(c)
	c.timeline.reset(c, Seeds(seed))
}

// Begin starts the trial's clock: the time limit, the measurement of a
// scenario measured from the start, and the fault timeline, whose at:
// times count from now. The simulator begins before any node boots.
func (c *Conductor) Begin() {
	c.begun = true
	p, sc, now := c.plan, c.plan.Scenario, c.w.Now()
	if p.steady > 0 {
		c.w.At(now+sc.Measure.Limit+p.steady, call(callEnd, 0)) // a guard: the first leader ends it sooner
	} else {
		c.w.At(now+sc.Measure.Limit, call(callEnd, 0))
		c.MeasureFromStart()
	}
	c.timeline.begin(now)
	// A world whose nodes ran before its trial began (live, with nodes
	// that start up at their own pace) may have a leader already. The
	// meter, measuring since the first node was up (MeasureFromStart),
	// has timed it when it won; the timeline and the newest leader's
	// term learn of it now.
	if l := c.Cluster.CurrentLeader(); l >= 0 {
		st := &c.Cluster.State[l]
		c.timeline.roleOrTermChanged(l, st)
		c.meter.newestLeaderTerm = max(c.meter.newestLeaderTerm, st.Term)
		c.meter.leader(l, st.Term)
	}
	c.Watch()
}

// MeasureFromStart starts the measurement of a trial measured from its
// start, unless it has started. Begin starts it; a world whose nodes
// start up at their own pace (live, another program's nodes) starts it
// earlier, when the first node is up and its election timer runs, so
// that an election among the first nodes up, before the others are and
// the trial begins, is measured from the start of its timers.
func (c *Conductor) MeasureFromStart() {
	if sc := c.plan.Scenario; sc.Measure.From == scenarios.FromStart && c.plan.steady == 0 && !c.res.Started {
		c.meter.start(-1, sc.Cluster.Term)
	}
}

// Due is a call the conductor asked for coming due.
func (c *Conductor) Due(k Call) {
	kind, arg := int(k)%callKinds, int(k)/callKinds
	switch kind {
	case callStep:
		c.timeline.due()
	case callRestart:
		if c.Cluster.crashed[arg] {
			c.w.Restart(arg)
		}
	case callCheck:
		c.timeline.deadline(arg)
	case callConverge:
		c.watchdog.convergeDue()
	case callWatchdog:
		c.watchdog.watchdogDue()
	case callEnd:
		c.end(nil)
	}
}

// Booted: node i started, for the first time or after a crash.
func (c *Conductor) Booted(i int) {
	c.Cluster.booted[i], c.Cluster.crashed[i] = true, false
	c.Cluster.topoDirty = true
}

// Resumed: node i woke from a pause.
func (c *Conductor) Resumed(i int) {
	c.Cluster.paused[i] = false
	c.Cluster.topoDirty = true
}

// StateChanged: node i showed a new role, term or leader; Cluster.State[i]
// holds it, and prev what it showed before.
func (c *Conductor) StateChanged(i int, prev *raft.State) {
	cur := &c.Cluster.State[i]
	if cur.Role == prev.Role && cur.Term == prev.Term {
		if cur.Commit != prev.Commit {
			c.meter.committed(i)
		}
		return
	}
	c.timeline.roleOrTermChanged(i, cur)
	c.meter.roleOrTermChanged(i, prev, cur)
}

// Heartbeat: leader i began a heartbeat broadcast.
func (c *Conductor) Heartbeat(i int) { c.timeline.heartbeat(i) }

// Sent: a node sent a message.
func (c *Conductor) Sent() { c.meter.sends++ }

// AppendEntriesDelivered: an AppendEntries of term reached node to from
// node from.
func (c *Conductor) AppendEntriesDelivered(from, to int, term uint64) {
	c.meter.appendEntriesDelivered(from, to, term)
}

// Watch looks again after anything that may have given or taken the
// cluster's working leader, or made a pending check hold.
func (c *Conductor) Watch() {
	c.meter.watch()
	c.watchdog.watch()
	c.timeline.watch()
}

// Fail ends the trial with its first failure.
func (c *Conductor) Fail(kind, detail string) {
	if c.res.Failure != nil {
		return
	}
	c.res.Failure = &Failure{Kind: kind, Detail: detail, At: c.w.Now(), Event: c.w.Events()}
	c.end(c.res.Failure)
}

// Stop ends the trial now, unfailed: the world's own limit (live's
// longest trial, an interrupt).
func (c *Conductor) Stop() { c.end(nil) }

// Overdue reports whether a measurement under way has run past the
// scenario's leader_within: the trial will fail when it ends, and a world
// whose time is dear (live) may end it now.
func (c *Conductor) Overdue() bool { return c.meter.overdue() }

// Converging reports whether the timeline is over and the trial waits for
// a working leader (converge_within).
func (c *Conductor) Converging() bool { return c.watchdog.converging }

// Failed reports whether the trial has failed.
func (c *Conductor) Failed() bool { return c.res.Failure != nil }

// Failure returns the trial's first failure, or nil.
func (c *Conductor) Failure() *Failure { return c.res.Failure }

// Ended reports whether the trial has ended.
func (c *Conductor) Ended() bool { return c.ended }

// Measuring reports whether a measurement is under way.
func (c *Conductor) Measuring() bool { return c.meter.measuring }

func (c *Conductor) end(f *Failure) {
	if c.ended {
		if f != nil {
			c.w.End(f) // a failure found after the end: an end-of-trial expectation
		}
		return
	}
	c.ended = true
	c.w.End(f)
}

// maybeEnd ends the trial a settle time after both the fault timeline and
// the measurement are over.
func (c *Conductor) maybeEnd() {
	if c.endQueued || !c.timeline.done || c.meter.measuring || c.watchdog.converging || c.plan.steady > 0 {
		return
	}
	c.endQueued = true
	c.w.At(c.w.Now()+c.plan.Scenario.SettleTime(), call(callEnd, 0))
}

// Finish closes the trial once it has ended, checks the expectations about
// its end, and returns what it measured.
func (c *Conductor) Finish() *Result {
	c.res.Events = c.w.Events()
	c.res.End = c.w.Now()
	c.meter.finish()
	if c.plan.steady > 0 || c.res.Failure != nil {
		return &c.res
	}
	if why := c.timeline.unfinished(); why != "" {
		c.res.Unfinished = why
		c.timeline.failUnreached(why)
	}
	c.watchdog.finish()
	return &c.res
}
