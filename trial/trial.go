package trial

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Seed returns the seed of trial index of a scenario run with seed
// scenarioSeed. Trial seeds are below 2^53, so that JSON readers keep them
// exact.
func Seed(scenarioSeed uint64, index int) uint64 {
	return sim.Mix(scenarioSeed^sim.Mix(uint64(index)+1)) & (1<<53 - 1)
}

// Plan is a scenario made ready for running many trials. It is read-only
// once made, and may be shared by many [Runner]s.
type Plan struct {
	Scenario *scenarios.Scenario
	steps    []scenarios.Step
	links    []linkRule
	// steady, when above 0, makes every trial a steady-state run: it
	// measures stability for this long from the first leader on.
	steady time.Duration
}

type linkRule struct {
	from, to int
	link     sim.Link
}

// NewPlan prepares s for running. s must be valid, as
// [scenarios.Overrides.Apply] returns scenarios: plans trust it.
func NewPlan(s *scenarios.Scenario) (*Plan, error) {
	p := &Plan{Scenario: s, steps: s.Timeline()}
	p.links = linkRules(s)
	return p, nil
}

// NewSteadyPlan prepares steady-state runs of s, each measuring run of
// virtual time from its first leader on, under the scenario's network and
// background faults ([scenarios.Scenario.SteadyTimeline]). Invariants are
// checked; the scenario's other expectations are about its failure, not
// its weather, and are not.
func NewSteadyPlan(s *scenarios.Scenario, run time.Duration) (*Plan, error) {
	if run <= 0 {
		return nil, fmt.Errorf("steady-state run of %v: want above 0", run)
	}
	return &Plan{Scenario: s, steps: s.SteadyTimeline(), links: linkRules(s), steady: run}, nil
}

// Steady returns the length of each steady-state run, or 0 for a plan of
// ordinary trials.
func (p *Plan) Steady() time.Duration { return p.steady }

func linkRules(s *scenarios.Scenario) []linkRule {
	var rules []linkRule
	def := sim.Link{Latency: s.Network.Latency, Loss: s.Network.Loss, Dup: s.Network.Dup}
	n := s.Cluster.Nodes
	expand := func(sel scenarios.Selector) []int {
		if sel.Kind == scenarios.All {
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			return all
		}
		return sel.IDs
	}
	for _, o := range s.Network.Links {
		l := def
		if o.Latency != nil {
			l.Latency = *o.Latency
		}
		if o.Loss != nil {
			l.Loss = *o.Loss
		}
		if o.Dup != nil {
			l.Dup = *o.Dup
		}
		for _, from := range expand(o.From) {
			for _, to := range expand(o.To) {
				if from == to {
					continue
				}
				rules = append(rules, linkRule{from, to, l})
				if o.Both {
					rules = append(rules, linkRule{to, from, l})
				}
			}
		}
	}
	return rules
}

// Result is what one trial measured, and whether it failed.
type Result struct {
	Seed uint64
	// Started says the measurement's origin happened (always, from the
	// start; from a fault, only if a fault removed a leader).
	Started bool
	// Measured says a leader was found after the origin (and, with
	// until: first-heartbeat, its first heartbeat reached the others).
	Measured     bool
	TimeToLeader time.Duration
	Rounds       int // terms with a candidate after the origin, the winning one included
	SplitVotes   int // terms with two or more candidates and no leader
	OtherLosses  int // terms with one candidate and no leader
	Messages     int // messages sent from the origin until the measurement ended
	// StaleLeader is how long the leader that the fault removed, but did not
	// crash, went on believing it led. HasStale says it applies.
	StaleLeader time.Duration
	HasStale    bool
	Events      uint64        // simulated events
	End         time.Duration // virtual time when the trial ended
	Failure     *Failure      // the first failure, or nil

	// From the origin (steady-state runs: from the first leader) to the end:
	// terms begun beyond the highest term so far, and leaders of the newest
	// leader term deposed by a higher term.
	TermsBumped int
	Disruptions int

	// Steady-state runs only: how long stability was measured, and what
	// happened meanwhile.
	SteadyTime    time.Duration
	Elections     int           // terms started by a candidate: each a needless election
	LeaderChanges int           // leaders elected after the first
	Leaderless    time.Duration // time without a working leader
}

