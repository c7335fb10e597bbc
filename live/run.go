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
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/raftsim/raftsim/disk"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/runner"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/raftsim/raftsim/stats"
	"github.com/raftsim/raftsim/trace"
	"github.com/raftsim/raftsim/trial"
	"github.com/raftsim/raftsim/wire"
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
	// UntilFailure ends the run with its first failed trial.
	UntilFailure bool
	// Progress, if set, hears after each trial how many are done.
	Progress func(done int, failed int)
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
	Notes   []string // what the reader should know: refused options, API trouble, ...
	Logs    []string // the nodes' log files
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
	tailLines     = 40
	maxTrialTime  = 5 * time.Minute // whatever the scenario's limit
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
		for _, a := range st.Actions {
			if a.Kind == scenarios.Drift {
				return nil, fmt.Errorf("%s:%d: drift: live mode cannot change how fast a process's clock runs", s.Source, a.Line)
			}
		}
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
	plan, err := trial.NewPlan(s)
	if err != nil {
		return nil, err
	}
	opt.Nodes = opt.Nodes.For(s)
	res := &Result{}
	for i := range s.Cluster.Nodes {
		res.Logs = append(res.Logs, filepath.Join(opt.Logs, scenarios.NodeName(i)+".log"))
	}
	var seen noteSet
	seen.add(notes...)
	seen.add(loadNote("at the start"))
	margin, reruns := bootMargin, 0
	for i := 0; i < opt.Trials; i++ {
		if ctx.Err() != nil {
			break
		}
		seed := trial.Seed(opt.Seed, i)
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
		for _, d := range t.startup {
			res.Startup.Add(int64(d))
		}
		t.obs.mu.Lock() // the proxy may still be answering the trial's last requests
		res.Overheads.Merge(&t.obs.cost)
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
		if opt.UntilFailure && res.Agg.Failed > 0 {
			break
		}
	}
	seen.add(loadNote("at the end"))
	if st := &res.Startup; st.N() > 0 {
		seen.add(fmt.Sprintf("the --cmd nodes took %.0fms (median; the slowest %.0fms) from their process's start to answering /status; time to leader from the start is measured from the first node's answer",
			st.Quantile(0.5)/1e6, float64(st.Max())/1e6))
	}
	if reruns > 0 {
		seen.add(fmt.Sprintf("%d trials ran again because a node's port was taken before it could listen, or raftsim serve's processes were not all up by the trial's start (the machine was busy; the wait grew to %v)", reruns, margin))
	}
	res.Notes = seen.list
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("live: %w", err)
	}
	return res, nil
}

// noteSet collects notes once each, in order.
type noteSet struct {
	mu   sync.Mutex
	list []string
}

func (n *noteSet) add(notes ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, note := range notes {
		if note != "" && !slices.Contains(n.list, note) {
			n.list = append(n.list, note)
		}
	}
}

// trialRun is one live trial.
type trialRun struct {
	ctx     context.Context
	cancel  context.CancelFunc
	sc      *scenarios.Scenario
	plan    *trial.Plan
	opt     *Options
	index   int
	seeds   trial.Seeds
	start   time.Time // the trial's origin: t=0 of its timeline
	obs     *observer
	cluster *Cluster
	client  *http.Client
	notes   *noteSet
	wg      sync.WaitGroup // the trial's goroutines
	errs    chan error     // from goroutines that apply faults

	// The fault timeline runs from up on: the start for raftsim serve's
	// nodes, the first node's first /status answer for --cmd nodes (base
	// on the trial's clock), until timelineDone.
	up           chan struct{}
	base         time.Duration
	timelineDone chan struct{}

	res     trial.Result
	failed  *FailedTrial
	startup []time.Duration // --cmd nodes: from each process's start to its first /status answer
}

func (t *trialRun) now() time.Duration { return time.Since(t.start) }

// errLateStart says raftsim serve's processes were not all up when their
// Raft clocks were to start: the trial would not have started together.
var errLateStart = errors.New("live: the nodes started late")

