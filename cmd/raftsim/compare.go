package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/study/compare"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

const compareAbout = `Runs the same trials of a scenario (the same trial seeds: the same network,
faults and timeout draws) on two Raft implementations, raftsim's own node and
etcd's raft by default, and prints per statistic — time to leader (p50, p90,
p99), election rounds, the split-vote rate, terms bumped, disruptions — both
values, the two-sample Kolmogorov-Smirnov distance and its p-value (for the
split-vote rate, a two-proportion z-test), and DIFFERS where the p-value is
below 0.01: a difference beyond sampling error.

SCENARIO is a YAML file or a built-in name, as for run; flags override it for
both implementations (--tick for etcd only). What etcd cannot run (a timeout
range not of the form MIN-2·MIN, leader stickiness, deliberate bugs) is
refused. Failed trials are listed with their replay commands. The exit
status is 1 when a trial failed (on either implementation), as for run, or
with --fail-on-difference when a statistic differs; 0 otherwise.
`

const compareExamples = `  raftsim compare leader-crash
  raftsim compare cold-start --trials 10000 --prevote
  raftsim compare leader-crash --nodes 3 --plot lc.svg --format json
  raftsim compare my.yaml --impl etcd,raftsim --fail-on-difference
`

func compareCmd(args []string, out, errw io.Writer) error {
	c := newScenarioCommand(commandSpec{name: "compare", synopsis: "compare [SCENARIO] [--impl raftsim,etcd] [FLAGS]",
		about: compareAbout, examples: compareExamples, leave: func(ov *scenarios.Override) bool { return ov.Flag == "impl" }}, errw, nil)
	implList := c.fs.String("impl", "raftsim,etcd", "the two implementations to compare, comma-separated")
	failOn := c.fs.Bool("fail-on-difference", false, "exit 1 when a statistic differs beyond sampling error at 1%")
	plot := c.fs.String("plot", "", "also draw both CDFs of time to leader to FILE.svg or FILE.png (- or no extension: SVG)")
	title := c.fs.String("title", "", "the plot's title (default: the scenario's name and the implementations)")
	c.outputs(true, "")
	if err := c.parse(args, out, func() []outputFile { return []outputFile{{"--plot", *plot}} }); err != nil {
		return err
	}
	if *plot != "" {
		if _, err := report.PlotFormat(*plot); err != nil {
			return badUsage("--plot: %v", err)
		}
	}
	impls, err := parseImpls(*implList)
	if err != nil {
		return err
	}
	var sides [2]*compare.Side
	var replays [2]func(uint64) string
	var ss [2]*scenarios.Scenario
	for k, impl := range impls {
		o := c.o.Without("tick")
		if impl == scenarios.ImplEtcd {
			o = c.o
		}
		if err := o.Set("impl", impl.String()); err != nil {
			return err
		}
		s, arg, err := loadScenario(scenarios.Load, c.fs.Args(), o)
		if err != nil {
			return err
		}
		ss[k] = s
		if k == 0 {
			for _, w := range s.Warnings() {
				fmt.Fprintf(errw, "raftsim: warning: %s\n", w.Text)
			}
		}
		sides[k] = runSide(s, impl, c.output.workers)
		replays[k] = replayFunc(arg, o)
	}
	first := ss[0]
	rep := report.NewCompare(ss, sides[0], sides[1], compare.Stats(sides[0], sides[1]), replays)
	if *plot != "" {
		t := *title
		if t == "" {
			t = fmt.Sprintf("%s: %s and %s", first.Name, impls[0], impls[1])
		}
		if err := writePlots([]string{*plot}, out, func(pf string) ([]byte, error) { return rep.CDFPlot(t, pf) }); err != nil {
			return err
		}
	}
	if err := c.output.file().write(out, func(w io.Writer) error { return rep.Write(w, c.format) }); err != nil {
		return err
	}
	if f := c.output.file(); !f.toStdout() {
		verdict := "no statistic differs"
		if rep.Differs {
			verdict = "some statistics DIFFER"
		}
		fmt.Fprintf(errw, "raftsim compare %s: %d trials of %s and %s, %s; wrote %s to %s\n", first.Name, first.Trials, impls[0], impls[1], verdict, c.format, f.path)
	}
	for _, failed := range rep.Failed {
		if failed > 0 {
			return errFailed
		}
	}
	if *failOn && rep.Differs {
		return errFailed
	}
	return nil
}

// parseImpls reads --impl: two different implementations.
func parseImpls(text string) ([2]scenarios.Impl, error) {
	var impls [2]scenarios.Impl
	parts := strings.Split(text, ",")
	if len(parts) != 2 {
		return impls, badUsage("--impl: want two implementations, such as raftsim,etcd, got %q", text)
	}
	for k, p := range parts {
		impl, err := scenarios.ParseImpl(p)
		if err != nil {
			return impls, badUsage("--impl: %v", err)
		}
		impls[k] = impl
	}
	if impls[0] == impls[1] {
		return impls, badUsage("--impl: %s against itself: want two different implementations", impls[0])
	}
	return impls, nil
}

// runSide runs every trial of s, keeping each trial's result.
func runSide(s *scenarios.Scenario, impl scenarios.Impl, workers int) *compare.Side {
	side := &compare.Side{Impl: impl.String(), Results: make([]trial.Result, s.Trials)}
	side.Agg = runner.Run(trial.NewPlan(s), runner.Options{Trials: s.Trials, Seed: s.Seed, Workers: workers,
		Trial: func(i int, r *trial.Result) { side.Results[i] = *r }})
	return side
}