// Failure is an invariant or expectation that did not hold.
type Failure struct {
	Kind   string        // election-safety, vote-once, term-monotonic, leader-completeness, liveness, unexpected-leader, leaders-at-end
	Detail string        // what happened, with nodes and terms
	At     time.Duration // virtual time
	Event  uint64        // simulated event number
}

func (f *Failure) String() string {
	return fmt.Sprintf("%s at t=%s (event %d): %s", f.Kind, FormatTime(f.At), f.Event, f.Detail)
}

// Failure kinds beyond the invariants' own names.
const (
	KindLiveness         = "liveness"
	KindUnexpectedLeader = "unexpected-leader"
	KindLeadersAtEnd     = "leaders-at-end"
)

// call kinds, packed into sim call ids as kind + arg*callKinds.
const (
	callStart = iota
	callStep
	callRestart
	callEnd
	callWatchdog
	callConverge
	callKinds
)

// observed is what the checker last saw of a node.
type observed struct {
	role         raft.Role
	term         uint64
	vote         raft.ID
	commit       uint64
	truncations  uint64
	timerVersion uint64
	stateVersion uint64
	timerDue     [raft.NumTimers]time.Duration
	timerArmed   [raft.NumTimers]bool
	voteTerm     uint64 // the checker's own record: the last term the node voted in
	voteFor      raft.ID
	lastIndex    uint64
	started      bool
}

// Runner runs trials of one [Plan], one at a time, reusing its storage.
// Each worker goroutine needs its own Runner.
type Runner struct {
	plan    *Plan
	s       *sim.Sim[raft.Message]
	nodes   []*raft.Node
	rands   []sim.Rand
	disks   []sim.Rand // per node: disk write times, when the scenario has them
	jitters []sim.Rand // per node: timer lateness, when the scenario has it
	faults  sim.Rand
	obs     []observed
	tr      Tracer
	ev      Event // scratch event for the tracer

	// per trial
	res       Result
	stop      bool
	step      int      // index of the current fault step
	waiting   bool     // the current step waits for its After event
	stepDone  bool     // every step has been applied
	leaderOf  []int32  // by term: the node that led it, or -1
	cands     []uint16 // by term: nodes that stood as candidate
	committed []uint64 // by index: the term of the committed entry
	commitAt  []uint64 // by index: the lowest term in which some node knew it committed
	sends     int
	holdFrom  int // after a write with reach, until its leader's next heartbeat, crash or step-down: that leader; -1 otherwise

	origin      time.Duration
	originTerm  uint64
	originSends int
	stale       int // the removed leader, while it still leads; -1 otherwise
	oldLeader   int // the leader the latest leader-removing step removed; -1 before one
	measuring   bool
	hbLeader    int // until: first-heartbeat: the new leader whose heartbeat is awaited
	hbTerm      uint64
	hbWaiting   []bool
	hbRemaining int
	endQueued   bool

	leaderlessSince time.Duration
	leaderless      bool

	maxTerm          uint64 // the highest term any node has reached
	newestLeaderTerm uint64 // the highest term that has had a leader

	steadyStart  time.Duration // steady runs: when the first leader was elected, or -1
	leaderlessAt time.Duration // steady runs: since when no leader works, or -1

	topoDirty bool // nodes went up or down, or the network changed, since majority was computed
	majority  bool // some majority of running nodes is connected

	converging bool // the timeline is over and no working leader has appeared since
	failTraced bool // the violation has been traced: nothing more is

	atPending bool  // the current step's call ends its wait for At
	keep      []int // the followers a write with reach reaches
	seen      []bool
	stack     []int
	groupSize []int
}

// NewRunner returns a runner for plan.
func NewRunner(plan *Plan) *Runner {
	n := plan.Scenario.Cluster.Nodes
	r := &Runner{plan: plan, s: sim.New[raft.Message](n, int(raft.NumTimers))}
	r.rands = make([]sim.Rand, n)
	r.disks = make([]sim.Rand, n)
	r.jitters = make([]sim.Rand, n)
	r.obs = make([]observed, n)
	r.hbWaiting = make([]bool, n)
	c := &plan.Scenario.Cluster
	for i := range n {
		cfg := raft.Config{ID: raft.ID(i), Size: n, ElectionMin: c.ElectionTimeout.Min, ElectionMax: c.ElectionTimeout.Max,
			Heartbeat: c.HeartbeatInterval(), Options: c.Options, Bugs: c.Bugs}
		r.nodes = append(r.nodes, raft.New(cfg, &r.rands[i]))
	}
	return r
}

