package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/node/realtime"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

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
	if own {
		close(t.up) // every process is up before its Raft clock starts at 0: the timeline may kill them
	}
	return nil
}

// bootedAt marks node i booted (started, or to start, at at).
func (t *trialRun) bootedAt(i int, at time.Duration) {
	o := t.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	o.booted[i], o.down[i], o.role[i] = true, false, raft.Follower
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
func (t *trialRun) sleepUntil(at time.Duration) bool { return realtime.Sleep(t.ctx, at-t.now()) }

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
	if o.failure == nil && o.unfinished != "" {
		m.res.Unfinished = o.unfinished
		if st := scenarios.FirstCheck(o.stepsLeft); st != nil {
			o.fail(trial.KindCheck, "the check of step "+st.Name()+" never ran: "+o.unfinished)
		}
	}
	switch {
	case o.failure != nil:
	case ex.ConvergeWithin > 0 && m.res.Unfinished != "":
		o.fail(trial.KindLiveness, "converge_within was never put to the test: the fault timeline never finished ("+m.res.Unfinished+")")
	case ex.LeaderWithin > 0 && m.res.Started && !m.res.Measured:
		o.fail(trial.KindLiveness, fmt.Sprintf("no leader within %s after the origin", scenarios.FormatDuration((end-m.origin).Round(time.Millisecond))))
	case ex.OneLeaderAtEnd:
		var leaders []string
		for i := range o.n {
			if o.leads(i) && !o.down[i] {
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
