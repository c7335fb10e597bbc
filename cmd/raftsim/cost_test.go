package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/runner/cost"
	"github.com/raftsim/raftsim/scenarios"
)

// TestCostVerdict: what a command does with its calibrated estimate: a
// line on stderr over a minute or over a quarter of the machine's memory;
// a refusal (bad usage: exit status 2) saying what to do over --max-memory,
// or over an hour without --yes; nothing for small work.
func TestCostVerdict(t *testing.T) {
	const gb = 1e9
	est := func(d time.Duration, mem float64) cost.Estimate {
		return cost.Estimate{Time: d, Memory: uint64(mem), PerWorker: uint64(mem / 2), Basis: "measured on trials of 5 nodes"}
	}
	for _, tt := range []struct {
		name     string
		est      cost.Estimate
		limit    uint64
		fromFlag bool
		yes      bool
		line     string // on stderr
		refused  string // in the error
	}{
		{name: "small", est: est(3*time.Second, 0.01*gb), limit: 16 * gb},
		{name: "over a minute", est: est(150*time.Second, 0.01*gb), limit: 16 * gb,
			line: "raftsim run: this will take about 2m30s and about 10 MB of memory on 2 workers (calibrated: measured on trials of 5 nodes)\n"},
		{name: "a third of memory", est: est(3*time.Second, 5*gb), limit: 16 * gb, line: "about 5 GB of memory on 2 workers"},
		{name: "over an hour", est: est(13*time.Hour, 9.6*gb), limit: 16 * gb,
			refused: "run: not started: it would take about 13 hours on 2 workers, and about 9.6 GB of memory (calibrated: measured on trials of 5 nodes): give --yes to run it all the same"},
		{name: "over an hour, --yes", est: est(13*time.Hour, 0.01*gb), limit: 16 * gb, yes: true, line: "this will take about 13 hours"},
		{name: "over the machine's memory", est: est(time.Minute/2, 20*gb), limit: 16 * gb,
			refused: "it would need about 20 GB of memory on 2 workers, more than 16 GB (the default, this machine's memory): each worker holds a trial of about 10 GB"},
		{name: "over --max-memory, --yes", est: est(time.Second, 2*gb), limit: 1 * gb, fromFlag: true, yes: true, refused: "more than 1 GB (--max-memory)"},
		{name: "machine unknown", est: est(time.Second, 100*gb)},
	} {
		var errw bytes.Buffer
		machine := tt.limit // the default limit is the machine's memory
		if tt.fromFlag {
			machine = 16 * gb
		}
		err := costVerdict(&errw, "run", tt.est, 2, tt.limit, tt.fromFlag, machine, tt.yes, "fewer trials")
		var use *usageError
		switch {
		case tt.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.refused != "" && (!errors.As(err, &use) || !strings.Contains(err.Error(), tt.refused)):
			t.Errorf("%s: got %v, want a refusal saying %q", tt.name, err, tt.refused)
		case !strings.Contains(errw.String(), tt.line) || tt.line == "" && errw.Len() > 0:
			t.Errorf("%s: stderr %q, want %q", tt.name, errw.String(), tt.line)
		}
	}
}

// TestCostGuards: run, sweep and check refuse work above --max-memory
// before any trial runs: exit status 2, a message naming the flag and what
// to do, nothing on stdout and no output file; a bad --max-memory names
// the flag.
func TestCostGuards(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.txt")
	for _, args := range [][]string{
		{"run", "leader-crash", "--nodes", "300", "--max-memory", "1MB"},
		{"sweep", "leader-crash", "--nodes", "3,300", "--election-timeout", "150-300ms", "--max-memory", "1MB"},
		{"check", "leader-crash", "--nodes", "300", "--max-memory", "1MB"},
	} {
		code, stdout, errw := raftsim(append(args, "--out", out)...)
		if code != 2 || stdout != "" || !strings.Contains(errw, args[0]+": not started: it would need about") ||
			!strings.Contains(errw, "more than 1 MB (--max-memory)") || !strings.Contains(errw, "give fewer --workers") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errw)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v wrote its output", args)
		}
	}
	if code, _, errw := raftsim("run", "--max-memory", "lots"); code != 2 || !strings.Contains(errw, `--max-memory: "lots": want a size`) {
		t.Errorf("--max-memory lots: exit %d, stderr %q", code, errw)
	}
	// A fit too: its search's trials at most, calibrated.
	data := fitData(t, "20")
	if code, _, errw := raftsim("fit", "leader-crash", "--data", data, "--max-memory", "1kB"); code != 2 ||
		!strings.Contains(errw, "fit: not started: it would need about") {
		t.Errorf("fit --max-memory 1kB: exit %d, stderr %q", code, errw)
	}
	// A billion trials: refused for their time, with the estimate.
	code, _, errw := raftsim("run", "cold-start", "--nodes", "9", "--trials", "1000000000")
	if code != 2 || !strings.Contains(errw, "run: not started: it would take about") || !strings.Contains(errw, "give --yes to run it all the same, or fewer trials, or spread it over machines with --shard K/N") {
		t.Errorf("a billion trials: exit %d, stderr %q", code, errw)
	}
}

// TestCostOfTheIssue: leader-crash on 10,000 nodes with the default trials
// and workers does not fit: the calibration, on smaller clusters, says it
// would take hours (or more memory than the machine has), and the
// command refuses to start. Calibrated here without the command, so that
// a machine fast enough to fit it would not start it.
func TestCostOfTheIssue(t *testing.T) {
	s, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	var o scenarios.Overrides
	if err := o.Set("nodes", "10000"); err != nil {
		t.Fatal(err)
	}
	if s, err = o.Apply(s); err != nil {
		t.Fatal(err)
	}
	est := cost.Calibrate([]cost.Unit{{Scenario: s, Count: s.Trials}}, defaultWorkers())
	var errw bytes.Buffer
	err = costVerdict(&errw, "run", est, defaultWorkers(), cost.MachineMemory(), false, cost.MachineMemory(), false, "fewer trials")
	if err == nil || !strings.Contains(err.Error(), "not started") || !strings.Contains(err.Error(), "extrapolated to 10000 nodes") {
		t.Errorf("10,000 nodes: %v (estimate %+v)", err, est)
	}
}