// SetTracer sends every event of the following trials to t (nil: none).
func (r *Runner) SetTracer(t Tracer) { r.tr = t }

// Run runs the trial with the given seed and returns what it measured.
func (r *Runner) Run(seed uint64) Result {
	r.setup(seed)
	for !r.stop {
		e := r.s.Next()
		if e == nil {
			break
		}
		r.handle(e)
	}
	r.finish()
	return r.res
}

func (r *Runner) setup(seed uint64) {
	p := r.plan
	sc := p.Scenario
	c := &sc.Cluster
	n := c.Nodes
	r.s.Reset(n, int(raft.NumTimers), sim.Derive(seed, sim.PurposeNetwork, 0))
	nw := &r.s.Net
	nw.SetDefault(sim.Link{Latency: sc.Network.Latency, Loss: sc.Network.Loss, Dup: sc.Network.Dup})
	for _, l := range p.links {
		nw.SetLink(l.from, l.to, l.link)
	}
	nw.SetFIFO(sc.Network.FIFO)
	r.faults.Seed(sim.Derive(seed, sim.PurposeFaults, 0))
	r.res = Result{Seed: seed}
	r.stop, r.step, r.waiting, r.stepDone = false, 0, false, false
	r.leaderOf = r.leaderOf[:0]
	r.cands = r.cands[:0]
	r.committed = append(r.committed[:0], 0)
	r.commitAt = append(r.commitAt[:0], 0)
	r.sends = 0
	r.stale, r.oldLeader, r.holdFrom, r.measuring, r.hbLeader, r.endQueued = -1, -1, -1, false, -1, false
	r.leaderless, r.atPending, r.topoDirty, r.converging = false, false, true, false
	r.ev.Seq, r.failTraced = 0, false
	for i, node := range r.nodes {
		r.rands[i].Seed(sim.Derive(seed, sim.PurposeNode, i))
		r.disks[i].Seed(sim.Derive(seed, sim.PurposeDisk, i))
		r.jitters[i].Seed(sim.Derive(seed, sim.PurposeJitter, i))
		node.Reset(*node.Config())
		var log []uint64
		for _, l := range c.Logs {
			if l.Node == i {
				log = l.Terms
			}
		}
		node.SetPersistent(c.Term, raft.None, log)
		r.obs[i] = observed{term: c.Term, vote: raft.None, voteFor: raft.None, timerVersion: node.TimerVersion(), stateVersion: node.StateVersion(), lastIndex: node.LastIndex()}
		r.s.Crash(i) // down until it starts
	}
	r.growTerms(c.Term)
	for i := range n {
		var at time.Duration
		switch len(c.Start) {
		case 1:
			at = c.Start[0].Sample(sim.NewRand(sim.Derive(seed, sim.PurposeStart, i)))
		case n:
			at = c.Start[i].Sample(sim.NewRand(sim.Derive(seed, sim.PurposeStart, i)))
		}
		r.s.At(at, callStart+i*callKinds)
	}
	r.steadyStart, r.leaderlessAt = -1, -1
	r.maxTerm, r.newestLeaderTerm = c.Term, 0
	if p.steady > 0 {
		r.s.At(sc.Measure.Limit+p.steady, callEnd) // a guard: the first leader ends it sooner
	} else {
		r.s.At(sc.Measure.Limit, callEnd)
		if sc.Measure.From == scenarios.FromStart {
			r.startMeasuring(-1, c.Term)
		}
	}
	r.beginStep()
	r.watch()
}

