package live

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// timeline runs a live trial's fault timeline in real time, as the
// simulator's does (trial/faults.go): steps in order, each waiting for its
// time, then its trigger (a leader elected or existing, the leader's next
// AppendEntries seen on the wire), then its delay, then applying its
// actions to the processes (kill -9, start, SIGSTOP and SIGCONT), to the
// proxy (partitions, cuts, loss, held-back entries), or checking the
// cluster as its nodes report themselves. Nodes are picked, and checks
// judged, by the same code as the simulator's (scenarios.Picker and
// scenarios.Judge).
type timeline struct {
	t         *trialRun
	steps     []scenarios.Step
	oldLeader int
	bound     scenarios.Bindings
	stepTerms scenarios.StepTerms
	rand      sim.Rand // the current step's draws
}

// run runs the steps, their times counted from the trial's base; it
// returns when they are done or the trial ends. While a step waits, the
// observer knows what for, so that a trial that ends first says so.
func (tl *timeline) run() error {
	t, o := tl.t, tl.t.obs
	tl.oldLeader = -1
	for k := range tl.steps {
		st := &tl.steps[k]
		tl.rand.Seed(t.seeds.Step(st.Index))
		name := "step " + st.Name()
		if st.HasAt {
			tl.waiting(k, scenarios.WaitingForTime)
			if !t.sleepUntil(t.base + st.At) {
				return nil
			}
		}
		if st.After != scenarios.AfterPrevious {
			tl.waiting(k, scenarios.WaitingForTrigger)
			o.note(name + " waits for " + st.After.String())
			if !tl.waitFor(st.After) {
				return nil
			}
		}
		tl.waiting(k, scenarios.Delaying)
		if !t.sleepUntil(t.now() + st.Delay.Sample(&tl.rand)) {
			return nil
		}
		o.mu.Lock()
		leader := o.currentLeader()
		tl.stepTerms.Record(st.Index, o.maxTerm())
		o.mu.Unlock()
		for i := range st.Actions {
			if st.Actions[i].Kind == scenarios.Check {
				tl.waiting(k, scenarios.Checking)
				if !tl.check(st, st.Actions[i].Assert, leader) {
					return nil
				}
				continue
			}
			if err := tl.apply(&st.Actions[i], leader); err != nil {
				return err
			}
		}
		if len(st.Actions) == 0 {
			text := name + " done"
			if st.Note != "" {
				text += ": " + st.Note
			}
			o.note(text)
		}
		o.mu.Lock()
		now := t.now()
		if leader >= 0 && o.removed(leader) {
			tl.oldLeader = leader
			if t.sc.Measure.From == scenarios.FromFault && !o.meter.res.Started {
				o.meter.start(leader, o.term[leader], now)
			}
		}
		o.look(now)
		o.mu.Unlock()
	}
	tl.over()
	o.mu.Lock()
	if w := t.sc.Expect.ConvergeWithin; w > 0 {
		o.converge = t.now() + w
		o.look(t.now())
	}
	o.mu.Unlock()
	return nil
}

// waiting tells the observer where the timeline is, step k in phase p, so
// that a trial that ends now says why its timeline was unfinished.
func (tl *timeline) waiting(k int, p scenarios.StepPhase) {
	o := tl.t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unfinished, o.stepsLeft = tl.steps[k].Unfinished(p), tl.steps[k:]
}

// over tells the observer that the timeline is done.
func (tl *timeline) over() {
	o := tl.t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unfinished, o.stepsLeft = "", nil
}

// waitFor waits for a step's trigger; it reports false when the trial
// ended first.
func (tl *timeline) waitFor(trigger scenarios.Trigger) bool {
	o := tl.t.obs
	o.mu.Lock()
	leaders := o.leaders
	apps := slices.Clone(o.apps)
	o.mu.Unlock()
	return tl.t.waitUntil(func() bool {
		switch trigger {
		case scenarios.AfterLeaderElected:
			return o.leaders > leaders
		case scenarios.AfterLeaderExists:
			return o.workingLeader() >= 0
		}
		l := o.currentLeader()
		return l >= 0 && o.apps[l] > apps[l]
	})
}

// picker resolves selectors as the cluster is now; the caller holds the
// observer's lock.
func (tl *timeline) picker(leader int) *scenarios.Picker {
	o := tl.t.obs
	return &scenarios.Picker{N: o.n, Leader: leader, OldLeader: tl.oldLeader, Bound: &tl.bound, Rand: &tl.rand,
		Connected: func(i int) bool { return o.booted[i] && !o.down[i] && o.topo.Main(i) }}
}

