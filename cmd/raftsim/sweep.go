package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
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
  raftsim sweep leader-crash --election-timeout 100-200ms,150-300ms --steady-time 0 --samples times.csv
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

func sweepCmd(args []string, out, errw io.Writer) error { return sweepWith(args, out, errw, nil) }

// sweepWith runs raftsim sweep, taking the aggregates from merge m when m
// is set.
func sweepWith(args []string, out, errw io.Writer, m *shard.Merged) error {
	fs := newFlags("sweep", "sweep [SCENARIO] [LISTS] [FLAGS]", sweepAbout, sweepExamples, errw)
	var of outputFlags
	var wf sweepFlags
	fs.StringVar(&wf.election, "election-timeout", "", "election timeout ranges, e.g. 50ms-100ms,150ms-300ms,500ms-1s")
	fs.StringVar(&wf.nodes, "nodes", "", "cluster sizes, e.g. 3,5,7")
	fs.StringArrayVar(&wf.latency, "latency", nil, "latency distributions, e.g. 'uniform:5ms-10ms;exp:2ms,5ms' (see raftsim run --help)")
	fs.StringVar(&wf.loss, "loss", "", "loss probabilities, e.g. 0,0.01")
	fs.StringVar(&wf.heartbeat, "heartbeat", "", "heartbeat intervals, e.g. 25ms,50ms or 50% (of the minimum election timeout)")
	fs.StringVar(&wf.options, "options", "", "protocol option sets, '+' within a set: e.g. none,prevote,check-quorum,prevote+check-quorum (also leader-stickiness)")
	overrides := overrideFlags(fs, func(ov *scenarios.Override) bool { return ov.Swept })
	fs.StringVar(&wf.steady, "steady-time", "", "virtual time of steady state per cell for the stability columns; 0 turns them off (default: the scenario's steady.duration, or 1h)")
	fs.Float64Var(&wf.maxNeedless, "max-needless", 1, "recommendation rule: the most needless elections per hour a recommended range may have")
	fs.StringArrayVar(&wf.plots, "plot", nil, "also draw the CDF of time to leader, one line per cell, to FILE.svg or FILE.png (repeatable; - or no extension: SVG)")
	fs.StringVar(&wf.title, "title", "", "the plot's title (default: the scenario's name)")
	samplesPath := samplesFlag(fs)
	of.register(fs)
	shardText := shardFlag(fs)
	format, err := of.parse(fs, args, out)
	if err != nil {
		return err
	}
	sh, err := newSharding(fs, *shardText, m)
	if err != nil {
		return err
	}
	files := []outputFile{of.file()}
	for _, p := range wf.plots {
		if _, err := report.PlotFormat(p); err != nil {
			return badUsage("--plot: %v", err)
		}
		files = append(files, outputFile{"--plot", p})
	}
	samplesFile := outputFile{"--samples", *samplesPath}
	if *samplesPath != "" {
		files = append(files, samplesFile)
	}
	if err := checkOutputs(files...); err != nil {
		return err
	}
	if wf.maxNeedless < 0 {
		return badUsage("--max-needless: want 0 or more, got %g", wf.maxNeedless)
	}
	o, err := overrides()
	if err != nil {
		return err
	}
	// The cells are validated, not the scenario: a sweep over --nodes may
	// name nodes that only its larger clusters have.
	raw, arg, err := loadRaw(sh.load, fs.Args())
	if err != nil {
		return err
	}
	steady, err := steadyTime(wf.steady, raw, time.Hour)
	if err != nil {
		return err
	}
	axes, err := sweep.Axes(raw, wf.lists(fs))
	if err != nil {
		return badUsage("%v", err)
	}
	cells, err := sweep.New(raw, o, axes)
	if err != nil {
		return err
	}
	plans := make([]*trial.Plan, len(cells.Cells))
	for i, c := range cells.Cells {
		if plans[i], err = trial.NewPlan(c.Scenario); err != nil {
			return err
		}
	}
	base := cells.Cells[0].Scenario // what every cell shares: name, seed, trials, measure
	warnCells(errw, cells)

	runs, _ := runner.SteadyRuns(steady)
	bar := newProgress(sh.progress(errw), len(cells.Cells)*(base.Trials+runs), "cells")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	interrupted := func() bool { return ctx.Err() != nil }

	rule := sweep.Rule{MaxNeedlessPerHour: wf.maxNeedless, Steady: steady > 0}
	sw := &report.Sweep{Scenario: base.Name, Description: base.Description, Overrides: o.Flags(), Seed: base.Seed, Trials: base.Trials,
		Varied: cells.Varied(), Measure: report.MeasureOf(base), SteadyHours: report.Num(float64(steady) / float64(time.Hour)),
		Rule: report.Rule{Text: rule.Text(cells), MaxNeedlessPerHour: wf.maxNeedless}}
	outcomes := make([]sweep.Outcome, len(cells.Cells))
	done := 0
	var trials []samples.Trials // of each cell, with --samples
	for i, cell := range cells.Cells {
		c := cell.Scenario
		opt := runner.Options{Trials: c.Trials, Seed: c.Seed, Workers: of.workers,
			Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}
		if *samplesPath != "" {
			trials = append(trials, make(samples.Trials, c.Trials))
			opt.Trial = trials[i].Record
		}
		agg := sh.run(i, plans[i], opt)
		done += c.Trials
		var st *runner.Aggregate
		if steady > 0 && !interrupted() {
			if st, err = sh.runSteady(i, c, steady, runner.Options{Seed: c.Seed, Workers: of.workers,
				Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}); err != nil {
				return err
			}
			done += runs
		}
		if interrupted() {
			bar.finish()
			return errInterrupted
		}
		sw.AddCell(cell.Values, c, agg, st, replayFunc(arg, cell.Overrides), replayFunc(arg, cell.Overrides, steadyArgs(steady)...))
		outcomes[i] = sweep.OutcomeOf(agg, st)
	}
	bar.finish()
	if done, err := sh.finish(of.file(), out, false); done || err != nil {
		return err
	}
	sw.Mark(rule.Recommend(cells, outcomes))

	if *samplesPath != "" {
		var columns []string
		texts := make([][]string, len(cells.Cells))
		for i, cell := range cells.Cells {
			var varied, values []string // the axes of two values or more
			for j, a := range cells.Axes {
				if len(a.Values) > 1 {
					varied, values = append(varied, a.Name), append(values, cell.Values[j])
				}
			}
			columns, texts[i] = samples.Columns(cell.Scenario, varied, values)
		}
		if err := writeSamples(samplesFile, out, columns, texts, trials); err != nil {
			return err
		}
	}
	title := wf.title
	if title == "" {
		title = "time to leader: " + base.Name
	}
	if err := writePlots(wf.plots, out, func(format string) ([]byte, error) { return sw.CDFPlot(title, format) }); err != nil {
		return err
	}
	if err := of.file().write(out, func(w io.Writer) error { return sw.Write(w, format) }); err != nil {
		return err
	}
	summarize(errw, "sweep "+base.Name, fmt.Sprintf("%d cells of %d trials", len(cells.Cells), base.Trials), sw.Failed(), format, files...)
	if sw.Failed() > 0 {
		return errFailed
	}
	return nil
}

