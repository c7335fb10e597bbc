package runner

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

func plan(t *testing.T, name string, edit func(*scenarios.Scenario)) *trial.Plan {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(s)
	}
	p := trial.NewPlan(s)
	return p
}

// snapshot renders everything an aggregate holds, for comparing runs.
func snapshot(a *Aggregate) string {
	sum := func(s *stats.Summary) string {
		return fmt.Sprint(s.N(), s.Min(), s.Max(), s.Mean(), s.StdDev(), s.Quantile(0.5), s.Quantile(0.9), s.Quantile(0.99))
	}
	return fmt.Sprint(a.Trials, a.Started, a.Measured, sum(&a.TimeToLeader), sum(&a.Rounds), sum(&a.Messages),
		sum(&a.StaleLeader), a.SplitVote, a.SplitVotes, a.OtherLosses, a.Events, a.Failed, a.Failures)
}

// etcd runs a scenario on etcd's raft (--impl etcd).
func etcd(s *scenarios.Scenario) { s.Cluster.Impl = scenarios.ImplEtcd }

// TestWorkersDoNotMatter: the aggregate is identical at 1, 2 and 8 workers,
// and when run twice, with raftsim's nodes and with etcd's.
func TestWorkersDoNotMatter(t *testing.T) {
	for _, name := range []string{"leader-crash", "partition-leader", "etcd:leader-crash", "etcd:crash-restart"} {
		name, onEtcd := strings.CutPrefix(name, "etcd:")
		var edit func(*scenarios.Scenario)
		trials := 700
		if onEtcd {
			edit, trials = etcd, 200
		}
		p := plan(t, name, edit)
		want := snapshot(Run(p, Options{Trials: trials, Seed: 3, Workers: 1}))
		for _, w := range []int{2, 8, 1} {
			if got := snapshot(Run(p, Options{Trials: trials, Seed: 3, Workers: w})); got != want {
				t.Fatalf("%s: %d workers gave\n%s\nwant (1 worker)\n%s", name, w, got, want)
			}
		}
	}
}

// TestBuiltinScenariosHold runs 10,000 seeded trials (1,000 without
// RAFTSIM_LONG) of every built-in
// scenario: no invariant may fail and every expectation must hold.
func TestBuiltinScenariosHold(t *testing.T) {
	trials := long.Pick(1000, 10000)
	for _, name := range scenarios.BuiltinNames {
		t.Run(name, func(t *testing.T) {
			p := plan(t, name, nil)
			a := Run(p, Options{Trials: trials, Seed: p.Scenario.Seed})
			if a.Trials != trials {
				t.Fatalf("ran %d trials, want %d", a.Trials, trials)
			}
			if a.Failed > 0 {
				f := a.Failures[0]
				t.Fatalf("%d of %d trials failed; first: trial %d seed %d: %v", a.Failed, trials, f.Trial, f.Seed, f.Failure.String())
			}
			if p.Scenario.Expect.NoLeader {
				if a.Measured != 0 {
					t.Errorf("%d trials found a leader, want none", a.Measured)
				}
				return
			}
			// Every trial whose measurement started found its leader. A rare
			// trial never reaches the fault it measures from: on flaky-link a
			// lost heartbeat may have deposed the leader the crash looks for.
			if a.Measured != a.Started || a.Started < trials-trials/100 {
				t.Errorf("%d of %d trials found a leader, %d started measuring", a.Measured, trials, a.Started)
			}
		})
	}
}

