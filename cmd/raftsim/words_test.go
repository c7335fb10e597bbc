package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/study/shard"
)

// TestVersion: raftsim version prints the version merge compares, so a
// user can see whether two machines run the same raftsim.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errw := raftsim(args...)
		if code != 0 || errw != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errw)
		}
		if first, _, _ := strings.Cut(out, "\n"); first != "raftsim "+shard.Version() {
			t.Errorf("%v: first line %q, want %q", args, first, "raftsim "+shard.Version())
		}
	}
	if code, _, errw := raftsim("version", "extra"); code != 2 || !strings.Contains(errw, "version takes no arguments") {
		t.Errorf("version extra: exit %d, stderr %q", code, errw)
	}
}

// TestPlurals: a count of one is singular wherever raftsim writes counts
// in words.
func TestPlurals(t *testing.T) {
	_, out, _ := raftsim("run", "cold-start", "--nodes", "1", "--trials", "1", "--steady-time", "10m")
	for _, want := range []string{"scenario cold-start: 1 trial, seed 1", "cluster: 1 node,", "steady state, 0.166667 hours in 1 run:"} {
		if !strings.Contains(out, want) {
			t.Errorf("run: output lacks %q:\n%s", want, out)
		}
	}
	// Trials that never elect count their split votes, and the line says so.
	_, out, _ = raftsim("run", "cold-start", "--election-timeout", "150ms", "--trials", "5")
	if !strings.Contains(out, "0 of 5 trials found a leader\nsplit vote in 1.0000 of trials") {
		t.Errorf("run of a zero-width range: no split-vote line under no leader:\n%s", out)
	}
	_, out, _ = raftsim("run", "leader-crash", "--trials", "10", "--seed", "6")
	if !strings.Contains(out, "; 1 split vote and 0 other lost elections in all") {
		t.Errorf("run: output lacks \"1 split vote and\":\n%s", out)
	}
	_, out, _ = raftsim("sweep", "leader-crash", "--nodes", "3", "--election-timeout", "150-300ms", "--trials", "1", "--steady-time", "1h", "--max-steady-time", "1h")
	for _, want := range []string{"sweep of leader-crash: 1 cell, 1 trial each", "stability from 1 hour of steady state per cell"} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep: output lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = raftsim("replay", "leader-crash", "--seed", "8268644569772574")
	if !strings.Contains(out, ", 1 round, 0 split votes,") {
		t.Errorf("replay: output lacks \"1 round\":\n%s", out)
	}
	code, _, errw := raftsim("run", "flaky-link", "--nodes", "1")
	if code != 2 || !strings.Contains(errw, "(the cluster has 1 node)") {
		t.Errorf("a selector beyond a 1-node cluster: exit %d, stderr %q, want \"(the cluster has 1 node)\"", code, errw)
	}
}

// TestStabilityIntervals: run's steady-state rates carry their exact 95%
// Poisson intervals, in the table and under _ci keys in JSON: no needless
// election in an hour is 0 [0, 3.69] per hour.
func TestStabilityIntervals(t *testing.T) {
	_, out, _ := raftsim("run", "leader-crash", "--trials", "10", "--steady-time", "1h", "--format", "json")
	var r struct {
		Stability map[string]any
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, rate := range []string{"needless_elections_per_hour", "leader_changes_per_hour", "disruptions_per_hour"} {
		ci, ok := r.Stability[rate+"_ci"].([]any)
		x, _ := r.Stability[rate].(float64)
		if !ok || len(ci) != 2 || !(ci[0].(float64) <= x && x <= ci[1].(float64)) {
			t.Errorf("%s %v, %s_ci %v", rate, r.Stability[rate], rate, r.Stability[rate+"_ci"])
		}
	}
	if ci := r.Stability["needless_elections_per_hour_ci"].([]any); r.Stability["needless_elections"].(float64) == 0 && ci[1].(float64) != 3.68888 {
		t.Errorf("none in an hour: interval %v, want [0, 3.68888]", ci)
	}
	_, out, _ = raftsim("run", "leader-crash", "--trials", "10", "--steady-time", "1h")
	if !strings.Contains(out, "steady state, 1 hour in 6 runs: 0.00 [0.00, 3.69] needless elections") {
		t.Errorf("table:\n%s", out)
	}
}