// warnCells prints each warning the cells' scenarios raise once, naming
// the cells it applies to.
func warnCells(errw io.Writer, cells *sweep.Sweep) {
	var rules []string
	labels := map[string][]string{} // by rule; looked up in the order of rules
	for i := range cells.Cells {
		for _, w := range cells.Cells[i].Scenario.Warnings() {
			if labels[w.Rule] == nil {
				rules = append(rules, w.Rule)
			}
			labels[w.Rule] = append(labels[w.Rule], cells.Label(i))
		}
	}
	for _, rule := range rules {
		l := labels[rule]
		const shown = 4
		more := ""
		if len(l) > shown {
			l, more = l[:shown], fmt.Sprintf("; and %d more", len(l)-shown)
		}
		fmt.Fprintf(errw, "raftsim: warning: %s in %d of %d cells: %s%s\n", rule, len(labels[rule]), len(cells.Cells), strings.Join(l, "; "), more)
	}
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

// lists returns the lists the sweep's flags gave, by flag name: only the
// flags given, each even when its list is empty.
func (wf *sweepFlags) lists(fs interface{ Changed(string) bool }) map[string][]string {
	var lats []string
	for _, l := range wf.latency {
		lats = append(lats, splitDistsText(l)...)
	}
	lists := map[string][]string{}
	for name, list := range map[string][]string{"nodes": splitList(wf.nodes), "latency": lats, "loss": splitList(wf.loss),
		"heartbeat": splitList(wf.heartbeat), "options": splitList(wf.options), "election-timeout": splitList(wf.election)} {
		if fs.Changed(name) {
			lists[name] = list
		}
	}
	return lists
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

// steadyArgs are the replay flags of a steady-state run of steady time.
func steadyArgs(steady time.Duration) []string {
	return []string{"--steady-time", scenarios.FormatDuration(steady)}
}
