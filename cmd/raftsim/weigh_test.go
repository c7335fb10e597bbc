package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/runner/swarm"
)

// issueSeed is the swarm trial of issue 24.
const issueSeed = 1265974503891640

// issueFile writes the configuration of issue 24, rebuilt from the swarm's
// draw, with the converge_within it was drawn with then (2941ms) and its
// failing trial as its one trial: the file check printed.
func issueFile(t *testing.T) string {
	t.Helper()
	s := swarm.Scenario(issueSeed)
	if s.Expect.ConvergeWithin != 0 {
		t.Fatalf("the swarm now sets converge_within %v for the configuration of issue 24, which it cannot meet", s.Expect.ConvergeWithin)
	}
	s.Expect.ConvergeWithin = 2941 * time.Millisecond
	s.TrialSeeds = []uint64{issueSeed}
	path := filepath.Join(t.TempDir(), "swarm-1265974503891640.yaml")
	if err := os.WriteFile(path, s.YAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// weighedKeys are the keys a weighed failure carries in JSON.
type weighedKeys struct {
	Kind        string     `json:"kind"`
	Expectation string     `json:"config_expectation"`
	Rate        *float64   `json:"config_failure_rate"`
	CI95        [2]float64 `json:"config_failure_rate_ci95"`
	Failures    int        `json:"config_failures"`
	Trials      int        `json:"config_trials"`
}

// TestRunWeighsTheIssueConfiguration: raftsim run of the configuration of
// issue 24 with its old bound fails its one trial, and reports beside the
// failure how often the configuration misses that bound: near the 7.5%
// measured over 200,000 seeds, with its interval, the same at any
// --workers.
func TestRunWeighsTheIssueConfiguration(t *testing.T) {
	path := issueFile(t)
	code, out, errw := raftsim("run", path, "--format", "json", "--workers", "1")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out, errw)
	}
	var r struct {
		Failures []weighedKeys `json:"failures"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) != 1 {
		t.Fatalf("%d failures, want 1:\n%s", len(r.Failures), out)
	}
	f := r.Failures[0]
	if f.Kind != "liveness" || f.Expectation != "converge_within" || f.Trials != 1000 || f.Rate == nil ||
		f.CI95[0] > 0.075 || f.CI95[1] < 0.075 || *f.Rate != float64(f.Failures)/1000 {
		t.Errorf("weighed failure %+v, want converge_within missed near 7.5%% of 1000 trials", f)
	}
	if _, again, _ := raftsim("run", path, "--format", "json", "--workers", "3"); again != out {
		t.Error("--workers 3 weighs differently from --workers 1")
	}
	_, table, _ := raftsim("run", path)
	if !strings.Contains(table, "    this configuration misses converge_within in ") || !strings.Contains(table, "of 1,000 trials: a slow configuration, not a rare path") {
		t.Errorf("the table does not weigh the failure:\n%s", table)
	}
	_, none, _ := raftsim("run", path, "--format", "json", "--config-trials", "0")
	if strings.Contains(none, "config_failure_rate") {
		t.Errorf("--config-trials 0 weighed the failure:\n%s", none)
	}
}

// TestCheckWeighsLivenessFailures: check --swarm with a bug that stalls
// elections finds a liveness failure and weighs it, in text and in JSON,
// the same at any --workers; a safety failure is not weighed.
func TestCheckWeighsLivenessFailures(t *testing.T) {
	t.Chdir(t.TempDir()) // where check --swarm saves the configuration it found
	args := []string{"check", "--swarm", "--bug", "no-retry", "--trials", "500", "--no-shrink", "--config-trials", "200"}
	code, out, errw := raftsim(append(args, "--format", "json", "--workers", "1")...)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out, errw)
	}
	var r struct {
		Hunt    string      `json:"hunt"`
		Trials  int         `json:"trials"`
		Failure weighedKeys `json:"failure"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if f := r.Failure; f.Kind != "liveness" || f.Trials != 200 || f.Rate == nil || *f.Rate <= 0 || f.CI95[0] > *f.Rate || f.CI95[1] < *f.Rate {
		t.Errorf("check's weighed failure %+v, want liveness, 200 trials, a rate above 0 inside its interval", f)
	}
	if _, again, _ := raftsim(append(args, "--format", "json", "--workers", "2")...); again != out {
		t.Error("--workers 2 reports differently from --workers 1")
	}
	_, text, _ := raftsim(args...)
	if !strings.Contains(text, "  this configuration misses converge_within in ") || !strings.Contains(text, "  converge_within ") {
		t.Errorf("check's text lacks the weight or the bound:\n%s", text)
	}
	_, safety, _ := raftsim("check", "cold-start", "--nodes", "4", "--bug", "peers-majority", "--trials", "2000", "--no-shrink", "--format", "json")
	if strings.Contains(safety, "config_failure_rate") || !strings.Contains(safety, `"kind": "election-safety"`) {
		t.Errorf("a safety failure was weighed, or not reported:\n%s", safety)
	}
}

func TestWeighBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--swarm", "--format", "csv"}, "--format csv: check prints"},
		{[]string{"check", "--config-trials", "-1"}, "--config-trials: want 0 to"},
		{[]string{"run", "--config-trials", "-5"}, "--config-trials: want 0 to"},
	} {
		code, stdout, stderr := raftsim(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestRunWeighsAFailedCheck: a check step that does not hold is weighed
// as a liveness failure is: the isolated leader of stale-leader-check
// without CheckQuorum goes on leading in every trial of the configuration.
func TestRunWeighsAFailedCheck(t *testing.T) {
	code, out, errw := raftsim("run", "testdata/live/stale-leader-check.yaml", "--trials", "3", "--config-trials", "50", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out, errw)
	}
	var r struct{ Failures []weighedKeys }
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Failures) == 0 {
		t.Fatalf("%v:\n%s", err, out)
	}
	f := r.Failures[0]
	if f.Kind != "check" || f.Expectation != "the check of step 2 (line 15)" || f.Trials != 50 || f.Failures != 50 || f.Rate == nil || *f.Rate != 1 {
		t.Errorf("the first failure, weighed: %+v; want the check of step 2 (line 15) missed in 50 of 50 trials", f)
	}
}
