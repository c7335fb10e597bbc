package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Scenario is one experiment: a cluster, its network, a timeline of faults,
// what to measure, how many trials, and what must hold in every trial.
type Scenario struct {
	Name        string
	Description string
	Source      string // the file it came from, or "builtin:NAME" (builtinPrefix)
	Cluster     Cluster
	Network     Network
	Faults      []Step
	Measure     Measure
	Expect      Expect
	Steady      Steady
	Sweep       Sweep
	Trials      int
	Seed        uint64
	// TrialSeeds, when set, are the seeds of the trials themselves, one a
	// trial, instead of seeds derived from Seed: a file that reproduces
	// exactly the trials a failure report names.
	TrialSeeds []uint64
	// Skip leaves steps out of the timeline: their 1-based positions once
	// repeat groups are unrolled. Shrinking a failure sets it; files cannot.
	Skip  []int
	lines map[string]int // where each key was written, for errors
}

// line returns the line where field was written, or 0.
func (s *Scenario) line(field string) int { return s.lines[field] }

// Cluster is the Raft cluster under test.
type Cluster struct {
	Nodes           int
	ElectionTimeout Range
	// Heartbeat is the leader's heartbeat interval, as written: a duration
	// or a percentage of the minimum election timeout;
	// [Cluster.HeartbeatInterval] resolves it.
	Heartbeat Heartbeat
	Options   raft.Options
	Bugs      raft.Bug
	// Impl is the Raft implementation every node runs; Tick, for etcd's,
	// is how long its tick is (0: [DefaultTick]).
	Impl Impl
	Tick time.Duration
	// Persist, when set, is how long a node takes to write its term, vote
	// or log to stable storage: the messages that depend on a write leave
	// only once it is done.
	Persist *sim.Dist
	// TimerJitter, when set, makes every timer fire late by a random
	// amount, as an operating system's timers do; perfectly punctual timers
	// can keep a cluster with fixed timeouts in split votes forever.
	TimerJitter *sim.Dist
	// Processing, when set, is how long a node takes to react to each
	// input — decoding a request, handling it, encoding what it sends, and
	// waiting for a CPU — before what the input sends leaves: the cost of a
	// real node's HTTP and JSON stack, which raftsim live measures.
	Processing *sim.Dist
	// Start holds each node's start time: none (all start at 0), one
	// distribution for every node, or one per node.
	Start []sim.Dist
	// Term and Logs are the persistent state nodes start from: the current
	// term of every node, and the terms of some nodes' log entries.
	Term uint64
	Logs []NodeLog
}

// Heartbeat is a heartbeat interval as written: a duration (50ms), or,
// when Percent is above 0, that percentage of the minimum election timeout
// (50%).
type Heartbeat struct {
	D       time.Duration
	Percent float64
}

// HeartbeatInterval returns the heartbeat interval in force.
func (c *Cluster) HeartbeatInterval() time.Duration {
	if c.Heartbeat.Percent > 0 {
		return time.Duration(float64(c.ElectionTimeout.Min) * c.Heartbeat.Percent / 100)
	}
	return c.Heartbeat.D
}

// NodeConfig returns node i's configuration: the one translation of a
// scenario's cluster into a Raft node's, for the simulator, raftsim serve
// and live alike.
func (c *Cluster) NodeConfig(i int) raft.Config {
	return raft.Config{ID: raft.ID(i), Size: c.Nodes, ElectionMin: c.ElectionTimeout.Min, ElectionMax: c.ElectionTimeout.Max,
		Heartbeat: c.HeartbeatInterval(), Options: c.Options, Bugs: c.Bugs}
}

// Etcd returns the cluster in the terms of etcd's raft (impl: etcd): the
// one translation of a scenario's cluster into etcd's ticks, for the
// simulator, raftsim serve and live alike. ElectionTick is the minimum
// election timeout in ticks and HeartbeatTick the heartbeat; PreVote and
// CheckQuorum are [Cluster.NodeConfig]'s options. The error says what etcd
// cannot do; a validated scenario whose impl is etcd has none.
func (c *Cluster) Etcd() (EtcdConfig, error) {
	e, bad := c.etcd()
	if bad != nil {
		return e, fmt.Errorf("%s: %s", bad.field, bad.msg)
	}
	return e, nil
}

