package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

const replayAbout = `Re-runs one trial and prints its timeline, one event a line: virtual time,
node, and what happened (timers, state changes with terms, votes, commits,
messages sent, delivered, dropped and duplicated with their fields, faults,
invariant violations), ending with the trial's verdict and measurements.
The same arguments print the same bytes every time.

--seed is the trial's own seed, exactly as a failure's replay command prints
it; the overrides that command lists (a sweep cell's parameters, --bug, ...)
are part of what identifies the trial. Filters select lines; the trace files
always hold the events the filters keep; the swimlanes show each node's state
from the window's start (--from) on. A trace file written to - (standard
output) sends the timeline to standard error.

--html writes a page that plays the trial in a browser, RaftScope-style: the
nodes in a ring with their roles, terms, votes and election timers, messages
in flight, faults as they happen, and the swimlanes below. It holds every
script and style it needs: open it from disk. Its ring always shows every
node's state; the filters choose what it lists, animates and draws as lanes.
`

const replayExamples = `  raftsim replay leader-crash --seed 4280437358326593
  raftsim replay cold-start --seed 77 --nodes 4 --bug peers-majority --kind state,vote,violation
  raftsim replay partition-leader --seed 12 --node n1 --from 500ms --to 3s
  raftsim replay leader-crash --seed 12 --svg trial.svg --chrome-trace trial.json --trace trial.jsonl
  raftsim replay partition-leader --seed 5 --html partition.html
  raftsim replay --swarm --seed 991
`

type replayFlags struct {
	seed     string
	nodes    string
	from, to string
	kinds    string
	files    []string // the paths of traceFiles, in order
	steady   string
	skip     string
	limit    string
	swarm    bool
	quiet    bool
}

func replayCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("replay", "replay [SCENARIO] --seed S [FLAGS]", replayAbout, replayExamples, errw)
	var rf replayFlags
	overrides := rf.register(fs)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if !fs.Changed("seed") {
		return badUsage("replay needs --seed: the trial seed a failure's replay command gives")
	}
	seed, err := scenarios.ParseSeed(rf.seed)
	if err != nil {
		return badUsage("--seed: %v", err)
	}
	filter, err := rf.filter()
	if err != nil {
		return err
	}
	files := make([]outputFile, len(traceFiles))
	for i, tf := range traceFiles {
		files[i] = outputFile{"--" + tf.flag, rf.files[i]}
	}
	if err := checkOutputs(files...); err != nil {
		return err
	}
	o, err := overrides()
	if err != nil {
		return err
	}
	s, arg, err := replayScenario(fs, o, &rf, seed)
	if err != nil {
		return err
	}
	for _, n := range filter.Nodes {
		if n >= s.Cluster.Nodes {
			return badUsage("--node %s: %s has %s, n1 to %s", raft.ID(n), s.Name, scenarios.Count(s.Cluster.Nodes, "node", "nodes"), raft.ID(s.Cluster.Nodes-1))
		}
	}
	plan, err := planFor(s, rf.steady)
	if err != nil {
		return err
	}
	rep, text, res, err := replayTrial(plan, seed, filter, &rf, func(extra ...string) string { return replayCommand(arg, seed, o, extra...) })
	if err != nil {
		return err
	}
	// The timeline goes to standard output unless a trace file does.
	timeline := out
	for i, f := range files {
		if f.path == "" {
			continue
		}
		if f.toStdout() {
			timeline = errw
		}
		if err := f.write(out, func(w io.Writer) error { return traceFiles[i].write(w, rep) }); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(timeline, text); err != nil {
		return err
	}
	if res.Failure != nil {
		return errFailed
	}
	return nil
}

