package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/cost"
	"github.com/raftsim/raftsim/scenarios"
)

// costGuards are the flags of a command that may not fit the machine:
// --max-memory and --yes.
type costGuards struct {
	maxMemory string
	yes       bool
}

// Thresholds of what a command says, and refuses, before it starts: a
// line on stderr when the work is estimated at over costLine of wall-clock
// time or a quarter of the machine's memory; a refusal over costAsk
// without --yes.
const (
	costLine = time.Minute
	costAsk  = time.Hour
)

// guarded registers --max-memory and --yes.
func (c *scenarioCommand) guarded() {
	c.fs.StringVar(&c.guards.maxMemory, "max-memory", "", "refuse to start when the calibrated estimate of the memory needed is above this, e.g. 8GB (default: this machine's memory)")
	c.fs.BoolVar(&c.guards.yes, "yes", false, "start even when the calibrated estimate of the wall-clock time is over an hour")
}

// share returns how many of a cell's of units of work this process runs:
// all, a shard's slice, or none in a merge.
func (sh *sharding) share(cell, of int) int {
	switch {
	case sh.merged != nil:
		return 0
	case sh.partial != nil:
		lo, hi := sh.partial.Shard.Slice(cell, of)
		return hi - lo
	}
	return of
}

// cellUnits returns the work of cell's trials of s and, for steady above
// 0, its steady-state runs, as far as this process runs them.
func (c *scenarioCommand) cellUnits(cell int, s *scenarios.Scenario, steady time.Duration) []cost.Unit {
	units := []cost.Unit{{Scenario: s, Count: c.sh.share(cell, s.Trials)}}
	if runs, each := runner.SteadyRuns(steady); runs > 0 {
		units = append(units, cost.Unit{Scenario: s, Steady: each, Count: c.sh.share(cell, runs)})
	}
	return units
}

// checkCost calibrates what units will cost and says so on stderr when it
// is much, or refuses to start (exit status 2) when it would not fit the
// machine's memory (--max-memory) or take over an hour (without --yes).
// timed says whether the time is the work's: check --for sets its own.
// A merge runs nothing and checks nothing.
func (c *scenarioCommand) checkCost(units []cost.Unit, timed bool) error {
	if c.sh.merged != nil {
		return nil
	}
	limit := cost.MachineMemory()
	fromFlag := c.guards.maxMemory != ""
	if fromFlag {
		var err error
		if limit, err = cost.ParseBytes(c.guards.maxMemory); err != nil {
			return badUsage("--max-memory: %v", err)
		}
	}
	est := cost.Calibrate(units, c.output.workers)
	if !timed {
		est.Time = 0
	}
	less := "fewer trials, or spread it over machines with --shard K/N (raftsim merge joins them)"
	return costVerdict(c.errw, c.fs.Name(), est, c.output.workers, limit, fromFlag, cost.MachineMemory(), c.guards.yes, less)
}

// costVerdict says what a command does with its estimate: refuses it
// (memory above limit, or time above costAsk without yes, saying to do
// less, as less says how), or prints one line when it is over costLine or
// a quarter of the machine's memory (machine; 0 when unknown), or says
// nothing.
func costVerdict(errw io.Writer, command string, est cost.Estimate, workers int, limit uint64, fromFlag bool, machine uint64, yes bool, less string) error {
	on := "on " + scenarios.Count(workers, "worker", "workers")
	if limit > 0 && est.Memory > limit {
		whose := "the default, this machine's memory"
		if fromFlag {
			whose = "--max-memory"
		}
		return badUsage("%s: not started: it would need about %s of memory %s, more than %s (%s): each worker holds a trial of about %s "+
			"(calibrated: %s); give fewer --workers, a smaller cluster, or a larger --max-memory if the machine has it",
			command, cost.FormatBytes(est.Memory), on, cost.FormatBytes(limit), whose, cost.FormatBytes(est.PerWorker), est.Basis)
	}
	if est.Time > costAsk && !yes {
		return badUsage("%s: not started: it would take about %s %s, and about %s of memory (calibrated: %s): give --yes to run it all the same, or %s",
			command, estimateText(est.Time), on, cost.FormatBytes(est.Memory), est.Basis, less)
	}
	if est.Time > costLine || machine > 0 && est.Memory > machine/4 {
		took := ""
		if est.Time > 0 {
			took = "about " + estimateText(est.Time) + " and "
		}
		fmt.Fprintf(errw, "raftsim %s: this will take %sabout %s of memory %s (calibrated: %s)\n", command, took, cost.FormatBytes(est.Memory), on, est.Basis)
	}
	return nil
}

// estimateText writes an estimated duration as people read it: 45s,
// 2m30s, 13 hours.
func estimateText(d time.Duration) string {
	switch {
	case d >= 2*time.Hour:
		return strconv.FormatFloat(d.Hours(), 'f', 0, 64) + " hours"
	case d >= time.Hour:
		return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " hours"
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
