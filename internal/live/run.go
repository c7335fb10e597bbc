// Package live runs a scenario against real processes on this machine:
// raftsim live. For each trial it starts the scenario's nodes — raftsim's
// own (raftsim serve) or any program that speaks the course's HTTP API
// (--cmd) — on loopback, puts a fault-injecting proxy on every directed
// link (package proxy), applies the fault timeline to the processes (kill
// -9, restart with the data directory kept, SIGSTOP and SIGCONT) and to the
// proxy in real time, judges safety from every RPC on the wire and every
// /status answer with the simulator's checks (package safety), measures
// time to leader as run does, and tears everything down. Its results are
// trial.Results that runner.Aggregate folds like simulated ones, so that
// report prints them in run's format.
//
// live must never use anything but loopback, never leave a process or a
// temporary directory behind (on success, failure or cancellation), and
// never feed a live result to the simulator's packages: it reads them,
// never the other way. Live results are real time and noisy; reports must
// say so.
package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// Options says how to run a scenario live.
type Options struct {
	Nodes  Nodes
	Trials int
	Seed   uint64
	// Logs is the directory for the nodes' log files (one per node, all
	// trials appended) and failing trials' timelines. It must exist.
	Logs string
	// Timelines keeps every trial's timeline in Logs, not only failed ones'.
	Timelines bool
	// Progress, if set, hears after each trial how many are done.
	Progress func(done int, failed int)
	// Trial, if set, hears each trial's result as it ends, as
	// runner.Options.Trial does (samples.Trials.Record, say).
	Trial func(index int, r *trial.Result)
}

// Result is what a live run measured.
type Result struct {
	Agg runner.Aggregate
	// TimeToLeader holds each measured trial's time to leader, in trial
	// order, for comparisons of whole distributions.
	TimeToLeader []time.Duration
	Failed       []FailedTrial
	Overheads    Overheads
	// Startup holds how long --cmd nodes took from their process's start
	// to their first /status answer (ns).
	Startup stats.Summary
	// StartSpread holds, for each trial of --cmd nodes, how long the
	// nodes that start first took to be all up, from the first to answer
	// /status to the last (ns): time to leader counts from the first.
	StartSpread stats.Summary
	Notes       []string // what the reader should know: refused options, API trouble, ...
	Logs        []string // the nodes' log files
}

// startSpreadNote says how far apart the nodes that start first came up,
// and what that does to a time to leader measured from the start: it
// counts from the first node up, whose timer runs while the others start,
// which the simulator's nodes, started together, never see.
func startSpreadNote(spread *stats.Summary, minTimeout time.Duration) string {
	median := time.Duration(spread.Quantile(0.5))
	text := fmt.Sprintf("the nodes that start together were all up %s after the first (median; the widest %s): time to leader counts from the first one's answer to /status, when its election timer runs; the simulator starts them at once",
		scenarios.FormatSpan(median.Round(time.Millisecond)), scenarios.FormatSpan(time.Duration(spread.Max()).Round(time.Millisecond)))
	if median >= minTimeout/2 {
		text += fmt.Sprintf(", so live times are longer than it predicts wherever a majority waits for a late node, or an election is under way before the last is up (the shortest election timeout is %s): compare with raftsim run --start uniform:0-%s",
			scenarios.FormatDuration(minTimeout), scenarios.FormatDuration(median.Round(time.Millisecond)))
	}
	return text
}

// FailedTrial is what shows why a live trial failed.
type FailedTrial struct {
	Trial    int
	Evidence []string // the RPCs and /status answers that show the violation
	Timeline string   // the file with the trial's whole timeline
	Tail     []string // its last lines
}

// Limits of live runs.
const (
	MaxNodes      = 15                     // processes one machine runs at once, sensibly
	bootMargin    = 500 * time.Millisecond // from starting raftsim serve's processes to their Raft clocks' start, at first
	maxBootMargin = 3 * time.Second
	maxReruns     = 50 // trials run again because their nodes were late
	pollEvery     = 20 * time.Millisecond
	// startPollEvery is how often a node still starting up is asked: its
	// first answer starts the measurement of a trial measured from the
	// start, which should be no later than its timer's start than this.
	startPollEvery = 5 * time.Millisecond
	tailLines      = 40
	maxTrialTime   = 5 * time.Minute // whatever the scenario's limit
)

