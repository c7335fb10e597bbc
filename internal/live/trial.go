package live

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// trialRun is one live trial: the live world of a [trial.Conductor]. The
// conductor runs the trial's timeline, measures it and judges it, as it
// does in the simulator; trialRun carries out what it says on processes
// (kill -9, start, SIGSTOP and SIGCONT, through an ordered queue of work,
// so that nothing slow happens under the trial's lock) and on the proxy
// (partitions, cuts, loss, held-back entries), keeps the wake-ups it asks
// for in real time, and feeds it what the observer sees on the wire.
type trialRun struct {
	ctx     context.Context
	cancel  context.CancelFunc
	sc      *scenarios.Scenario
	opt     *Options
	index   int
	seeds   trial.Seeds
	start   time.Time // the trial's origin: t=0 of its clock
	clock   func() time.Duration
	obs     *observer
	c       *trial.Conductor
	cluster *Cluster
	procs   processes // what the trial's actions do: the cluster, or a test's fake
	notes   *noteSet
	wg      sync.WaitGroup // the trial's goroutines
	errs    chan error     // from goroutines that carry out work

	// Under obs.mu: the wake-ups asked for, whether the trial has ended,
	// when each node's process was last asked to start and when the
	// process now running was (the queue starts it a little later), and
	// whether the timeline has begun.
	wakeups  wakeups
	ended    bool
	spawned  []time.Duration
	launched []time.Duration
	badSince []time.Duration // by node: since when its /status answers have not followed the contract, or -1
	begun    bool

	kick chan struct{} // the loop looks again: a new wake-up, or the end
	work chan func() error

	res     trial.Result
	failed  *FailedTrial
	startup []time.Duration // --cmd nodes: from each process's start to its first /status answer
	// --cmd nodes: when the first of the nodes that start first answered
	// (-1 before), and from then until the last of them did, when the
	// trial began (-1 before).
	firstUp, spread time.Duration
}

func (t *trialRun) now() time.Duration { return t.clock() }

// processes is what a live trial's actions do to the nodes' processes,
// the proxy between them and the nodes' optional /propose: a *Cluster, or
// a test's fake that records them.
type processes interface {
	Start(i int, startAt time.Time) error
	Kill(i int) error
	Pause(i int) error
	Resume(i int) error
	Block(from, to int, blocked bool)
	SetLoss(p float64)
	SetHold(hold func(*raft.Message) bool)
	Propose(leader, entries int) (status int, err error)
}

// own reports whether the nodes are raftsim serve's, whose Raft clocks
// start when told.
func (t *trialRun) own() bool { return !t.opt.Nodes.StartsAtOwnPace() }

// errLateStart says raftsim serve's processes were not all up when their
// Raft clocks were to start: the trial would not have started together.
var errLateStart = errors.New("live: the nodes started late")

