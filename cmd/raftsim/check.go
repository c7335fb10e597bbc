package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/runner/shrink"
	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/trace"
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
must appear within a bound. The drawn configuration of a failure is printed as
a scenario file.

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
	fs := newFlags("check", "check [SCENARIO] [--trials N | --for DURATION] [--swarm] [FLAGS]", checkAbout, checkExamples, errw)
	// check's own --trials says how many trials to hunt through.
	overrides := overrideFlags(fs, func(ov *scenarios.Override) bool { return ov.Flag == "trials" })
	trials := fs.Int("trials", 10000, "stop after this many trials")
	budget := fs.Duration("for", 0, "stop after this much wall-clock time instead (e.g. 30s, 5m)")
	swarmOn := fs.Bool("swarm", false, "draw each trial's whole configuration from its seed")
	noShrink := fs.Bool("no-shrink", false, "do not shrink a failure")
	workers := fs.Int("workers", defaultWorkers(), "parallel workers (the failure found does not depend on it)")
	outPath := fs.String("out", "-", "write the report (with --shard, the partial result) to this file, whole or not at all; - is stdout")
	shardText := shardFlag(fs)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	outFile := outputFile{"--out", *outPath}
	if err := checkOutputs(outFile); err != nil {
		return err
	}
	sh, err := newSharding(fs, *shardText, m)
	if err != nil {
		return err
	}
	if *workers < 1 {
		return badUsage("--workers: want at least 1")
	}
	n := *trials
	if fs.Changed("for") {
		if fs.Changed("trials") {
			return badUsage("give --trials or --for, not both")
		}
		if *budget <= 0 {
			return badUsage("--for: want a duration above 0")
		}
		n = 1 << 62
	} else if n < 1 {
		return badUsage("--trials: want at least 1")
	}

	o, err := overrides()
	if err != nil {
		return err
	}
	// fresh builds the scenario of trial seed seed, overrides applied.
	var fresh func(seed uint64) (*scenarios.Scenario, error)
	var arg string
	var base *scenarios.Scenario
	if *swarmOn {
		if fs.NArg() > 0 {
			return badUsage("--swarm draws each trial's scenario from its seed: give no scenario")
		}
		arg = "--swarm"
		fresh = func(seed uint64) (*scenarios.Scenario, error) { return o.Apply(swarm.Scenario(seed)) }
		// The hunt's seed and bugs: the flags', else the swarm's seed 1.
		if base, err = fresh(1); err != nil {
			return err
		}
	} else {
		if base, arg, err = loadScenario(sh.load, fs.Args(), o); err != nil {
			return err
		}
		for _, w := range base.Warnings() {
			fmt.Fprintf(errw, "raftsim: warning: %s\n", w.Text)
		}
		fresh = func(uint64) (*scenarios.Scenario, error) {
			s, _, err := loadScenario(sh.load, fs.Args(), o)
			return s, err
		}
	}
	var shared *trial.Plan
	src := func(i int) (*trial.Plan, uint64, error) {
		seed := trial.Seed(base.Seed, i)
		if !*swarmOn {
			if shared == nil {
				s, err := fresh(seed)
				if err != nil {
					return nil, 0, err
				}
				if shared, err = trial.NewPlan(s); err != nil {
					return nil, 0, err
				}
			}
			return shared, shared.SeedOf(base.Seed, i), nil
		}
		s, err := fresh(seed)
		if err != nil {
			return nil, 0, err
		}
		p, err := trial.NewPlan(s)
		return p, seed, err
	}
	if !*swarmOn { // build the shared plan before the workers start
		if _, _, err := src(0); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now() // wall clock: decides only when --for ends the hunt
	stopWhen := func() bool {
		return ctx.Err() != nil || fs.Changed("for") && time.Since(start) > *budget
	}
	total := n
	if fs.Changed("for") {
		total = 0
	}
	bar := newProgress(sh.progress(errw), total, "trials")
	found, ran, err := sh.find(src, n, *workers, stopWhen, bar.set)
	bar.finish()
	if err != nil {
		return err
	}
	if done, err := sh.finish(outFile, out, ctx.Err() != nil); done || err != nil {
		return err
	}
	what := base.Name
	if bugs := base.Cluster.Bugs.String(); bugs != "" {
		what += " with bug " + bugs
	}
	if found == nil {
		if err := outFile.write(out, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "check of %s: no failure in %d trials (seed %d)\n", what, ran, base.Seed)
			return err
		}); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errInterrupted
		}
		return nil
	}

	var b strings.Builder
	s := found.Plan.Scenario
	fmt.Fprintf(&b, "check of %s: trial %d (seed %d) failed, after %d trials:\n", what, found.Index, found.Seed, ran)
	fmt.Fprintf(&b, "  %s\n", found.Result.Failure)
	hash, last := traceOf(found.Plan, found.Seed)
	fmt.Fprintf(&b, "  trace sha256 %s\n", hash)
	fmt.Fprintf(&b, "  the last %d events:\n", len(last))
	for _, line := range last {
		fmt.Fprintf(&b, "    %s\n", line)
	}
	fmt.Fprintf(&b, "  replay: %s\n", replayCommand(arg, found.Seed, o))
	if *swarmOn {
		// The configuration as a scenario file whose one trial is the
		// failing one: saved and run, it fails the same way.
		file := *s
		file.Trials, file.TrialSeeds = 1, []uint64{found.Seed}
		name := fmt.Sprintf("swarm-%d.yaml", found.Seed)
		fmt.Fprintf(&b, "  the drawn configuration, as a scenario file whose one trial is this one (trial_seeds: [%d]);\n", found.Seed)
		fmt.Fprintf(&b, "  saved as %s, %s fails the same way:\n", name, commandLine(append([]string{"raftsim", "run", name}, o.Args()...)...))
		for _, line := range strings.Split(strings.TrimRight(string(file.YAML()), "\n"), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	if !*noShrink {
		red, res := shrink.Shrink(func() *scenarios.Scenario {
			s, err := fresh(found.Seed)
			if err != nil {
				panic(err) // it built once already: the same inputs build again
			}
			return s
		}, found.Seed, found.Result)
		if red.Empty() {
			b.WriteString("shrunk: no smaller trial fails the same way\n")
		} else {
			fmt.Fprintf(&b, "shrunk: %s\n  %s\n  replay: %s\n", describe(red, s), res.Failure, replayCommand(arg, found.Seed, o, red.Args()...))
		}
	}
	if err := outFile.write(out, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	}); err != nil {
		return err
	}
	return errFailed
}

// describe says how a reduction made a trial of s smaller.
func describe(r shrink.Reduction, s *scenarios.Scenario) string {
	var parts []string
	if n := len(r.Skip); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d fault steps left out", n, len(s.Timeline())))
	}
	if r.Nodes > 0 {
		parts = append(parts, fmt.Sprintf("%d nodes instead of %d", r.Nodes, s.Cluster.Nodes))
	}
	if r.Limit > 0 {
		parts = append(parts, "run cut at "+trace.FormatTime(r.Limit))
	}
	return strings.Join(parts, ", ")
}

// tailLines is how many events of a failing trial check prints.
const tailLines = 12

// traceOf runs the trial again with tracers and returns the SHA-256 of its
// text trace (the same hash means the same trial, event for event) and its
// last lines, which end with the violation.
func traceOf(plan *trial.Plan, seed uint64) (hash string, last []string) {
	h := trace.NewHash()
	tail := &trace.Tail{N: tailLines}
	r := trial.NewDriver(plan)
	r.SetTracer(trace.Tee{h, tail})
	r.Run(seed)
	return h.Sum(), tail.Lines()
}