// register registers replay's flags on fs, and returns the function that
// reads the scenario overrides given.
func (rf *replayFlags) register(fs *pflag.FlagSet) func() (scenarios.Overrides, error) {
	fs.StringVar(&rf.seed, "seed", "", "the trial's seed, as a failure's replay command gives it (required)")
	overrides := overrideFlags(fs, func(ov *scenarios.Override) bool { return ov.Picks })
	fs.StringVar(&rf.nodes, "node", "", "only events at these nodes, e.g. n1,n3 (messages: at either end)")
	fs.StringVar(&rf.from, "from", "", "only events at or after this virtual time, e.g. 500ms")
	fs.StringVar(&rf.to, "to", "", "only events at or before this virtual time")
	fs.StringVar(&rf.kinds, "kind", "", "only these kinds of event: "+strings.Join(trace.EventKindNames(), ","))
	rf.files = make([]string, len(traceFiles))
	for i, tf := range traceFiles {
		fs.StringVar(&rf.files[i], tf.flag, "", tf.help)
	}
	fs.StringVar(&rf.steady, "steady-time", "", "replay a steady-state run of a sweep with this --steady-time")
	fs.StringVar(&rf.skip, "skip-steps", "", "leave these fault steps out (1-based, repeats unrolled), as shrinking prints")
	fs.StringVar(&rf.limit, "limit", "", "cap the trial's virtual time")
	fs.BoolVar(&rf.swarm, "swarm", false, "the trial's whole configuration is drawn from its seed, as raftsim check --swarm does")
	fs.BoolVarP(&rf.quiet, "quiet", "q", false, "print only the verdict and measurements")
	return overrides
}

// replayTrial runs the trial of plan with seed, recording every event, and
// returns what its trace files are drawn from, its timeline as replay
// prints it (the events filter keeps, under a header of the command, the
// parameters and the seeds, and above the verdict), and its result.
// command spells the replay command with extra flags.
func replayTrial(plan *trial.Plan, seed uint64, filter *trace.Filter, rf *replayFlags, command func(extra ...string) string) (*replayed, string, trial.Result, error) {
	s := plan.Scenario
	r := simulated.NewDriver(plan)
	var rec trace.Recorder
	r.SetTracer(&rec)
	res := r.Run(seed)
	events := filter.Select(rec.Events)
	rep := &replayed{all: rec.Events, kept: events, filter: filter, nodes: s.Cluster.Nodes,
		title: fmt.Sprintf("%s, trial seed %d", s.Name, seed)}
	var b strings.Builder
	params := report.ParamsOf(s)
	fmt.Fprintf(&b, "# %s: %s\n", command(rf.trialArgs()...), params.Describe())
	for _, line := range trial.Seeds(seed).Describe(s.Cluster.Nodes) {
		fmt.Fprintf(&b, "# seeds: %s\n", line)
	}
	if !rf.quiet {
		if err := trace.WriteText(&b, events); err != nil {
			return nil, "", res, err
		}
	}
	var verdict strings.Builder
	writeVerdict(&verdict, &res, plan)
	b.WriteString(verdict.String())
	fmt.Fprintf(&b, "# trace sha256 %s\n", trace.HashOf(rec.Events))
	rep.page = &trace.Page{Title: rep.title, Nodes: s.Cluster.Nodes, ElectionMax: s.Cluster.ElectionTimeout.Max, End: res.End,
		Events: rec.Events, Details: rec.Details, Filter: filter,
		Command: command(slices.Concat(rf.trialArgs(), rf.filterArgs(), []string{"--html", rf.file("html")})...),
		Summary: append([]string{params.Describe()}, uncomment(verdict.String())...)}
	return rep, b.String(), res, nil
}

// replayed is what a trace file is drawn from: one trial's events, all of
// them and those the filters keep, and the page --html writes.
type replayed struct {
	all, kept []trace.Event
	filter    *trace.Filter
	nodes     int
	title     string
	page      *trace.Page
}