// TestBuiltinScenariosHoldOnEtcd runs 1,000 trials (100 without
// RAFTSIM_LONG) of every built-in scenario with etcd's raft: no invariant
// may fail, and every expectation holds but where etcd behaves as it means
// to, which the test holds it to:
//   - stale-leader: without CheckQuorum or Pre-Vote, etcd answers an
//     AppendEntries or heartbeat of a lower term with nothing, so the
//     cut-off old leader never learns of the new term and every trial ends
//     with two leaders;
//   - reelection: a follower that adopts a higher term resets its timer, so
//     a node with a stale log that campaigns again and again can keep the
//     one up-to-date follower from ever timing out; in a few trials in a
//     thousand (4 with seed 1; none with --prevote) the two connected nodes
//     find no leader within the check's 2s;
//   - stuck-candidate: the same, after the heal: n2, cut off from the start
//     with an empty log, campaigns in higher and higher terms, and each of
//     its RequestVotes resets the others' timers; in about 1% of trials
//     (106 of 10,000 with seed 10; none with --prevote, none with raftsim's
//     node) no leader stands within the check's 2s.
//
// Both are held to check failures only, at most the rate allowed below.
func TestBuiltinScenariosHoldOnEtcd(t *testing.T) {
	trials := long.Pick(100, 1000)
	// disrupted: the percentage of trials a scenario may fail because a
	// stale candidate keeps resetting the others' timers.
	disrupted := map[string]int{"reelection": 1, "stuck-candidate": 2}
	for _, name := range scenarios.BuiltinNames {
		t.Run(name, func(t *testing.T) {
			p := plan(t, name, etcd)
			a := Run(p, Options{Trials: trials, Seed: p.Scenario.Seed})
			switch {
			case name == "stale-leader":
				if a.Failed != trials || a.Failures[0].Failure.Kind != "leaders-at-end" {
					t.Fatalf("%d of %d failed, first %v; want every trial to end with two leaders", a.Failed, trials, a.Failures[0].Failure)
				}
				return
			case disrupted[name] > 0 && a.Failed > 0:
				for _, f := range a.Failures {
					if f.Kind != "check" || !strings.Contains(f.Detail, "leader") {
						t.Fatalf("trial %d seed %d: %v; want only checks that found no one leader", f.Trial, f.Seed, f.Failure.String())
					}
				}
				if most := trials * disrupted[name] / 100; a.Failed > most {
					t.Fatalf("%d of %d trials found no one leader in time; want at most %d%%", a.Failed, trials, disrupted[name])
				}
				return
			case a.Failed > 0:
				f := a.Failures[0]
				t.Fatalf("%d of %d trials failed; first: trial %d seed %d: %v", a.Failed, trials, f.Trial, f.Seed, f.Failure.String())
			}
			if !p.Scenario.Expect.NoLeader && (a.Measured != a.Started || a.Started < trials-trials/100) {
				t.Errorf("%d of %d trials found a leader, %d started measuring", a.Measured, trials, a.Started)
			}
		})
	}
}

// TestAnyClusterSize: a cold start elects one leader with the majority of
// the whole cluster, for odd and even sizes alike.
func TestAnyClusterSize(t *testing.T) {
	for _, tt := range []struct{ nodes, trials int }{{1, 100}, {2, 500}, {3, 2000}, {4, 2000}, {5, 2000}, {6, 2000}, {7, 2000}, {9, 1000}, {1001, 3}} {
		p := plan(t, "cold-start", func(s *scenarios.Scenario) { s.Cluster.Nodes = tt.nodes })
		a := Run(p, Options{Trials: tt.trials, Seed: 1})
		if a.Failed > 0 || a.Measured != tt.trials {
			t.Errorf("%d nodes: %d failed, %d of %d found a leader; %v", tt.nodes, a.Failed, a.Measured, tt.trials, a.Failures)
		}
	}
}

// TestSeedsChangeResults guards against a seed that is ignored.
func TestSeedsChangeResults(t *testing.T) {
	p := plan(t, "cold-start", nil)
	a := snapshot(Run(p, Options{Trials: 200, Seed: 1}))
	b := snapshot(Run(p, Options{Trials: 200, Seed: 2}))
	if a == b {
		t.Fatal("seeds 1 and 2 gave identical aggregates")
	}
}

func TestFailuresSortedAndCapped(t *testing.T) {
	var a, b Aggregate
	for i := 0; i < 150; i++ {
		r := trial.Result{Seed: uint64(i), Failure: &trial.Failure{Kind: "x"}}
		if i%2 == 0 {
			a.Add(i, &r)
		} else {
			b.Add(i, &r)
		}
	}
	b.Merge(&a)
	if b.Failed != 150 || len(b.Failures) != MaxListedFailures {
		t.Fatalf("failed %d listed %d", b.Failed, len(b.Failures))
	}
	for i, f := range b.Failures {
		if f.Trial != i {
			t.Fatalf("failure %d is trial %d, want sorted by trial", i, f.Trial)
		}
	}
}