// handle reacts to one simulator event.
func (r *Runner) handle(e *sim.Event) {
	switch e.Kind {
	case sim.Deliver:
		m := r.s.Message()
		if r.tr != nil {
			r.emit(Event{Kind: EvRecv, Node: e.Node, Peer: e.From, Msg: *m})
		}
		if r.hbLeader >= 0 && m.Type == raft.MsgApp && int(m.From) == r.hbLeader && m.Term == r.hbTerm {
			r.heartbeatReached(e.Node)
		}
		r.nodes[e.Node].Step(r.s.LocalNow(e.Node), m)
		r.afterInput(e.Node)
	case sim.Timeout:
		t := raft.Timer(e.Timer)
		if r.tr != nil {
			r.emit(Event{Kind: EvTimeout, Node: e.Node, Timer: t})
		}
		node := r.nodes[e.Node]
		wasLeader := node.Role() == raft.Leader
		if e.Node == r.holdFrom && t == raft.HeartbeatTimer {
			r.holdFrom = -1 // the write's hold ends: this heartbeat carries its entries to all
		}
		node.Tick(r.s.LocalNow(e.Node), t)
		r.afterInput(e.Node)
		if t == raft.HeartbeatTimer && wasLeader && node.Role() == raft.Leader && r.waiting &&
			r.plan.steps[r.step].After == scenarios.AfterHeartbeat {
			r.eventSeen()
		}
	case sim.Drop:
		if r.tr != nil {
			r.emit(Event{Kind: EvDrop, Node: e.Node, Peer: e.From, Msg: *r.s.Message(), Reason: e.Reason.String()})
		}
	case sim.Resume:
		if r.tr != nil {
			r.emit(Event{Kind: EvResume, Node: e.Node})
		}
		r.topoDirty = true
		r.watch()
	case sim.Call:
		r.call(e.Call%callKinds, e.Call/callKinds)
	}
}

func (r *Runner) call(kind, arg int) {
	switch kind {
	case callStart:
		r.boot(arg, false)
	case callStep:
		r.applyStep()
	case callRestart:
		if r.s.Crashed(arg) {
			r.boot(arg, true)
		}
	case callEnd:
		r.stop = true
	case callConverge:
		if r.converging {
			r.fail(KindLiveness, fmt.Sprintf("no working leader within %s of the last fault (converge_within)",
				scenarios.FormatDuration(r.plan.Scenario.Expect.ConvergeWithin)))
		}
	case callWatchdog:
		lim := r.plan.Scenario.Expect.LeaderWithin
		if r.leaderless && r.s.Now()-r.leaderlessSince >= lim {
			r.fail(KindLiveness, fmt.Sprintf("no working leader for %s while a majority was up and connected (leader_within %s)",
				scenarios.FormatDuration(r.s.Now()-r.leaderlessSince), scenarios.FormatDuration(lim)))
		}
	}
}

// boot starts node i, for the first time or after a crash.
func (r *Runner) boot(i int, restart bool) {
	r.s.Restart(i)
	node := r.nodes[i]
	if restart {
		node.Restart(r.s.LocalNow(i))
	} else {
		node.Start(r.s.LocalNow(i))
	}
	o := &r.obs[i]
	o.started = true
	if r.tr != nil {
		r.emit(Event{Kind: EvStart, Node: i, Role: node.Role(), Term: node.Term()})
	}
	r.topoDirty = true
	r.afterInput(i)
	r.watch()
}

// afterInput drains what node i did with its last input: it arms timers,
// sends messages and, when its state changed, checks and measures.
func (r *Runner) afterInput(i int) {
	node := r.nodes[i]
	o := &r.obs[i]
	if v := node.TimerVersion(); v != o.timerVersion {
		o.timerVersion = v
		for t := raft.Timer(0); t < raft.NumTimers; t++ {
			due, armed := node.Timer(t)
			if armed == o.timerArmed[t] && (!armed || due == o.timerDue[t]) {
				continue
			}
			o.timerDue[t], o.timerArmed[t] = due, armed
			if armed {
				if j := r.plan.Scenario.Cluster.TimerJitter; j != nil {
					due += j.Sample(&r.jitters[i]) // the operating system wakes the node a little late
				}
				r.s.SetTimer(i, int(t), due)
			} else {
				r.s.StopTimer(i, int(t))
			}
		}
	}
	var wait time.Duration
	// Most inputs change none of the state compared below: one comparison
	// of versions skips them all.
	if v := node.StateVersion(); v != o.stateVersion {
		o.stateVersion = v
		if p := r.plan.Scenario.Cluster.Persist; p != nil &&
			(node.Term() != o.term || node.Vote() != o.vote || node.LastIndex() != o.lastIndex || node.Truncations() != o.truncations) {
			wait = p.Sample(&r.disks[i]) // what this input sends waits for the disk
		}
		o.lastIndex = node.LastIndex()
		if node.Role() != o.role || node.Term() != o.term || node.Vote() != o.vote ||
			node.Commit() != o.commit || node.Truncations() != o.truncations {
			r.observe(i)
			if r.stop {
				return // a violation ends the trial: what the node sent with it never leaves
			}
		}
	}
	msgs := node.Messages()
	r.sends += len(msgs)
	if r.holdFrom >= 0 || r.tr != nil {
		for k := range msgs {
			r.send(i, &msgs[k], wait)
		}
		return
	}
	// Nothing to discard or trace: straight to the network, which saves a
	// call per message on the hot path.
	for k := range msgs {
		r.s.Post(i, int(msgs[k].To), &msgs[k], wait)
	}
}

