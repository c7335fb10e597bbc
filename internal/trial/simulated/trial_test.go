package simulated

import (
	"bytes"
	"github.com/raftsim/raftsim/internal/trial"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/testkit/golden"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// load returns a plan of a built-in scenario or of a file in testdata/;
// a name that starts with etcd: runs it with --impl etcd.
func load(t testing.TB, name string) *trial.Plan {
	t.Helper()
	var s *scenarios.Scenario
	var err error
	name, etcd := strings.CutPrefix(name, "etcd:")
	if strings.HasSuffix(name, ".yaml") {
		s, err = scenarios.Load(filepath.Join("testdata", name))
	} else {
		s, err = scenarios.Builtin(name)
	}
	if err != nil {
		t.Fatal(err)
	}
	if etcd {
		var o scenarios.Overrides
		if err := o.Set("impl", "etcd"); err != nil {
			t.Fatal(err)
		}
		if s, err = o.Apply(s); err != nil {
			t.Fatal(err)
		}
	}
	return trial.NewPlan(s)
}

// record runs one trial on r and returns every event it traced.
func record(r *Driver, seed uint64) ([]trace.Event, trial.Result) {
	var rec trace.Recorder
	r.SetTracer(&rec)
	res := r.Run(seed)
	return rec.Events, res
}

// traceOf runs one trial with a text tracer and returns the trace and result.
func traceOf(t testing.TB, p *trial.Plan, seed uint64) (string, trial.Result) {
	var b bytes.Buffer
	r := NewDriver(p)
	tw := trace.NewTextWriter(&b)
	r.SetTracer(tw)
	res := r.Run(seed)
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String(), res
}

// TestGoldenTraces compares whole event traces of fixed seeds with the files
// in testdata/golden; go test ./trial -update rewrites them, and a diff in
// one is reviewed like code. The etcd: ones run etcd's raft (--impl etcd):
// every fault, a write with reach, and a crash and restart from storage.
func TestGoldenTraces(t *testing.T) {
	for _, name := range []string{"cold-start", "leader-crash", "partition-leader", "minority", "stale-leader", "faults.yaml",
		"etcd:leader-crash", "etcd:faults.yaml"} {
		t.Run(name, func(t *testing.T) {
			p := load(t, name)
			seed := trial.Seed(p.Scenario.Seed, 0)
			got, res := traceOf(t, p, seed)
			if res.Failure != nil {
				t.Errorf("trial failed: %v", res.Failure)
			}
			file := strings.TrimSuffix(name, ".yaml")
			if base, ok := strings.CutPrefix(file, "etcd:"); ok {
				file = base + "-etcd"
			}
			path := filepath.Join("testdata", "golden", file+".trace")
			golden.Check(t, path, got)
		})
	}
}

// TestTracingChangesNothing: a trial gives the same result with and
// without a tracer, and the same trace when run twice on one runner.
func TestTracingChangesNothing(t *testing.T) {
	for _, name := range []string{"leader-crash", "churn", "faults.yaml", "etcd:churn", "etcd:faults.yaml"} {
		p := load(t, name)
		for i := 0; i < 20; i++ {
			seed := trial.Seed(p.Scenario.Seed, i)
			trace1, withTrace := traceOf(t, p, seed)
			plain := NewDriver(p)
			plain.Run(trial.Seed(p.Scenario.Seed, i+1)) // a different trial first: state must not leak
			without := plain.Run(seed)
			if !sameResult(withTrace, without) {
				t.Fatalf("%s seed %d: result with tracer %+v, without %+v", name, seed, withTrace, without)
			}
			trace2, _ := traceOf(t, p, seed)
			if trace1 != trace2 {
				t.Fatalf("%s seed %d: two runs traced differently:\n%s", name, seed, golden.FirstDiff(trace2, trace1))
			}
		}
	}
}

func sameResult(a, b trial.Result) bool {
	fa, fb := a.Failure, b.Failure
	a.Failure, b.Failure = nil, nil
	if a != b {
		return false
	}
	if (fa == nil) != (fb == nil) {
		return false
	}
	return fa == nil || *fa == *fb
}

// TestDiskAndTimerJitter: with persist, the messages an input sends after
// writing a new term, vote or entry leave only when the write is done; with
// processing, every input's messages leave that much later; with
// timer_jitter, timers fire late. Each draws from its own stream, so the
// rest of the trial keeps its draws.
func TestDiskAndTimerJitter(t *testing.T) {
	base, err := scenarios.Builtin("cold-start")
	if err != nil {
		t.Fatal(err)
	}
	plain := *base
	slow := *base
	disk := sim.ConstDist(5 * time.Millisecond)
	slow.Cluster.Persist = &disk
	late := *base
	jitter := sim.ConstDist(2 * time.Millisecond)
	late.Cluster.TimerJitter = &jitter
	busy := *base
	proc := sim.ConstDist(3 * time.Millisecond)
	busy.Cluster.Processing = &proc
	seed := trial.Seed(1, 3)
	first := func(s *scenarios.Scenario, kind trace.EventKind) trace.Event {
		p := trial.NewPlan(s)
		events, _ := record(NewDriver(p), seed)
		for _, e := range events {
			if e.Kind == kind {
				return e
			}
		}
		t.Fatalf("no %v event", kind)
		return trace.Event{}
	}
	p0, p1 := first(&plain, trace.EvSend), first(&slow, trace.EvSend)
	if p1.At != p0.At || p1.Arrive != p0.Arrive+5*time.Millisecond {
		t.Errorf("first RequestVote: sent %v arriving %v with a 5ms disk, want sent %v arriving %v", p1.At, p1.Arrive, p0.At, p0.Arrive+5*time.Millisecond)
	}
	p2 := first(&busy, trace.EvSend)
	if p2.At != p0.At || p2.Arrive != p0.Arrive+3*time.Millisecond {
		t.Errorf("first RequestVote: sent %v arriving %v with 3ms processing, want sent %v arriving %v", p2.At, p2.Arrive, p0.At, p0.Arrive+3*time.Millisecond)
	}
	t0, t1 := first(&plain, trace.EvTimeout), first(&late, trace.EvTimeout)
	if t1.At != t0.At+2*time.Millisecond || t1.Node != t0.Node {
		t.Errorf("first timeout at %v (%v) with 2ms jitter, want %v (%v)", t1.At, t1.Node, t0.At+2*time.Millisecond, t0.Node)
	}
}

// TestOldLeaderSelector: in stale-leader, old-leader names the node the
// isolate step cut off (whichever node led), and leader the new one.
func TestOldLeaderSelector(t *testing.T) {
	p := load(t, "stale-leader")
	r := NewDriver(p)
	for i := 0; i < 300; i++ {
		events, _ := record(r, trial.Seed(p.Scenario.Seed, i))
		var isolated, cut string
		for _, e := range events {
			if e.Kind != trace.EvFault {
				continue
			}
			if s, ok := strings.CutPrefix(e.Text, "isolate "); ok {
				isolated = s
			}
			if s, ok := strings.CutPrefix(e.Text, "cut "); ok {
				cut = s
			}
		}
		from, to, _ := strings.Cut(cut, "->")
		if isolated == "" || to != isolated || from == to || from == "{}" {
			t.Fatalf("trial %d: isolate %q, then cut %q: want a cut from the new leader to the isolated one", i, isolated, cut)
		}
	}
}

// TestWriteHoldsBackEntries: in figure16, the entry a write with reach 2
// appends reaches only those two followers before the crash; the other two
// get no AppendEntries carrying it (neither the write's own nor catch-up),
// and the next leader is one of the two that have it.
func TestWriteHoldsBackEntries(t *testing.T) {
	p := load(t, "figure16")
	r := NewDriver(p)
	for i := 0; i < 200; i++ {
		events, res := record(r, trial.Seed(p.Scenario.Seed, i))
		var reached string
		crashed, writes, caughtUp := false, 0, 0
		firstLeader := ""
		for _, e := range events {
			switch {
			case e.Kind == trace.EvFault && strings.HasPrefix(e.Text, "write "):
				_, reached, _ = strings.Cut(e.Text, "reaching ")
				writes++
			case e.Kind == trace.EvFault && strings.HasPrefix(e.Text, "crash "):
				crashed = true
			case e.Kind == trace.EvRecv && writes > 0 && !crashed && e.Msg.NEntries > 0:
				if !strings.Contains(reached, raft.ID(e.Node).String()) {
					caughtUp++
				}
			case e.Kind == trace.EvState && crashed && e.Role == raft.Leader && firstLeader == "":
				firstLeader = raft.ID(e.Node).String()
			}
		}
		if writes != 1 || !crashed || res.Failure != nil {
			t.Fatalf("trial %d: %d writes, crashed %v, failure %v", i, writes, crashed, res.Failure)
		}
		if caughtUp > 0 {
			t.Errorf("trial %d: %d AppendEntries brought the entry to followers outside %s before the crash", i, caughtUp, reached)
		}
		if firstLeader != "" && !strings.Contains(reached, firstLeader) {
			t.Errorf("trial %d: %s, which lacks the entry, became leader (the entry reached %s)", i, firstLeader, reached)
		}
	}
}

// TestVoteOnceFromReplies: with vote-unrecorded, a node's reported vote
// never shows the votes it grants, yet the checker, which judges from the
// replies sent, finds the second vote in a term.
func TestVoteOnceFromReplies(t *testing.T) {
	s, err := scenarios.Builtin("cold-start")
	if err != nil {
		t.Fatal(err)
	}
	s.Cluster.Bugs = raft.BugVoteUnrecorded
	p := trial.NewPlan(s)
	d := NewDriver(p)
	found := 0
	for i := 0; i < 50; i++ {
		events, res := record(d, trial.Seed(s.Seed, i))
		for _, e := range events {
			if e.Kind == trace.EvVote && e.Vote != e.Node {
				t.Fatalf("trial %d: a vote for another node was reported: %s", i, e.Line())
			}
		}
		if res.Failure == nil {
			continue
		}
		if res.Failure.Kind != scenarios.VoteOnce.String() {
			t.Fatalf("trial %d failed with %v, want vote-once", i, res.Failure)
		}
		last := events[len(events)-2] // the granted reply that is the second vote, then the violation
		if last.Kind != trace.EvSend || last.Msg.Type != raft.MsgVoteResp || last.Msg.Reject {
			t.Errorf("trial %d: the violation follows %s, want the second granted vote", i, last.Line())
		}
		found++
	}
	if found < 5 {
		t.Errorf("vote-once caught the bug in only %d of 50 trials", found)
	}
}

// TestQuorumFromClusterSize: the checker counts a majority of the whole
// cluster even when the nodes' bug counts one over the peers: a leader of
// four that reaches only one follower has been removed, so the measurement
// starts, and it is not a working leader (a new one, later, is).
func TestQuorumFromClusterSize(t *testing.T) {
	s, err := scenarios.Parse("quorum.yaml", []byte(`
cluster: {nodes: 4}
faults:
  - after: leader-elected
    delay: 500ms
    cut: {from: leader, to: "follower:2"}
measure: {from: fault, until: working-leader}
expect: {invariants: none}
`))
	if err != nil {
		t.Fatal(err)
	}
	s.Cluster.Bugs = raft.BugPeersMajority
	p := trial.NewPlan(s)
	d := NewDriver(p)
	for i := 0; i < 20; i++ {
		res := d.Run(trial.Seed(s.Seed, i))
		if !res.Started {
			t.Fatalf("trial %d: the leader with 2 of 4 counted as not removed", i)
		}
		if res.Measured && res.TimeToLeader == 0 {
			t.Fatalf("trial %d: the leader reaching 2 of 4 counted as a working leader", i)
		}
	}
}

// TestStepDrawsIndependent: each fault step draws from its own stream, so
// leaving a step out (as shrinking does) leaves the random choices and
// delays of every other step as they were.
func TestStepDrawsIndependent(t *testing.T) {
	faults := func(skip []int) map[string]bool {
		s, err := scenarios.Builtin("churn")
		if err != nil {
			t.Fatal(err)
		}
		s.Skip = skip
		p := trial.NewPlan(s)
		events, _ := record(NewDriver(p), trial.Seed(s.Seed, 3))
		out := map[string]bool{}
		for _, e := range events {
			if e.Kind == trace.EvFault && strings.HasPrefix(e.Text, "isolate ") {
				out[e.Text] = true
			}
		}
		return out
	}
	all, fewer := faults(nil), faults([]int{4, 5}) // the second isolate and its heal
	if len(all) < 8 || len(fewer) != len(all)-1 && len(fewer) != len(all) {
		t.Fatalf("%d isolations in all, %d with two steps left out", len(all), len(fewer))
	}
	missing := 0
	for text := range all {
		if !fewer[text] {
			missing++
		}
	}
	if missing != 1 {
		t.Errorf("leaving one isolation out changed %d of the others' choices: %v vs %v", missing-1, all, fewer)
	}
}

// mirrorCheck is a tracer that, at every event, holds the conductor's
// view of which nodes are crashed and paused against the simulator's own.
type mirrorCheck struct {
	t   *testing.T
	d   *Driver
	bad int
}

func (m *mirrorCheck) Event(e *trace.Event) {
	for i := range m.d.c.Cluster.N() {
		cl := &m.d.c.Cluster
		if cl.Crashed(i) != m.d.s.Crashed(i) || cl.Paused(i) != m.d.s.Paused(i) {
			if m.bad++; m.bad <= 3 {
				m.t.Errorf("after %s: n%d crashed %v paused %v in the conductor's view, %v %v in the simulator",
					e.Line(), i+1, cl.Crashed(i), cl.Paused(i), m.d.s.Crashed(i), m.d.s.Paused(i))
			}
		}
	}
}

// TestClusterMirrorsTheSimulator: the conductor's Cluster, which both
// worlds keep, says of every node what the simulator says, after every
// event of every built-in scenario's first trials.
func TestClusterMirrorsTheSimulator(t *testing.T) {
	for _, name := range scenarios.BuiltinNames {
		p := load(t, name)
		d := NewDriver(p)
		m := &mirrorCheck{t: t, d: d}
		d.SetTracer(m)
		for i := range 20 {
			d.Run(p.SeedOf(p.Scenario.Seed, i))
		}
	}
}

// TestATermNearTheBound: nodes that start at a term near raft.MaxTerm elect
// a leader and are measured as any others: the meter counts candidates from
// the nodes' first term, not from 0 (it grew a slice to the term before).
func TestATermNearTheBound(t *testing.T) {
	s, err := scenarios.Parse("big.yaml", []byte("cluster: {nodes: 3, term: 9007199254740000}\n"))
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	d := NewDriver(trial.NewPlan(s))
	for i := range 20 {
		res := d.Run(trial.Seed(1, i))
		if res.Failure != nil || !res.Measured || res.Rounds < 1 {
			t.Fatalf("trial %d: %+v", i, res)
		}
	}
}
