package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/raftsim/raftsim/internal/live"
	"github.com/raftsim/raftsim/internal/live/conformance"
	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/spf13/pflag"
)

const liveAbout = `Runs a scenario on a real cluster on this machine: N nodes on free loopback
ports — raftsim's own (raftsim serve), or any program that speaks the course's
HTTP API (--cmd) — with a fault-injecting proxy on every directed link that
applies the scenario's latency, loss, duplication, partitions and cuts in real
time. Crashes are kill -9 (a restart keeps the data directory), pauses SIGSTOP
then SIGCONT. Every RPC through the proxy and every /status answer feed the
simulator's safety checks (one leader per term, one vote per node per term,
term monotonicity, the leader_within deadlines); time to leader is measured
as run measures it.

It prints run's table and JSON keys for the live trials, and beside them the
simulator's prediction for the same scenario (JSON key simulated, from
--sim-trials trials) and the two-sample Kolmogorov-Smirnov distance between
live and simulated times to leader (ks_distance). Live trials are real time
(about a second each) and noisy: see results/live.md for what differs and why.

--cmd runs another program as each node, in the current directory, with
NODE_ID (n1, n2, ...), PORT (on 127.0.0.1), PEERS (n2=127.0.0.1:PORT,... where
each port is raftsim's proxy for that link) and DATA_DIR (the node's own
directory for its term and vote) in its environment, and optionally ELECTION_TIMEOUT_MIN_MS,
ELECTION_TIMEOUT_MAX_MS, HEARTBEAT_MS and RAFT_PREVOTE=1 (with --prevote).
--conformance tests one node instead: it runs as n1 of a cluster of 4 (or
--nodes N) whose other nodes raftsim plays, sending it hand-made RPCs, and
reports each rule — one vote per term, refuse a stale term, adopt a higher
term and step down, step down as a candidate on its term's AppendEntries,
refuse a candidate whose log is behind, reset the election timer on a
heartbeat, campaign again after a split vote, lead only with a majority of
the whole cluster, lead without waiting for every peer, keep term and vote
across a restart (raftsim kills and restarts it) — passed, failed or
skipped, with every RPC sent and received. It tells the node the scenario's
election timeout (150ms-300ms unless --election-timeout says otherwise); on
a busy machine, or for an interpreted node, a longer one (300ms-600ms) keeps
the timing rules clear of scheduling delays.

Each node's output goes to --logs DIR/NAME.log; a failed trial's timeline,
in replay's text format, to DIR/trial-K.timeline. internal/node/wire/CONTRACT.md is the
contract. Every process, port and temporary directory is removed at the end,
on failure and on ^C.
`

const liveExamples = `  raftsim live --cmd 'python3 examples/server.py' --conformance
  raftsim live                                   cold-start, 20 trials of raftsim serve (the scenario's trials, at most 20, unless --trials)
  raftsim live leader-crash --trials 200 --nodes 3 --format json --out lc.json
  raftsim live partition-leader --cmd 'python3 examples/server.py'
  raftsim live split-brain --cmd 'RAFT_BUG=peers-majority node examples/node.js'
  raftsim live --conformance --cmd 'RAFT_BUG=chapter python3 examples/server.py' --election-timeout 300ms-600ms
`

// defaultLiveTrials caps the trials of a live run without --trials.
const defaultLiveTrials = 20

type liveFlags struct {
	conformance bool
	timelines   bool
	etcd        bool
	etcdBin     string
	cmd         string
	logs        string
	simTrials   int
	plot        string
	samples     *string
}

