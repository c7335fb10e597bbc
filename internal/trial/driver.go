package trial

import (
	"time"

	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Driver runs trials of one [Plan], one at a time, reusing its storage. It
// is the simulator's driver of the Raft nodes: it hands each node its inputs
// (messages delivered, timers fired, entries to propose), carries out what
// the node's Ready asks for (timers armed a little late when the scenario
// has timer slack, messages sent once the disk has written what they depend
// on), and tells the trial's concerns what happened. Each worker goroutine
// needs its own Driver.
type Driver struct {
	plan    *Plan
	s       *sim.Sim[raft.Message]
	nodes   []*raft.Node
	configs []raft.Config
	rands   []sim.Rand // per node: election timeouts
	disks   []sim.Rand // per node: disk write times
	jitters []sim.Rand // per node: timer lateness
	procs   []sim.Rand // per node: time to react to an input

	view   view
	faults faultSchedule
	check  checker
	meter  meter
	live   watchdog
	tr     tracing

	res       Result
	stop      bool
	endQueued bool
}

// call kinds, packed into sim call ids as kind + arg*callKinds.
const (
	callStart = iota
	callStep
	callRestart
	callEnd
	callWatchdog
	callConverge
	callCheck // arg: the pending check's number
	callKinds
)

// NewDriver returns a driver for plan.
func NewDriver(plan *Plan) *Driver {
	n := plan.Scenario.Cluster.Nodes
	d := &Driver{plan: plan, s: sim.New[raft.Message](n, int(raft.NumTimers))}
	d.rands = make([]sim.Rand, n)
	d.disks = make([]sim.Rand, n)
	d.jitters = make([]sim.Rand, n)
	d.procs = make([]sim.Rand, n)
	c := &plan.Scenario.Cluster
	for i := range n {
		cfg := raft.Config{ID: raft.ID(i), Size: n, ElectionMin: c.ElectionTimeout.Min, ElectionMax: c.ElectionTimeout.Max,
			Heartbeat: c.HeartbeatInterval(), Options: c.Options, Bugs: c.Bugs}
		d.configs = append(d.configs, cfg)
		d.nodes = append(d.nodes, raft.New(cfg, &d.rands[i]))
	}
	d.SetTracer(nil)
	return d
}

// SetTracer sends every event of the following trials to t (nil: none),
// and every detail when t is a [trace.DetailTracer].
func (d *Driver) SetTracer(t trace.Tracer) {
	d.tr.out = t
	d.tr.details, _ = t.(trace.DetailTracer)
}

func (d *Driver) tracing() bool { return d.tr.out != nil }

// note traces a line that is not an observation: a step waiting, the
// measurement's origin.
func (d *Driver) note(text string) {
	if d.tracing() {
		d.tr.emit(trace.Event{Kind: trace.EvNote, Node: -1, Text: text})
	}
}

// Run runs the trial with the given seed and returns what it measured.
func (d *Driver) Run(seed uint64) Result {
	d.setup(seed)
	for !d.stop {
		e := d.s.Next()
		if e == nil {
			break
		}
		d.handle(e)
	}
	d.finish()
	return d.res
}

func (d *Driver) setup(seed uint64) {
	p := d.plan
	sc := p.Scenario
	c := &sc.Cluster
	n := c.Nodes
	seeds := Seeds(seed)
	d.s.Reset(n, int(raft.NumTimers), seeds.Network())
	nw := &d.s.Net
	nw.SetDefault(sim.Link{Latency: sc.Network.Latency, Loss: sc.Network.Loss, Dup: sc.Network.Dup})
	for _, l := range p.links {
		nw.SetLink(l.from, l.to, l.link)
	}
	nw.SetFIFO(sc.Network.FIFO)
	d.res = Result{Seed: seed}
	d.stop, d.endQueued = false, false
	d.view.reset(d.s, n)
	for i, node := range d.nodes {
		d.rands[i].Seed(seeds.Node(i))
		d.disks[i].Seed(seeds.Disk(i))
		d.jitters[i].Seed(seeds.Jitter(i))
		d.procs[i].Seed(seeds.Processing(i))
		node.Reset(d.configs[i])
		var log []uint64
		for _, l := range c.Logs {
			if l.Node == i {
				log = l.Terms
			}
		}
		node.Restore(c.Term, raft.None, log)
		d.view.state[i] = node.State()
		d.view.logs[i] = append(d.view.logs[i][:0], log...)
		d.s.Crash(i) // down until it starts
	}
	d.tr.reset(d)
	d.check.reset(d)
	d.meter.reset(d, c.Term)
	d.live.reset(d)
	d.faults.reset(d, seeds)
	for i := range n {
		var at time.Duration
		if len(c.Start) > 0 {
			var r sim.Rand
			r.Seed(seeds.Start(i))
			at = c.Start[min(i, len(c.Start)-1)].Sample(&r)
		}
		d.s.At(at, callStart+i*callKinds)
	}
	if p.steady > 0 {
		d.s.At(sc.Measure.Limit+p.steady, callEnd) // a guard: the first leader ends it sooner
	} else {
		d.s.At(sc.Measure.Limit, callEnd)
		if sc.Measure.From == scenarios.FromStart {
			d.meter.start(-1, c.Term)
		}
	}
	d.faults.begin()
	d.watch()
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
		d.faulted(Fault{Kind: FaultResume, Node: e.Node})
		d.watch()
	case sim.Call:
		d.call(e.Call%callKinds, e.Call/callKinds)
	}
}

