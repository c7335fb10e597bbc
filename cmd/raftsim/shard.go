package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/scenarios"
)

// sharding is how a command gets its aggregates: by running all its
// trials (no --shard), by running the part shard K of N owns (--shard K/N:
// the command then writes a partial result instead of its report), or by
// taking them from the shards' partial results (raftsim merge). Commands
// call it where they would call runner, so that a merge prints through
// the very code that prints the unsharded command.
type sharding struct {
	partial *shard.Partial // with --shard: what this shard ran
	merged  *shard.Merged  // in a merge: what the shards ran
	err     error          // the first aggregate a merge could not take
}

// shardFlag registers --shard on fs.
func shardFlag(fs *pflag.FlagSet) *string {
	return fs.String("shard", "", fmt.Sprintf("run only shard K of N (K from 1) and write its partial result for raftsim merge; auto/N takes K from %s (a Kubernetes Indexed Job) or %s (a Slurm job array)",
		shard.EnvKubernetes, shard.EnvSlurm))
}

// newSharding returns how the command parsed by fs runs: in merge m when m
// is set, else as --shard text says.
func newSharding(fs *pflag.FlagSet, text string, m *shard.Merged) (*sharding, error) {
	switch {
	case m != nil && text != "":
		return nil, badUsage("merge: the partial results' command has --shard")
	case m != nil:
		return &sharding{merged: m}, nil
	case text == "":
		return &sharding{}, nil
	}
	spec, err := shard.Parse(text, os.Getenv)
	if err != nil {
		return nil, badUsage("--shard %v", err)
	}
	if fs.Changed("samples") {
		return nil, badUsage("--samples with --shard: a shard runs only some of the trials, and partial results carry no samples; write samples unsharded")
	}
	return &sharding{partial: &shard.Partial{Format: shard.FormatVersion, Version: shard.Version(), Command: fs.Name(),
		Flags: mergedFlags(fs), Args: fs.Args(), Shard: spec}}, nil
}

// mergedFlags returns the flags given to fs as merge gives them back to
// the command: each --name=value in the order the command defines them,
// leaving out those that do not change what it prints (--shard, --out,
// --workers, --max-memory, --yes).
func mergedFlags(fs *pflag.FlagSet) []string {
	flags := []string{}
	fs.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "shard", "out", "workers", "max-memory", "yes":
			return
		}
		values := []string{f.Value.String()}
		if list, ok := f.Value.(pflag.SliceValue); ok {
			values = list.GetSlice()
		}
		for _, v := range values {
			flags = append(flags, "--"+f.Name+"="+v)
		}
	})
	return flags
}

// progress returns where a progress bar may go: errw, or nowhere for a
// shard (several often share one terminal).
func (sh *sharding) progress(errw io.Writer) io.Writer {
	if sh.partial != nil {
		return io.Discard
	}
	return errw
}

// load loads scenario arg: a shard keeps the file's text for the merge,
// and a merge parses the text the shards kept, so it needs no file.
func (sh *sharding) load(arg string) (*scenarios.Scenario, error) {
	if m := sh.merged; m != nil {
		if m.Scenario == nil {
			return scenarios.Builtin(arg)
		}
		return scenarios.Parse(arg, []byte(*m.Scenario))
	}
	s, text, err := scenarios.LoadText(arg)
	if sh.partial != nil && text != nil {
		t := string(text)
		sh.partial.Scenario = &t
	}
	return s, err
}

// uses notes that trials of s run (or, in a merge, ran): a shard keeps
// the data files they read in its partial result, and a merge checks
// that it read the same. A merge that did not reports why in
// [sharding.finish].
func (sh *sharding) uses(s *scenarios.Scenario) {
	var files []shard.DataFile
	for _, f := range s.DataFiles() {
		files = append(files, shard.DataFile{Path: f.Path, SHA256: f.SHA256})
	}
	switch {
	case sh.partial != nil:
		sh.partial.AddData(files...)
	case sh.merged != nil && sh.err == nil:
		if err := sh.merged.CheckData(files); err != nil {
			sh.err = fmt.Errorf("merge: %v", err)
		}
	}
}