// runTrial runs trial index, with the given seed, and tears it down; margin
// is the time raftsim serve's processes get to start.
func runTrial(ctx context.Context, plan *trial.Plan, opt Options, index int, seed uint64, margin time.Duration, notes *noteSet) (*trialRun, error) {
	sc := plan.Scenario
	t := &trialRun{sc: sc, plan: plan, opt: &opt, index: index, seeds: trial.Seeds(seed), notes: notes,
		client: &http.Client{Timeout: time.Second}, errs: make(chan error, 1)}
	t.res.Seed = seed
	t.ctx, t.cancel = context.WithCancel(ctx)
	defer t.cancel()
	dir, err := os.MkdirTemp("", "raftsim-live-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t.start = time.Now().Add(margin)
	t.obs = newObserver(sc, t.now)
	if sc.Measure.From == scenarios.FromStart && opt.Nodes.Cmd == "" {
		t.obs.meter.start(-1, sc.Cluster.Term, 0) // raftsim serve's nodes boot together at 0
	}
	t.cluster, err = NewCluster(ClusterConfig{Nodes: opt.Nodes, Size: sc.Cluster.Nodes, Data: dir, Logs: opt.Logs, Links: LinksOf(plan),
		FIFO: sc.Network.FIFO, Seed: t.seeds.Network(), Observer: t.obs, Now: t.now})
	if err != nil {
		return nil, err
	}
	defer func() {
		t.cancel()
		t.wg.Wait()
		t.cluster.Close()
		t.client.CloseIdleConnections()
	}()
	t.up, t.timelineDone = make(chan struct{}), make(chan struct{})
	t.wg.Add(1)
	go t.runTimeline()
	if err := t.boot0(dir); err != nil {
		return nil, err
	}
	err = t.run()
	t.cancel()
	t.wg.Wait()
	if err != nil {
		return nil, err
	}
	return t, t.finish()
}

// boot0 writes each node's initial state, if the scenario gives one, and
// starts the nodes at their start times.
func (t *trialRun) boot0(dir string) error {
	c := &t.sc.Cluster
	for i := range c.Nodes {
		header := fmt.Sprintf("=== raftsim live: %s trial %d (seed %d), %s ===\n", t.sc.Name, t.index, t.res.Seed, scenarios.NodeName(i))
		if err := appendFile(t.cluster.LogFile(i), header); err != nil {
			return err
		}
		if c.Term == 0 && len(c.Logs) == 0 {
			continue
		}
		store, _, err := disk.Open(filepath.Join(dir, scenarios.NodeName(i)))
		if err != nil {
			return err
		}
		var log []uint64
		for _, l := range c.Logs {
			if l.Node == i {
				log = l.Terms
			}
		}
		if err := store.Save(c.Term, "", 1, log); err != nil {
			return err
		}
	}
	offsets := make([]time.Duration, c.Nodes)
	for i := range offsets {
		if len(c.Start) > 0 {
			var r sim.Rand
			r.Seed(t.seeds.Start(i))
			offsets[i] = c.Start[min(i, len(c.Start)-1)].Sample(&r)
		}
	}
	order := make([]int, c.Nodes)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(offsets[a] - offsets[b]) })
	own := t.opt.Nodes.Cmd == ""
	spawned := make([]time.Duration, c.Nodes)
	for _, i := range order {
		if !own && !t.sleepUntil(offsets[i]) {
			return nil
		}
		if err := t.cluster.Start(i, t.start.Add(offsets[i])); err != nil {
			return err
		}
		spawned[i] = t.now()
		if own {
			t.bootedAt(i, offsets[i])
		} else {
			t.bootedAt(i, spawned[i])
		}
	}
	if own {
		close(t.up) // the nodes start at 0
	}
	first := true
	err := t.cluster.WaitAll(t.ctx, func(i int) {
		if own {
			return
		}
		now := t.now()
		t.startup = append(t.startup, now-spawned[i])
		if !first {
			return
		}
		// Another program boots when its process has started up: the
		// measurement and the fault timeline start with the first node to
		// answer.
		first = false
		if t.sc.Measure.From == scenarios.FromStart {
			o := t.obs
			o.mu.Lock()
			o.meter.start(-1, c.Term, now)
			o.mu.Unlock()
		}
		t.base = now
		close(t.up)
	})
	switch {
	case t.ctx.Err() != nil:
		return nil
	case err != nil:
		return err
	case own && t.now() > 0:
		return errLateStart
	}
	return nil
}

