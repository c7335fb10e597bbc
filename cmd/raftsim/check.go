package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/cost"
	"github.com/raftsim/raftsim/internal/runner/shrink"
	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/scenarios"
)

const checkAbout = `Hunts for failures: runs trial after trial of a scenario (trial k with the seed
derived from the scenario seed and k) and stops at the first one that breaks an
invariant or an expectation. It prints the trial's seed, what was violated, and
the command that replays it; then it shrinks the failure (fewer fault steps,
fewer nodes, a shorter run) and prints the replay command of the smallest trial
that fails the same way. Exit status 1 when a failure was found, 0 when none.

With --swarm, each trial's whole configuration is drawn from its seed (cluster
size, timeouts, latency distribution, loss, duplication, options, and a
timeline of partitions, cuts, crashes, pauses, drift and writes, some kinds
switched off entirely); after the faults everything heals and a working leader
must appear within a bound derived from the configuration, which an honest
node misses with probability below 1e-9 (a configuration too slow for any
bound up to 10 minutes is checked for safety only). The drawn configuration of
a failure is printed as a scenario file.

A liveness failure is weighed: its configuration runs again over
--config-trials other seeds, derived from the failing one, and the report says
how often it misses the same expectation, with its 95% interval: often, a slow
configuration; never, a rare path worth a replay.

The failure found never depends on --workers: trials run in rounds of 256 and
the lowest failing trial is reported. With --for, how many trials run depends
on the machine.
`

const checkExamples = `  raftsim check leader-crash --trials 100000
  raftsim check --swarm --for 1m
  raftsim check cold-start --nodes 4 --bug peers-majority
  raftsim check partition-leader --bug leader-no-step-down
`

func checkCmd(args []string, out, errw io.Writer) error { return checkWith(args, out, errw, nil) }

// checkWith runs raftsim check, taking what the hunt found from merge m
// when m is set.
func checkWith(args []string, out, errw io.Writer, m *shard.Merged) error {
	// check's own --trials says how many trials to hunt through.
	c := newScenarioCommand(commandSpec{name: "check", synopsis: "check [SCENARIO] [--trials N | --for DURATION] [--swarm] [FLAGS]",
		about: checkAbout, examples: checkExamples, leave: func(ov *scenarios.Override) bool { return ov.Flag == "trials" }}, errw, m)
	trials := c.fs.Int("trials", 10000, "stop after this many trials")
	budget := c.fs.Duration("for", 0, "stop after this much wall-clock time instead (e.g. 30s, 5m)")
	swarmOn := c.fs.Bool("swarm", false, "draw each trial's whole configuration from its seed")
	noShrink := c.fs.Bool("no-shrink", false, "do not shrink a failure")
	wf := weighFlag(c.fs)
	c.guarded()
	c.outputs(true, "-")
	c.shardable()
	if err := c.parse(args, out, nil); err != nil {
		return err
	}
	if c.format == report.CSV {
		return badUsage("--format csv: check prints table (text) or json")
	}
	if err := wf.check(); err != nil {
		return err
	}
	n, err := huntLength(c, *trials, *budget)
	if err != nil {
		return err
	}
	hunt, arg, err := checkHunt(c, *swarmOn)
	if err != nil {
		return err
	}
	if err := c.checkCost(huntUnits(c, hunt, n), !c.fs.Changed("for")); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now() // wall clock: decides only when --for ends the hunt
	stopWhen := func() bool {
		return ctx.Err() != nil || c.fs.Changed("for") && time.Since(start) > *budget
	}
	total := n
	if c.fs.Changed("for") {
		total = 0
	}
	bar := newProgress(c.progress(), "check", total, "trials")
	found, ran, err := c.sh.find(hunt.Trial, n, c.output.workers, stopWhen, bar.set)
	bar.finish()
	if err != nil {
		return err
	}
	if done, err := c.sh.finish(c.output.file(), out, ctx.Err() != nil); done || err != nil {
		return err
	}
	what := hunt.Base.Name
	if bugs := hunt.Base.Cluster.Bugs.String(); bugs != "" {
		what += " with bug " + bugs
	}
	rep := &report.Check{What: what, Ran: ran, Seed: hunt.Base.Seed}
	if found != nil {
		rep.Failed = checkFailure(hunt, found, arg, c.o, !*noShrink)
		if rep.Failed.Weighed, err = wf.weigh(found.Plan.Scenario, found.Seed, found.Result.Failure, c.output.workers, c.progress()); err != nil {
			return err
		}
		if sf := rep.Failed.Swarm; sf != nil {
			saveSwarm(sf, c.output.file(), c.o)
		}
	}
	if err := c.output.file().write(out, func(w io.Writer) error { return rep.Write(w, c.format) }); err != nil {
		return err
	}
	switch {
	case found != nil:
		return errFailed
	case ctx.Err() != nil:
		return errInterrupted
	}
	return nil
}