// check judges a check step's assertion: at once, or, with a deadline,
// whenever the observer learns something until it holds or the deadline
// passes. A check that does not hold fails the trial. It reports whether
// the timeline goes on. Live nodes are judged as they last reported
// themselves (/status every few milliseconds, and their own messages), so
// a check made at once right after a fault may see the moment before it.
func (tl *timeline) check(st *scenarios.Step, c *scenarios.Assertion, leader int) bool {
	t, o := tl.t, tl.t.obs
	judge := func() (bool, string) {
		j := scenarios.Judge{
			Picker: tl.picker(leader),
			Node: func(i int) scenarios.NodeView {
				return scenarios.NodeView{Leads: o.leads(i), Term: o.term[i], Lead: o.lead[i]}
			},
			Up:    func(i int) bool { return o.booted[i] && !o.down[i] },
			Terms: tl.stepTerms,
		}
		return j.Holds(c)
	}
	deadline := t.now() + c.Within
	var why string
	held := t.waitUntil(func() bool {
		var ok bool
		ok, why = judge()
		return ok || t.now() >= deadline
	})
	if !held {
		return false // the trial ended first
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if why == "" {
		o.emit(traceNote(t.now(), "step "+st.Name()+" check holds: "+c.Describe()))
		return true
	}
	if c.Within > 0 {
		why += " (within " + scenarios.FormatDuration(c.Within) + ")"
	}
	o.fail(trial.KindCheck, "step "+st.Name()+": "+why)
	return false
}

// apply applies one action; leader is the current leader when the step
// began, or -1.
func (tl *timeline) apply(a *scenarios.Action, leader int) error {
	t := tl.t
	o, c := t.obs, t.cluster
	pick := func(sel scenarios.Selector, ok func(int) bool) []int {
		o.mu.Lock()
		defer o.mu.Unlock()
		ids := tl.picker(leader).PickOnly(sel, ok)
		tl.bound.Bind(a.As, ids)
		return ids
	}
	switch a.Kind {
	case scenarios.Crash:
		ids := pick(a.Nodes, func(i int) bool { return !o.down[i] })
		text := "crash " + scenarios.NodeSet(ids)
		if a.RestartAfter != nil {
			text += " restart_after=" + scenarios.FormatDist(*a.RestartAfter)
		}
		t.fault(text)
		for _, i := range ids {
			if err := t.kill(i); err != nil {
				return err
			}
			if a.RestartAfter != nil {
				t.after(a.RestartAfter.Sample(&tl.rand), func() error { return t.boot(i) })
			}
		}
	case scenarios.Restart:
		ids := pick(a.Nodes, func(i int) bool { return o.down[i] && o.booted[i] })
		t.fault("restart " + scenarios.NodeSet(ids))
		for _, i := range ids {
			if err := t.boot(i); err != nil {
				return err
			}
		}
	case scenarios.Partition, scenarios.Isolate, scenarios.Cut, scenarios.Heal:
		t.network(func(tp *sim.Topology) string {
			return tl.picker(leader).ApplyNetwork(a, tp, func(i int) bool { return !o.down[i] })
		})
	case scenarios.Pause:
		ids := pick(a.Nodes, func(i int) bool { return !o.down[i] && !o.paused[i] })
		spans := make([]string, len(ids))
		durs := make([]time.Duration, len(ids))
		for k, i := range ids {
			durs[k] = a.For.Sample(&tl.rand)
			spans[k] = raft.ID(i).String() + " for " + scenarios.FormatDuration(durs[k])
		}
		t.fault("pause " + strings.Join(spans, ", "))
		for k, i := range ids {
			if err := t.pause(i, durs[k]); err != nil {
				return err
			}
		}
	case scenarios.SetLoss:
		c.Net().SetLoss(a.Loss)
		t.fault(fmt.Sprintf("loss %g", a.Loss))
	case scenarios.Write:
		return tl.write(a, leader)
	default:
		return fmt.Errorf("line %d: %s cannot be applied live", a.Line, a.Kind) // Check refuses it before any trial
	}
	return nil
}

// write makes the leader append entries through POST /propose. With
// reach, the AppendEntries carrying entries to the other followers are
// discarded for one heartbeat interval (the simulator holds them until the
// leader's next heartbeat, which live cannot see), so that logs differ.
func (tl *timeline) write(a *scenarios.Action, leader int) error {
	t := tl.t
	o := t.obs
	o.mu.Lock()
	running := leader >= 0 && !o.down[leader] && !o.paused[leader]
	o.mu.Unlock()
	if !running {
		t.fault("write skipped: no running leader")
		return nil
	}
	var others []int
	for i := range o.n {
		if i != leader {
			others = append(others, i)
		}
	}
	reach := others
	if a.Reach >= 0 {
		reach = scenarios.Choose(others, a.Reach, &tl.rand)
		hold := func(m *raft.Message) bool {
			return int(m.From) == leader && m.Type == raft.MsgApp && m.NEntries > 0 && !slices.Contains(reach, int(m.To))
		}
		t.cluster.Net().SetHold(hold)
		t.after(t.sc.Cluster.HeartbeatInterval(), func() error {
			t.cluster.Net().SetHold(nil)
			return nil
		})
	}
	t.fault(fmt.Sprintf("write %d entries at leader %v, reaching %s", a.Entries, raft.ID(leader), scenarios.NodeSet(reach)))
	resp, err := t.client.Post("http://"+t.cluster.Addr(leader)+wire.PathPropose, "application/json",
		strings.NewReader(fmt.Sprintf(`{"count":%d}`, a.Entries)))
	if err != nil {
		t.fault(fmt.Sprintf("write failed: %v", err))
		return nil
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		t.notes.always(fmt.Sprintf("the nodes have no POST %s (optional in the contract): writes were skipped, so logs did not diverge", wire.PathPropose))
	}
	return nil
}

// fault notes a fault action in the timeline.
func (t *trialRun) fault(text string) {
	o := t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fault(trace.Event{Kind: trace.EvFault, Node: -1, Text: text})
}

// network changes the topology, tells the proxy, and notes what change
// says it did.
func (t *trialRun) network(change func(*sim.Topology) string) {
	o := t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	text := change(o.topo)
	for from := range o.n {
		for to := range o.n {
			if from != to {
				t.cluster.Net().Block(from, to, o.topo.Blocked(from, to))
			}
		}
	}
	o.fault(trace.Event{Kind: trace.EvFault, Node: -1, Text: text})
	o.look(t.now())
}
