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

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/cost"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/spf13/pflag"
)

const sweepAbout = `Runs a scenario for every combination of the listed values and prints one row
per combination (cell): time to leader (mean, p50, p90, p99, max), the
probability of a split vote with its 95% Wilson interval, mean election rounds,
failed trials, and stability: needless elections, leader changes and time
without a working leader per hour of a healthy cluster's steady state, each
rate with its exact 95% Poisson interval. In each group of cells that differ
only in election timeout, the range the recommendation rule picks is marked
with *: the smallest p99 among ranges whose trials all found a leader, none
failed, and whose needless elections per hour are at most --max-needless with
95% confidence. Where the interval of the range the rule would pick holds
--max-needless, that range runs more steady state (further seeded runs),
doubling up to --max-steady-time; if it still cannot be decided, ? marks it
and a line says what would decide it.

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
  raftsim sweep leader-crash --election-timeout 100-200ms,150-300ms,200-400ms --nodes 3 --loss 0.01 --max-steady-time 48h
  raftsim sweep leader-crash --election-timeout 100-200ms,150-300ms --format json --out sweep.json
  raftsim sweep leader-crash --election-timeout 100-200ms,150-300ms --steady-time 0 --samples times.csv
`

type sweepFlags struct {
	lists             []*[]string // by scenarios.SweptParams: each parameter's flag, as given (repeatable)
	steady, maxSteady string
	maxNeedless       float64
	plots             []string
	title             string
}

func sweepCmd(args []string, out, errw io.Writer) error { return sweepWith(args, out, errw, nil) }

// sweepWith runs raftsim sweep, taking the aggregates from merge m when m
// is set.
func sweepWith(args []string, out, errw io.Writer, m *shard.Merged) error {
	c := newScenarioCommand(commandSpec{name: "sweep", synopsis: "sweep [SCENARIO] [LISTS] [FLAGS]", about: sweepAbout, examples: sweepExamples,
		leave: func(ov *scenarios.Override) bool { return ov.Swept() }}, errw, m)
	var wf sweepFlags
	wf.register(c.fs)
	samplesPath := samplesFlag(c.fs)
	c.guarded()
	c.outputs(true, "")
	c.shardable()
	var files []outputFile // besides --out
	if err := c.parse(args, out, func() []outputFile {
		for _, p := range wf.plots {
			files = append(files, outputFile{"--plot", p})
		}
		if *samplesPath != "" {
			files = append(files, outputFile{"--samples", *samplesPath})
		}
		return files
	}); err != nil {
		return err
	}
	run, rule, err := wf.plan(c, *samplesPath != "")
	if err != nil {
		return err
	}
	sw, err := run.all(rule)
	if err != nil {
		return err
	}
	if done, err := c.sh.finish(c.output.file(), out, false); done || err != nil {
		return err
	}
	if *samplesPath != "" {
		if err := run.writeSamples(outputFile{"--samples", *samplesPath}, out); err != nil {
			return err
		}
	}
	title := wf.title
	if title == "" {
		title = "time to leader: " + sw.Scenario
	}
	if err := writePlots(wf.plots, out, func(format string) ([]byte, error) { return sw.CDFPlot(title, format) }); err != nil {
		return err
	}
	if err := c.output.file().write(out, func(w io.Writer) error { return sw.Write(w, c.format) }); err != nil {
		return err
	}
	summarize(errw, "sweep "+sw.Scenario, scenarios.Count(len(run.cells.Cells), "cell", "cells")+" of "+scenarios.Count(sw.Trials, "trial", "trials"), sw.Failed(), c.format,
		append([]outputFile{c.output.file()}, files...)...)
	if sw.Failed() > 0 {
		return errFailed
	}
	return nil
}