// The triggers and actions of a fault timeline that live mode applies; it
// refuses a scenario with any other (a kind added to the scenario format
// stays refused until live mode learns it).
var (
	liveTriggers = []scenarios.Trigger{scenarios.AfterPrevious, scenarios.AfterLeaderElected, scenarios.AfterHeartbeat,
		scenarios.AfterLeaderExists}
	liveActions = []scenarios.ActionKind{scenarios.Crash, scenarios.Restart, scenarios.Partition, scenarios.Isolate,
		scenarios.Heal, scenarios.Cut, scenarios.Pause, scenarios.SetLoss, scenarios.Write, scenarios.Check}
)

// Check refuses what live mode cannot do with s and these nodes, with a
// message naming the field, and returns notes on what live does
// differently from the simulator.
func Check(s *scenarios.Scenario, ns Nodes) (notes []string, err error) {
	c := &s.Cluster
	if c.Nodes > MaxNodes {
		return nil, fmt.Errorf("cluster.nodes: %d processes is more than live runs on one machine (at most %d)", c.Nodes, MaxNodes)
	}
	for _, st := range s.Timeline() {
		if !slices.Contains(liveTriggers, st.After) {
			return nil, fmt.Errorf("%s:%d: after: %s: live mode cannot wait for it", s.Source, st.Line, st.After)
		}
		for _, a := range st.Actions {
			switch {
			case a.Kind == scenarios.Drift:
				return nil, fmt.Errorf("%s:%d: drift: live mode cannot change how fast a process's clock runs", s.Source, a.Line)
			case !slices.Contains(liveActions, a.Kind):
				return nil, fmt.Errorf("%s:%d: %s: live mode cannot apply it", s.Source, a.Line, a.Kind)
			}
		}
	}
	if s.Measure.Until == scenarios.UntilCommit {
		return nil, fmt.Errorf("measure.until: commit: live sees whom nodes follow and their terms, not when a leader's entry is committed: measure until leader (etcd members show a leader only once its first entry is applied, and the simulation beside them measures until commit)")
	}
	if ns.Etcd != "" {
		return CheckEtcd(s)
	}
	if ns.Cmd != "" && c.Impl == scenarios.ImplEtcd {
		return nil, fmt.Errorf("cluster.impl: etcd runs raftsim serve's etcd node; a --cmd node is the command's own (leave out one of --impl etcd and --cmd)")
	}
	if ns.Cmd != "" && (c.Term > 0 || len(c.Logs) > 0) {
		return nil, fmt.Errorf("cluster.term and cluster.logs: live cannot give a --cmd node an initial term or log")
	}
	if c.Persist != nil {
		notes = append(notes, "cluster.persist is ignored: live nodes write to a real disk")
	}
	if c.TimerJitter != nil {
		notes = append(notes, "cluster.timer_jitter is ignored: live nodes have real timers")
	}
	if ns.Cmd != "" {
		if c.Bugs != 0 {
			notes = append(notes, "--bug switches on raftsim's own node's bugs, not a --cmd node's: set RAFT_BUG in the command")
		}
		o := c.Options
		o.PreVote = false
		if flags := scenarios.OptionFlags(o); len(flags) > 0 {
			notes = append(notes, fmt.Sprintf("a --cmd node is told only RAFT_PREVOTE and the timeouts: %v are up to the node", flags))
		}
	}
	return notes, nil
}