// NodeLog is the log a node starts with.
type NodeLog struct {
	Node  int
	Terms []uint64 // the terms of entries 1, 2, ...
	Line  int
}

// Network is the simulated network.
type Network struct {
	Latency sim.Dist
	Loss    float64
	Dup     float64
	FIFO    bool
	Links   []LinkOverride
}

// LinkOverride changes some of the behaviour of chosen links; what it leaves
// unset comes from the network's defaults.
type LinkOverride struct {
	From, To Selector // named nodes or all
	Both     bool     // also the reverse direction
	Latency  *sim.Dist
	Loss     *float64
	Dup      *float64
	Line     int
}

// Trigger is the observed event a step waits for.
type Trigger uint8

// The events a fault step can wait for.
const (
	AfterPrevious      Trigger = iota // nothing: start timing when the previous step is done
	AfterLeaderElected                // the next time a node becomes leader
	AfterHeartbeat                    // the current leader's next heartbeat broadcast
	AfterLeaderExists                 // a working leader: at once if there is one, else when there is
)

var triggerNames = [...]string{AfterPrevious: "previous", AfterLeaderElected: "leader-elected", AfterHeartbeat: "heartbeat",
	AfterLeaderExists: "leader-exists"}

func (t Trigger) String() string { return triggerNames[t] }

// Step is one point of the fault timeline. Steps run in order: a step
// starts when the previous one is done, waits until At (if set), then for
// its After event (if any), then for Delay, then applies its actions in the
// order they are written. A step with Repeat runs its Steps Repeat times.
type Step struct {
	At    time.Duration
	HasAt bool
	After Trigger
	Delay sim.Dist
	// DelayInHeartbeat makes Delay a uniformly random point of the heartbeat
	// interval in force (delay: within-heartbeat).
	DelayInHeartbeat bool
	Actions          []Action
	Repeat           int
	Steps            []Step
	Note             string
	Line             int
	// Index is the step's 1-based position in the unrolled timeline, which
	// leaving other steps out (Skip) does not change: its name, and the
	// seed of its random draws.
	Index int
}

// Name names the step in traces and failures: its position, and its line
// in the file when it has one.
func (st *Step) Name() string {
	if st.Line > 0 {
		return fmt.Sprintf("%d (line %d)", st.Index, st.Line)
	}
	return strconv.Itoa(st.Index) // a scenario made by a program
}

// StepPhase is where a step stands that has begun but not finished.
type StepPhase uint8

// The phases of a step, in order.
const (
	WaitingForTime    StepPhase = iota // until its at:
	WaitingForTrigger                  // for its after: event
	Delaying                           // out its delay:
	Checking                           // for its check to come true (within:)
)

// Unfinished says why st was not done when its trial ended in phase p:
// what a trial's unfinished report says of it.
func (st *Step) Unfinished(p StepPhase) string {
	name := "step " + st.Name()
	switch p {
	case WaitingForTime:
		return name + " never ran: waiting until " + FormatDuration(st.At)
	case WaitingForTrigger:
		return name + " never ran: waiting for " + st.After.String()
	case Delaying:
		return name + " never ran: its delay was not over"
	}
	return name + " never finished: its check had not come true"
}

// FirstCheck returns the first of steps that checks something, or nil:
// when a trial ends before such a step runs, its expectation fails.
func FirstCheck(steps []Step) *Step {
	for k := range steps {
		for _, a := range steps[k].Actions {
			if a.Kind == Check {
				return &steps[k]
			}
		}
	}
	return nil
}

// ActionKind is what a fault action does.
type ActionKind uint8

// The fault actions.
const (
	Crash     ActionKind = iota // crash Nodes; restart them after RestartAfter if set
	Restart                     // restart crashed Nodes
	Partition                   // split the network into Groups (the rest form one more group)
	Isolate                     // put each of Nodes in a group of its own
	Heal                        // remove every partition and cut
	Cut                         // block the one-way links From → To
	Pause                       // freeze Nodes for For
	Drift                       // make Nodes' clocks run at Factor
	SetLoss                     // set the loss probability of every link to Loss
	Write                       // the leader appends Entries entries that reach only Reach followers
	Check                       // assert the state of the cluster, at once or within a deadline
)