// plan checks the sweep's own flags, lays out its cells, warns about
// them, checks what they will cost and returns how to run them and the
// rule that recommends.
func (wf *sweepFlags) plan(c *scenarioCommand, samples bool) (*sweepRun, sweep.Rule, error) {
	for _, p := range wf.plots {
		if _, err := report.PlotFormat(p); err != nil {
			return nil, sweep.Rule{}, badUsage("--plot: %v", err)
		}
	}
	if !(wf.maxNeedless > 0) {
		return nil, sweep.Rule{}, badUsage("--max-needless: want above 0, got %g: no length of steady state shows a rate of 0 "+
			"(its interval always reaches above 0); give a small rate such as 0.1", wf.maxNeedless)
	}
	// The cells are validated, not the scenario: a sweep over --nodes may
	// name nodes that only its larger clusters have.
	raw, arg, err := c.loadRaw()
	if err != nil {
		return nil, sweep.Rule{}, err
	}
	steady, err := steadyTime(wf.steady, raw, time.Hour)
	if err != nil {
		return nil, sweep.Rule{}, err
	}
	maxSteady, err := maxSteadyTime(wf.maxSteady, steady)
	if err != nil {
		return nil, sweep.Rule{}, err
	}
	axes, err := sweep.Axes(raw, wf.given(c.fs))
	if err != nil {
		return nil, sweep.Rule{}, badUsage("%v", err)
	}
	cells, err := sweep.New(raw, c.o, axes)
	if err != nil {
		return nil, sweep.Rule{}, err
	}
	warnCells(c.errw, cells)
	var units []cost.Unit
	for i, cell := range cells.Cells {
		units = append(units, c.cellUnits(i, cell.Scenario, steady)...)
	}
	if err := c.checkCost(units, true); err != nil {
		return nil, sweep.Rule{}, err
	}
	rule := sweep.Rule{MaxNeedlessPerHour: wf.maxNeedless, Steady: steady > 0}
	return &sweepRun{c: c, cells: cells, arg: arg, steady: steady, maxSteady: maxSteady, samples: samples}, rule, nil
}

func (wf *sweepFlags) register(fs *pflag.FlagSet) {
	for _, p := range scenarios.SweptParams {
		wf.lists = append(wf.lists, fs.StringArray(p.Flag, nil, p.Help()))
	}
	fs.StringVar(&wf.steady, "steady-time", "", "virtual time of steady state per cell for the stability columns; 0 turns them off (default: the scenario's steady.duration, or 1h)")
	fs.Float64Var(&wf.maxNeedless, "max-needless", 1, "recommendation rule: the most needless elections per hour a recommended range may have, shown with 95% confidence")
	fs.StringVar(&wf.maxSteady, "max-steady-time", "", fmt.Sprintf("the most steady state a cell gets when the interval of its needless elections per hour holds --max-needless: such cells run more, doubling, up to this (default %s, or --steady-time if longer)", hoursText(defaultMaxSteady)))
	fs.StringArrayVar(&wf.plots, "plot", nil, "also draw the CDF of time to leader, one line per cell, to FILE.svg or FILE.png (repeatable; - or no extension: SVG)")
	fs.StringVar(&wf.title, "title", "", "the plot's title (default: the scenario's name)")
}

// sweepRun runs the cells of a sweep, each one's trials and steady-state
// runs, and keeps their samples when asked to.
type sweepRun struct {
	c                 *scenarioCommand
	cells             *sweep.Sweep
	arg               string
	steady, maxSteady time.Duration
	samples           bool
	trials            []samples.Trials // of each cell, with --samples
}