// Run runs the trials of s live. It stops early, with the trials done,
// when ctx ends; the error then wraps ctx's.
func Run(ctx context.Context, s *scenarios.Scenario, opt Options) (*Result, error) {
	notes, err := Check(s, opt.Nodes)
	if err != nil {
		return nil, err
	}
	plan := trial.NewPlan(s)
	opt.Nodes = opt.Nodes.For(s)
	res := &Result{}
	for i := range s.Cluster.Nodes {
		res.Logs = append(res.Logs, filepath.Join(opt.Logs, scenarios.NodeName(i)+".log"))
	}
	var seen noteSet
	seen.always(notes...)
	seen.always(loadNote("at the start"))
	margin, reruns := bootMargin, 0
	unanswered := make([]int, s.Cluster.Nodes) // by node, over the run
	for i := 0; i < opt.Trials; i++ {
		if ctx.Err() != nil {
			break
		}
		seed := plan.SeedOf(opt.Seed, i)
		t, err := runTrial(ctx, plan, opt, i, seed, margin, &seen)
		var se *StartError
		switch {
		case reruns >= maxReruns:
		case errors.Is(err, errLateStart):
			margin, reruns = min(2*margin, maxBootMargin), reruns+1
			i-- // again, with more time to start
			continue
		case errors.As(err, &se) && se.PortTaken():
			reruns++
			i-- // again, on other ports
			continue
		}
		if err != nil {
			return res, err
		}
		if ctx.Err() != nil {
			break // an interrupted trial measured nothing
		}
		res.Agg.Add(i, &t.res)
		if opt.Trial != nil {
			opt.Trial(i, &t.res)
		}
		for _, d := range t.startup {
			res.Startup.Add(int64(d))
		}
		if t.spread >= 0 {
			res.StartSpread.Add(int64(t.spread))
		}
		t.obs.mu.Lock() // the proxy may still be answering the trial's last requests
		res.Overheads.Merge(&t.obs.cost)
		for j, k := range t.obs.unanswered {
			unanswered[j] += k
		}
		t.obs.mu.Unlock()
		if t.res.Measured {
			res.TimeToLeader = append(res.TimeToLeader, t.res.TimeToLeader)
		}
		if t.failed != nil {
			res.Failed = append(res.Failed, *t.failed)
		}
		if opt.Progress != nil {
			opt.Progress(i+1, res.Agg.Failed)
		}
	}
	seen.always(slowNotes(unanswered)...)
	seen.always(loadNote("at the end"))
	if st := &res.Startup; st.N() > 0 {
		seen.always(fmt.Sprintf("the nodes took %.0fms (median; the slowest %.0fms) from their process's start to answering /status; a trial began when the nodes that start first had all answered",
			st.Quantile(0.5)/1e6, float64(st.Max())/1e6))
	}
	if sp := &res.StartSpread; sp.N() > 0 && time.Duration(sp.Max()) >= time.Millisecond && plan.Scenario.Measure.From == scenarios.FromStart {
		seen.always(startSpreadNote(sp, plan.Scenario.Cluster.ElectionTimeout.Min))
	}
	if reruns > 0 {
		seen.always(fmt.Sprintf("%s ran again because a node's port was taken before it could listen, or raftsim serve's processes were not all up by the trial's start (the machine was busy; the wait grew to %v)", scenarios.Count(reruns, "trial", "trials"), margin))
	}
	res.Notes = seen.notes()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("live: %w", err)
	}
	return res, nil
}

// noteSet collects notes once each, in order: at most maxRunNotes of the
// trials' own (API trouble and the like) beside the run's.
type noteSet struct {
	mu      sync.Mutex
	list    []string
	dropped int
}

// maxRunNotes bounds the notes of a run.
const maxRunNotes = 30

func (n *noteSet) add(notes ...string) { n.put(maxRunNotes, notes) }

// always adds the run's own notes, which are few.
func (n *noteSet) always(notes ...string) { n.put(-1, notes) }

func (n *noteSet) put(limit int, notes []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, note := range notes {
		switch {
		case note == "" || slices.Contains(n.list, note):
		case limit >= 0 && len(n.list) >= limit:
			n.dropped++
		default:
			n.list = append(n.list, note)
		}
	}
}

// notes returns the notes, saying how many more there were.
func (n *noteSet) notes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dropped == 0 {
		return n.list
	}
	return append(n.list, fmt.Sprintf("(%d more notes not listed)", n.dropped))
}

// loadNote says how busy the machine was, from /proc/loadavg where there
// is one: live timings depend on it.
func loadNote(when string) string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	var one float64
	if _, err := fmt.Sscan(string(data), &one); err != nil {
		return ""
	}
	return fmt.Sprintf("load average %s: %.2f on %d CPUs (other work on the machine slows live nodes)", when, one, runtime.NumCPU())
}