var actionNames = [...]string{Crash: "crash", Restart: "restart", Partition: "partition", Isolate: "isolate",
	Heal: "heal", Cut: "cut", Pause: "pause", Drift: "drift", SetLoss: "loss", Write: "write", Check: "check"}

func (k ActionKind) String() string { return actionNames[k] }

// Action is one fault.
type Action struct {
	Kind         ActionKind
	Nodes        Selector
	Groups       []Selector
	From, To     Selector
	RestartAfter *sim.Dist
	For          sim.Dist
	Factor       float64
	Loss         float64
	Entries      int
	Reach        int        // -1: every follower
	Both         bool       // Heal of links From → To: the reverse direction too
	As           string     // the name the nodes it picked get, for the selectors of later steps
	Assert       *Assertion // Check: what it asserts
	Line         int
	Field        string // where it was written, such as faults[2].crash
}

// Assertion is what a check step asserts about the nodes Among. Every
// condition set must hold, at once or, with Within, by that deadline.
type Assertion struct {
	Leader CheckLeader
	Is     Selector  // CheckLeaderIs: the node that must be the one leader
	Not    *Selector // no node that leads may be one of these
	Agree  bool      // every node follows the same leader
	// TermSince, when above 0, is an earlier step's position: no node may
	// have begun a term since that step was applied.
	TermSince int
	Among     Selector // the nodes judged; connected unless written
	Within    time.Duration
}

// CheckLeader is what a check says about how many nodes lead.
type CheckLeader uint8

// What a check can say about leaders.
const (
	CheckLeaderAny  CheckLeader = iota // nothing
	CheckLeaderOne                     // exactly one node believes it leads
	CheckLeaderNone                    // no node believes it leads
	CheckLeaderIs                      // exactly one node believes it leads, and it is Is
)

// SelectorKind says how a [Selector] picks nodes.
type SelectorKind uint8

// The ways to pick nodes.
const (
	Named          SelectorKind = iota // the nodes in IDs
	Leader                             // the current leader (the live leader of the highest term)
	RandomFollower                     // Count random live nodes other than the leader
	Random                             // Count random live nodes
	All                                // every node
	OldLeader                          // the leader the latest leader-removing step removed
	Bound                              // the nodes an earlier action named Name (as: Name)
	Connected                          // the up nodes in the main network (not isolated or partitioned away)
	Union                              // the nodes of each of Items, in order
)

// Selector picks nodes when an action is applied.
type Selector struct {
	Kind  SelectorKind
	IDs   []int      // Named: node indexes
	Count int        // Random, RandomFollower
	Name  string     // Bound
	Items []Selector // Union
	Text  string
	Line  int
	Field string
}

func (s Selector) String() string { return s.Text }

// From is where time to leader is measured from.
type From uint8

// Measurement origins.
const (
	FromStart From = iota // the start of the trial
	FromFault             // the first fault that removes the leader
)

var fromNames = [...]string{FromStart: "start", FromFault: "fault"}

func (f From) String() string { return fromNames[f] }

// Until is where time to leader is measured to.
type Until uint8

// Measurement ends.
const (
	UntilLeader         Until = iota // a node becomes leader in a term after the origin
	UntilFirstHeartbeat              // the other live nodes have the new leader's first heartbeat
	UntilWorkingLeader               // some leader, old or new, is followed by a majority again
	// UntilCommit: the new leader has committed the first entry of its term
	// (its no-op), so a client can be served again; etcd members show a
	// new leader only then (raftsim live --etcd).
	UntilCommit
)

var untilNames = [...]string{UntilLeader: "leader", UntilFirstHeartbeat: "first-heartbeat", UntilWorkingLeader: "working-leader",
	UntilCommit: "commit"}

func (u Until) String() string { return untilNames[u] }

