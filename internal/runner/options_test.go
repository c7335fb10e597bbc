package runner

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

func withOptions(o raft.Options) func(*scenarios.Scenario) {
	return func(s *scenarios.Scenario) { s.Cluster.Options = o }
}

// TestPreVoteStopsRejoinDisruption: in rejoin-disrupt the isolated follower
// misses entries, so its log is behind. With Pre-Vote it never bumps the
// term and never deposes the leader; without, it nearly always does.
func TestPreVoteStopsRejoinDisruption(t *testing.T) {
	const trials = 3000
	pre := Run(plan(t, "rejoin-disrupt", withOptions(raft.Options{PreVote: true})), Options{Trials: trials, Seed: 1})
	if pre.Failed > 0 || pre.Disruptions.Max() != 0 {
		t.Errorf("with Pre-Vote: %d failed, up to %d disruptions in a trial, want none", pre.Failed, pre.Disruptions.Max())
	}
	// The only terms begun are the first election's (split votes included).
	if pre.TermsBumped.Sum() != pre.Rounds.Sum() {
		t.Errorf("with Pre-Vote: %v terms begun, but the first elections took %v rounds", pre.TermsBumped.Sum(), pre.Rounds.Sum())
	}
	plain := Run(plan(t, "rejoin-disrupt", nil), Options{Trials: trials, Seed: 1})
	if m := plain.Disruptions.Mean(); m < 0.9 {
		t.Errorf("without Pre-Vote: %.2f disruptions per trial, want about 1", m)
	}
	if m := plain.TermsBumped.Mean(); m < 5 {
		t.Errorf("without Pre-Vote: %.2f terms per trial, want the isolated follower's many", m)
	}
}

// TestCheckQuorumTiming: an isolated leader steps down within two minimum
// election timeouts with CheckQuorum, and believes it leads until the heal
// (2s) without.
func TestCheckQuorumTiming(t *testing.T) {
	cq := Run(plan(t, "partition-leader", withOptions(raft.Options{CheckQuorum: true})), Options{Trials: 2000, Seed: 1})
	if max := time.Duration(cq.StaleLeader.Max()); cq.StaleLeader.N() != 2000 || max > 300*time.Millisecond || max < 150*time.Millisecond {
		t.Errorf("with CheckQuorum: stale leader for up to %v in %d trials, want 150-300ms", max, cq.StaleLeader.N())
	}
	plain := Run(plan(t, "partition-leader", nil), Options{Trials: 2000, Seed: 1})
	if min := time.Duration(plain.StaleLeader.Min()); min < 2*time.Second {
		t.Errorf("without CheckQuorum: a stale leader stepped down after %v, before the heal", min)
	}
}

// TestAsymmetricNeedsCheckQuorum: a leader that can send but not receive
// keeps the cluster without a working leader until the heal, with or
// without Pre-Vote; CheckQuorum ends it within about a second.
func TestAsymmetricNeedsCheckQuorum(t *testing.T) {
	for _, tt := range []struct {
		o        raft.Options
		min, max time.Duration
	}{
		{raft.Options{}, 2 * time.Second, 2 * time.Second},
		{raft.Options{PreVote: true}, 2 * time.Second, 2 * time.Second},
		// CheckQuorum: the leader steps down after more than one check
		// period (150ms) without a reply, and a follower's timer, reset by
		// a heartbeat at most 50ms before, runs at least 150ms more.
		{raft.Options{CheckQuorum: true}, 250 * time.Millisecond, 1500 * time.Millisecond},
		{raft.Options{PreVote: true, CheckQuorum: true}, 250 * time.Millisecond, 1500 * time.Millisecond},
	} {
		a := Run(plan(t, "asymmetric", withOptions(tt.o)), Options{Trials: 2000, Seed: 1})
		lo, hi := time.Duration(a.TimeToLeader.Min()), time.Duration(a.TimeToLeader.Max())
		if a.Failed > 0 || a.Measured != 2000 || lo < tt.min || hi > tt.max {
			t.Errorf("%+v: %d failed, %d measured, working leader after %v to %v; want %v to %v", tt.o, a.Failed, a.Measured, lo, hi, tt.min, tt.max)
		}
	}
}

// TestPreVoteStopsNeedlessElections: a lossy link makes needless elections
// in a healthy cluster; Pre-Vote stops them.
func TestPreVoteStopsNeedlessElections(t *testing.T) {
	s, err := scenarios.Builtin("flaky-link")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := RunSteady(s, time.Hour, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Cluster.Options.PreVote = true
	pre, err := RunSteady(s, time.Hour, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Elections < 50 || pre.Elections != 0 || pre.Failed+plain.Failed > 0 {
		t.Errorf("needless elections in an hour: %d without Pre-Vote, %d with (failed %d, %d); want many and none",
			plain.Elections, pre.Elections, plain.Failed, pre.Failed)
	}
}

// TestSteadyWeather: steady-state runs keep a scenario's pauses, drift and
// loss but not its failure (leader-crash's crash), and a steady section's
// own faults replace them.
func TestSteadyWeather(t *testing.T) {
	s, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	calm, err := RunSteady(s, 20*time.Minute, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if calm.SteadyRuns != 2 || calm.Elections != 0 || calm.Leaderless != 0 || calm.Failed != 0 {
		t.Errorf("leader-crash's steady state: %d runs, %d elections, %dns leaderless, %d failed; want 2 calm runs",
			calm.SteadyRuns, calm.Elections, calm.Leaderless, calm.Failed)
	}
	stormy, err := scenarios.Parse("stormy.yaml", []byte(`
steady:
  faults:
    - after: leader-elected
    - repeat: 20
      steps:
        - delay: 1s
          pause: {nodes: leader, for: 400ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := RunSteady(stormy, 20*time.Minute, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Each 400ms pause of the leader outlasts every election timeout.
	if a.Elections < 20 || a.LeaderChanges < 20 || a.Leaderless < int64(20*100*time.Millisecond) || a.Failed != 0 {
		t.Errorf("paused leaders: %d elections, %d leader changes, %v leaderless, %d failed",
			a.Elections, a.LeaderChanges, time.Duration(a.Leaderless), a.Failed)
	}
}
