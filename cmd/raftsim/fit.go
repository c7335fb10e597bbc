package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/raftsim/raftsim/internal/runner/cost"
	"github.com/raftsim/raftsim/internal/study/fit"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/spf13/pflag"
)

const fitAbout = `Calibrates the network model from measured times to leader: it searches the
one-way latency distribution (and with --fit, the disk write time and the
timer lateness) whose simulated trials of SCENARIO look most like the
measurements, so that predictions for other election timeouts rest on your
own network.

--data FILE.csv holds one row per measured trial (raftsim run --samples and
raftsim sweep --samples write the same format): the columns election_timeout
(such as 150ms-300ms) and time_to_leader_ms (empty for a trial that found no
leader), and optionally nodes, heartbeat and loss. Each set of conditions is
simulated with its own values, and all are fitted at once; --data again adds
another file's rows (a live run per election timeout, say). Without samples,
--target gives published figures instead (repeatable).

The fit minimises, for samples, the sum over ranges of the two-sample
Cramér-von Mises statistic between measured and simulated times (trials
without a leader count as longer than any); for targets, the sum of
ln(simulated/target)². A coarse grid starts a Nelder-Mead search; every
candidate runs the same trial seeds, --trials of them per range (default:
the scenario's trials). It prints the fitted parameters with a
bootstrap uncertainty, and per range the Kolmogorov-Smirnov statistic and
p-value. The same inputs print the same bytes at any --workers.

Under the fitted model the report says whether the search converged, which
estimates sit on a bound of the range searched, and whether the best model is
consistent with the measurements at the 5% level (each range's KS p-value, or
each published figure against resamples of the model's trials). When it is
not, nothing fits: the report still prints, --out is not written, and the exit
status is 1. A fit over more components (--fit) starts from the best fit over
fewer and never ends worse. --out's file names what it was fitted to.
`

const fitExamples = `  raftsim run leader-crash --latency uniform:2ms-4ms --seed 2 --samples times.csv
  raftsim fit leader-crash --data times.csv --plot fit.svg
  raftsim fit leader-crash --data times.csv --family auto --fit latency,persist --format json
  raftsim fit figure16 --target 150ms-155ms:p50=287ms --target 12ms-24ms:mean=35ms --out fitted.yaml
`

// fitFlags are fit's own flags.
type fitFlags struct {
	data, targets, plots []string
	comps, family        string
	boot, workers        int
	outPath, title       string
	format               string
	guards               costGuards
}

// checkCost calibrates what the fit will simulate, at most, and says so
// or refuses to start as run does ([costVerdict]).
func (ff *fitFlags) checkCost(errw io.Writer, prob *fit.Problem) error {
	groups, each, err := fit.Work(prob)
	if err != nil {
		return badUsage("fit: %v", err)
	}
	var units []cost.Unit
	for _, s := range groups {
		units = append(units, cost.Unit{Scenario: s, Count: each})
	}
	limit, fromFlag := cost.MachineMemory(), ff.guards.maxMemory != ""
	if fromFlag {
		if limit, err = cost.ParseBytes(ff.guards.maxMemory); err != nil {
			return badUsage("--max-memory: %v", err)
		}
	}
	return costVerdict(errw, "fit", cost.Calibrate(units, ff.workers), ff.workers, limit, fromFlag, cost.MachineMemory(), ff.guards.yes,
		"fewer --trials per range, fewer families (--family) or components (--fit), or a smaller --bootstrap")
}

func (ff *fitFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&ff.data, "data", nil, "measured times to leader: a CSV file with one row per trial (see above; repeatable: the files' rows are fitted together)")
	fs.StringArrayVar(&ff.targets, "target", nil, "a published figure RANGE:STAT=VALUE, STAT one of mean, p50, p90, p99, max, e.g. 150ms-155ms:p50=287ms (repeatable)")
	fs.StringVar(&ff.comps, "fit", "latency", "what to fit: latency, and also persist (disk write time, uniform) and jitter (timer lateness, uniform from 0)")
	fs.StringVar(&ff.family, "family", "uniform", "latency family: uniform, normal, lognormal, exp, or auto (all four, the best kept)")
	fs.IntVar(&ff.boot, "bootstrap", 200, "bootstrap replicates for the uncertainty (0: none)")
	fs.StringVar(&ff.outPath, "out", "", "write the scenario with the fitted network to this YAML file, for raftsim run and sweep")
	fs.StringArrayVar(&ff.plots, "plot", nil, "draw each range's measured CDF (or published figures) against the fitted one to FILE.svg or FILE.png (repeatable)")
	fs.StringVar(&ff.title, "title", "", "the plot's title (default: fit of the scenario's name)")
}

func fitCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("fit", "fit SCENARIO (--data FILE.csv | --target RANGE:STAT=VALUE ...) [FLAGS]", fitAbout, fitExamples, errw)
	var ff fitFlags
	ff.register(fs)
	overrides := overrideFlags(fs, func(ov *scenarios.Override) bool { return ov.Flag == "election-timeout" })
	fs.IntVar(&ff.workers, "workers", defaultWorkers(), "parallel workers (the output does not depend on it)")
	fs.StringVar(&ff.guards.maxMemory, "max-memory", "", "refuse to start when the calibrated estimate of the memory needed is above this, e.g. 8GB (default: this machine's memory)")
	fs.BoolVar(&ff.guards.yes, "yes", false, "start even when the calibrated estimate of the wall-clock time is over an hour")
	fs.StringVar(&ff.format, "format", "table", "output format: table or json")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	format, err := report.ParseFormat(ff.format)
	if err != nil || format == report.CSV {
		return badUsage("--format: want table or json, got %q", ff.format)
	}
	if ff.workers < 1 {
		return badUsage("--workers: want at least 1, got %d", ff.workers)
	}
	files := []outputFile{{"--out", ff.outPath}}
	for _, p := range ff.plots {
		if _, err := report.PlotFormat(p); err != nil {
			return badUsage("--plot: %v", err)
		}
		files = append(files, outputFile{"--plot", p})
	}
	if err := checkOutputs(files...); err != nil {
		return err
	}
	prob, err := ff.problem(fs, overrides)
	if err != nil {
		return err
	}
	if err := ff.checkCost(errw, prob); err != nil {
		return err
	}
	res, err := runFit(prob, errw)
	if err != nil {
		return badUsage("fit: %v", err)
	}
	rep := report.NewFit(prob.Scenario.Name, res)
	t := ff.title
	if t == "" {
		t = "fit of " + prob.Scenario.Name + ": measured (solid) and fitted (dashed)"
		if len(ff.targets) > 0 {
			t = "fit of " + prob.Scenario.Name + ": published figures (points) and fitted (dashed)"
		}
	}
	if err := writePlots(ff.plots, out, func(format string) ([]byte, error) { return rep.Plot(t, format) }); err != nil {
		return err
	}
	if !res.Consistent {
		if err := rep.Write(out, format); err != nil {
			return err
		}
		written := ""
		if ff.outPath != "" {
			written = "; --out " + ff.outPath + " not written"
		}
		fmt.Fprintf(errw, "raftsim fit: nothing fits: the best model (%s) is not consistent with the %s at the %g%% level: %s%s. "+
			"Check that the measurements come from this scenario under these conditions (election timeout, cluster size, the fault measured from); "+
			"a fit over more (--family auto, --fit latency,persist,jitter) may do better\n",
			rep.Flags(), rep.Observed(), 100*res.Level, strings.Join(rep.Rejections(), "; "), written)
		return errFailed
	}
	if ff.outPath != "" {
		if err := files[0].write(out, func(w io.Writer) error {
			_, err := w.Write(rep.ScenarioFile(commandLine(append([]string{"raftsim", "fit"}, args...)...), ff.sources()))
			return err
		}); err != nil {
			return err
		}
	}
	return rep.Write(out, format)
}

// sources names what the fit is fitted to: the data files, or the
// published figures.
func (ff *fitFlags) sources() []string {
	if len(ff.data) > 0 {
		return ff.data
	}
	return ff.targets
}

// problem reads the fit's problem from the flags: what to fit, to which
// scenario, from which observations.
func (ff *fitFlags) problem(fs *pflag.FlagSet, overrides func() (scenarios.Overrides, error)) (*fit.Problem, error) {
	prob := &fit.Problem{Bootstrap: ff.boot, Workers: ff.workers}
	var err error
	if prob.Fit, err = fit.ParseComponents(ff.comps); err != nil {
		return nil, badUsage("--fit: %v", err)
	}
	if prob.Families, err = fit.ParseFamily(ff.family); err != nil {
		return nil, badUsage("--family: %v", err)
	}
	if prob.Overrides, err = overrides(); err != nil {
		return nil, err
	}
	if len(fs.Args()) == 0 {
		return nil, badUsage("fit: want the scenario the measurements come from, such as leader-crash or my-cluster.yaml")
	}
	if prob.Scenario, _, err = loadRaw(scenarios.Load, fs.Args()); err != nil {
		return nil, err
	}
	if prob.Groups, err = observations(ff.data, ff.targets); err != nil {
		return nil, err
	}
	return prob, nil
}

// runFit runs the fit, with a progress bar on errw once it knows how many
// trials it runs.
func runFit(prob *fit.Problem, errw io.Writer) (*fit.Result, error) {
	var once sync.Once
	var bar *progress
	prob.Progress = func(done, total int) {
		once.Do(func() { bar = newProgress(errw, "fit", total, "simulated trials") })
		bar.set(done)
	}
	res, err := fit.Run(prob)
	if bar != nil {
		bar.finish()
	}
	return res, err
}

// observations reads what the fit is fitted to: the samples of the data
// files, or the targets.
func observations(data, targets []string) ([]fit.Group, error) {
	switch {
	case len(data) > 0 && len(targets) > 0:
		return nil, badUsage("fit: give --data or --target, not both")
	case len(data) > 0:
		var files [][]samples.Group
		for _, path := range data {
			text, err := os.ReadFile(path)
			if err != nil {
				return nil, badUsage("--data: %v", strings.TrimPrefix(err.Error(), "open "))
			}
			gs, err := samples.Read(path, bytes.NewReader(text))
			if err != nil {
				return nil, err
			}
			files = append(files, gs)
		}
		return fit.GroupsOf(samples.Join(files...)), nil
	case len(targets) > 0:
		var ts []fit.Target
		for _, t := range targets {
			x, err := fit.ParseTarget(t)
			if err != nil {
				return nil, badUsage("--target %v", err)
			}
			ts = append(ts, x)
		}
		gs, err := fit.TargetGroups(ts)
		if err != nil {
			return nil, badUsage("--target %v", err)
		}
		return gs, nil
	}
	return nil, badUsage("fit: give the measurements: --data FILE.csv, or published figures with --target RANGE:STAT=VALUE")
}
