package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// newFlags returns a flag set whose --help prints usage, a description of
// the flags and examples.
func newFlags(name, synopsis, about, examples string, errw io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(errw)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  raftsim %s\n\n%s\nFlags:\n%s\nExamples:\n%s", synopsis, about, fs.FlagUsages(), examples)
	}
	return fs
}

// parse parses args; --help prints to out and ends the command.
func parse(fs *pflag.FlagSet, args []string, out io.Writer) error {
	err := fs.Parse(args)
	if err == pflag.ErrHelp {
		fs.SetOutput(out)
		fs.Usage()
		return err
	}
	if err != nil {
		return badUsage("%s: %v (raftsim %s --help lists the flags)", fs.Name(), err, fs.Name())
	}
	return nil
}

// scenarioFlags override what a scenario file says. Each records its text
// so that a replay command can repeat exactly the overrides in force.
type scenarioFlags struct {
	fs         *pflag.FlagSet
	seed       string
	trials     int
	nodes      int
	election   string
	heartbeat  string
	latency    string
	loss       string
	duplicate  string
	persist    string
	jitter     string
	fifo       bool
	prevote    bool
	checkQ     bool
	sticky     bool
	resetTimer bool
	bugs       string
	which      flagSet
	swept      bool // raftsim sweep owns the flags it varies
}

// sweptFlags are the flags raftsim sweep takes as lists.
var sweptFlags = []string{"nodes", "election-timeout", "heartbeat", "latency", "loss"}

const latencyHelp = `one-way latency of every link: const:7ms (or 7ms), uniform:5ms-10ms,
normal:MEAN,STDDEV (truncated at 0), exp:MEAN, exp:MIN,MEAN, lognormal:MEAN,STDDEV`

// flagSet says which of the scenario flags a command takes.
type flagSet uint8

const (
	withSeed   flagSet = 1 << iota // --seed is the scenario seed
	withTrials                     // --trials
	swept                          // leave out the flags raftsim sweep takes as lists
)

// register adds the flags to fs.
func (f *scenarioFlags) register(fs *pflag.FlagSet, which flagSet) {
	f.fs, f.which, f.swept = fs, which, which&swept != 0
	if which&withSeed != 0 {
		fs.StringVar(&f.seed, "seed", "", "scenario seed (decimal or 0x-hex); default: the scenario's")
	}
	if which&withTrials != 0 {
		fs.IntVar(&f.trials, "trials", 0, "number of trials; default: the scenario's")
	}
	if !f.swept {
		fs.IntVar(&f.nodes, "nodes", 0, "cluster size")
		fs.StringVar(&f.election, "election-timeout", "", "election timeout range, e.g. 150ms-300ms")
		fs.StringVar(&f.heartbeat, "heartbeat", "", "heartbeat interval, e.g. 50ms, or a percentage of the minimum election timeout, e.g. 50%")
		fs.StringVar(&f.latency, "latency", "", latencyHelp)
		fs.StringVar(&f.loss, "loss", "", "message loss probability of every link, 0 to 1")
	}
	fs.StringVar(&f.duplicate, "duplicate", "", "message duplication probability of every link, 0 to 1")
	fs.StringVar(&f.jitter, "timer-jitter", "", "every timer fires late by a random amount, e.g. uniform:0-1ms (operating system timer slack)")
	fs.StringVar(&f.persist, "persist", "", "disk write time: messages that depend on a new term, vote or log entry wait for it (a distribution, e.g. uniform:2ms-8ms)")
	fs.BoolVar(&f.fifo, "fifo", false, "deliver messages on each link in the order sent (TCP-like)")
	fs.BoolVar(&f.prevote, "prevote", false, "run a Pre-Vote round before each election (thesis §9.6)")
	fs.BoolVar(&f.checkQ, "check-quorum", false, "a leader that has not heard from a majority for an election timeout steps down")
	fs.BoolVar(&f.sticky, "leader-stickiness", false, "ignore vote requests within the minimum election timeout of hearing from a leader")
	fs.BoolVar(&f.resetTimer, "reset-timer-on-step-down", false, "reset the election timer when adopting a higher term (etcd's behaviour)")
	fs.StringVar(&f.bugs, "bug", "", "switch on deliberate bugs, comma-separated (raftsim bugs lists them)")
}