// all runs every cell and returns the sweep's report, its recommendation
// marked by rule; ^C ends it with errInterrupted. Cells whose stability
// the rule cannot yet judge, where it matters, get more steady state
// ([sweepRun.more]).
func (r *sweepRun) all(rule sweep.Rule) (*report.Sweep, error) {
	c, cells := r.c, r.cells
	plans := make([]*trial.Plan, len(cells.Cells))
	for i, cell := range cells.Cells {
		plans[i] = trial.NewPlan(cell.Scenario)
	}
	base := cells.Cells[0].Scenario // what every cell shares: name, seed, trials, measure
	runs, _ := runner.SteadyRuns(r.steady)
	bar := newProgress(c.progress(), "sweep", len(cells.Cells)*(base.Trials+runs), unitsDone(runs))
	defer bar.finish()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	interrupted := func() bool { return ctx.Err() != nil }
	aggs, steadies := make([]*runner.Aggregate, len(cells.Cells)), make([]*runner.Aggregate, len(cells.Cells))
	done := 0
	for i, cell := range cells.Cells {
		s := cell.Scenario
		opt := runner.Options{Trials: s.Trials, Seed: s.Seed, Workers: c.output.workers,
			Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}
		if r.samples {
			r.trials = append(r.trials, make(samples.Trials, s.Trials))
			opt.Trial = r.trials[i].Record
		}
		aggs[i] = c.sh.run(i, plans[i], opt)
		done += s.Trials
		if r.steady > 0 && !interrupted() {
			var err error
			if steadies[i], err = c.sh.runSteady(i, s, r.steady, runner.Options{Seed: s.Seed, Workers: c.output.workers,
				Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}); err != nil {
				return nil, err
			}
			done += runs
		}
		if interrupted() {
			return nil, errInterrupted
		}
	}
	outcomes := make([]sweep.Outcome, len(cells.Cells))
	for i := range cells.Cells {
		outcomes[i] = sweep.OutcomeOf(aggs[i], steadies[i])
	}
	if err := r.more(rule, aggs, steadies, outcomes, bar, &done, interrupted); err != nil {
		return nil, err
	}
	sw := &report.Sweep{Scenario: base.Name, Description: base.Description, Overrides: c.o.Flags(), Seed: base.Seed, Trials: base.Trials,
		Varied: cells.Varied(), Measure: report.MeasureOf(base), SteadyHours: report.Num(float64(r.steady) / float64(time.Hour)),
		Rule: report.Rule{Text: rule.Text(cells), MaxNeedlessPerHour: rule.MaxNeedlessPerHour, Confidence: 0.95,
			MaxSteadyHours: report.Num(float64(r.maxSteady) / float64(time.Hour))}}
	for i, cell := range cells.Cells {
		sw.AddCell(cell.Values, cell.Scenario, aggs[i], steadies[i], replayFunc(r.arg, cell.Overrides),
			replayFunc(r.arg, cell.Overrides, steadyArgs(r.steady)...))
	}
	sw.Mark(rule.Recommend(cells, outcomes))
	return sw, nil
}

// more gives the cells the rule cannot yet judge, where their verdict
// matters ([sweep.Rule.NeedMore]), more steady state ([topUp]). A shard
// runs none (it sees only its part of each cell; the merge runs them, as
// the unsharded sweep does).
func (r *sweepRun) more(rule sweep.Rule, aggs, steadies []*runner.Aggregate, outcomes []sweep.Outcome, bar *progress, done *int, interrupted func() bool) error {
	c := r.c
	if r.steady <= 0 || c.sh.partial != nil {
		return nil
	}
	runs0, _ := runner.SteadyRuns(r.steady)
	t := &topUp{steady: r.steady, most: r.maxSteady, workers: c.output.workers, bar: bar,
		total: len(r.cells.Cells) * (r.cells.Cells[0].Scenario.Trials + runs0), done: *done, interrupted: interrupted}
	extra, err := t.run(func(i int) *scenarios.Scenario { return r.cells.Cells[i].Scenario }, steadies,
		func() []int { return rule.NeedMore(r.cells, outcomes) },
		func(i int) { outcomes[i] = sweep.OutcomeOf(aggs[i], steadies[i]) })
	*done = t.done
	if err != nil {
		return err
	}
	if c.sh.merged != nil && extra > 0 {
		fmt.Fprintf(c.errw, "raftsim merge: ran %s more here, for cells the shards' steady state could not judge (as the unsharded sweep does)\n",
			scenarios.Count(extra, "steady-state run", "steady-state runs"))
	}
	return nil
}

// topUp gives cells more steady state, round after round: in each round
// every cell that still needs more has its runs doubled, up to most, with
// the seeds their indexes give, so that the runs, and so the report, are
// the same at any --workers and with any shards.
type topUp struct {
	steady, most time.Duration
	workers      int
	bar          *progress
	total, done  int // the progress bar's: units in all, and done so far
	interrupted  func() bool
}

