package simulated

import (
	"github.com/raftsim/raftsim/internal/trial"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// TestDetails: the details a recorder hears agree with the events around
// them and with the nodes themselves. Every election timeout fires when the
// node's last timer detail said it would (later only when the node was
// paused), every boot has its state, the log writes rebuild each node's
// final log, and the blocked links follow the partitions. Hearing details
// changes nothing in the trial.
func TestDetails(t *testing.T) {
	for _, name := range []string{"faults.yaml", "partition-leader", "crash-restart", "churn", "lagging-follower"} {
		p := load(t, name)
		for i := 0; i < 10; i++ {
			seed := trial.Seed(p.Scenario.Seed, i)
			r := NewDriver(p)
			var rec trace.Recorder
			r.SetTracer(&rec)
			res := r.Run(seed)
			if plain := NewDriver(p).Run(seed); !sameResult(res, plain) {
				t.Fatalf("%s seed %d: result with details %+v, without %+v", name, seed, res, plain)
			}
			checkDetails(t, name, seed, r, &rec)
		}
	}
}

// TestDetailsOfDrift: a clock that starts to run fast moves the election
// timers it had armed, and the timer details say so.
func TestDetailsOfDrift(t *testing.T) {
	s, err := scenarios.Parse("drift.yaml", []byte(`
name: drift
cluster: {nodes: 3, election_timeout: 150ms-300ms, heartbeat: 50ms}
faults:
  - at: 100ms
    drift: {nodes: all, factor: 1.5}
measure: {from: start, until: leader}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := trial.NewPlan(s)
	for i := range 10 {
		r := NewDriver(p)
		var rec trace.Recorder
		r.SetTracer(&rec)
		r.Run(trial.Seed(1, i))
		checkDetails(t, "drift", trial.Seed(1, i), r, &rec)
	}
}

func checkDetails(t *testing.T, name string, seed uint64, r *Driver, rec *trace.Recorder) {
	t.Helper()
	n := r.plan.Scenario.Cluster.Nodes
	due := make([]time.Duration, n)
	pausedAt := make([]time.Duration, n)
	resumedAt := make([]time.Duration, n)
	logs := make([][]uint64, n)
	k := 0 // the next detail
	fail := func(e *trace.Event, format string, args ...any) {
		t.Helper()
		t.Fatalf("%s seed %d, before %q: "+format, append([]any{name, seed, e.Line()}, args...)...)
	}
	for i := range rec.Events {
		e := &rec.Events[i]
		for ; k < len(rec.Details) && rec.Details[k].Before == e.Seq; k++ {
			d := &rec.Details[k]
			if d.At > e.At || i > 0 && d.At < rec.Events[i-1].At {
				fail(e, "detail at %v out of time order", d.At)
			}
			switch d.Kind {
			case trace.DetailTimer:
				due[d.Node] = d.Due
			case trace.DetailLog:
				if d.Index < 1 || d.Index > uint64(len(logs[d.Node]))+1 {
					fail(e, "n%d writes from index %d onto a log of %d", d.Node+1, d.Index, len(logs[d.Node]))
				}
				logs[d.Node] = append(logs[d.Node][:d.Index-1], d.Terms...)
			case trace.DetailBoot:
				if i == 0 || rec.Events[i-1].Kind != trace.EvStart || rec.Events[i-1].Node != d.Node {
					fail(e, "a boot detail of n%d that follows no start of it", d.Node+1)
				}
			}
		}
		if k < len(rec.Details) && rec.Details[k].Before < e.Seq {
			fail(e, "detail %+v is out of order", rec.Details[k])
		}
		switch e.Kind {
		case trace.EvStart:
			if k == len(rec.Details) || rec.Details[k].Kind != trace.DetailBoot || rec.Details[k].Before != e.Seq+1 ||
				rec.Details[k].State.Term != e.Term || rec.Details[k].State.Role != e.Role {
				fail(e, "no boot detail of this state follows")
			}
		case trace.EvPause:
			pausedAt[e.Node] = e.At
		case trace.EvResume:
			resumedAt[e.Node] = e.At
		case trace.EvTimeout:
			if e.Timer != raft.ElectionTimer {
				break
			}
			// A timer that came due during a pause fires when the node wakes.
			late := e.At == resumedAt[e.Node] && due[e.Node] >= pausedAt[e.Node] && due[e.Node] < e.At
			if due[e.Node] != e.At && !late {
				fail(e, "the last timer detail of n%d said it fires at %v", e.Node+1, due[e.Node])
			}
		case trace.EvFault:
			if node, ok := strings.CutPrefix(e.Text, "isolate {"); ok && !strings.Contains(node, ",") {
				checkIsolated(t, rec.Details[k:], e, strings.TrimSuffix(node, "}"), n)
			}
			if e.Text == "heal" && k < len(rec.Details) && rec.Details[k].Kind == trace.DetailLinks && len(rec.Details[k].Blocked) > 0 {
				fail(e, "links still blocked after a heal: %v", rec.Details[k].Blocked)
			}
		}
	}
	for i, node := range r.nodes {
		want := make([]uint64, 0, node.State().LastIndex)
		for idx := uint64(1); idx <= node.State().LastIndex; idx++ {
			want = append(want, node.(interface{ LogTerm(uint64) uint64 }).LogTerm(idx))
		}
		if !slices.Equal(logs[i], want) {
			t.Errorf("%s seed %d: n%d's log from its writes %v, the node's %v", name, seed, i+1, logs[i], want)
		}
	}
}

// checkIsolated: the links detail after "isolate {x}" blocks exactly the
// links from and to x.
func checkIsolated(t *testing.T, after []trace.Detail, fault *trace.Event, node string, n int) {
	t.Helper()
	if len(after) == 0 || after[0].Kind != trace.DetailLinks || after[0].Before != fault.Seq+1 {
		t.Fatalf("no links detail right after %q", fault.Line())
	}
	var want [][2]int
	for from := range n {
		for to := range n {
			if from != to && (raft.ID(from).String() == node || raft.ID(to).String() == node) {
				want = append(want, [2]int{from, to})
			}
		}
	}
	if !slices.Equal(after[0].Blocked, want) {
		t.Fatalf("after %q: blocked %v, want %v", fault.Line(), after[0].Blocked, want)
	}
}
