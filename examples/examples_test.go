// The example nodes, tested live: raftsim runs them as real processes
// through its proxy and judges them with the simulator's checks. Each test
// skips, saying so, when python3 or node is not installed.
package examples_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/live"
	"github.com/raftsim/raftsim/internal/live/conformance"
	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/scenarios"
)

// TestMain runs the tests, then checks that no example node's process is
// left behind.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, e := range []example{python, nodejs} {
		file, _ := filepath.Abs(e.file)
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), file) {
				fmt.Fprintf(os.Stderr, "process left behind: %s %s\n", p, strings.ReplaceAll(string(data), "\x00", " "))
				code = 1
			}
		}
	}
	os.Exit(code)
}

// example is one example node and the interpreter it needs.
type example struct {
	name, interpreter, file string
}

var (
	python = example{"python", "python3", "server.py"}
	nodejs = example{"node", "node", "node.js"}
)

// command returns the shell command that runs the example with env (a
// RAFT_BUG=..., say) set, or skips t when its interpreter is missing.
func (e example) command(t *testing.T, env string) string {
	t.Helper()
	if _, err := exec.LookPath(e.interpreter); err != nil {
		t.Skipf("%s is not installed: the %s example node cannot run", e.interpreter, e.name)
	}
	file, err := filepath.Abs(e.file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(env + " " + e.interpreter + " " + file)
}

// run runs trials of scenario (a built-in name or a testdata file) live
// with cmd as the nodes, and returns what they measured; untilFailure
// stops at the first failed trial.
func run(t *testing.T, scenario, cmd string, trials int, untilFailure bool) *runner.Aggregate {
	t.Helper()
	s, err := scenarios.Load(scenario)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", t.TempDir()) // the trials' data directories, checked below
	logs := t.TempDir()
	res, err := live.Run(context.Background(), s, live.Options{Nodes: live.Nodes{Cmd: cmd}, Trials: trials, Seed: s.Seed,
		Logs: logs, UntilFailure: untilFailure})
	if err != nil {
		t.Fatalf("%s with %s: %v", scenario, cmd, err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "raftsim-live-*")); len(left) > 0 {
		t.Errorf("data directories left behind: %v", left)
	}
	for _, f := range res.Agg.Failures {
		t.Logf("trial %d: %s: %s", f.Trial, f.Kind, f.Detail)
	}
	for _, n := range res.Notes {
		t.Logf("note: %s", n)
	}
	return &res.Agg
}

// passes checks that every trial of scenario held every check.
func passes(t *testing.T, e example, scenario string, trials int) {
	agg := run(t, scenario, e.command(t, ""), trials, false)
	if agg.Failed > 0 || agg.Trials != trials {
		t.Errorf("%s, %s: %d of %d trials failed, want none", e.name, scenario, agg.Failed, agg.Trials)
	}
}

// finds checks that raftsim finds bug within trials trials, failing kind.
func finds(t *testing.T, e example, bug, scenario, kind string, trials int) {
	agg := run(t, scenario, e.command(t, "RAFT_BUG="+bug), trials, true)
	for _, f := range agg.Failures {
		if f.Kind == kind {
			return
		}
	}
	t.Errorf("%s with RAFT_BUG=%s, %s: no %s failure in %d trials", e.name, bug, scenario, kind, agg.Trials)
}

// go test finds a bug in each example; RAFTSIM_LONG runs everything, for
// both examples: the correct nodes pass cold-start, leader-crash,
// partition-leader and the two bugs' scenarios, each bug is found, and the
// conformance rules hold.

// The halves of split-brain elect their leaders in the same term in about
// half the live trials (nodes that start up apart may need a second round).
func TestNodeFindsPeersMajority(t *testing.T) {
	finds(t, nodejs, "peers-majority", "testdata/split-brain.yaml", "election-safety", 10)
}

func TestPythonFindsNoRetry(t *testing.T) {
	finds(t, python, "no-retry", "testdata/split-vote.yaml", "liveness", 3)
}

func TestExamplesLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	for _, e := range []example{python, nodejs} {
		t.Run(e.name, func(t *testing.T) {
			for _, sc := range []string{"cold-start", "leader-crash", "partition-leader", "testdata/split-brain.yaml", "testdata/split-vote.yaml"} {
				// Built-in scenarios run 3 trials each: a live trial takes seconds.
				passes(t, e, sc, 3)
			}
			finds(t, e, "peers-majority", "testdata/split-brain.yaml", "election-safety", 10)
			finds(t, e, "no-retry", "testdata/split-vote.yaml", "liveness", 3)
			checkConformance(t, e, "", map[string]conformance.Outcome{"refuse a candidate whose log is behind": conformance.Skip})
			checkConformance(t, e, "RAFT_BUG=no-retry", map[string]conformance.Outcome{
				"refuse a candidate whose log is behind": conformance.Skip, "campaign again after a split vote": conformance.Fail})
		})
	}
}

// checkConformance tests the example with env on every rule: each must
// pass but those listed in other, which must come out as listed.
func checkConformance(t *testing.T, e example, env string, other map[string]conformance.Outcome) {
	t.Helper()
	s, err := scenarios.Load("cold-start")
	if err != nil {
		t.Fatal(err)
	}
	c := &s.Cluster
	results, err := conformance.Run(context.Background(), conformance.Options{
		Nodes: live.Nodes{Cmd: e.command(t, env)}.For(s), Logs: t.TempDir(),
		ElectionMin: c.ElectionTimeout.Min, ElectionMax: c.ElectionTimeout.Max, Heartbeat: c.HeartbeatInterval()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		want := conformance.Pass
		if o, ok := other[r.Rule]; ok {
			want = o
		}
		if r.Outcome != want {
			t.Errorf("%s %s: %q: got %s (%s), want %s", e.name, env, r.Rule, r.Outcome, r.Why, want)
		}
	}
}