func liveCmd(args []string, out, errw io.Writer) error {
	c := newScenarioCommand(commandSpec{name: "live", synopsis: "live [SCENARIO] [--trials K] [--cmd COMMAND] [FLAGS]",
		about: liveAbout, examples: liveExamples}, errw, nil)
	var lf liveFlags
	lf.register(c.fs)
	c.outputs(true, "")
	if err := c.parse(args, out, func() []outputFile {
		return []outputFile{{"--plot", lf.plot}, {"--samples", *lf.samples}}
	}); err != nil {
		return err
	}
	if lf.simTrials < 0 || lf.simTrials > scenarios.MaxTrials {
		return badUsage("--sim-trials: want 0 to %d, got %d", scenarios.MaxTrials, lf.simTrials)
	}
	if lf.plot != "" {
		if _, err := report.PlotFormat(lf.plot); err != nil {
			return badUsage("--plot: %v", err)
		}
	}
	s, _, err := c.load()
	if err != nil {
		return err
	}
	if !c.fs.Changed("trials") {
		s.Trials = min(s.Trials, defaultLiveTrials) // a live trial takes a second, a simulated one microseconds
	}
	nodes, err := liveNodes(&lf)
	if err != nil {
		return err
	}
	nodes = nodes.For(s) // so that reports name the nodes as they run (raftsim serve --impl etcd)
	if !lf.conformance {
		if _, err := live.Check(s, nodes); err != nil {
			return badUsage("%v", err)
		}
	}
	if nodes.Etcd != "" {
		s.Expect.Invariants = live.EtcdInvariants(s.Expect.Invariants) // what can be seen of etcd from outside
	}
	if err := prepareLogs(lf.logs); err != nil {
		return badUsage("--logs: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if lf.conformance {
		size := conformance.DefaultSize
		if c.fs.Changed("nodes") {
			size = s.Cluster.Nodes
		}
		return conformanceRun(ctx, s, nodes, size, lf.logs, c.format, c.output.file(), out)
	}
	samplesOut := newTrialSamples(outputFile{"--samples", *lf.samples}, s.Trials)
	res, err := runLive(ctx, s, nodes, &lf, samplesOut.record(), errw)
	if err != nil {
		return err
	}
	rep, err := liveReport(s, nodes, res, lf.simTrials, c.output.workers)
	if err != nil {
		return err
	}
	rep.Overrides = c.o.Flags()
	if lf.plot != "" {
		title := fmt.Sprintf("%s: live (%s) and simulated", s.Name, nodes.Describe())
		if err := writePlots([]string{lf.plot}, out, func(pf string) ([]byte, error) { return rep.CDFPlot(title, pf) }); err != nil {
			return err
		}
	}
	if err := samplesOut.write(out, s, res.Agg.Trials); err != nil {
		return err
	}
	if err := c.output.file().write(out, func(w io.Writer) error { return rep.Write(w, c.format) }); err != nil {
		return err
	}
	if res.Agg.Failed > 0 {
		return errFailed
	}
	return nil
}

func (lf *liveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&lf.cmd, "cmd", "", "a shell command that runs one node of the course's API (default: raftsim serve)")
	fs.BoolVar(&lf.etcd, "etcd", false, "run real etcd members (Debian's etcd-server) instead, behind a TCP-level proxy")
	fs.StringVar(&lf.etcdBin, "etcd-bin", "etcd", "the etcd binary --etcd runs (a path, or a name on PATH)")
	fs.StringVar(&lf.logs, "logs", "raftsim-live-logs", "directory for the nodes' logs and failed trials' timelines")
	fs.BoolVar(&lf.conformance, "conformance", false, "instead of the scenario, drive one node with hand-made RPCs and report each rule of Figure 2 passed or failed")
	fs.BoolVar(&lf.timelines, "timelines", false, "keep every trial's timeline in the logs directory, not only failed trials'")
	fs.IntVar(&lf.simTrials, "sim-trials", 10000, "simulated trials of the same scenario to compare with (0: none)")
	fs.StringVar(&lf.plot, "plot", "", "also draw the live and simulated CDFs of time to leader to FILE.svg or FILE.png")
	lf.samples = samplesFlag(fs)
}

// runLive runs the live trials of s on nodes, hearing each trial in
// record and showing progress on errw.
func runLive(ctx context.Context, s *scenarios.Scenario, nodes live.Nodes, lf *liveFlags, record func(int, *trial.Result), errw io.Writer) (*live.Result, error) {
	begin := time.Now()
	opt := live.Options{Nodes: nodes, Trials: s.Trials, Seed: s.Seed, Logs: lf.logs, Timelines: lf.timelines, Trial: record,
		Progress: func(done, failed int) { liveProgress(errw, done, s.Trials, failed, begin) }}
	res, err := live.Run(ctx, s, opt)
	if errors.Is(err, context.Canceled) {
		return nil, errInterrupted
	}
	return res, err
}

// liveReport reports a live run beside the simulator's prediction for the
// same scenario, from simTrials trials.
func liveReport(s *scenarios.Scenario, nodes live.Nodes, res *live.Result, simTrials, workers int) (*report.Live, error) {
	simulated, note := s, ""
	if nodes.Etcd != "" { // the simulator runs etcd's raft as the members do
		var err error
		if simulated, note, err = live.EtcdSimulation(s); err != nil {
			return nil, err
		}
	}
	simAgg, simTimes := simulate(simulated, simTrials, workers)
	rep := report.NewLive(s, nodes.Describe(), &res.Agg, simAgg, stats.KSDistance(res.TimeToLeader, simTimes),
		stats.KSCritical95(len(res.TimeToLeader), len(simTimes)))
	withOverheads(rep, simulated, res, simTrials, workers)
	if note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	rep.Notes = append(rep.Notes, res.Notes...)
	rep.Logs = append(rep.Logs, res.Logs...)
	for _, f := range res.Failed {
		for k := range rep.Failures {
			if rep.Failures[k].Trial == f.Trial {
				rep.Failures[k].Evidence, rep.Failures[k].Timeline = f.Evidence, f.Timeline
				if k == 0 {
					rep.Failures[k].TimelineTail = f.Tail
				}
			}
		}
	}
	return rep, nil
}

