package simulated

import (
	"time"

	"github.com/raftsim/raftsim/internal/node/etcdnode"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Driver runs trials of one [trial.Plan] in the simulated world, one at a
// time, reusing its storage. It drives the Raft nodes: it hands each node
// its inputs (messages delivered, timers fired, entries to propose),
// carries out what the node's Ready asks for (timers armed a little late
// when the scenario has timer slack, messages sent once the disk has
// written what they depend on), and tells the trial's [trial.Conductor],
// its safety checker and its tracer what happened. It is the Conductor's
// [trial.World]: it does what the fault timeline says, at once, in virtual
// time. Each worker goroutine needs its own Driver.
type Driver struct {
	plan    *trial.Plan
	s       *sim.Sim[raft.Message]
	nodes   []raft.Machine // raftsim's nodes, or etcd's (the scenario's impl)
	configs []raft.Config
	rands   []sim.Rand // per node: election timeouts
	disks   []sim.Rand // per node: disk write times
	jitters []sim.Rand // per node: timer lateness
	procs   []sim.Rand // per node: time to react to an input

	c     trial.Conductor
	logs  logs
	check checker
	tr    tracing

	// After a write with reach, until its leader's next heartbeat, crash or
	// step-down: that leader, and the followers the write reaches. -1 when
	// no write holds entries back.
	holdFrom int
	keep     []int

	stop bool
}

// The driver's calls, packed into sim call ids as kind + arg*callKinds.
const (
	callStart     = iota // arg: the node to boot
	callConductor        // arg: the conductor's trial.Call
	callKinds
)

// NewDriver returns a driver for plan.
func NewDriver(plan *trial.Plan) *Driver {
	n := plan.Scenario.Cluster.Nodes
	d := &Driver{plan: plan, s: sim.New[raft.Message](n, int(raft.NumTimers)), c: *trial.NewConductor(plan)}
	d.rands = make([]sim.Rand, n)
	d.disks = make([]sim.Rand, n)
	d.jitters = make([]sim.Rand, n)
	d.procs = make([]sim.Rand, n)
	for i := range n {
		cfg := plan.Scenario.Cluster.NodeConfig(i)
		d.configs = append(d.configs, cfg)
		d.nodes = append(d.nodes, newNode(&plan.Scenario.Cluster, cfg, &d.rands[i]))
	}
	d.SetTracer(nil)
	return d
}

// newNode returns a node of the cluster's implementation with configuration
// cfg, drawing its election timeouts from rand.
func newNode(c *scenarios.Cluster, cfg raft.Config, rand raft.Rand) raft.Machine {
	if c.Impl == scenarios.ImplEtcd {
		ticks, err := c.Etcd()
		if err != nil {
			panic("simulated: a plan of a scenario etcd cannot run: " + err.Error())
		}
		return etcdnode.New(cfg, ticks, rand)
	}
	return raft.New(cfg, rand)
}

// SetTracer sends every event of the following trials to t (nil: none),
// and every detail when t is a [trace.DetailTracer].
func (d *Driver) SetTracer(t trace.Tracer) {
	d.tr.out = t
	d.tr.details, _ = t.(trace.DetailTracer)
}

// Run runs the trial with the given seed and returns what it measured.
func (d *Driver) Run(seed uint64) trial.Result {
	d.setup(seed)
	for !d.stop {
		e := d.s.Next()
		if e == nil {
			break
		}
		d.handle(e)
	}
	return *d.c.Finish()
}

func (d *Driver) setup(seed uint64) {
	p := d.plan
	c := &p.Scenario.Cluster
	n := c.Nodes
	seeds := trial.Seeds(seed)
	d.s.Reset(n, int(raft.NumTimers), seeds.Network())
	nw := &d.s.Net
	nw.SetDefault(p.DefaultLink())
	p.EachLink(func(from, to int, l sim.Link) { nw.SetLink(from, to, l) })
	nw.SetFIFO(p.Scenario.Network.FIFO)
	d.stop, d.holdFrom = false, -1
	d.c.Reset(seed, d, &nw.Topology)
	d.logs.reset(n)
	for i, node := range d.nodes {
		d.rands[i].Seed(seeds.Node(i))
		d.disks[i].Seed(seeds.Disk(i))
		d.jitters[i].Seed(seeds.Jitter(i))
		d.procs[i].Seed(seeds.Processing(i))
		node.Reset(d.configs[i])
		log := p.InitialLog(i)
		node.Restore(c.Term, raft.None, log)
		d.c.Cluster.State[i] = node.State()
		d.logs[i] = append(d.logs[i][:0], log...)
		d.s.Crash(i) // down until it starts
	}
	d.tr.reset(d)
	d.check.reset(d)
	for i := range n {
		d.s.At(p.StartTime(seeds, i), callStart+i*callKinds)
	}
	d.c.Begin()
}

// handle reacts to one simulator event.
func (d *Driver) handle(e *sim.Event) {
	switch e.Kind {
	case sim.Deliver:
		m := d.s.Message()
		d.delivered(e.Node, m, sim.NotDropped)
		node := d.nodes[e.Node]
		node.Step(d.s.LocalNow(e.Node), m)
		d.carryOut(e.Node, node.Ready())
	case sim.Timeout:
		t := raft.Timer(e.Timer)
		d.timerFired(e.Node, t)
		node := d.nodes[e.Node]
		node.Tick(d.s.LocalNow(e.Node), t)
		d.carryOut(e.Node, node.Ready())
	case sim.Drop:
		d.delivered(e.Node, d.s.Message(), e.Reason)
	case sim.Resume:
		d.traceFault(fault{Kind: faultResume, Node: e.Node})
		d.c.Resumed(e.Node)
		d.c.Watch()
	case sim.Call:
		switch kind, arg := e.Call%callKinds, e.Call/callKinds; kind {
		case callStart:
			d.boot(arg, false)
		case callConductor:
			d.c.Due(trial.Call(arg))
		}
	}
}

// boot starts node i, for the first time or after a crash.
func (d *Driver) boot(i int, restart bool) {
	d.s.Restart(i)
	node := d.nodes[i]
	if restart {
		node.Restart(d.s.LocalNow(i))
	} else {
		node.Start(d.s.LocalNow(i))
	}
	d.c.Booted(i)
	rd := node.Ready()
	d.traceFault(fault{Kind: faultBoot, Node: i, State: rd.State})
	d.carryOut(i, rd)
	d.c.Watch()
}

// carryOut does what node i's Ready asks: it arms and stops timers, tells
// the concerns of a new state or log, and sends the messages, after the
// disk write they depend on and the node's processing time, when the
// scenario models them.
func (d *Driver) carryOut(i int, rd *raft.Ready) {
	c := &d.plan.Scenario.Cluster
	for _, ts := range rd.Timers {
		if !ts.Armed {
			d.s.StopTimer(i, int(ts.Timer))
			continue
		}
		due := ts.Due
		if c.TimerJitter != nil {
			due += c.TimerJitter.Sample(&d.jitters[i]) // the operating system wakes the node a little late
		}
		d.s.SetTimer(i, int(ts.Timer), due)
	}
	if d.tracing() && len(rd.Timers) > 0 {
		d.tr.timersSet(i)
	}
	var wait time.Duration
	if c.Persist != nil && rd.MustSync {
		wait = c.Persist.Sample(&d.disks[i]) // what this input sends waits for the disk
	}
	if c.Processing != nil && len(rd.Messages) > 0 {
		wait += c.Processing.Sample(&d.procs[i]) // and for the node to get it out
	}
	if rd.StateChanged || len(rd.Entries) > 0 {
		st := &d.c.Cluster.State[i]
		ch := change{Prev: *st}
		*st = rd.State
		if len(rd.Entries) > 0 {
			ch.Wrote = rd.FirstIndex
			d.logs.write(i, rd.FirstIndex, rd.Entries)
		}
		d.stateChanged(i, &ch)
		d.c.Watch()
		if d.stop {
			return // a violation ends the trial: what the node sent with it never leaves
		}
	}
	for k := range rd.Messages {
		m := &rd.Messages[k]
		fate := sim.Sent{Reason: sim.Discarded}
		if !d.holds(i, m) {
			fate = d.s.SendAfter(i, int(m.To), m, wait)
		}
		d.sent(i, m, fate)
		if d.stop {
			return
		}
	}
}

// holds reports whether a write's hold discards m, which node from sends:
// an AppendEntries carrying entries to a follower the write does not reach.
func (d *Driver) holds(from int, m *raft.Message) bool {
	return from == d.holdFrom && m.Type == raft.MsgApp && m.NEntries > 0 && !containsInt(d.keep, int(m.To))
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// The observations, and who hears each, in the order they are told: the
// tracer first (a state's trace line comes before the violation it
// causes), then the safety checker, then the conductor (the fault
// timeline, the meter).

func (d *Driver) stateChanged(i int, ch *change) {
	if d.tracing() {
		d.tr.stateChanged(i, ch)
	}
	d.check.stateChanged(i, ch)
	if i == d.holdFrom && d.c.Cluster.State[i].Role != raft.Leader {
		d.holdFrom = -1 // a write's hold ends with its leader's leadership
	}
	d.c.StateChanged(i, &ch.Prev)
}

func (d *Driver) timerFired(i int, t raft.Timer) {
	if d.tracing() {
		d.tr.timerFired(i, t)
	}
	if t == raft.HeartbeatTimer {
		if i == d.holdFrom {
			d.holdFrom = -1 // the broadcast it starts carries the entries to every follower
		}
		d.c.Heartbeat(i)
	}
}

func (d *Driver) sent(i int, m *raft.Message, fate sim.Sent) {
	if d.tracing() {
		d.tr.sent(i, m, fate)
	}
	d.check.sent(i, m)
	d.c.Sent()
}

func (d *Driver) delivered(i int, m *raft.Message, reason sim.DropReason) {
	if d.tracing() {
		d.tr.delivered(i, m, reason)
	}
	if reason == sim.NotDropped && (m.Type == raft.MsgApp || m.Type == raft.MsgHeartbeat) {
		d.c.AppendEntriesDelivered(int(m.From), i, m.Term)
	}
}

// traceFault traces a fault: a step's action, or a node booting, crashing,
// pausing or waking up.
func (d *Driver) traceFault(f fault) {
	if d.tracing() {
		d.tr.faulted(f)
	}
}

func (d *Driver) tracing() bool { return d.tr.out != nil }

// What the conductor asks of its world ([trial.World]).

// Now implements [trial.World].
func (d *Driver) Now() time.Duration { return d.s.Now() }

// Events implements [trial.World].
func (d *Driver) Events() uint64 { return d.s.Events() }

// At implements [trial.World].
func (d *Driver) At(t time.Duration, c trial.Call) { d.s.At(t, callConductor+int(c)*callKinds) }

// Tracing implements [trial.World].
func (d *Driver) Tracing() bool { return d.tracing() }

// Note implements [trial.World].
func (d *Driver) Note(text string) {
	if d.tracing() {
		d.tr.emit(trace.Event{Kind: trace.EvNote, Node: -1, Text: text})
	}
}

// Fault implements [trial.World].
func (d *Driver) Fault(text string) { d.traceFault(fault{Kind: faultAction, Node: -1, Text: text}) }

// End implements [trial.World].
func (d *Driver) End(f *trial.Failure) {
	if f != nil && d.tracing() {
		d.tr.emit(trace.Event{Kind: trace.EvViolation, Node: -1, Text: f.Kind + ": " + f.Detail})
	}
	d.stop = true
}

// Crash implements [trial.World].
func (d *Driver) Crash(i int) {
	d.s.Crash(i)
	if i == d.holdFrom {
		d.holdFrom = -1 // a crashed leader sends nothing more: no message to hold back
	}
	d.traceFault(fault{Kind: faultCrash, Node: i})
}

// Restart implements [trial.World].
func (d *Driver) Restart(i int) { d.boot(i, true) }

// Pause implements [trial.World].
func (d *Driver) Pause(i int, dur time.Duration) {
	d.s.Pause(i, dur)
	d.traceFault(fault{Kind: faultPause, Node: i, Until: d.s.Now() + dur})
}

// Drift implements [trial.World].
func (d *Driver) Drift(i int, factor float64) { d.s.SetRate(i, factor) }

// SetLoss implements [trial.World].
func (d *Driver) SetLoss(p float64) { d.s.Net.SetLoss(p) }

// NetworkChanged implements [trial.World]: the simulated network reads the
// topology the conductor changed.
func (d *Driver) NetworkChanged() {}

// Write implements [trial.World]: with hold, until the leader's next
// heartbeat, every AppendEntries carrying entries to a follower outside
// reach is discarded (the write's own, and the catch-up a heartbeat reply
// would prompt), so that logs differ through a crash within the heartbeat
// interval.
func (d *Driver) Write(leader, entries int, reach []int, hold bool) {
	d.keep = append(d.keep[:0], reach...)
	if hold {
		d.holdFrom = leader
	}
	d.nodes[leader].Propose(d.s.LocalNow(leader), entries)
	d.carryOut(leader, d.nodes[leader].Ready())
}

var _ trial.World = (*Driver)(nil)
