package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/report"
	"github.com/raftsim/raftsim/runner"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/raftsim/raftsim/trial"
)

const sweepAbout = `Runs a scenario for every combination of the listed values and prints one row
per combination (cell): time to leader (mean, p50, p90, p99, max), the
probability of a split vote with its 95% Wilson interval, mean election rounds,
failed trials, and stability: needless elections, leader changes and time
without a working leader per hour of a healthy cluster's steady state. In each
group of cells that differ only in election timeout, the range the
recommendation rule picks is marked with *.

Every cell runs the same trial seeds (common random numbers): cells differ only
in what the sweep varies. Lists are comma-separated; a flag left out keeps the
scenario's value (or its sweep: section's list). Latency lists may also repeat
the flag or use ';' (exp:5ms,7ms is one distribution: write const:7ms for a
constant after an exp).
`

const sweepExamples = `  raftsim sweep --election-timeout 50ms-100ms,150ms-300ms,500ms-1s
  raftsim sweep leader-crash --election-timeout 50-100ms,100-200ms,150-300ms --nodes 3,5,7 --loss 0,0.01
  raftsim sweep leader-crash --latency 'uniform:0.1ms-0.5ms;lognormal:30ms,10ms' --steady-time 2h
  raftsim sweep figure16 --plot figure16.svg
  raftsim sweep leader-crash --election-timeout 100-200ms,150-300ms --format json --out sweep.json
`

type sweepFlags struct {
	election, nodes, loss, heartbeat string
	options                          string
	latency                          []string
	steady                           string
	maxNeedless                      float64
	plots                            []string
	title                            string
}

func sweepCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("sweep", "sweep [SCENARIO] [LISTS] [FLAGS]", sweepAbout, sweepExamples, errw)
	var sf scenarioFlags
	var of outputFlags
	var wf sweepFlags
	fs.StringVar(&wf.election, "election-timeout", "", "election timeout ranges, e.g. 50ms-100ms,150ms-300ms,500ms-1s")
	fs.StringVar(&wf.nodes, "nodes", "", "cluster sizes, e.g. 3,5,7")
	fs.StringArrayVar(&wf.latency, "latency", nil, "latency distributions, e.g. 'uniform:5ms-10ms;exp:2ms,5ms' (see raftsim run --help)")
	fs.StringVar(&wf.loss, "loss", "", "loss probabilities, e.g. 0,0.01")
	fs.StringVar(&wf.heartbeat, "heartbeat", "", "heartbeat intervals, e.g. 25ms,50ms or 50% (of the minimum election timeout)")
	fs.StringVar(&wf.options, "options", "", "protocol option sets, '+' within a set: e.g. none,prevote,check-quorum,prevote+check-quorum (also leader-stickiness)")
	sf.register(fs, withSeed|withTrials|swept)
	fs.StringVar(&wf.steady, "steady-time", "", "virtual time of steady state per cell for the stability columns; 0 turns them off (default: the scenario's steady.duration, or 1h)")
	fs.Float64Var(&wf.maxNeedless, "max-needless", 1, "recommendation rule: the most needless elections per hour a recommended range may have")
	fs.StringArrayVar(&wf.plots, "plot", nil, "also draw the CDF of time to leader, one line per cell, to FILE.svg or FILE.png (repeatable)")
	fs.StringVar(&wf.title, "title", "", "the plot's title (default: the scenario's name)")
	of.register(fs)
	format, err := of.parse(fs, args, out)
	if err != nil {
		return err
	}
	for _, p := range wf.plots {
		if _, err := report.PlotFormat(p); err != nil {
			return badUsage("--plot: %v", err)
		}
		if err := checkOutPath(p); err != nil {
			return err
		}
	}
	if wf.maxNeedless < 0 {
		return badUsage("--max-needless: want 0 or more, got %g", wf.maxNeedless)
	}
	base, arg, err := loadScenario(fs.Args(), &sf)
	if err != nil {
		return err
	}
	steady, err := steadyTime(wf.steady, base, time.Hour)
	if err != nil {
		return err
	}
	axes, err := wf.axes(fs, base)
	if err != nil {
		return err
	}
	cells, varied, err := expand(base, axes)
	if err != nil {
		return err
	}
	plans := make([]*trial.Plan, len(cells))
	for i, c := range cells {
		if plans[i], err = trial.NewPlan(c); err != nil {
			return err
		}
	}

	runs, _ := runner.SteadyRuns(steady)
	bar := newProgress(errw, len(cells)*(base.Trials+runs), "cells")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	interrupted := func() bool { return ctx.Err() != nil }

	sw := &report.Sweep{Scenario: base.Name, Description: base.Description, Seed: base.Seed, Trials: base.Trials,
		Varied: varied, Measure: report.MeasureOf(base), SteadyHours: report.Num(float64(steady) / float64(time.Hour)),
		Rule: report.NewRule(wf.maxNeedless, steady > 0)}
	done := 0
	for i, c := range cells {
		agg := runner.Run(plans[i], runner.Options{Trials: c.Trials, Seed: c.Seed, Workers: of.workers,
			Progress: func(n int) { bar.set(done + n) }, Stop: interrupted})
		done += c.Trials
		var st *runner.Aggregate
		if steady > 0 && !interrupted() {
			if st, err = runner.RunSteady(c, steady, runner.Options{Seed: c.Seed, Workers: of.workers,
				Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}); err != nil {
				return err
			}
			done += runs
		}
		if interrupted() {
			bar.finish()
			return errInterrupted
		}
		replay := cellReplay(arg, c, varied, &sf)
		sw.AddCell(c, agg, st, replay, steadyReplay(replay, steady))
	}
	bar.finish()
	sw.Recommend()

	for _, p := range wf.plots {
		pf, _ := report.PlotFormat(p)
		title := wf.title
		if title == "" {
			title = "time to leader: " + base.Name
		}
		img, err := sw.CDFPlot(title, pf)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(p, img); err != nil {
			return err
		}
	}
	if err := writeOutput(of.out, out, func(w io.Writer) error { return sw.Write(w, format) }); err != nil {
		return err
	}
	if sw.Failed() > 0 {
		return errFailed
	}
	return nil
}

