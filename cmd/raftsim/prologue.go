package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/shard"
	"github.com/raftsim/raftsim/scenarios"
)

// scenarioCommand is the prologue run, sweep, check and live share: a flag
// set with the flags that override the scenario, the command's own flags,
// the output flags and --shard; then, in [scenarioCommand.parse], the
// command line parsed, the output files checked before any work, the
// sharding set up and the overrides read; then the scenario loaded with
// them and its warnings printed ([scenarioCommand.load]).
type scenarioCommand struct {
	fs        *pflag.FlagSet
	errw      io.Writer
	output    outputFlags
	overrides func() (scenarios.Overrides, error)
	shardText *string       // nil: the command cannot be sharded
	merged    *shard.Merged // in a merge: the shards' results

	guards costGuards

	// Set by parse.
	format report.Format
	o      scenarios.Overrides
	sh     *sharding
}

// commandSpec names a scenario command and says which of the shared flags
// it takes.
type commandSpec struct {
	name, synopsis, about, examples string
	// leave, if set, says which scenario overrides the command leaves out
	// (a sweep's lists, check's own --trials).
	leave func(*scenarios.Override) bool
}

// newScenarioCommand starts the flag set of spec's command, the overrides
// first; m is the merge whose results the command prints, or nil.
func newScenarioCommand(spec commandSpec, errw io.Writer, m *shard.Merged) *scenarioCommand {
	c := &scenarioCommand{fs: newFlags(spec.name, spec.synopsis, spec.about, spec.examples, errw), errw: errw, merged: m}
	c.overrides = overrideFlags(c.fs, spec.leave)
	return c
}

// outputs registers the output flags (--workers, --format, --out), after
// the command's own; outDefault is where --out goes when not given.
func (c *scenarioCommand) outputs(format bool, outDefault string) {
	c.output.register(c.fs, format, outDefault)
}

// shardable registers --shard.
func (c *scenarioCommand) shardable() { c.shardText = shardFlag(c.fs) }

// parse parses args, checks the output flags and that --out and the files
// the command's flags name (files, called once the flags are parsed) can be
// written, sets up the sharding and reads the overrides.
func (c *scenarioCommand) parse(args []string, out io.Writer, files func() []outputFile) error {
	var err error
	if c.format, err = c.output.parse(c.fs, args, out); err != nil {
		return err
	}
	all := []outputFile{c.output.file()}
	if files != nil {
		all = append(all, files()...)
	}
	if err := checkOutputs(all...); err != nil {
		return err
	}
	text := ""
	if c.shardText != nil {
		text = *c.shardText
	}
	if c.sh, err = newSharding(c.fs, text, c.merged); err != nil {
		return err
	}
	c.o, err = c.overrides()
	return err
}

// load loads the scenario the arguments name (or the default), as a shard
// or a merge must, applies the overrides and prints its warnings; arg is
// how the scenario was named, for replay commands.
func (c *scenarioCommand) load() (s *scenarios.Scenario, arg string, err error) {
	if s, arg, err = loadScenario(c.sh.load, c.fs.Args(), c.o); err != nil {
		return nil, "", err
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(c.errw, "raftsim: warning: %s\n", w.Text)
	}
	return s, arg, nil
}

// loadRaw loads the scenario as written, without the overrides: a sweep
// validates its cells, not the scenario.
func (c *scenarioCommand) loadRaw() (*scenarios.Scenario, string, error) {
	return loadRaw(c.sh.load, c.fs.Args())
}

// progress returns where a progress bar may go.
func (c *scenarioCommand) progress() io.Writer { return c.sh.progress(c.errw) }

// outputFlags are the flags of where and how a command prints its report.
type outputFlags struct {
	workers int
	format  string
	out     string
}

func (o *outputFlags) register(fs *pflag.FlagSet, format bool, outDefault string) {
	fs.IntVar(&o.workers, "workers", defaultWorkers(), "parallel workers (the output does not depend on it)")
	o.format = string(report.Table)
	if format {
		fs.StringVar(&o.format, "format", o.format, "output format: table, json or csv")
	}
	fs.StringVar(&o.out, "out", outDefault, "write the output to this file (whole or not at all) instead of stdout, and a one-line summary to stderr; - is stdout")
}

// file is where the report goes: --out, or standard output.
func (o *outputFlags) file() outputFile {
	if o.out == "" {
		return outputFile{"--out", "-"}
	}
	return outputFile{"--out", o.out}
}

// parse parses the command line, then checks the output flags and returns
// the format.
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
