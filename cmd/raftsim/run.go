package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/find"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/spf13/pflag"
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

type outputFlags struct {
	workers int
	format  string
	out     string
}

func (o *outputFlags) register(fs interface {
	IntVar(*int, string, int, string)
	StringVar(*string, string, string, string)
}) {
	fs.IntVar(&o.workers, "workers", defaultWorkers(), "parallel workers (the output does not depend on it)")
	fs.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	fs.StringVar(&o.out, "out", "", "write the output to this file (whole or not at all) instead of stdout, and a one-line summary to stderr; - is stdout")
}

// file is where the report goes: --out, or standard output.
func (o *outputFlags) file() outputFile {
	if o.out == "" {
		return outputFile{"--out", "-"}
	}
	return outputFile{"--out", o.out}
}

// parse parses the command line, then checks the output flags and returns
// the format. The command checks the output files with [checkOutputs]
// once it knows them all.
func (o *outputFlags) parse(fs *pflag.FlagSet, args []string, out io.Writer) (report.Format, error) {
	if err := parse(fs, args, out); err != nil {
		return "", err
	}
	f, err := report.ParseFormat(o.format)
	if err != nil {
		return "", badUsage("--format: %v", err)
	}
	if o.workers < 1 {
		return "", badUsage("--workers: want at least 1, got %d", o.workers)
	}
	return f, nil
}

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
	fs := newFlags("run", "run [SCENARIO] [FLAGS]", runAbout+"  "+strings.Join(find.Syntax(), "\n  ")+"\n", runExamples, errw)
	var of outputFlags
	overrides := overrideFlags(fs, nil)
	steadyFlag := fs.String("steady-time", "", "also measure stability (needless elections, leader changes, disruptions and time without a working leader per hour) over this much steady state (default: the scenario's steady.duration, or none)")
	findFlags := fs.StringArray("find", nil, "list the trials that held and match KIND, with their replay commands (repeatable; see below)")
	samplesPath := samplesFlag(fs)
	of.register(fs)
	shardText := shardFlag(fs)
	format, err := of.parse(fs, args, out)
	if err != nil {
		return err
	}
	var queries, steadyQueries []*find.Query
	for _, text := range *findFlags {
		q, err := find.Parse(text)
		if err != nil {
			return badUsage("--find: %v", err)
		}
		if q.Steady() {
			steadyQueries = append(steadyQueries, q)
		} else {
			queries = append(queries, q)
		}
	}
	samplesFile := outputFile{"--samples", *samplesPath}
	if err := checkOutputs(of.file(), samplesFile); err != nil {
		return err
	}
	sh, err := newSharding(fs, *shardText, m)
	if err != nil {
		return err
	}
	o, err := overrides()
	if err != nil {
		return err
	}
	s, arg, err := loadScenario(sh.load, fs.Args(), o)
	if err != nil {
		return err
	}
	plan, err := trial.NewPlan(s)
	if err != nil {
		return err
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(errw, "raftsim: warning: %s\n", w.Text)
	}
	steady, err := steadyTime(*steadyFlag, s, 0)
	if err != nil {
		return err
	}
	if len(steadyQueries) > 0 && steady == 0 {
		return badUsage("--find %s: looks at steady-state runs: give --steady-time", steadyQueries[0].Text)
	}
	runs, _ := runner.SteadyRuns(steady)
	bar := newProgress(sh.progress(errw), s.Trials+runs, "trials")
	opt := runner.Options{Trials: s.Trials, Seed: s.Seed, Workers: of.workers, Progress: bar.set, Queries: queries}
	samplesOut := newTrialSamples(samplesFile, s.Trials)
	opt.Trial = samplesOut.record()
	agg := sh.run(0, plan, opt)
	replay := replayFunc(arg, o)
	rep := report.NewRun(s, agg, replay)
	rep.Overrides = o.Flags()
	rep.Found = report.FoundOf(agg, replay)
	if steady > 0 {
		st, err := sh.runSteady(0, s, steady, runner.Options{Seed: s.Seed, Workers: of.workers,
			Progress: func(n int) { bar.set(s.Trials + n) }, Queries: steadyQueries})
		if err != nil {
			return err
		}
		steadyReplay := replayFunc(arg, o, steadyArgs(steady)...)
		rep.Stability = report.StabilityOf(st, steadyReplay)
		rep.Found = append(rep.Found, report.FoundOf(st, steadyReplay)...)
		if st.Failed > 0 {
			agg.Failed += st.Failed
		}
	}
	bar.finish()
	if done, err := sh.finish(of.file(), out, false); done || err != nil {
		return err
	}
	if err := samplesOut.write(out, s, s.Trials); err != nil {
		return err
	}
	if err := of.file().write(out, func(w io.Writer) error { return rep.Write(w, format) }); err != nil {
		return err
	}
	ran := fmt.Sprintf("%d trials", agg.Trials)
	if rep.Stability != nil {
		ran += fmt.Sprintf(" and %d steady-state runs", rep.Stability.Runs)
	}
	files := []outputFile{of.file()}
	if *samplesPath != "" {
		files = append(files, samplesFile)
	}
	summarize(errw, "run "+s.Name, ran, agg.Failed, format, files...)
	if agg.Failed > 0 {
		return errFailed
	}
	return nil
}