// apply changes s as the flags say. Errors name the flag.
func (f *scenarioFlags) apply(s *scenarios.Scenario) error {
	fs := f.fs
	if f.which&withSeed != 0 && fs.Changed("seed") {
		seed, err := scenarios.ParseSeed(f.seed)
		if err != nil {
			return badUsage("--seed: %v", err)
		}
		s.Seed = seed
	}
	if f.which&withTrials != 0 && fs.Changed("trials") {
		if f.trials < 1 || f.trials > scenarios.MaxTrials {
			return badUsage("--trials: %d is outside [1, %d]", f.trials, scenarios.MaxTrials)
		}
		s.Trials = f.trials
	}
	if f.swept {
		return f.applyRest(s)
	}
	if fs.Changed("nodes") {
		if f.nodes < 1 || f.nodes > scenarios.MaxNodes {
			return badUsage("--nodes: %d is outside [1, %d]", f.nodes, scenarios.MaxNodes)
		}
		s.Cluster.Nodes = f.nodes
	}
	if fs.Changed("election-timeout") {
		r, err := scenarios.ParseRange(f.election)
		if err != nil {
			return badUsage("--election-timeout: %v", err)
		}
		s.Cluster.ElectionTimeout = r
	}
	if fs.Changed("heartbeat") {
		hb, err := scenarios.ParseHeartbeat(f.heartbeat)
		if err != nil {
			return badUsage("--heartbeat: %v", err)
		}
		s.Cluster.Heartbeat = hb
	}
	if fs.Changed("latency") {
		d, err := scenarios.ParseDist(f.latency)
		if err != nil {
			return badUsage("--latency: %v", err)
		}
		s.Network.Latency = d
	}
	if fs.Changed("loss") {
		p, err := scenarios.ParseProbability(f.loss)
		if err != nil {
			return badUsage("--loss: %v", err)
		}
		s.Network.Loss = p
	}
	return f.applyRest(s)
}

// applyRest applies the flags raftsim sweep does not vary.
func (f *scenarioFlags) applyRest(s *scenarios.Scenario) error {
	fs := f.fs
	if fs.Changed("duplicate") {
		p, err := scenarios.ParseProbability(f.duplicate)
		if err != nil {
			return badUsage("--duplicate: %v", err)
		}
		s.Network.Dup = p
	}
	if fs.Changed("timer-jitter") {
		d, err := scenarios.ParseDist(f.jitter)
		if err != nil {
			return badUsage("--timer-jitter: %v", err)
		}
		s.Cluster.TimerJitter = &d
	}
	if fs.Changed("persist") {
		d, err := scenarios.ParseDist(f.persist)
		if err != nil {
			return badUsage("--persist: %v", err)
		}
		s.Cluster.Persist = &d
	}
	o := &s.Cluster.Options
	for _, b := range []struct {
		name string
		val  bool
		dst  *bool
	}{{"fifo", f.fifo, &s.Network.FIFO}, {"prevote", f.prevote, &o.PreVote}, {"check-quorum", f.checkQ, &o.CheckQuorum},
		{"leader-stickiness", f.sticky, &o.LeaderStickiness}, {"reset-timer-on-step-down", f.resetTimer, &o.ResetTimerOnStepDown}} {
		if fs.Changed(b.name) {
			*b.dst = b.val
		}
	}
	if fs.Changed("bug") {
		bugs, err := raft.ParseBugs(f.bugs)
		if err != nil {
			return badUsage("--bug: %v", err)
		}
		s.Cluster.Bugs = bugs
	}
	return nil
}

// replayArgs returns the overrides in force as flags, in canonical form,
// for a command that must reproduce a trial. The scenario seed and the
// number of trials are left out: a trial's own seed replaces them.
func (f *scenarioFlags) replayArgs(s *scenarios.Scenario) []string {
	var out []string
	fs := f.fs
	c := &s.Cluster
	add := func(name, val string) {
		if fs.Changed(name) && !(f.swept && slices.Contains(sweptFlags, name)) {
			out = append(out, "--"+name, val)
		}
	}
	add("nodes", strconv.Itoa(c.Nodes))
	add("election-timeout", c.ElectionTimeout.String())
	add("heartbeat", c.Heartbeat.String())
	add("latency", scenarios.FormatDist(s.Network.Latency))
	add("loss", strconv.FormatFloat(s.Network.Loss, 'g', -1, 64))
	add("duplicate", strconv.FormatFloat(s.Network.Dup, 'g', -1, 64))
	if c.Persist != nil {
		add("persist", scenarios.FormatDist(*c.Persist))
	}
	if c.TimerJitter != nil {
		add("timer-jitter", scenarios.FormatDist(*c.TimerJitter))
	}
	for _, b := range []struct {
		name string
		val  bool
	}{{"fifo", s.Network.FIFO}, {"prevote", c.Options.PreVote}, {"check-quorum", c.Options.CheckQuorum},
		{"leader-stickiness", c.Options.LeaderStickiness}, {"reset-timer-on-step-down", c.Options.ResetTimerOnStepDown}} {
		if fs.Changed(b.name) {
			out = append(out, "--"+b.name+"="+strconv.FormatBool(b.val))
		}
	}
	add("bug", c.Bugs.String())
	return out
}

// loadScenario loads the scenario named by args (or the default) and
// applies the flags' overrides.
func loadScenario(args []string, f *scenarioFlags) (*scenarios.Scenario, string, error) {
	arg := scenarios.Default
	switch len(args) {
	case 0:
	case 1:
		arg = args[0]
	default:
		return nil, "", badUsage("want one scenario (a file or a built-in name), got %d arguments: %s", len(args), strings.Join(args, " "))
	}
	s, err := scenarios.Load(arg)
	if err != nil {
		var se *scenarios.Error
		if !errors.As(err, &se) {
			err = badUsage("%v", err)
		}
		return nil, "", err
	}
	if err := f.apply(s); err != nil {
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