// huntLength returns how many trials check hunts through: --trials, or
// as many as --for allows.
func huntLength(c *scenarioCommand, trials int, budget time.Duration) (int, error) {
	switch {
	case !c.fs.Changed("for"):
		if trials < 1 {
			return 0, badUsage("--trials: want at least 1")
		}
		return trials, nil
	case c.fs.Changed("trials"):
		return 0, badUsage("give --trials or --for, not both")
	case budget <= 0:
		return 0, badUsage("--for: want a duration above 0")
	}
	return 1 << 62, nil
}

// checkHunt returns what check hunts through: the trials of the scenario
// the arguments name, or, with --swarm, trials that draw their own; arg is
// how the scenario is named in replay commands.
func checkHunt(c *scenarioCommand, swarmOn bool) (hunt *runner.Hunt, arg string, err error) {
	if swarmOn {
		if c.fs.NArg() > 0 {
			return nil, "", badUsage("--swarm draws each trial's scenario from its seed: give no scenario")
		}
		// The hunt's seed and bugs: the flags', else the swarm's seed 1.
		hunt, err = runner.SwarmHunt(c.o)
		return hunt, "--swarm", err
	}
	if _, arg, err = c.load(); err != nil { // once, for its warnings
		return nil, "", err
	}
	hunt, err = runner.ScenarioHunt(func() (*scenarios.Scenario, error) {
		s, _, err := loadScenario(c.sh.load, c.fs.Args(), c.o)
		return s, err
	})
	return hunt, arg, err
}

// huntUnits is the work of a hunt through n trials (at most: it stops at
// the first failure), as far as this process runs them: a scenario's
// trials, or a swarm's, calibrated on the scenarios of its first trials.
func huntUnits(c *scenarioCommand, hunt *runner.Hunt, n int) []cost.Unit {
	n = min(n, 1<<40) // check --for: as many as the time allows
	if c.sh.partial != nil {
		n = c.sh.partial.Shard.Trials(n)
	} else if c.sh.merged != nil {
		return nil
	}
	if !hunt.Swarm() {
		return []cost.Unit{{Scenario: hunt.Base, Count: n}}
	}
	const drawn = 8
	var units []cost.Unit
	for i := range drawn {
		if plan, _, err := hunt.Trial(i); err == nil {
			units = append(units, cost.Unit{Scenario: plan.Scenario, Count: n / drawn})
		}
	}
	return units
}

// checkFailure reports the failing trial a hunt found: its trace, the
// command that replays it, a swarm's drawn configuration, and, if shrink,
// the smallest trial that fails the same way.
func checkFailure(hunt *runner.Hunt, found *runner.Found, arg string, o scenarios.Overrides, shrinkIt bool) *report.CheckFailure {
	s := found.Plan.Scenario
	f := &report.CheckFailure{Trial: found.Index, Seed: found.Seed, Kind: found.Result.Failure.Kind, Failure: found.Result.Failure.String(),
		Replay: replayCommand(arg, found.Seed, o)}
	f.TraceHash, f.Last = found.Trace(tailLines)
	if hunt.Swarm() {
		// The configuration as a scenario file whose one trial is the
		// failing one: saved and run, it fails the same way.
		file := *s
		file.Trials, file.TrialSeeds = 1, []uint64{found.Seed}
		f.Swarm = &report.SwarmFile{Name: fmt.Sprintf("swarm-%d.yaml", found.Seed), YAML: file.YAML(),
			Bound: swarm.BoundText(s)}
	}
	if shrinkIt {
		red, res := shrink.Shrink(func(nodes int) (*scenarios.Scenario, error) { return hunt.Scenario(found.Seed, nodes) }, found.Seed, found.Result)
		f.Shrunk = &report.Shrunk{}
		if !red.Empty() {
			f.Shrunk = &report.Shrunk{How: red.Describe(s), Failure: res.Failure.String(), Replay: replayCommand(arg, found.Seed, o, red.Args()...)}
		}
	}
	return f
}

// saveSwarm writes a swarm failure's configuration as its file: beside
// the report when --out names a file, else in the current directory. It
// never replaces a file: one already there with the same bytes (the same
// failure, found before) counts as saved; one with other bytes is left
// alone, and the report says so.
func saveSwarm(sf *report.SwarmFile, out outputFile, o scenarios.Overrides) {
	dir := "."
	if path, inPlace, err := out.target(); err == nil && !out.toStdout() && !inPlace {
		dir = filepath.Dir(path)
	}
	path := filepath.Join(dir, sf.Name)
	if err := disk.CreateFile(path, sf.YAML); err != nil {
		sf.NotSaved = fmt.Sprintf("%s: %v", path, reason(err))
		return
	}
	sf.Path = path
	sf.Run = commandLine(append([]string{"raftsim", "run", path}, o.Args()...)...)
}

// tailLines is how many events of a failing trial check prints.
const tailLines = 12