// bootedAt marks node i booted (started, or to start, at at).
func (t *trialRun) bootedAt(i int, at time.Duration) {
	o := t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	o.booted[i], o.down[i], o.leads[i] = true, false, false
	o.emit(trace.Event{At: at, Kind: trace.EvStart, Node: i, Role: raft.Follower, Term: o.term[i]})
}

// run runs the trial until it ends: its timeline over and its measurement
// done, then its settle time; a failure; its time limit; or ctx.
func (t *trialRun) run() error {
	sc := t.sc
	for i := range sc.Cluster.Nodes {
		t.wg.Add(1)
		go t.poll(i)
	}
	limit := t.base + min(sc.Measure.Limit, maxTrialTime)
	var endAt time.Duration // when the trial ends once settled; 0 while it is not
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return nil
		case err := <-t.errs:
			return err
		case <-tick.C:
		}
		now := t.now()
		t.obs.due()
		o := t.obs
		o.mu.Lock()
		over := o.failure != nil || now >= limit || o.meter.overdue(now)
		settled := !o.meter.measuring && o.converge == 0
		o.mu.Unlock()
		if over {
			return nil
		}
		select {
		case <-t.timelineDone:
			if settled && endAt == 0 {
				endAt = now + sc.SettleTime()
			}
		default:
		}
		if endAt > 0 && now >= endAt {
			return nil
		}
	}
}

// runTimeline runs the fault timeline once the nodes are up.
func (t *trialRun) runTimeline() {
	defer t.wg.Done()
	defer close(t.timelineDone)
	select {
	case <-t.up:
	case <-t.ctx.Done():
		return
	}
	tl := &timeline{t: t, steps: t.sc.Timeline()}
	if err := tl.run(); err != nil {
		t.report(err)
	}
}

// report hands an error of a goroutine to run.
func (t *trialRun) report(err error) {
	select {
	case t.errs <- err:
	default:
	}
}

// poll asks node i for its /status until the trial ends, unless it is down
// or paused.
func (t *trialRun) poll(i int) {
	defer t.wg.Done()
	for {
		t.askStatus(i)
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(pollEvery):
		}
	}
}

// askStatus asks node i for its /status, unless it is down or paused, and
// tells the observer.
func (t *trialRun) askStatus(i int) {
	o := t.obs
	o.mu.Lock()
	up := o.up(i)
	o.mu.Unlock()
	if !up {
		return
	}
	asked := t.now()
	if s, err := t.cluster.Status(i); err == nil {
		o.status(i, asked, s)
	}
}

// sleepUntil sleeps until the trial's clock reads at; it reports false when
// the trial ended first.
func (t *trialRun) sleepUntil(at time.Duration) bool {
	d := at - t.now()
	if d <= 0 {
		return t.ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-t.ctx.Done():
		return false
	}
}