// send puts m on the wire, after wait, unless a write's hold discards it,
// and traces what became of it.
func (r *Runner) send(from int, m *raft.Message, wait time.Duration) {
	to := int(m.To)
	if from == r.holdFrom && m.Type == raft.MsgApp && m.NEntries > 0 && !r.reached(to) {
		if r.tr != nil {
			r.emit(Event{Kind: EvDrop, Node: to, Peer: from, Msg: *m, Reason: sim.Discarded.String()})
		}
		return
	}
	sent := r.s.SendAfter(from, to, m, wait)
	if r.tr == nil {
		return
	}
	if sent.Copies == 0 {
		r.emit(Event{Kind: EvSend, Node: from, Peer: to, Msg: *m})
		r.emit(Event{Kind: EvDrop, Node: to, Peer: from, Msg: *m, Reason: sent.Reason.String()})
		return
	}
	r.emit(Event{Kind: EvSend, Node: from, Peer: to, Msg: *m, Arrive: sent.Arrive[0]})
	if sent.Copies == 2 {
		r.emit(Event{Kind: EvDup, Node: from, Peer: to, Msg: *m, Arrive: sent.Arrive[1]})
	}
}

// observe checks the invariants against node i's new state and feeds the
// measurements. It runs only when the node's role, term, vote, commit index
// or log changed.
func (r *Runner) observe(i int) {
	node := r.nodes[i]
	o := &r.obs[i]
	term, role, vote := node.Term(), node.Role(), node.Vote()
	r.growTerms(term)
	if role != o.role || term != o.term {
		if r.tr != nil {
			r.emit(Event{Kind: EvState, Node: i, Role: role, Term: term})
		}
		if term < o.term && r.checks(scenarios.TermMonotonic) {
			r.fail(scenarios.TermMonotonic.String(), fmt.Sprintf("%v went from term %d back to %d", raft.ID(i), o.term, term))
		}
		if o.role == raft.Leader && i == r.stale {
			r.staleEnded()
		}
		if i == r.holdFrom && role != raft.Leader {
			r.holdFrom = -1 // a write's hold ends with its leader's leadership
		}
		counting := r.res.Started || r.steadyStart >= 0 // after the origin, or the first leader of a steady run
		if counting && o.role == raft.Leader && role != raft.Leader && term > o.term && o.term == r.newestLeaderTerm {
			r.res.Disruptions++ // the newest leader, deposed by a higher term
		}
		if term > r.maxTerm {
			if counting {
				r.res.TermsBumped += int(term - r.maxTerm)
			}
			r.maxTerm = term
		}
		switch role {
		case raft.Candidate:
			if r.measuring {
				r.cands[term]++ // elections the measurement counts: those after its origin
			}
			if r.steadyStart >= 0 {
				r.res.Elections++
			}
		case raft.Leader:
			r.becameLeader(i, term)
		}
	}
	if vote != raft.None && (vote != o.vote || term != o.term) {
		if r.tr != nil {
			r.emit(Event{Kind: EvVote, Node: i, Vote: int(vote), Term: term})
		}
		if o.voteTerm == term && o.voteFor != vote && o.voteFor != raft.None && r.checks(scenarios.VoteOnce) {
			r.fail(scenarios.VoteOnce.String(), fmt.Sprintf("%v voted for %v and then for %v in term %d", raft.ID(i), o.voteFor, vote, term))
		}
		o.voteTerm, o.voteFor = term, vote
	}
	if node.Commit() > o.commit {
		if r.tr != nil {
			r.emit(Event{Kind: EvCommit, Node: i, Term: node.Commit()})
		}
		r.checkCommits(i, o.commit+1, node.Commit())
	}
	if t := node.Truncations(); t != o.truncations {
		o.truncations = t
		if c := min(node.Commit(), node.LastIndex()); c > 0 && node.Commit() > node.LastIndex() ||
			c < uint64(len(r.committed)) && r.committed[c] != 0 && node.LogTerm(c) != r.committed[c] {
			r.failCompleteness(fmt.Sprintf("%v overwrote its committed entry %d", raft.ID(i), node.Commit()))
		}
	}
	o.role, o.term, o.vote, o.commit = role, term, vote, node.Commit()
	r.watch()
}