// Measure says what a trial measures and how long it runs.
type Measure struct {
	From  From
	Until Until
	// Settle is how long a trial goes on after its last fault step and its
	// measurement, before the end-of-trial expectations are checked. Unset
	// (SettleSet false), it is the maximum election timeout, so that an
	// election running alongside the measured one also finishes and is
	// checked.
	Settle    time.Duration
	SettleSet bool
	// Limit caps a trial's virtual time.
	Limit time.Duration
}

// Steady describes the steady-state runs that measure stability: a
// healthy cluster running for a long virtual time, where every election is
// a needless one.
type Steady struct {
	// Duration is the total virtual time measured, split into runs of at
	// most SteadyRun each; 0 means the command's default.
	Duration time.Duration
	// Faults are the background faults of a steady run. Unset, they are the
	// scenario's own timeline with only its pause, drift and loss actions
	// kept: the weather, not the failure under study.
	Faults    []Step
	FaultsSet bool
}

// Sweep holds the values raftsim sweep varies when its flags do not say:
// each list, if not empty, replaces the scenario's own value.
type Sweep struct {
	ElectionTimeout []Range
	Nodes           []int
	Latency         []sim.Dist
	Loss            []float64
	Heartbeat       []Heartbeat
}

// SteadyRun is the longest single steady-state run.
const SteadyRun = 10 * time.Minute

// Invariant names a safety property checked after every event.
type Invariant uint8

// The safety properties.
const (
	ElectionSafety     Invariant = iota // at most one leader per term
	VoteOnce                            // at most one vote per node per term
	TermMonotonic                       // a node's term never goes backwards
	LeaderCompleteness                  // no committed entry is lost
	CandidateStepsDown                  // a candidate that follows its term's leader is no candidate
	numInvariants
)

var invariantNames = [...]string{ElectionSafety: "election-safety", VoteOnce: "vote-once",
	TermMonotonic: "term-monotonic", LeaderCompleteness: "leader-completeness", CandidateStepsDown: "candidate-steps-down"}

func (i Invariant) String() string { return invariantNames[i] }

// AllInvariants lists every invariant.
func AllInvariants() []Invariant {
	all := make([]Invariant, numInvariants)
	for i := range all {
		all[i] = Invariant(i)
	}
	return all
}

// Expect is what must hold in every trial.
type Expect struct {
	Invariants []Invariant
	// LeaderWithin bounds the time to leader, and any stretch without a
	// working leader while a majority of nodes is up and connected.
	LeaderWithin time.Duration
	// NoLeader says no node may become leader after the origin.
	NoLeader bool
	// OneLeaderAtEnd says that at the end exactly one live node believes
	// it leads.
	OneLeaderAtEnd bool
	// ConvergeWithin says that once the fault timeline is over, a working
	// leader (one a majority follows) must appear within this time.
	ConvergeWithin time.Duration
}

// Error is a problem with a scenario, located in its file, and caused,
// when Flags is set, by command-line overrides ([Overrides.Apply]).
type Error struct {
	File  string // the file, or builtinPrefix and the name of a built-in
	Line  int
	Field string
	Msg   string
	// Flags are the overrides that cause the problem, as a command line
	// writes them (--nodes 2): the scenario as written has none.
	Flags []string
}

// builtinPrefix starts the Source of a built-in scenario, whose file is
// part of the binary, not a path the user could open.
const builtinPrefix = "builtin:"

func (e *Error) Error() string {
	var b strings.Builder
	name, builtin := strings.CutPrefix(e.File, builtinPrefix)
	if len(e.Flags) > 0 {
		b.WriteString(strings.Join(e.Flags, " ") + ": ")
	}
	if !builtin {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	if builtin {
		b.WriteString(" (in the built-in scenario " + name)
		if e.Line > 0 {
			b.WriteString(", line " + strconv.Itoa(e.Line) + " of raftsim list --show " + name)
		}
		b.WriteString(")")
	}
	return b.String()
}

func (s *Scenario) errorf(line int, field, format string, args ...any) error {
	return &Error{File: s.Source, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NodeName returns the name of node index i: n1 for 0.
func NodeName(i int) string { return "n" + strconv.Itoa(i+1) }