// errInterrupted ends a sweep stopped by ^C; it writes no file.
var errInterrupted = errors.New("interrupted: no output written")

// steadyTime returns the steady-state time a command measures: the
// --steady-time flag, else the scenario's steady.duration, else def.
func steadyTime(flag string, s *scenarios.Scenario, def time.Duration) (time.Duration, error) {
	if flag == "" {
		if s.Steady.Duration > 0 {
			return s.Steady.Duration, nil
		}
		return def, nil
	}
	d, err := scenarios.ParseDuration(flag)
	if err != nil {
		return 0, badUsage("--steady-time: %v", err)
	}
	return d, nil
}

// axis is one swept parameter: its name and a setter per value.
type axis struct {
	name   string
	values []func(*scenarios.Scenario)
}

// listAxis builds the axis name from the flag's list when it was given,
// else from the scenario's sweep list; nil when neither has values.
func listAxis[T any](name string, given bool, list []string, fromScenario []T,
	parse func(string) (T, error), set func(*scenarios.Scenario, T)) (*axis, error) {
	values := fromScenario
	if given {
		values = nil
		for _, t := range list {
			v, err := parse(t)
			if err != nil {
				return nil, badUsage("--%s: %v", name, err)
			}
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return nil, nil
	}
	a := &axis{name: name}
	for _, v := range values {
		a.values = append(a.values, func(c *scenarios.Scenario) { set(c, v) })
	}
	return a, nil
}

// axes returns the swept parameters in the order cells nest them: nodes,
// latency, loss, heartbeat, options, election timeout (innermost).
func (wf *sweepFlags) axes(fs interface{ Changed(string) bool }, s *scenarios.Scenario) ([]axis, error) {
	sw := &s.Sweep
	var lats []string
	for _, l := range wf.latency {
		lats = append(lats, splitDistsText(l)...)
	}
	build := []func() (*axis, error){
		func() (*axis, error) {
			return listAxis("nodes", fs.Changed("nodes"), splitList(wf.nodes), sw.Nodes, parseNodes,
				func(c *scenarios.Scenario, n int) { c.Cluster.Nodes = n })
		},
		func() (*axis, error) {
			return listAxis("latency", fs.Changed("latency"), lats, sw.Latency, scenarios.ParseDist,
				func(c *scenarios.Scenario, d sim.Dist) { c.Network.Latency = d })
		},
		func() (*axis, error) {
			return listAxis("loss", fs.Changed("loss"), splitList(wf.loss), sw.Loss, scenarios.ParseProbability,
				func(c *scenarios.Scenario, p float64) { c.Network.Loss = p })
		},
		func() (*axis, error) {
			return listAxis("heartbeat", fs.Changed("heartbeat"), splitList(wf.heartbeat), sw.Heartbeat, scenarios.ParseHeartbeat,
				func(c *scenarios.Scenario, h scenarios.Heartbeat) {
					c.Cluster.Heartbeat = h
				})
		},
		func() (*axis, error) {
			return listAxis("options", fs.Changed("options"), splitList(wf.options), nil, parseOptionSet,
				func(c *scenarios.Scenario, o raft.Options) {
					reset := c.Cluster.Options.ResetTimerOnStepDown // not one of the sets unless named
					c.Cluster.Options = o
					c.Cluster.Options.ResetTimerOnStepDown = o.ResetTimerOnStepDown || reset
				})
		},
		func() (*axis, error) {
			return listAxis("election-timeout", fs.Changed("election-timeout"), splitList(wf.election), sw.ElectionTimeout, scenarios.ParseRange,
				func(c *scenarios.Scenario, r scenarios.Range) { c.Cluster.ElectionTimeout = r })
		},
	}
	var axes []axis
	for _, b := range build {
		a, err := b()
		if err != nil {
			return nil, err
		}
		if a != nil {
			axes = append(axes, *a)
		}
	}
	if len(axes) == 0 {
		return nil, badUsage("nothing to sweep: give lists such as --election-timeout 50ms-100ms,150ms-300ms (or a sweep: section in the scenario)")
	}
	return axes, nil
}

func parseNodes(t string) (int, error) {
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > scenarios.MaxNodes {
		return 0, fmt.Errorf("%q is not a cluster size from 1 to %d", t, scenarios.MaxNodes)
	}
	return n, nil
}

// expand returns one scenario per combination of the axes' values, the
// last axis varying fastest, each validated, and the names of the axes.
func expand(base *scenarios.Scenario, axes []axis) ([]*scenarios.Scenario, []string, error) {
	const maxCells = 10000
	n := 1
	var names []string
	for _, a := range axes {
		n *= len(a.values)
		names = append(names, a.name)
		if n > maxCells {
			return nil, nil, badUsage("the sweep has more than %d cells", maxCells)
		}
	}
	cells := make([]*scenarios.Scenario, 0, n)
	idx := make([]int, len(axes))
	for {
		c := *base
		for i, a := range axes {
			a.values[idx[i]](&c)
		}
		if err := c.Validate(); err != nil {
			return nil, nil, err
		}
		cells = append(cells, &c)
		i := len(axes) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(axes[i].values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return cells, names, nil
		}
	}
}

// cellReplay spells the replay command of a trial of cell c: the sweep's
// fixed overrides plus the cell's own values of the swept parameters.
func cellReplay(arg string, c *scenarios.Scenario, varied []string, sf *scenarioFlags) func(uint64) string {
	var extra []string
	for _, v := range varied {
		var val string
		switch v {
		case "nodes":
			val = strconv.Itoa(c.Cluster.Nodes)
		case "latency":
			val = scenarios.FormatDist(c.Network.Latency)
		case "loss":
			val = strconv.FormatFloat(c.Network.Loss, 'g', -1, 64)
		case "heartbeat":
			val = c.Cluster.Heartbeat.String()
		case "election-timeout":
			val = c.Cluster.ElectionTimeout.String()
		case "options":
			for _, name := range raft.OptionNames {
				extra = append(extra, "--"+name+"="+strconv.FormatBool(*c.Cluster.Options.Flag(name)))
			}
			continue
		}
		extra = append(extra, "--"+v, val)
	}
	extra = append(extra, sf.replayArgs(c)...)
	return func(seed uint64) string {
		words := append([]string{"raftsim", "replay", arg, "--seed", strconv.FormatUint(seed, 10)}, extra...)
		return commandLine(words...)
	}
}

func splitList(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// splitDistsText splits a list of distributions. Items are separated by
// ';', or by ',' when the comma does not belong to a two-parameter
// distribution: "normal:7ms,2ms,exp:5ms" is two items.
func splitDistsText(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		toks := splitList(part)
		for i := 0; i < len(toks); i++ {
			t := toks[i]
			kind, args, _ := strings.Cut(t, ":")
			if (kind == "normal" || kind == "lognormal" || kind == "exp") && !strings.Contains(args, ",") &&
				i+1 < len(toks) && !strings.Contains(toks[i+1], ":") {
				if kind != "exp" || isDuration(toks[i+1]) {
					t += "," + toks[i+1]
					i++
				}
			}
			out = append(out, t)
		}
	}
	return out
}

func isDuration(s string) bool {
	_, err := scenarios.ParseDuration(s)
	return err == nil
}

// steadyReplay spells the replay command of a steady-state run.
func steadyReplay(replay func(uint64) string, steady time.Duration) func(uint64) string {
	return func(seed uint64) string { return replay(seed) + " --steady-time " + scenarios.FormatDuration(steady) }
}

// parseOptionSet reads a set of protocol options: none, or names joined by
// '+' (prevote+check-quorum).
func parseOptionSet(s string) (raft.Options, error) {
	var o raft.Options
	if s == "none" {
		return o, nil
	}
	for _, name := range strings.Split(s, "+") {
		flag := o.Flag(name)
		if flag == nil {
			return o, fmt.Errorf("unknown option %q (want none, or %s joined by +)", name, strings.Join(raft.OptionNames, ", "))
		}
		*flag = true
	}
	return o, nil
}
