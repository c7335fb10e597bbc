package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// weighing is --config-trials of run and check: how many trials of a
// liveness failure's own configuration weigh it.
type weighing struct{ trials *int }

func weighFlag(fs *pflag.FlagSet) weighing {
	return weighing{fs.Int("config-trials", runner.DefaultWeighTrials, fmt.Sprintf(
		"weigh a liveness or check failure: run its configuration over this many other seeds, derived from the failing one, and report how often it misses the same expectation (0: do not; at most %d)", scenarios.MaxTrials))}
}

// check checks the flag's value once the command line is parsed.
func (wf weighing) check() error {
	if n := *wf.trials; n < 0 || n > scenarios.MaxTrials {
		return badUsage("--config-trials: want 0 to %d, got %d", scenarios.MaxTrials, n)
	}
	return nil
}

// weigh weighs failure f of the trial with the given seed of configuration
// s, on workers workers with a progress bar on errw; nil when f is a
// safety failure ([runner.Expectation]) or the flag is 0.
func (wf weighing) weigh(s *scenarios.Scenario, seed uint64, f *trial.Failure, workers int, errw io.Writer) (*report.Weighed, error) {
	n := *wf.trials
	if n == 0 || runner.Expectation(f) == "" {
		return nil, nil
	}
	bar := newProgress(errw, "check", n, "trials weighing the failure")
	defer bar.finish()
	w, err := runner.Weigh(s, seed, f, runner.Options{Trials: n, Workers: workers, Progress: bar.set})
	if err != nil {
		return nil, err
	}
	return report.WeighedOf(w), nil
}

// weighRun weighs the first liveness or check failure a run's aggregate lists, in
// the run's report rep of scenario s: all trials of a run share their
// configuration, so one weight says it.
func (wf weighing) weighRun(rep *report.Run, agg *runner.Aggregate, s *scenarios.Scenario, workers int, errw io.Writer) error {
	for i := range agg.Failures {
		f := &agg.Failures[i]
		if runner.Expectation(&f.Failure) == "" {
			continue
		}
		w, err := wf.weigh(s, f.Seed, &f.Failure, workers, errw)
		if err == nil && w != nil {
			rep.Failures[i].Weighed = w
		}
		return err
	}
	return nil
}
