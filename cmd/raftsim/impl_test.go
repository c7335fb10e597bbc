package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/testkit/long"
)

// TestEtcdRunIsDeterministic: with --impl etcd, run prints the same bytes at
// any --workers, and the numbers are etcd's, not raftsim's node's.
func TestEtcdRunIsDeterministic(t *testing.T) {
	args := []string{"run", "leader-crash", "--impl", "etcd", "--trials", "150", "--format", "json"}
	code, one, errw := raftsim(append(args, "--workers", "1")...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, one, errw)
	}
	if _, two, _ := raftsim(append(args, "--workers", "2")...); two != one {
		t.Fatalf("--workers 2 printed otherwise than --workers 1")
	}
	if !strings.Contains(one, `"overrides": [`) || !strings.Contains(one, `"--impl etcd"`) || !strings.Contains(one, `"impl": "etcd"`) {
		t.Errorf("the JSON does not say the run was etcd's:\n%s", one)
	}
	if _, own, _ := raftsim("run", "leader-crash", "--trials", "150", "--format", "json", "--workers", "1"); own == one {
		t.Errorf("--impl etcd printed what raftsim's node prints")
	}
}

// TestEtcdFailuresReplayAndShrink: a failure found with --impl etcd (etcd
// leaves a cut-off leader of stale-leader believing it leads) is reported
// with a replay command that names --impl etcd, replays to the same trace,
// and shrinks.
func TestEtcdFailuresReplayAndShrink(t *testing.T) {
	code, out, errw := raftsim("check", "stale-leader", "--impl", "etcd", "--trials", "5")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out, errw)
	}
	hash := hashRe.FindStringSubmatch(out)
	replays := replayRe.FindAllStringSubmatch(out, -1)
	if hash == nil || len(replays) != 2 || !strings.Contains(replays[0][1], "--impl etcd") || !strings.Contains(replays[1][1], "--impl etcd --nodes") {
		t.Fatalf("want a hash, a replay and a shrunk replay, both with --impl etcd:\n%s", out)
	}
	for _, r := range replays {
		code, rout, _ := raftsim(append(words(r[1]), "--quiet")...)
		if code != 1 || !strings.Contains(rout, "FAILED leaders-at-end") {
			t.Fatalf("%s: exit %d\n%s", r[1], code, rout)
		}
	}
	if _, rout, _ := raftsim(append(words(replays[0][1]), "--quiet")...); !strings.Contains(rout, hash[1]) {
		t.Errorf("the replay's trace hash differs from check's %s:\n%s", hash[1], rout)
	}
}

// TestSwarmFindsNothingOnEtcd: 10,000 swarm trials of etcd's raft (200
// without RAFTSIM_LONG) break no invariant and always converge. A failure
// here is etcd's or the simulator's, reported with its replay command.
func TestSwarmFindsNothingOnEtcd(t *testing.T) {
	trials := long.Pick("200", "10000")
	code, out, errw := raftsim("check", "--swarm", "--impl", "etcd", "--trials", trials)
	if code != 0 || !strings.Contains(out, "no failure in "+trials+" trials") {
		t.Fatalf("exit %d:\n%s%s", code, out, errw)
	}
}

// TestImplFlagErrors: what etcd cannot do is refused before any trial
// runs, naming the flags, with exit status 2.
func TestImplFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--impl", "etcd", "--election-timeout", "150ms-155ms"},
			"--impl etcd --election-timeout 150ms-155ms: cluster.election_timeout: etcd draws its election timeout from [E, 2E) ticks: with a minimum of 150ms and a tick of 1ms it can do 150ms-300ms"},
		{[]string{"sweep", "--impl", "etcd", "--election-timeout", "150ms-300ms,150ms-151ms"}, "150ms-151ms is not of that form"},
		{[]string{"run", "--impl", "etcd", "--leader-stickiness"}, "etcd's raft has no leader stickiness as raftsim defines it"},
		{[]string{"check", "--swarm", "--impl", "etcd", "--bug", "no-retry"}, "the deliberate bugs (no-retry) are raftsim's node's"},
		{[]string{"replay", "leader-crash", "--seed", "1", "--tick", "2ms"}, "--tick 2ms: cluster.tick: a tick is etcd's unit of time"},
		{[]string{"run", "--impl", "zookeeper"}, `--impl: "zookeeper" is not an implementation: want raftsim or etcd`},
	} {
		code, out, errw := raftsim(tt.args...)
		if code != 2 || !strings.Contains(errw, tt.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q, and no output", tt.args, code, errw, tt.want)
		}
	}
}

// TestLiveEtcdLeaderCrash runs etcd's raft as processes (raftsim serve
// --impl etcd behind the course's API): three elect a leader; kill -9 of
// the leader; a new leader of a later term; the killed node, restarted
// from its data directory, accepts the new leader's AppendEntries.
func TestLiveEtcdLeaderCrash(t *testing.T) {
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "testdata/live/leader-crash.yaml", "--impl", "etcd", "--sim-trials", "0",
		"--logs", logs, "--timelines")
	if code != 0 || !strings.Contains(out, "etcd's raft (tick 1ms)") || !strings.Contains(out, "raftsim serve --impl etcd") {
		t.Fatalf("exit %d: %s\n%s", code, errw, out)
	}
	data, err := os.ReadFile(filepath.Join(logs, "trial-0.timeline"))
	if err != nil {
		t.Fatal(err)
	}
	checkCrashTimeline(t, string(data))
	if code, _, errw := raftsim("live", "--impl", "etcd", "--cmd", "true"); code != 2 || !strings.Contains(errw, "leave out one of --impl etcd and --cmd") {
		t.Errorf("live --impl etcd --cmd: exit %d, %s", code, errw)
	}
}
