package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/find"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

const runAbout = `Runs the trials of a scenario and prints statistics: time to leader, election
rounds, split votes, messages, and how long a removed leader still believed it
led. Every trial checks Raft's safety properties after every event, and the
scenario's expectations at its end; failed trials are listed with the command
that replays them.

SCENARIO is a YAML file (see scenarios/README.md) or a built-in name (raftsim
list); without one, raftsim runs cold-start. Flags override the scenario.
The same scenario and seed print the same bytes at any --workers.

--find KIND lists trials that held but are worth a look, each with its seed
and replay command: by default the 10 that match KIND best (KIND:N lists N),
the same at any --workers. Steady-state runs need --steady-time. KIND is one of:
`

const runExamples = `  raftsim run
  raftsim run leader-crash --trials 10000 --workers 2
  raftsim run staggered-start --find split-vote:3
  raftsim run leader-crash --find 'rounds>=3' --find slowest:5
  raftsim run flaky-link --steady-time 1h --find needless
  raftsim run leader-crash --latency uniform:2ms-4ms --samples times.csv
  raftsim run cold-start --nodes 3 --election-timeout 50ms-100ms --latency exp:2ms,5ms
  raftsim run partition-leader --prevote --check-quorum
  raftsim run my-cluster.yaml --format json --out results.json
`

// summarize prints one line on stderr when the report went to a file, so
// that failures are never silent: what ran, how many failed, and where
// each output went.
func summarize(errw io.Writer, what, ran string, failed int, format report.Format, files ...outputFile) {
	if files[0].toStdout() {
		return
	}
	verdict := "none failed"
	switch {
	case failed > 0 && format == report.CSV:
		verdict = fmt.Sprintf("%d FAILED (--format table or json lists them with their replay commands)", failed)
	case failed > 0:
		verdict = fmt.Sprintf("%d FAILED (listed with their replay commands in %s)", failed, files[0].path)
	}
	var wrote []string
	for i, f := range files {
		name := string(format)
		if i > 0 {
			name = strings.TrimPrefix(f.flag, "--")
		}
		wrote = append(wrote, name+" to "+f.path)
	}
	fmt.Fprintf(errw, "raftsim %s: %s, %s; wrote %s\n", what, ran, verdict, strings.Join(wrote, ", "))
}

func runCmd(args []string, out, errw io.Writer) error { return runWith(args, out, errw, nil) }

// runWith runs raftsim run, taking the aggregates from merge m when m is
// set.
func runWith(args []string, out, errw io.Writer, m *shard.Merged) error {
	c := newScenarioCommand(commandSpec{name: "run", synopsis: "run [SCENARIO] [FLAGS]",
		about: runAbout + "  " + strings.Join(find.Syntax(), "\n  ") + "\n", examples: runExamples}, errw, m)
	steadyFlag := c.fs.String("steady-time", "", "also measure stability (needless elections, leader changes, disruptions and time without a working leader per hour) over this much steady state (default: the scenario's steady.duration, or none)")
	findFlags := c.fs.StringArray("find", nil, "list the trials that held and match KIND, with their replay commands (repeatable; see below)")
	samplesPath := samplesFlag(c.fs)
	wf := weighFlag(c.fs)
	c.guarded()
	c.outputs(true, "")
	c.shardable()
	samplesFile := func() outputFile { return outputFile{"--samples", *samplesPath} }
	if err := c.parse(args, out, func() []outputFile { return []outputFile{samplesFile()} }); err != nil {
		return err
	}
	if err := wf.check(); err != nil {
		return err
	}
	queries, steadyQueries, err := findQueries(*findFlags)
	if err != nil {
		return err
	}
	s, arg, err := c.load()
	if err != nil {
		return err
	}
	steady, err := steadyTime(*steadyFlag, s, 0)
	if err != nil {
		return err
	}
	if len(steadyQueries) > 0 && steady == 0 {
		return badUsage("--find %s: looks at steady-state runs: give --steady-time", steadyQueries[0].Text)
	}
	if err := c.checkCost(c.cellUnits(0, s, steady), true); err != nil {
		return err
	}
	samplesOut := newTrialSamples(samplesFile(), s.Trials)
	rep, agg, err := runReport(c, s, arg, steady, queries, steadyQueries, samplesOut.record())
	if err != nil {
		return err
	}
	if done, err := c.sh.finish(c.output.file(), out, false); done || err != nil {
		return err
	}
	if err := wf.weighRun(rep, agg, s, c.output.workers, c.progress()); err != nil {
		return err
	}
	if err := samplesOut.write(out, s, s.Trials); err != nil {
		return err
	}
	if err := c.output.file().write(out, func(w io.Writer) error { return rep.Write(w, c.format) }); err != nil {
		return err
	}
	ran := scenarios.Count(agg.Trials, "trial", "trials")
	if rep.Stability != nil {
		ran += " and " + scenarios.Count(rep.Stability.Runs, "steady-state run", "steady-state runs")
	}
	files := []outputFile{c.output.file()}
	if *samplesPath != "" {
		files = append(files, samplesFile())
	}
	summarize(errw, "run "+s.Name, ran, agg.Failed, c.format, files...)
	if agg.Failed > 0 {
		return errFailed
	}
	return nil
}

// findQueries parses --find's queries: those about trials, and those
// about steady-state runs.
func findQueries(texts []string) (trials, steady []*find.Query, err error) {
	for _, text := range texts {
		q, err := find.Parse(text)
		if err != nil {
			return nil, nil, badUsage("--find: %v", err)
		}
		if q.Steady() {
			steady = append(steady, q)
		} else {
			trials = append(trials, q)
		}
	}
	return trials, steady, nil
}

// runReport runs the trials of s, hearing each in record, and, for steady
// above 0, its steady-state runs, and returns run's report of them and
// the aggregate of both (a steady-state run that failed counts as failed).
func runReport(c *scenarioCommand, s *scenarios.Scenario, arg string, steady time.Duration, queries, steadyQueries []*find.Query,
	record func(int, *trial.Result)) (*report.Run, *runner.Aggregate, error) {
	plan := trial.NewPlan(s)
	runs, _ := runner.SteadyRuns(steady)
	bar := newProgress(c.progress(), "run", s.Trials+runs, unitsDone(runs))
	defer bar.finish()
	w := c.output.workers
	agg := c.sh.run(0, plan, runner.Options{Trials: s.Trials, Seed: s.Seed, Workers: w, Progress: bar.set, Queries: queries, Trial: record})
	replay := replayFunc(arg, c.o)
	rep := report.NewRun(s, agg, replay)
	rep.Overrides = c.o.Flags()
	rep.Found = report.FoundOf(agg, replay)
	if steady == 0 {
		return rep, agg, nil
	}
	st, err := c.sh.runSteady(0, s, steady, runner.Options{Seed: s.Seed, Workers: w,
		Progress: func(n int) { bar.set(s.Trials + n) }, Queries: steadyQueries})
	if err != nil {
		return nil, nil, err
	}
	steadyReplay := replayFunc(arg, c.o, steadyArgs(steady)...)
	rep.Stability = report.StabilityOf(st, steadyReplay)
	rep.Found = append(rep.Found, report.FoundOf(st, steadyReplay)...)
	agg.Failed += st.Failed
	return rep, agg, nil
}