// run is runner.Run of cell's trials (cell 0 for raftsim run). A merge
// that cannot take them returns an empty aggregate and reports why in
// [sharding.finish].
func (sh *sharding) run(cell int, plan *trial.Plan, opt runner.Options) *runner.Aggregate {
	sh.uses(plan.Scenario)
	switch {
	case sh.merged != nil:
		agg, err := sh.merged.Aggregate(shard.Trials, cell, opt.Trials, opt.Queries)
		if err != nil {
			if sh.err == nil {
				sh.err = fmt.Errorf("merge: %v", err)
			}
			return &runner.Aggregate{}
		}
		return agg
	case sh.partial != nil:
		agg, _ := sh.runPart(shard.Trials, cell, opt.Trials, opt, func(opt runner.Options) (*runner.Aggregate, error) {
			return runner.Run(plan, opt), nil // no error to return
		})
		return agg
	}
	return runner.Run(plan, opt)
}

// runSteady is runner.RunSteady of cell's steady-state runs.
func (sh *sharding) runSteady(cell int, s *scenarios.Scenario, total time.Duration, opt runner.Options) (*runner.Aggregate, error) {
	runs, _ := runner.SteadyRuns(total)
	sh.uses(s)
	switch {
	case runs == 0:
	case sh.merged != nil:
		agg, err := sh.merged.Aggregate(shard.Steady, cell, runs, opt.Queries)
		if err != nil {
			return nil, fmt.Errorf("merge: %v", err)
		}
		return agg, nil
	case sh.partial != nil:
		return sh.runPart(shard.Steady, cell, runs, opt, func(opt runner.Options) (*runner.Aggregate, error) {
			return runner.RunSteady(s, total, opt)
		})
	}
	return runner.RunSteady(s, total, opt)
}

// runPart runs with do this shard's part of cell's of units of kind, and
// keeps it in the partial result.
func (sh *sharding) runPart(kind shard.Kind, cell, of int, opt runner.Options, do func(runner.Options) (*runner.Aggregate, error)) (*runner.Aggregate, error) {
	lo, hi := sh.partial.Shard.Slice(cell, of)
	if lo == hi {
		return &runner.Aggregate{}, nil
	}
	opt.First, opt.Trials = lo, hi-lo
	agg, err := do(opt)
	if err != nil {
		return nil, err
	}
	kept := *agg // the command may add to agg's counts; the partial keeps what ran
	sh.partial.Parts = append(sh.partial.Parts, shard.Part{Kind: kind, Cell: cell, First: lo, Count: hi - lo, Of: of, Aggregate: &kept})
	return agg, nil
}

// find is runner.Find: a shard hunts through its own trials, and a merge
// runs again the first failing trial the shards found.
func (sh *sharding) find(src runner.Source, n, workers int, stop func() bool, progress func(int)) (*runner.Found, int, error) {
	// A hunt's trials share one scenario (a swarm's read no data files):
	// its first trial's data files are the hunt's.
	if plan, _, err := src(0); err == nil {
		if sh.uses(plan.Scenario); sh.err != nil {
			return nil, 0, sh.err
		}
	}
	if sh.merged != nil {
		first, ran, err := sh.merged.Hunt()
		if err != nil {
			return nil, 0, fmt.Errorf("merge: %v", err)
		}
		if first < 0 {
			return nil, ran, nil
		}
		plan, seed, err := src(first)
		if err != nil {
			return nil, 0, err
		}
		res := simulated.NewDriver(plan).Run(seed)
		if res.Failure == nil {
			return nil, 0, fmt.Errorf("merge: trial %d, which a shard found failing, does not fail here: the partial results do not match the command", first)
		}
		return &runner.Found{Index: first, Seed: seed, Plan: plan, Result: res}, ran, nil
	}
	if sh.partial == nil {
		return runner.Find(src, n, workers, stop, progress)
	}
	spec := sh.partial.Shard
	found, ran, err := runner.Find(func(j int) (*trial.Plan, uint64, error) { return src(spec.Trial(j)) }, spec.Trials(n), workers, stop, progress)
	hunt := &shard.Hunt{Ran: ran}
	if found != nil {
		found.Index = spec.Trial(found.Index)
		first := found.Index
		hunt.FirstFailure = &first
	}
	sh.partial.Hunt = hunt
	return found, ran, err
}

// finish ends a shard: it writes the partial result to f (the command's
// --out) and says that the command is done, unless interrupted, when it
// writes nothing. In a merge it returns what went wrong taking the
// shards' aggregates.
func (sh *sharding) finish(f outputFile, out io.Writer, interrupted bool) (done bool, err error) {
	switch {
	case sh.partial != nil && interrupted:
		return true, errInterrupted
	case sh.partial != nil:
		return true, f.write(out, sh.partial.Write)
	}
	return false, sh.err
}