// run tops up the cells need names, again until it names none that can
// grow: steadies[i] takes in each cell's new runs, then update(i) says so.
// It returns how many runs it added; ^C ends it with errInterrupted.
func (t *topUp) run(scenario func(i int) *scenarios.Scenario, steadies []*runner.Aggregate, need func() []int, update func(i int)) (int, error) {
	runs0, each := runner.SteadyRuns(t.steady)
	most := int(t.most / each)
	have := map[int]int{} // runs a cell has, when more than runs0; looked up only
	runs := func(i int) int { return max(runs0, have[i]) }
	extra := 0
	for {
		grew := false
		for _, i := range need() {
			want := min(2*runs(i), most)
			if want <= runs(i) {
				continue
			}
			t.total += want - runs(i)
			t.bar.grow(t.total)
			s := scenario(i)
			agg, err := runner.RunSteady(s, t.steady, runner.Options{First: runs(i), Trials: want - runs(i), Seed: s.Seed, Workers: t.workers,
				Progress: func(n int) { t.bar.set(t.done + n) }, Stop: t.interrupted})
			if err != nil {
				return extra, err
			}
			if t.interrupted() {
				return extra, errInterrupted
			}
			t.done += want - runs(i)
			extra += want - runs(i)
			sum := &runner.Aggregate{} // a new aggregate: a merge's may share its lists with the shards' totals
			sum.Merge(steadies[i])
			sum.Merge(agg)
			steadies[i] = sum
			have[i], grew = want, true
			update(i)
		}
		if !grew {
			return extra, nil
		}
	}
}

// writeSamples writes every cell's samples to f, each row with the values
// of the axes that vary.
func (r *sweepRun) writeSamples(f outputFile, out io.Writer) error {
	var columns []string
	texts := make([][]string, len(r.cells.Cells))
	for i, cell := range r.cells.Cells {
		var varied, values []string // the axes of two values or more
		for j, a := range r.cells.Axes {
			if len(a.Values) > 1 {
				varied, values = append(varied, a.Name), append(values, cell.Values[j])
			}
		}
		columns, texts[i] = samples.Columns(cell.Scenario, varied, values)
	}
	return writeSamples(f, out, columns, texts, r.trials)
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

// defaultMaxSteady is the most steady state a sweep gives a cell it cannot
// judge, unless --max-steady-time says otherwise: for a true rate a tenth
// of --max-needless 1, enough to show it below in all but about one sweep
// in ten thousand.
const defaultMaxSteady = 24 * time.Hour

// maxSteadyTime reads --max-steady-time: at least steady, the steady state
// every cell gets.
func maxSteadyTime(flag string, steady time.Duration) (time.Duration, error) {
	if flag == "" {
		return max(defaultMaxSteady, steady), nil
	}
	d, err := scenarios.ParseDuration(flag)
	if err != nil {
		return 0, badUsage("--max-steady-time: %v", err)
	}
	if d < steady {
		return 0, badUsage("--max-steady-time %s: below --steady-time %s, the steady state every cell gets", flag, hoursText(steady))
	}
	return d, nil
}

// hoursText writes d in whole hours or minutes when it is one (1h, 30m),
// else as scenarios writes durations.
func hoursText(d time.Duration) string {
	switch {
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return scenarios.FormatDuration(d)
}

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
func (wf *sweepFlags) given(fs interface{ Changed(string) bool }) map[string][]string {
	lists := map[string][]string{}
	for k, p := range scenarios.SweptParams {
		if !fs.Changed(p.Flag) {
			continue
		}
		split := splitList
		if p.Flag == "latency" {
			split = splitDistsText // a distribution may hold a comma
		}
		list := []string{}
		for _, text := range *wf.lists[k] {
			list = append(list, split(text)...)
		}
		lists[p.Flag] = list
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
// distribution: "normal:7ms,2ms,exp:5ms" is two items. A mixture, whose
// parts hold commas, is separated by ';' only.
func splitDistsText(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); strings.HasPrefix(part, "mix:") {
			out = append(out, part)
			continue
		}
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