// traceFiles are the files replay writes besides its timeline, one flag
// each; they hold the events the filters keep. A new kind of file is one
// more entry.
var traceFiles = []struct {
	flag, help string
	write      func(io.Writer, *replayed) error
}{
	{"trace", "also write the events as JSON lines to FILE.jsonl",
		func(w io.Writer, r *replayed) error { return trace.WriteJSONL(w, r.kept) }},
	{"chrome-trace", "also write a Chrome / Perfetto trace to FILE.json (chrome://tracing, ui.perfetto.dev)",
		func(w io.Writer, r *replayed) error { return trace.WriteChrome(w, r.kept, r.nodes, r.title) }},
	{"svg", "also draw the trial as swimlanes to FILE.svg (the lanes: --node, or at most 40 nodes; the axis: --from to --to)",
		func(w io.Writer, r *replayed) error { return r.filter.Picture(r.all, r.nodes).WriteSVG(w, r.title) }},
	{"html", "also write the trial as a page to play in a browser to FILE.html (self-contained; open it from disk)",
		func(w io.Writer, r *replayed) error { return trace.WriteHTML(w, r.page) }},
}

// file returns the path given to the trace file flag (without --).
func (rf *replayFlags) file(flag string) string {
	for i, tf := range traceFiles {
		if tf.flag == flag {
			return rf.files[i]
		}
	}
	return ""
}

// replayScenario builds the scenario of the trial: the named one with the
// overrides, or, with --swarm, the one drawn from the seed.
func replayScenario(fs *pflag.FlagSet, o scenarios.Overrides, rf *replayFlags, seed uint64) (*scenarios.Scenario, string, error) {
	var s *scenarios.Scenario
	var arg string
	var err error
	if rf.swarm {
		if fs.NArg() > 0 {
			return nil, "", badUsage("--swarm draws the scenario from the seed: give no scenario")
		}
		if s, err = swarm.Draw(seed, o); err != nil {
			return nil, "", err
		}
		arg = "--swarm"
	} else if s, arg, err = loadScenario(scenarios.Load, fs.Args(), o); err != nil {
		return nil, "", err
	}
	if rf.skip != "" {
		steps := len(s.Timeline())
		for _, t := range splitList(rf.skip) {
			i, err := strconv.Atoi(t)
			switch {
			case err != nil || i < 1:
				return nil, "", badUsage("--skip-steps: %q is not a step number", t)
			case steps == 0:
				return nil, "", badUsage("--skip-steps %s: %s has no fault steps", t, s.Name)
			case i > steps:
				return nil, "", badUsage("--skip-steps %s: %s has %d fault steps (1-%d, repeats unrolled)", t, s.Name, steps, steps)
			}
			s.Skip = append(s.Skip, i)
		}
	}
	if rf.limit != "" {
		d, err := scenarios.ParseDuration(rf.limit)
		if err != nil || d <= 0 {
			return nil, "", badUsage("--limit: want a duration above 0, got %q", rf.limit)
		}
		s.Measure.Limit = d
	}
	return s, arg, nil
}

// planFor returns the plan of ordinary trials of s, or, given a sweep's
// --steady-time, of its steady-state runs.
func planFor(s *scenarios.Scenario, steady string) (*trial.Plan, error) {
	if steady == "" {
		return trial.NewPlan(s), nil
	}
	d, err := scenarios.ParseDuration(steady)
	if err != nil || d <= 0 {
		return nil, badUsage("--steady-time: want a duration above 0, got %q", steady)
	}
	plan, _, err := runner.SteadyPlan(s, d)
	return plan, err
}

// trialArgs returns the flags, beyond the scenario's overrides, that say
// which trial this is, for the replay command the output starts with.
func (rf *replayFlags) trialArgs() []string {
	return givenFlags("steady-time", rf.steady, "skip-steps", rf.skip, "limit", rf.limit)
}

// filterArgs returns the filter flags given.
func (rf *replayFlags) filterArgs() []string {
	return givenFlags("node", rf.nodes, "from", rf.from, "to", rf.to, "kind", rf.kinds)
}

