package live

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/raftsim/raftsim/trace"
	"github.com/raftsim/raftsim/wire"
)

// timeline runs a live trial's fault timeline in real time, as the
// simulator's does (trial/faults.go): steps in order, each waiting for its
// time, then its trigger (a leader elected, the leader's next AppendEntries
// seen on the wire), then its delay, then applying its actions to the
// processes (kill -9, start, SIGSTOP and SIGCONT) and to the proxy
// (partitions, cuts, loss, held-back entries).
type timeline struct {
	t         *trialRun
	steps     []scenarios.Step
	oldLeader int
	rand      sim.Rand // the current step's draws
}

// run runs the steps, their times counted from the trial's base; it
// returns when they are done or the trial ends.
func (tl *timeline) run() error {
	t, o := tl.t, tl.t.obs
	tl.oldLeader = -1
	for _, st := range tl.steps {
		tl.rand.Seed(t.seeds.Step(st.Index))
		if st.HasAt && !t.sleepUntil(t.base+st.At) {
			return nil
		}
		if st.After != scenarios.AfterPrevious {
			o.note(fmt.Sprintf("step %s waits for %s", stepName(&st), st.After))
			if !tl.waitFor(st.After) {
				return nil
			}
		}
		if !t.sleepUntil(t.now() + st.Delay.Sample(&tl.rand)) {
			return nil
		}
		o.mu.Lock()
		leader := o.currentLeader()
		o.mu.Unlock()
		for i := range st.Actions {
			if err := tl.apply(&st.Actions[i], leader); err != nil {
				return err
			}
		}
		if len(st.Actions) == 0 {
			text := "step " + stepName(&st) + " done"
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
	o.mu.Lock()
	if w := t.sc.Expect.ConvergeWithin; w > 0 {
		o.converge = t.now() + w
		o.look(t.now())
	}
	o.mu.Unlock()
	return nil
}

func stepName(st *scenarios.Step) string {
	if st.Line > 0 {
		return fmt.Sprintf("%d (line %d)", st.Index, st.Line)
	}
	return fmt.Sprint(st.Index)
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
		if trigger == scenarios.AfterLeaderElected {
			return o.leaders > leaders
		}
		l := o.currentLeader()
		return l >= 0 && o.apps[l] > apps[l]
	})
}

// apply applies one action; leader is the current leader when the step
// began, or -1.
func (tl *timeline) apply(a *scenarios.Action, leader int) error {
	t := tl.t
	o, c := t.obs, t.cluster
	pick := func(sel scenarios.Selector, ok func(int) bool) []int {
		o.mu.Lock()
		defer o.mu.Unlock()
		return sel.Pick(o.n, leader, tl.oldLeader, ok, &tl.rand)
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
	case scenarios.Partition:
		taken := make([]bool, o.n)
		var groups [][]int
		var parts []string
		for _, g := range a.Groups {
			ids := pick(g, func(i int) bool { return !taken[i] })
			for _, i := range ids {
				taken[i] = true
			}
			groups = append(groups, ids)
			parts = append(parts, scenarios.NodeSet(ids))
		}
		var rest []int
		for i, in := range taken {
			if !in {
				rest = append(rest, i)
			}
		}
		if len(rest) > 0 {
			parts = append(parts, scenarios.NodeSet(rest))
		}
		t.network("partition "+strings.Join(parts, " "), func(tp *topology) { tp.partition(groups) })
	case scenarios.Isolate:
		ids := pick(a.Nodes, func(i int) bool { return !o.down[i] })
		t.network("isolate "+scenarios.NodeSet(ids), func(tp *topology) {
			for _, i := range ids {
				tp.isolate(i)
			}
		})
	case scenarios.Heal:
		t.network("heal", (*topology).heal)
	case scenarios.Cut:
		from := pick(a.From, func(int) bool { return true })
		to := pick(a.To, func(int) bool { return true })
		t.network("cut "+scenarios.NodeSet(from)+"->"+scenarios.NodeSet(to), func(tp *topology) {
			for _, x := range from {
				for _, y := range to {
					if x != y {
						tp.cutLink(x, y)
					}
				}
			}
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

// network changes the topology and tells the proxy.
func (t *trialRun) network(text string, change func(*topology)) {
	o := t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	change(&o.topo)
	for from := range o.n {
		for to := range o.n {
			if from != to {
				t.cluster.Net().Block(from, to, o.topo.blocked(from, to))
			}
		}
	}
	o.fault(trace.Event{Kind: trace.EvFault, Node: -1, Text: text})
	o.look(t.now())
}