// conformanceRun tests one node on the rules of package conformance, with
// the scenario's timeouts, and reports each rule.
func conformanceRun(ctx context.Context, s *scenarios.Scenario, nodes live.Nodes, size int, logs string, format report.Format, file outputFile, out io.Writer) error {
	if size < 3 || size > conformance.MaxSize {
		return badUsage("--nodes %d: --conformance plays a cluster of 3 to %d nodes (4 by default: the smallest where a majority over the peers is too small)", size, conformance.MaxSize)
	}
	c := &s.Cluster
	results, err := conformance.Run(ctx, conformance.Options{Nodes: nodes.For(s), Logs: logs, Size: size,
		ElectionMin: c.ElectionTimeout.Min, ElectionMax: c.ElectionTimeout.Max, Heartbeat: c.HeartbeatInterval()})
	if errors.Is(err, context.Canceled) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	if err := file.write(out, func(w io.Writer) error {
		if format == report.JSON {
			return report.WriteJSON(w, map[string]any{"node": nodes.Describe(), "nodes": size, "rules": results})
		}
		return conformance.Write(w, nodes.Describe(), size, results)
	}); err != nil {
		return err
	}
	for _, r := range results {
		if r.Outcome == conformance.Fail {
			return errFailed
		}
	}
	return nil
}

// withOverheads adds to rep the overheads the live run measured and the
// simulator's prediction with them in its model. A proxy that carries
// bytes, not RPCs (etcd's members), sees no answers, only how late it
// delivered: that is reported, but without answers there is no model of
// processing or persist to give the simulator, so no prediction.
func withOverheads(rep *report.Live, s *scenarios.Scenario, res *live.Result, simTrials, workers int) {
	o := &res.Overheads
	answers := o.Answer.N() + o.AnswerSync.N()
	if answers+o.Late.N() == 0 {
		return
	}
	rep.Measured = &report.Overheads{AnswerMs: report.DistOf(&o.Answer, 1e6), AnswerSyncMs: report.DistOf(&o.AnswerSync, 1e6),
		LateMs: report.DistOf(&o.Late, 1e6)}
	if simTrials == 0 || answers == 0 {
		return
	}
	m := *s
	m.Cluster.Processing, m.Cluster.Persist, m.Cluster.TimerJitter = o.Model()
	agg, times := simulate(&m, simTrials, workers)
	text := func(d *sim.Dist) string {
		if d == nil {
			return ""
		}
		return scenarios.FormatDist(*d)
	}
	rep.WithOverheads = report.NewWithOverheads(text(m.Cluster.Processing), text(m.Cluster.Persist), text(m.Cluster.TimerJitter),
		agg, stats.KSDistance(res.TimeToLeader, times), float64(rep.KSDistance))
}

// liveNodes says what program the nodes run: --cmd, etcd members, or this
// raftsim's serve.
func liveNodes(lf *liveFlags) (live.Nodes, error) {
	switch {
	case lf.etcd && lf.cmd != "":
		return live.Nodes{}, badUsage("--etcd and --cmd: give one (the nodes are etcd members, or your program)")
	case lf.etcd && lf.conformance:
		return live.Nodes{}, badUsage("--etcd and --conformance: conformance speaks the course's API, which etcd does not")
	case lf.etcd:
		bin, err := exec.LookPath(lf.etcdBin)
		if err != nil {
			return live.Nodes{}, badUsage("--etcd-bin %s: %v (Debian's etcd-server package has it: apt-get install etcd-server)", lf.etcdBin, err)
		}
		return live.Nodes{Etcd: bin}, nil
	case lf.cmd != "":
		return live.Nodes{Cmd: lf.cmd}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return live.Nodes{}, fmt.Errorf("finding raftsim's own binary for raftsim serve: %v", err)
	}
	return live.Nodes{Exe: exe}, nil
}

// prepareLogs makes the logs directory and removes what an earlier run
// left in it: node logs and timelines, nothing else.
func prepareLogs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, pattern := range []string{"n*.log", "trial-*.timeline"} {
		old, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveProgress shows on stderr how far a live run is: every trial on a
// terminal, every tenth otherwise; after the first, an estimate of the
// whole run, which real time makes long.
func liveProgress(errw io.Writer, done, total, failed int, begin time.Time) {
	took := time.Since(begin)
	if done == 1 && total > 1 {
		fmt.Fprintf(errw, "raftsim live: the first trial took %s: %d trials will take about %s\n",
			took.Round(100*time.Millisecond), total, (took * time.Duration(total)).Round(time.Second))
	}
	if done%10 != 0 && done != total && !isTerminal(errw) {
		return
	}
	fmt.Fprintf(errw, "raftsim live: %d of %d trials done, %d failed, %s\n", done, total, failed, took.Round(time.Second))
}

// simulate runs trials simulated trials of s and returns their aggregate
// and the times to leader of those that found one (nil, nil for none).
func simulate(s *scenarios.Scenario, trials, workers int) (*runner.Aggregate, []time.Duration) {
	if trials == 0 {
		return nil, nil
	}
	plan := trial.NewPlan(s)
	times := make([]time.Duration, trials)
	measured := make([]bool, trials)
	agg := runner.Run(plan, runner.Options{Trials: trials, Seed: s.Seed, Workers: workers, Trial: func(i int, r *trial.Result) {
		times[i], measured[i] = r.TimeToLeader, r.Measured // each trial its own element: no lock
	}})
	var out []time.Duration
	for i, t := range times {
		if measured[i] {
			out = append(out, t)
		}
	}
	return agg, out
}