// TestPartsMergeToWhole: a run cut into parts (First, Trials) and merged
// is the whole run, failures and all.
func TestPartsMergeToWhole(t *testing.T) {
	p := plan(t, "cold-start", func(s *scenarios.Scenario) {
		s.Cluster.Nodes, s.Cluster.Bugs = 4, raft.BugPeersMajority // two leaders in a term now and then
	})
	want := Run(p, Options{Trials: 700, Seed: 5, Workers: 2})
	if want.Failed == 0 {
		t.Fatal("no trial failed: the test needs failures to merge")
	}
	var got Aggregate
	for _, part := range [][2]int{{500, 200}, {0, 1}, {1, 499}} { // in any order
		got.Merge(Run(p, Options{First: part[0], Trials: part[1], Seed: 5, Workers: 1}))
	}
	if a, b := snapshot(&got), snapshot(want); a != b {
		t.Fatalf("parts merged:\n%s\nwhole run:\n%s", a, b)
	}
}

// TestSteadyParts: RunSteady runs a part of the steady-state runs when
// asked, and runs past the last are those a longer steady state makes.
func TestSteadyParts(t *testing.T) {
	s := plan(t, "leader-crash", nil).Scenario
	whole, err := RunSteady(s, 30*time.Minute, Options{Seed: 2, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got Aggregate
	for _, part := range [][2]int{{0, 2}, {2, 1}} {
		a, err := RunSteady(s, 30*time.Minute, Options{First: part[0], Trials: part[1], Seed: 2, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		got.Merge(a)
	}
	if a, b := snapshot(&got), snapshot(whole); a != b || got.SteadyRuns != 3 || got.SteadyTime != whole.SteadyTime {
		t.Fatalf("parts merged:\n%s (%d runs)\nwhole:\n%s (%d runs)", a, got.SteadyRuns, b, whole.SteadyRuns)
	}
	// Runs past the three of 30 minutes are further runs of 10 minutes:
	// with them, the runs of an hour.
	more, err := RunSteady(s, 30*time.Minute, Options{First: 3, Trials: 3, Seed: 2, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	got.Merge(more)
	hour, err := RunSteady(s, time.Hour, Options{Seed: 2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := snapshot(&got), snapshot(hour); a != b || got.SteadyTime != hour.SteadyTime {
		t.Errorf("30 minutes and 3 runs more:\n%s\nan hour:\n%s", a, b)
	}
	if _, err := RunSteady(s, 30*time.Minute, Options{First: -1, Trials: 2, Seed: 2}); err == nil {
		t.Error("runs from -1: no error")
	}
}

// TestChunksReachEveryWorker: a run of few trials (an hour of steady
// state is six) is cut into chunks small enough for every worker.
func TestChunksReachEveryWorker(t *testing.T) {
	for _, tt := range []struct{ trials, workers, want int }{
		{6, 2, 1}, {6, 8, 1}, {0, 2, 1}, {100, 2, 12}, {1000, 2, maxChunk}, {1 << 20, 64, maxChunk},
	} {
		if got := chunkSize(tt.trials, tt.workers); got != tt.want {
			t.Errorf("chunkSize(%d trials, %d workers) = %d, want %d", tt.trials, tt.workers, got, tt.want)
		}
	}
}

// TestTrialSeesEveryTrial: Options.Trial hears every trial once, with the
// result the trial's own seed gives, at any number of workers.
func TestTrialSeesEveryTrial(t *testing.T) {
	p := plan(t, "leader-crash", nil)
	d := simulated.NewDriver(p)
	for _, w := range []int{1, 2} {
		got := make([]trial.Result, 150)
		heard := make([]int, len(got))
		Run(p, Options{Trials: len(got), Seed: 4, Workers: w, Trial: func(i int, r *trial.Result) { got[i] = *r; heard[i]++ }})
		for i, r := range got {
			if heard[i] != 1 {
				t.Fatalf("%d workers: trial %d heard %d times", w, i, heard[i])
			}
			if want := d.Run(trial.Seed(4, i)); r.Seed != want.Seed || r.TimeToLeader != want.TimeToLeader || r.Measured != want.Measured {
				t.Fatalf("%d workers, trial %d: got seed %d time %v, want seed %d time %v", w, i, r.Seed, r.TimeToLeader, want.Seed, want.TimeToLeader)
			}
		}
	}
}
