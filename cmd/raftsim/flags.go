package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/scenarios"
)

// newFlags returns a flag set whose --help prints usage, a description of
// the flags and examples. The flag set prints nothing itself: [parse]
// prints the help to standard output, once.
func newFlags(name, synopsis, about, examples string, errw io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(errw)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  raftsim %s\n\n%s\nFlags:\n%s\nExamples:\n%s", synopsis, about, fs.FlagUsages(), examples)
	}
	fs.BoolP("help", "h", false, "print this help")
	return fs
}

// parse parses args; --help prints the help to out and ends the command
// with pflag.ErrHelp.
func parse(fs *pflag.FlagSet, args []string, out io.Writer) error {
	if err := fs.Parse(args); err != nil {
		return badUsage("%s: %v (raftsim %s --help lists the flags)", fs.Name(), err, fs.Name())
	}
	if help, _ := fs.GetBool("help"); help {
		fs.SetOutput(out)
		fs.Usage()
		return pflag.ErrHelp
	}
	return nil
}

// overrideFlags registers on fs the flags that override a scenario, all
// but those leave says, and returns the function that reads the ones given
// once fs is parsed. Errors name the flag.
func overrideFlags(fs *pflag.FlagSet, leave func(*scenarios.Override) bool) func() (scenarios.Overrides, error) {
	var names []string
	for i := range scenarios.OverrideFlags {
		ov := &scenarios.OverrideFlags[i]
		if leave != nil && leave(ov) {
			continue
		}
		switch ov.Kind {
		case "int":
			fs.Int(ov.Flag, 0, ov.Help)
		case "bool":
			fs.Bool(ov.Flag, false, ov.Help)
		default:
			fs.String(ov.Flag, "", ov.Help)
		}
		names = append(names, ov.Flag)
	}
	return func() (scenarios.Overrides, error) {
		var o scenarios.Overrides
		for _, name := range names {
			if !fs.Changed(name) {
				continue
			}
			if err := o.Set(name, fs.Lookup(name).Value.String()); err != nil {
				return o, badUsage("--%s: %v", name, err)
			}
		}
		return o, nil
	}
}

// replayCommand spells the command that replays the trial with the given
// seed of scenario arg (a file, a built-in name, or --swarm) under the
// overrides o; extra flags follow. It is the one spelling of a replay
// command: run, sweep, check and replay itself print what it returns.
func replayCommand(arg string, seed uint64, o scenarios.Overrides, extra ...string) string {
	words := append([]string{"raftsim", "replay", arg, "--seed", strconv.FormatUint(seed, 10)}, o.Args()...)
	return commandLine(append(words, extra...)...)
}

// replayFunc is replayCommand for the trials of one scenario.
func replayFunc(arg string, o scenarios.Overrides, extra ...string) func(uint64) string {
	return func(seed uint64) string { return replayCommand(arg, seed, o, extra...) }
}

// loadScenario loads with load the scenario named by args (or the
// default) and applies the overrides: the scenario it returns is validated.
func loadScenario(load func(arg string) (*scenarios.Scenario, error), args []string, o scenarios.Overrides) (*scenarios.Scenario, string, error) {
	s, arg, err := loadRaw(load, args)
	if err != nil {
		return nil, "", err
	}
	if s, err = o.Apply(s); err != nil {
		return nil, "", err
	}
	return s, arg, nil
}

// loadRaw loads with load (scenarios.Load, or a shard's) the scenario
// named by args, or the default, as written.
func loadRaw(load func(arg string) (*scenarios.Scenario, error), args []string) (*scenarios.Scenario, string, error) {
	arg := scenarios.Default
	switch len(args) {
	case 0:
	case 1:
		arg = args[0]
	default:
		return nil, "", badUsage("want one scenario (a file or a built-in name), got %d arguments: %s", len(args), strings.Join(args, " "))
	}
	s, err := load(arg)
	if err != nil {
		var se *scenarios.Error
		if !errors.As(err, &se) {
			err = badUsage("%v", err)
		}
		return nil, "", err
	}
	return s, arg, nil
}

func defaultWorkers() int { return runtime.NumCPU() }

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:,=+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandLine joins words into a command a shell runs as given.
func commandLine(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}