func (r *Runner) checks(inv scenarios.Invariant) bool {
	for _, x := range r.plan.Scenario.Expect.Invariants {
		if x == inv {
			return true
		}
	}
	return false
}

func (r *Runner) failCompleteness(detail string) {
	if r.checks(scenarios.LeaderCompleteness) {
		r.fail(scenarios.LeaderCompleteness.String(), detail)
	}
}

// growTerms makes the per-term records reach term.
func (r *Runner) growTerms(term uint64) {
	for uint64(len(r.leaderOf)) <= term {
		r.leaderOf = append(r.leaderOf, -1)
		r.cands = append(r.cands, 0)
	}
}

func (r *Runner) becameLeader(i int, term uint64) {
	if prev := r.leaderOf[term]; prev >= 0 && int(prev) != i && r.checks(scenarios.ElectionSafety) {
		r.fail(scenarios.ElectionSafety.String(), fmt.Sprintf("%v and %v both leaders in term %d", raft.ID(prev), raft.ID(i), term))
	}
	r.leaderOf[term] = int32(i)
	r.newestLeaderTerm = max(r.newestLeaderTerm, term)
	// Leader Completeness: the leader of a term holds every entry committed
	// in an earlier term. By the Log Matching property, holding the last
	// such entry is enough; entries committed in this term or later (by
	// nodes that have moved on) are not its business.
	node := r.nodes[i]
	c := uint64(len(r.committed) - 1)
	for c > 0 && r.commitAt[c] >= term {
		c--
	}
	if c > 0 && node.LogTerm(c) != r.committed[c] {
		r.failCompleteness(fmt.Sprintf("%v became leader of term %d without entry %d (term %d), committed in term %d; its log ends at %d/%d",
			raft.ID(i), term, c, r.committed[c], r.commitAt[c], node.LastTerm(), node.LastIndex()))
	}
	if r.waiting && r.plan.steps[r.step].After == scenarios.AfterLeaderElected {
		r.eventSeen()
	}
	if r.plan.steady > 0 {
		r.steadyLeader()
		return
	}
	if !r.measuring || term <= r.originTerm {
		return
	}
	if r.plan.Scenario.Expect.NoLeader {
		r.fail(KindUnexpectedLeader, fmt.Sprintf("%v became leader of term %d, but no leader was expected", raft.ID(i), term))
	}
	switch r.plan.Scenario.Measure.Until {
	case scenarios.UntilLeader:
		r.measured(term)
		return
	case scenarios.UntilWorkingLeader:
		return // watch decides
	}
	// until: first-heartbeat: wait for every other live node the new
	// leader can reach to accept its AppendEntries.
	r.hbLeader, r.hbTerm, r.hbRemaining = i, term, 0
	for j := range r.nodes {
		r.hbWaiting[j] = j != i && !r.s.Crashed(j) && !r.s.Net.Blocked(i, j)
		if r.hbWaiting[j] {
			r.hbRemaining++
		}
	}
	if r.hbRemaining == 0 {
		r.measured(term)
	}
}

func (r *Runner) heartbeatReached(j int) {
	if !r.hbWaiting[j] {
		return
	}
	r.hbWaiting[j] = false
	r.hbRemaining--
	if r.hbRemaining == 0 {
		r.measured(r.hbTerm)
	}
}