func (d *Driver) call(kind, arg int) {
	switch kind {
	case callStart:
		d.boot(arg, false)
	case callStep:
		d.faults.due()
	case callRestart:
		if d.s.Crashed(arg) {
			d.boot(arg, true)
		}
	case callEnd:
		d.stop = true
	case callConverge:
		d.live.convergeDue()
	case callWatchdog:
		d.live.watchdogDue()
	case callCheck:
		d.faults.deadline(arg)
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
	d.view.booted[i] = true
	rd := node.Ready()
	d.faulted(Fault{Kind: FaultBoot, Node: i, State: rd.State})
	d.carryOut(i, rd)
	d.watch()
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
		ch := Change{Prev: d.view.state[i]}
		d.view.state[i] = rd.State
		if len(rd.Entries) > 0 {
			ch.Wrote = rd.FirstIndex
			d.view.write(i, rd.FirstIndex, rd.Entries)
		}
		d.stateChanged(i, ch)
		d.watch()
		if d.stop {
			return // a violation ends the trial: what the node sent with it never leaves
		}
	}
	for k := range rd.Messages {
		m := &rd.Messages[k]
		fate := sim.Sent{Reason: sim.Discarded}
		if !d.faults.holds(i, m) {
			fate = d.s.SendAfter(i, int(m.To), m, wait)
		}
		d.sent(i, m, fate)
		if d.stop {
			return
		}
	}
}

// The observations, and the concerns that hear each, in the order they
// are told: the tracer first (a state's trace line comes before the
// violation it causes), then the checker, the fault timeline and the meter.
// Every concern is an [Observer]; the driver calls those that listen
// directly rather than looping over an []Observer, because an interface
// call per concern per message cost 10-15% of a trial (benchmarks in the
// commit that made it so).

func (d *Driver) stateChanged(i int, ch Change) {
	if d.tracing() {
		d.tr.StateChanged(i, ch)
	}
	d.check.StateChanged(i, ch)
	d.faults.StateChanged(i, ch)
	d.meter.StateChanged(i, ch)
}

func (d *Driver) timerFired(i int, t raft.Timer) {
	if d.tracing() {
		d.tr.TimerFired(i, t)
	}
	d.faults.TimerFired(i, t)
}

func (d *Driver) sent(i int, m *raft.Message, fate sim.Sent) {
	if d.tracing() {
		d.tr.Sent(i, m, fate)
	}
	d.check.Sent(i, m, fate)
	d.meter.Sent(i, m, fate)
}

func (d *Driver) delivered(i int, m *raft.Message, reason sim.DropReason) {
	if d.tracing() {
		d.tr.Delivered(i, m, reason)
	}
	d.meter.Delivered(i, m, reason)
}

// faulted tells the concerns of a fault; the topology may have changed.
func (d *Driver) faulted(f Fault) {
	d.view.topoDirty = true
	if d.tracing() {
		d.tr.Faulted(f)
	}
	d.meter.Faulted(f)
}

// The concerns are Observers, each implementing what it listens to.
var (
	_ Observer = (*tracing)(nil)
	_ Observer = (*checker)(nil)
	_ Observer = (*faultSchedule)(nil)
	_ Observer = (*meter)(nil)
)

// watch has the concerns look again after anything that may have given or
// taken the cluster's working leader.
func (d *Driver) watch() {
	d.meter.watch()
	d.live.watch()
	d.faults.watch()
}

// fail ends the trial with its first failure.
func (d *Driver) fail(kind, detail string) {
	if d.res.Failure != nil {
		return
	}
	d.res.Failure = &Failure{Kind: kind, Detail: detail, At: d.s.Now(), Event: d.s.Events()}
	if d.tracing() {
		d.tr.emit(trace.Event{Kind: trace.EvViolation, Node: -1, Text: kind + ": " + detail})
	}
	d.stop = true
}

// maybeEnd ends the trial a settle time after both the fault timeline and
// the measurement are over.
func (d *Driver) maybeEnd() {
	if d.endQueued || !d.faults.done || d.meter.measuring || d.live.converging || d.plan.steady > 0 {
		return
	}
	d.endQueued = true
	d.s.At(d.s.Now()+d.plan.Scenario.SettleTime(), callEnd)
}

func (d *Driver) finish() {
	d.res.Events = d.s.Events()
	d.res.End = d.s.Now()
	d.meter.finish()
	if d.plan.steady > 0 || d.res.Failure != nil {
		return
	}
	if why := d.faults.unfinished(); why != "" {
		d.res.Unfinished = why
		d.faults.failUnreached(why)
	}
	d.live.finish()
}