// waitUntil waits until cond, called under the observer's lock, holds; it
// reports false when the trial ended first.
func (t *trialRun) waitUntil(cond func() bool) bool {
	o := t.obs
	for {
		o.mu.Lock()
		ok := cond()
		o.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-t.ctx.Done():
			return false
		case <-o.kick:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// after runs f after d, in the trial's goroutines, unless the trial ends
// first.
func (t *trialRun) after(d time.Duration, f func() error) {
	at := t.now() + d
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if t.sleepUntil(at) {
			if err := f(); err != nil {
				t.report(err)
			}
		}
	}()
}

// kill kills node i's process.
func (t *trialRun) kill(i int) error {
	if err := t.cluster.Kill(i); err != nil {
		return err
	}
	o := t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	now := t.now()
	o.down[i] = true
	o.emit(trace.Event{At: now, Kind: trace.EvDown, Node: i})
	o.meter.crashed(i, now)
	o.look(now)
	return nil
}

// boot restarts node i after a kill, with its data directory.
func (t *trialRun) boot(i int) error {
	if t.ctx.Err() != nil {
		return nil
	}
	if err := t.cluster.Start(i, time.Now()); err != nil {
		return err
	}
	t.bootedAt(i, t.now())
	return nil
}

// pause stops node i with SIGSTOP for d, then continues it.
func (t *trialRun) pause(i int, d time.Duration) error {
	if err := t.cluster.Pause(i); err != nil {
		return err
	}
	o := t.obs
	o.mu.Lock()
	now := t.now()
	o.paused[i] = true
	o.emit(trace.Event{At: now, Kind: trace.EvPause, Node: i, Arrive: now + d})
	o.look(now)
	o.mu.Unlock()
	t.after(d, func() error {
		if err := t.cluster.Resume(i); err != nil {
			return err
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.paused[i] = false
		o.emit(trace.Event{At: t.now(), Kind: trace.EvResume, Node: i})
		o.look(t.now())
		return nil
	})
	return nil
}

// finish asks every running node for its /status once more, checks the
// end-of-trial expectations, and keeps what shows a failure.
func (t *trialRun) finish() error {
	o := t.obs
	for i := range t.sc.Cluster.Nodes {
		t.askStatus(i)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	end := t.now()
	o.meter.finish(end)
	ex := &t.sc.Expect
	m := &o.meter
	switch {
	case o.failure != nil:
	case ex.LeaderWithin > 0 && m.res.Started && !m.res.Measured:
		o.fail(trial.KindLiveness, fmt.Sprintf("no leader within %s after the origin", scenarios.FormatDuration((end-m.origin).Round(time.Millisecond))))
	case ex.OneLeaderAtEnd:
		var leaders []string
		for i := range o.n {
			if o.leads[i] && !o.down[i] {
				leaders = append(leaders, fmt.Sprintf("%v (term %d)", raft.ID(i), o.term[i]))
			}
		}
		if len(leaders) != 1 {
			o.fail(trial.KindLeadersAtEnd, fmt.Sprintf("%d nodes believe they lead at the end: %v", len(leaders), leaders))
		}
	}
	t.notes.add(o.notes...)
	t.res = m.res
	t.res.Seed = uint64(t.seeds)
	t.res.Events = uint64(len(o.events))
	t.res.Failure = o.failure
	if o.failure == nil && !t.opt.Timelines {
		return nil
	}
	return t.keepTimeline()
}

// keepTimeline writes a failed trial's timeline, in the text format of
// raftsim replay, to the logs directory; the caller holds the observer's
// lock.
func (t *trialRun) keepTimeline() error {
	o := t.obs
	events := slices.Clone(o.events)
	slices.SortStableFunc(events, func(a, b trace.Event) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	var lines []string
	for k := range events {
		events[k].Seq = uint64(k)
		lines = append(lines, events[k].Line())
	}
	path := filepath.Join(t.opt.Logs, "trial-"+strconv.Itoa(t.index)+".timeline")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "# raftsim live: %s, trial %d (seed %d), nodes: %s\n", t.sc.Name, t.index, t.res.Seed, t.opt.Nodes.Describe())
	if err := trace.WriteText(f, events); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if o.failure != nil {
		t.failed = &FailedTrial{Trial: t.index, Evidence: o.evidence, Timeline: path, Tail: lines[max(0, len(lines)-tailLines):]}
	}
	return nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// For returns ns set up for the protocol of s: raftsim serve's flags, and
// a --cmd node's optional environment (the timeouts and the Pre-Vote
// switch).
func (ns Nodes) For(s *scenarios.Scenario) Nodes {
	c := &s.Cluster
	ns.ServeArgs = []string{"--election-timeout", c.ElectionTimeout.String(), "--heartbeat", scenarios.FormatDuration(c.HeartbeatInterval())}
	for _, flag := range scenarios.OptionFlags(c.Options) {
		ns.ServeArgs = append(ns.ServeArgs, "--"+flag)
	}
	if c.Bugs != 0 {
		ns.ServeArgs = append(ns.ServeArgs, "--bug", c.Bugs.String())
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	ns.Env = []string{wire.EnvElectionMin + "=" + ms(c.ElectionTimeout.Min), wire.EnvElectionMax + "=" + ms(c.ElectionTimeout.Max),
		wire.EnvHeartbeat + "=" + ms(c.HeartbeatInterval())}
	if c.Options.PreVote {
		ns.Env = append(ns.Env, wire.EnvPreVote+"=1")
	}
	return ns
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