// runTrial runs trial index, with the given seed, and tears it down; margin
// is the time raftsim serve's processes get to start.
func runTrial(ctx context.Context, plan *trial.Plan, opt Options, index int, seed uint64, margin time.Duration, notes *noteSet) (*trialRun, error) {
	sc := plan.Scenario
	n := sc.Cluster.Nodes
	t := &trialRun{sc: sc, opt: &opt, index: index, seeds: trial.Seeds(seed), notes: notes,
		errs: make(chan error, 1), kick: make(chan struct{}, 1),
		work: make(chan func() error, 64), spawned: make([]time.Duration, n), launched: make([]time.Duration, n),
		badSince: make([]time.Duration, n)}
	for i := range t.badSince {
		t.badSince[i] = -1
	}
	t.ctx, t.cancel = context.WithCancel(ctx)
	defer t.cancel()
	dir, err := os.MkdirTemp("", "raftsim-live-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t.start = time.Now().Add(margin)
	t.clock = func() time.Duration { return time.Since(t.start) }
	t.setup(plan, seed)
	t.cluster, err = NewCluster(ClusterConfig{Nodes: opt.Nodes, Size: n, Data: dir, Logs: opt.Logs, Links: LinksOf(plan),
		FIFO: sc.Network.FIFO, Seed: t.seeds.Network(), Observer: t.obs, Now: t.now})
	if err != nil {
		return nil, err
	}
	t.procs = t.cluster
	defer func() {
		t.cancel()
		t.wg.Wait()
		if note, _ := t.cluster.Close(); note != "" {
			t.notes.always(note)
		}
	}()
	if err := t.prepare(dir); err != nil {
		return nil, err
	}
	t.wg.Add(1)
	go t.carryOut()
	if err := t.boot(); err != nil {
		return nil, err
	}
	for i := range n {
		t.wg.Add(1)
		go t.poll(i)
	}
	err = t.loop()
	t.cancel()
	t.wg.Wait()
	if err != nil {
		return nil, err
	}
	return t, t.finish()
}

// setup readies the trial's conductor and observer for the trial with
// the given seed; the caller sets the clock first.
func (t *trialRun) setup(plan *trial.Plan, seed uint64) {
	sc := plan.Scenario
	t.firstUp, t.spread = -1, -1
	t.c = trial.NewConductor(plan)
	t.obs = newObserver(sc, t.c, t.now)
	if t.opt.Nodes.Etcd != "" {
		t.obs.settle = 2 * sc.Cluster.HeartbeatInterval()
		t.c.HeartbeatsUnseen() // etcd's travel inside its TCP streams
	}
	t.c.Reset(seed, t, sim.NewTopology(sc.Cluster.Nodes))
	for i := range sc.Cluster.Nodes {
		t.c.Cluster.State[i] = raft.State{Term: sc.Cluster.Term, Lead: raft.None}
	}
}

// prepare writes each node's log header and, if the scenario gives one,
// its initial state.
func (t *trialRun) prepare(dir string) error {
	c := &t.sc.Cluster
	plan := t.c.Plan()
	for i := range c.Nodes {
		header := fmt.Sprintf("=== raftsim live: %s trial %d (seed %d), %s ===\n", t.sc.Name, t.index, uint64(t.seeds), scenarios.NodeName(i))
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
		err = store.Save(c.Term, "", 1, plan.InitialLog(i))
		if cerr := store.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// boot starts the nodes at their start times. raftsim serve's processes
// all start now and their Raft clocks at their start times, once every
// process answers: the timeline begins at 0. Another program's processes
// take a while to start up, at their own pace: those that start first
// start now, and the trial begins when each of them answers; the others
// start that much later than their start times say.
func (t *trialRun) boot() error {
	plan := t.c.Plan()
	n := t.sc.Cluster.Nodes
	o := t.obs
	if !t.own() {
		o.mu.Lock()
		defer o.mu.Unlock()
		first := t.firstToStart()
		for _, i := range first {
			t.bootNode(i)
		}
		return nil
	}
	for i := range n {
		if err := t.cluster.Start(i, t.start.Add(plan.StartTime(t.seeds, i))); err != nil {
			return err
		}
	}
	err := t.cluster.WaitAll(t.ctx, nil)
	switch {
	case t.ctx.Err() != nil:
		return nil
	case err != nil:
		return err
	case t.now() > 0:
		return errLateStart
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t.startOwn()
	return nil
}

// startOwn schedules the start of raftsim serve's nodes, whose processes
// are up: the timeline begins at 0, and each node boots at its start
// time, when its Raft clock starts. The caller holds obs.mu.
func (t *trialRun) startOwn() {
	plan := t.c.Plan()
	t.begun = true
	t.wakeups.push(0, t.c.Begin)
	for i := range t.sc.Cluster.Nodes {
		t.wakeups.push(plan.StartTime(t.seeds, i), func() { t.booted(i) })
	}
	t.poke()
}

// bootNode starts another program's node i: its process starts now (in
// the queue of work), and it counts as booted from now.
func (t *trialRun) bootNode(i int) {
	t.booted(i)
	t.spawn(i)
}

// spawn queues the start of node i's process, now; the caller holds
// obs.mu.
func (t *trialRun) spawn(i int) {
	at := t.now()
	t.spawned[i] = at
	t.obs.answered[i] = false
	t.do(func() error {
		if err := t.procs.Start(i, time.Now()); err != nil {
			return err
		}
		t.obs.mu.Lock()
		t.launched[i] = at
		t.obs.mu.Unlock()
		return nil
	})
}

// booted marks node i booted: a follower in its term; the caller holds
// obs.mu.
func (t *trialRun) booted(i int) {
	o, cl := t.obs, &t.c.Cluster
	t.c.Booted(i)
	o.emit(trace.Event{At: t.now(), Kind: trace.EvStart, Node: i, Role: raft.Follower, Term: cl.State[i].Term})
	if st := &cl.State[i]; st.Role != raft.Follower || st.Lead != raft.None {
		prev := *st
		st.Role, st.Lead = raft.Follower, raft.None
		t.c.StateChanged(i, &prev)
	}
	t.c.Watch()
}

// loop runs the trial until it ends: the conductor ends it (its timeline
// and measurement over and settled, a failure, its time limit), it runs
// past the longest live trial, or ctx ends. It runs the wake-ups as they
// come due.
func (t *trialRun) loop() error {
	o := t.obs
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.mu.Lock()
		now := t.now()
		for !t.ended {
			f, ok := t.wakeups.popDue(now)
			if !ok {
				break
			}
			f()
		}
		if !t.ended && (t.begun && now >= maxTrialTime || t.c.Overdue()) {
			t.c.Stop() // live time is dear: a trial that has failed already, or runs too long, ends now
		}
		ended := t.ended
		wait := 10 * time.Millisecond // at least this often: Overdue comes due with time alone
		if next, ok := t.wakeups.next(); ok {
			wait = min(wait, next-now)
		}
		o.mu.Unlock()
		if ended {
			return nil
		}
		timer.Reset(max(wait, 0))
		select {
		case <-t.ctx.Done():
			return nil
		case err := <-t.errs:
			return err
		case <-t.kick:
		case <-timer.C:
		}
	}
}

// poke makes the loop look again.
func (t *trialRun) poke() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// report hands an error of a goroutine to the loop.
func (t *trialRun) report(err error) {
	select {
	case t.errs <- err:
	default:
	}
}

// do queues work on processes or nodes (starting a process, a signal, an
// HTTP request): the queue carries it out in order, outside the trial's
// lock; the caller holds obs.mu.
func (t *trialRun) do(f func() error) {
	select {
	case t.work <- f:
	default:
		t.report(errors.New("live: more than 64 actions on processes waiting at once"))
	}
}

// carryOut carries out the queued work, in order, until the trial ends.
func (t *trialRun) carryOut() {
	defer t.wg.Done()
	for {
		select {
		case <-t.ctx.Done():
			return
		case f := <-t.work:
			if err := f(); err != nil {
				t.report(err)
				return
			}
		}
	}
}

// poll asks node i for its /status until the trial ends, while it is up
// and not paused. A node that has not answered since its process started
// is starting up: one whose process exits by itself, or that does not
// answer in time, ends the trial with a StartError.
func (t *trialRun) poll(i int) {
	defer t.wg.Done()
	o := t.obs
	for {
		o.mu.Lock()
		cl := &t.c.Cluster
		up := cl.Up(i) && !cl.Paused(i)
		starting := up && !o.answered[i]
		since := t.spawned[i]
		o.mu.Unlock()
		if up {
			asked := t.now()
			s, err := t.cluster.Status(i)
			switch {
			case err == nil:
				t.answered(i, asked, s)
			case starting:
				if err := t.startTrouble(i, since, err); err != nil {
					t.report(err)
					return
				}
			}
		}
		every := pollEvery
		if starting {
			every = startPollEvery
		}
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// answered takes node i's /status answer to a request sent at asked.
// Another program's cluster is up, and its trial begins, when the nodes
// that start first have all answered.
func (t *trialRun) answered(i int, asked time.Duration, s wire.Status) {
	o := t.obs
	o.mu.Lock()
	if !t.own() && !o.answered[i] && t.c.Cluster.Up(i) {
		t.startup = append(t.startup, t.now()-t.spawned[i]) // its first answer since its process started
	}
	o.mu.Unlock()
	o.status(i, asked, s)
	o.mu.Lock()
	defer o.mu.Unlock()
	if t.own() || t.begun {
		return
	}
	first := t.firstToStart()
	if t.firstUp < 0 && slices.Contains(first, i) && o.answered[i] {
		// Its timer runs: an election may begin before the others are up.
		t.firstUp = t.now()
		t.c.MeasureFromStart()
	}
	for _, j := range first {
		if !o.answered[j] {
			return
		}
	}
	t.begun = true
	t.spread = t.now() - t.firstUp
	t.c.Begin()
	plan, origin := t.c.Plan(), t.now()
	for i := range t.sc.Cluster.Nodes {
		if !slices.Contains(first, i) {
			at := origin + plan.StartTime(t.seeds, i) - plan.StartTime(t.seeds, first[0])
			t.wakeups.push(at, func() { t.bootNode(i) })
		}
	}
	t.poke()
}

// firstToStart returns the nodes whose start time is the earliest.
func (t *trialRun) firstToStart() []int {
	plan := t.c.Plan()
	var first []int
	for i := range t.sc.Cluster.Nodes {
		switch at := plan.StartTime(t.seeds, i); {
		case len(first) == 0 || at == plan.StartTime(t.seeds, first[0]):
			first = append(first, i)
		case at < plan.StartTime(t.seeds, first[0]):
			first = []int{i}
		}
	}
	return first
}

// startTrouble returns the error of a node i that has not answered since
// it was spawned at since (last is why it did not answer now): its process
// exited by itself, it answers /status but not as the contract says (for
// badAnswerFor), or it took longer than startTimeout. A node the timeline
// killed or restarted meanwhile is no trouble.
func (t *trialRun) startTrouble(i int, since time.Duration, last error) error {
	o := t.obs
	o.mu.Lock()
	trouble := t.c.Cluster.Up(i) && !o.answered[i] && t.spawned[i] == since && !t.ended
	if !errors.Is(last, ErrBadAnswer) {
		t.badSince[i] = -1
	} else if t.badSince[i] < 0 {
		t.badSince[i] = t.now()
	}
	bad := t.badSince[i] >= 0 && t.now()-t.badSince[i] >= badAnswerFor
	o.mu.Unlock()
	c := t.cluster
	switch {
	case !trouble:
		return nil
	case bad:
		return c.startError(i, fmt.Sprintf("answers GET http://%s%s, but not as the contract says (%v)", c.Addr(i), wire.PathStatus, last))
	case t.now()-since > startTimeout:
		hint := ""
		if errors.Is(last, syscall.ECONNREFUSED) {
			hint = fmt.Sprintf("; nothing listens there: the node must listen on 127.0.0.1:$PORT (PORT=%d)", c.ports[i])
		}
		return c.startError(i, fmt.Sprintf("did not answer GET http://%s%s within %v (last: %v)%s", c.Addr(i), wire.PathStatus, startTimeout, last, hint))
	}
	if p := c.proc(i); p != nil && !p.Running() {
		// The timeline marks a node down before its queued kill runs, and
		// up before its queued start does: a node still up now, whose
		// process for this start was launched, exited by itself.
		o.mu.Lock()
		trouble = t.c.Cluster.Up(i) && t.spawned[i] == since && t.launched[i] == since && !t.ended
		o.mu.Unlock()
		if trouble {
			return c.startError(i, fmt.Sprintf("exited (%v) before answering %s", exitText(p), wire.PathStatus))
		}
	}
	return nil
}

// badAnswerFor is how long a starting node may answer /status other than
// as the contract says (a 503 while it loads, say) before that is its
// trouble.
const badAnswerFor = time.Second

// What the conductor asks of its world ([trial.World]). The conductor
// calls them with obs.mu held.

// Now implements [trial.World].
func (t *trialRun) Now() time.Duration { return t.now() }

// Events implements [trial.World].
func (t *trialRun) Events() uint64 { return uint64(len(t.obs.events)) }

// At implements [trial.World].
func (t *trialRun) At(at time.Duration, call trial.Call) {
	t.wakeups.push(at, func() { t.c.Due(call) })
	t.poke()
}

// Tracing implements [trial.World]: live keeps every trial's timeline.
func (t *trialRun) Tracing() bool { return true }

// Note implements [trial.World].
func (t *trialRun) Note(text string) { t.obs.emit(traceNote(t.now(), text)) }

// Fault implements [trial.World].
func (t *trialRun) Fault(text string) {
	t.obs.emit(trace.Event{At: t.now(), Kind: trace.EvFault, Node: -1, Text: text})
}

// End implements [trial.World].
func (t *trialRun) End(f *trial.Failure) {
	if f != nil {
		t.obs.emit(trace.Event{At: f.At, Kind: trace.EvViolation, Node: -1, Text: f.Kind + ": " + f.Detail})
	}
	t.ended = true
	t.poke()
}

// Crash implements [trial.World]: kill -9.
func (t *trialRun) Crash(i int) {
	t.obs.emit(trace.Event{At: t.now(), Kind: trace.EvDown, Node: i})
	t.do(func() error { return t.procs.Kill(i) })
}

// Restart implements [trial.World]: the node's process starts again with
// its data directory; raftsim serve's starts its Raft clock at once.
func (t *trialRun) Restart(i int) {
	t.booted(i)
	t.spawn(i)
}

// Pause implements [trial.World]: SIGSTOP, then SIGCONT after d.
func (t *trialRun) Pause(i int, d time.Duration) {
	now := t.now()
	t.obs.emit(trace.Event{At: now, Kind: trace.EvPause, Node: i, Arrive: now + d})
	t.do(func() error { return t.procs.Pause(i) })
	t.wakeups.push(now+d, func() {
		t.do(func() error { return t.procs.Resume(i) })
		t.obs.emit(trace.Event{At: t.now(), Kind: trace.EvResume, Node: i})
		t.c.Resumed(i)
		t.c.Watch()
	})
	t.poke()
}

// Drift implements [trial.World]; live refuses drift before a trial
// begins (Check), since a process's clock cannot be made to run slow.
func (t *trialRun) Drift(i int, factor float64) {
	t.report(fmt.Errorf("live: drift of %v by %g: a process's clock cannot be changed", raft.ID(i), factor))
}

// SetLoss implements [trial.World].
func (t *trialRun) SetLoss(p float64) { t.procs.SetLoss(p) }

// NetworkChanged implements [trial.World]: the proxy blocks what the
// topology blocks.
func (t *trialRun) NetworkChanged() {
	topo := t.c.Cluster.Topo
	for from := range t.sc.Cluster.Nodes {
		for to := range t.sc.Cluster.Nodes {
			if from != to {
				t.procs.Block(from, to, topo.Blocked(from, to))
			}
		}
	}
}

// Write implements [trial.World]: POST /propose to the leader. With hold,
// the proxy discards the AppendEntries that carry entries to followers
// outside reach for one heartbeat interval (the simulator holds them until
// the leader's next heartbeat, which live cannot see).
func (t *trialRun) Write(leader, entries int, reach []int, hold bool) {
	if hold {
		reach := slices.Clone(reach)
		t.procs.SetHold(func(m *raft.Message) bool {
			return int(m.From) == leader && m.Type == raft.MsgApp && m.NEntries > 0 && !slices.Contains(reach, int(m.To))
		})
		t.wakeups.push(t.now()+t.sc.Cluster.HeartbeatInterval(), func() { t.procs.SetHold(nil) })
		t.poke()
	}
	t.do(func() error {
		t.propose(leader, entries)
		return nil
	})
}

// propose asks the leader to append entries, and notes what went wrong.
func (t *trialRun) propose(leader, entries int) {
	status, err := t.procs.Propose(leader, entries)
	o := t.obs
	switch {
	case err != nil:
		o.mu.Lock()
		t.Fault(fmt.Sprintf("write failed: %v", err))
		o.mu.Unlock()
	case status == http.StatusNotFound:
		t.notes.always(fmt.Sprintf("the nodes have no POST %s (optional in the contract): writes were skipped, so logs did not diverge", wire.PathPropose))
	case status != http.StatusOK:
		t.notes.always(fmt.Sprintf("POST %s answered %d %s, not 200: those writes were not made, so logs did not diverge", wire.PathPropose, status, http.StatusText(status)))
		o.mu.Lock()
		t.Fault(fmt.Sprintf("write refused: %v answered %d", raft.ID(leader), status))
		o.mu.Unlock()
	}
}

var _ trial.World = (*trialRun)(nil)

// finish asks every running node for its /status once more, closes the
// trial, checks the end-of-trial expectations, and keeps what shows a
// failure.
func (t *trialRun) finish() error {
	o := t.obs
	for i := range t.sc.Cluster.Nodes {
		o.mu.Lock()
		up := t.c.Cluster.Up(i) && !t.c.Cluster.Paused(i)
		o.mu.Unlock()
		if up {
			asked := t.now()
			if s, err := t.cluster.Status(i); err == nil {
				o.status(i, asked, s)
			}
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t.res = *t.c.Finish()
	t.notes.add(o.notes...)
	if t.res.Failure == nil && !t.opt.Timelines {
		return nil
	}
	return t.keepTimeline()
}

// keepTimeline writes a failed trial's timeline, in the text format of
// raftsim replay, to the logs directory; the caller holds obs.mu.
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
	var b strings.Builder
	fmt.Fprintf(&b, "# raftsim live: %s, trial %d (seed %d), nodes: %s\n", t.sc.Name, t.index, t.res.Seed, t.opt.Nodes.Describe())
	if err := trace.WriteText(&b, events); err != nil {
		return err
	}
	if err := disk.WriteFile(path, []byte(b.String())); err != nil {
		return err
	}
	if t.res.Failure != nil {
		t.failed = &FailedTrial{Trial: t.index, Evidence: o.evidence, Timeline: path, Tail: lines[max(0, len(lines)-tailLines):]}
	}
	return nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// wakeups are the calls a live trial waits to make, ordered by (time,
// order of asking), as the simulator orders its events.
type wakeups struct {
	h   wakeupHeap
	seq uint64
}

type wakeup struct {
	at  time.Duration
	seq uint64
	f   func()
}

type wakeupHeap []wakeup

func (h wakeupHeap) Len() int { return len(h) }
func (h wakeupHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}
func (h wakeupHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *wakeupHeap) Push(x any)   { *h = append(*h, x.(wakeup)) }
func (h *wakeupHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (w *wakeups) push(at time.Duration, f func()) {
	w.seq++
	heap.Push(&w.h, wakeup{at, w.seq, f})
}

// popDue returns the first call due by now.
func (w *wakeups) popDue(now time.Duration) (func(), bool) {
	if len(w.h) == 0 || w.h[0].at > now {
		return nil, false
	}
	return heap.Pop(&w.h).(wakeup).f, true
}

// next returns when the first call comes due.
func (w *wakeups) next() (time.Duration, bool) {
	if len(w.h) == 0 {
		return 0, false
	}
	return w.h[0].at, true
}