// givenFlags returns --name value for each pair of name and value whose
// value is not empty.
func givenFlags(nameValues ...string) []string {
	var out []string
	for i := 0; i < len(nameValues); i += 2 {
		if nameValues[i+1] != "" {
			out = append(out, "--"+nameValues[i], nameValues[i+1])
		}
	}
	return out
}

func (rf *replayFlags) filter() (*trace.Filter, error) {
	f := &trace.Filter{}
	if rf.nodes != "" {
		for _, t := range splitList(rf.nodes) {
			sel, err := scenarios.ParseSelector(t)
			if err != nil || sel.Kind != scenarios.Named {
				return nil, badUsage("--node: want node names such as n1,n3, got %q", t)
			}
			f.Nodes = append(f.Nodes, sel.IDs[0])
		}
	}
	var err error
	if rf.from != "" {
		if f.From, err = scenarios.ParseDuration(rf.from); err != nil {
			return nil, badUsage("--from: %v", err)
		}
	}
	if rf.to != "" {
		if f.To, err = scenarios.ParseDuration(rf.to); err != nil {
			return nil, badUsage("--to: %v", err)
		}
		f.HasTo = true
		if f.From > f.To {
			return nil, badUsage("--from %s is after --to %s", rf.from, rf.to)
		}
	}
	if rf.kinds != "" {
		for _, t := range splitList(rf.kinds) {
			k, ok := trace.ParseEventKind(t)
			if !ok {
				return nil, badUsage("--kind: unknown kind %q (want %s)", t, strings.Join(trace.EventKindNames(), ", "))
			}
			f.Kinds = append(f.Kinds, k)
		}
	}
	return f, nil
}

// uncomment returns the lines of text without the "# " they start with.
func uncomment(text string) []string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "# ")
	}
	return lines
}

// writeVerdict ends a replay: whether the trial held, and what it measured.
func writeVerdict(b *strings.Builder, res *trial.Result, plan *trial.Plan) {
	if res.Failure != nil {
		fmt.Fprintf(b, "# verdict: FAILED %s\n", res.Failure)
	} else if plan.Steady() > 0 {
		// A steady-state run checks the invariants only.
		var invs []string
		for _, inv := range plan.Scenario.Expect.Invariants {
			invs = append(invs, inv.String())
		}
		fmt.Fprintf(b, "# verdict: ok: %s\n", strings.Join(invs, ", "))
	} else {
		fmt.Fprintf(b, "# verdict: ok: %s\n", strings.Join(report.ExpectOf(plan.Scenario), ", "))
	}
	if plan.Steady() > 0 {
		fmt.Fprintf(b, "# measured: steady state for %s: %s, %s, %s without a working leader\n",
			scenarios.FormatDuration(res.SteadyTime), scenarios.Count(res.Elections, "needless election", "needless elections"),
			scenarios.Count(res.LeaderChanges, "leader change", "leader changes"), trace.FormatTime(res.Leaderless))
	} else {
		switch {
		case !res.Started:
			b.WriteString("# measured: nothing: the measured fault never happened\n")
		case !res.Measured:
			b.WriteString("# measured: no leader after the origin\n")
		default:
			fmt.Fprintf(b, "# measured: time to leader %s, %s, %s, %s, %s\n",
				trace.FormatTime(res.TimeToLeader), scenarios.Count(res.Rounds, "round", "rounds"),
				scenarios.Count(res.SplitVotes, "split vote", "split votes"), scenarios.Count(res.OtherLosses, "other lost election", "other lost elections"),
				scenarios.Count(res.Messages, "message", "messages"))
		}
		if res.HasStale {
			fmt.Fprintf(b, "# measured: the removed leader believed it led for %s more\n", trace.FormatTime(res.StaleLeader))
		}
	}
	fmt.Fprintf(b, "# %d simulated events, ended at t=%s\n", res.Events, trace.FormatTime(res.End))
}