// measured ends the measurement with a leader in term.
func (r *Runner) measured(term uint64) {
	res := &r.res
	res.Measured = true
	res.TimeToLeader = r.s.Now() - r.origin
	res.Messages = r.sends - r.originSends
	for t := r.originTerm + 1; t <= term; t++ {
		switch c := r.cands[t]; {
		case c == 0:
			continue
		case t == term:
		case c >= 2:
			res.SplitVotes++
		default:
			res.OtherLosses++
		}
		res.Rounds++
	}
	r.measuring, r.hbLeader = false, -1
	if w := r.plan.Scenario.Expect.LeaderWithin; w > 0 && res.TimeToLeader > w {
		r.fail(KindLiveness, fmt.Sprintf("time to leader %s is over leader_within %s", scenarios.FormatDuration(res.TimeToLeader), scenarios.FormatDuration(w)))
	}
	r.maybeEnd()
}

func (r *Runner) startMeasuring(removed int, term uint64) {
	r.res.Started = true
	r.measuring = true
	r.origin, r.originTerm, r.originSends = r.s.Now(), term, r.sends
	if r.tr != nil {
		r.emit(Event{Kind: EvNote, Node: -1, Text: fmt.Sprintf("measure from here: a leader of a term above %d", term)})
	}
	if removed >= 0 && r.nodes[removed].Role() == raft.Leader && !r.s.Crashed(removed) {
		r.res.HasStale = true // a live leader was cut off or paused: how long does it believe it leads?
		r.stale = removed
	}
}

func (r *Runner) staleEnded() {
	r.res.StaleLeader = r.s.Now() - r.origin
	r.stale = -1
}

// checkCommits records (or checks against the record) entries lo..hi that
// node i now counts as committed.
func (r *Runner) checkCommits(i int, lo, hi uint64) {
	node := r.nodes[i]
	for idx := lo; idx <= hi; idx++ {
		t := node.LogTerm(idx)
		if idx < uint64(len(r.committed)) {
			if r.committed[idx] != t {
				r.failCompleteness(fmt.Sprintf("%v committed entry %d of term %d, but entry %d of term %d was committed before",
					raft.ID(i), idx, t, idx, r.committed[idx]))
				return
			}
			r.commitAt[idx] = min(r.commitAt[idx], node.Term())
			continue
		}
		r.committed = append(r.committed, t)
		r.commitAt = append(r.commitAt, node.Term())
	}
}

func (r *Runner) fail(kind, detail string) {
	if r.res.Failure != nil {
		return
	}
	r.res.Failure = &Failure{Kind: kind, Detail: detail, At: r.s.Now(), Event: r.s.Events()}
	if r.tr != nil {
		r.emit(Event{Kind: EvViolation, Node: -1, Text: kind + ": " + detail})
	}
	r.stop = true
}

// maybeEnd ends the trial a settle time after both the fault timeline and
// the measurement are over.
func (r *Runner) maybeEnd() {
	if r.endQueued || !r.stepDone || r.measuring || r.converging || r.plan.steady > 0 {
		return
	}
	r.endQueued = true
	r.s.At(r.s.Now()+r.plan.Scenario.SettleTime(), callEnd)
}

func (r *Runner) finish() {
	res := &r.res
	res.Events = r.s.Events()
	res.End = r.s.Now()
	if r.stale >= 0 {
		r.staleEnded() // still leading at the end
	}
	if r.plan.steady > 0 {
		r.finishSteady()
		return
	}
	if res.Failure != nil {
		return
	}
	ex := &r.plan.Scenario.Expect
	if ex.LeaderWithin > 0 && res.Started && !res.Measured {
		r.fail(KindLiveness, fmt.Sprintf("no leader within the trial's %s after the origin", scenarios.FormatDuration(res.End-r.origin)))
		return
	}
	if ex.OneLeaderAtEnd {
		var leaders []string
		for i, node := range r.nodes {
			if node.Role() == raft.Leader && !r.s.Crashed(i) {
				leaders = append(leaders, fmt.Sprintf("%v (term %d)", raft.ID(i), node.Term()))
			}
		}
		if len(leaders) != 1 {
			r.fail(KindLeadersAtEnd, fmt.Sprintf("%d nodes believe they lead at the end: %v", len(leaders), leaders))
		}
	}
}

// emit traces e. A violation is a trial's last event: anything the trial
// would trace after it is left out.
func (r *Runner) emit(e Event) {
	if r.failTraced {
		return
	}
	r.failTraced = e.Kind == EvViolation
	e.At = r.s.Now()
	e.Seq = r.ev.Seq
	r.ev.Seq++
	r.tr.Event(&e)
}
