// Package report turns aggregates of trials into what raftsim prints: a
// table for people, and JSON and CSV for other tools. The JSON keys are a
// contract; add keys freely, never rename one.
//
// report must never run trials or decide anything about them: it only
// formats what it is given, and the same aggregate always prints the same
// bytes.
package report

import (
	"math"
	"strconv"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Num is a number printed with 6 significant digits, or null when it is
// not a number (a statistic of no samples).
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) { return []byte(n.String("null")), nil }

// String formats n with up to 6 significant digits, or none when NaN.
func (n Num) String(none string) string {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return none
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// Fixed formats n with the given decimals, or none when NaN.
func (n Num) Fixed(decimals int, none string) string {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return none
	}
	return strconv.FormatFloat(f, 'f', decimals, 64)
}

// Dist is a summary of a distribution. Each quantile has its
// distribution-free 95% confidence interval ([stats.Summary.QuantileCI95]),
// whose ends are null (infinite) where the samples are too few to bound
// it: the 99th percentile of 100 samples has no upper bound.
type Dist struct {
	N      int64  `json:"n"`
	Mean   Num    `json:"mean"`
	StdDev Num    `json:"stddev"`
	Min    Num    `json:"min"`
	P50    Num    `json:"p50"`
	P90    Num    `json:"p90"`
	P99    Num    `json:"p99"`
	Max    Num    `json:"max"`
	P50CI  [2]Num `json:"p50_ci"`
	P90CI  [2]Num `json:"p90_ci"`
	P99CI  [2]Num `json:"p99_ci"`
}

// DistOf summarises s, dividing every value by unit (1e6 for ns → ms).
func DistOf(s *stats.Summary, unit float64) Dist {
	ci := func(p float64) [2]Num {
		lo, hi := s.QuantileCI95(p)
		return [2]Num{Num(lo / unit), Num(hi / unit)}
	}
	if s.N() == 0 {
		nan := Num(math.NaN())
		return Dist{Mean: nan, StdDev: nan, Min: nan, P50: nan, P90: nan, P99: nan, Max: nan,
			P50CI: ci(0.5), P90CI: ci(0.9), P99CI: ci(0.99)}
	}
	return Dist{
		P50CI:  ci(0.5),
		P90CI:  ci(0.9),
		P99CI:  ci(0.99),
		N:      s.N(),
		Mean:   Num(s.Mean() / unit),
		StdDev: Num(s.StdDev() / unit),
		Min:    Num(float64(s.Min()) / unit),
		P50:    Num(s.Quantile(0.5) / unit),
		P90:    Num(s.Quantile(0.9) / unit),
		P99:    Num(s.Quantile(0.99) / unit),
		Max:    Num(float64(s.Max()) / unit),
	}
}

// Params are the parameters of a run that sweeps vary and that identify it.
type Params struct {
	Nodes             int     `json:"nodes"`
	ElectionTimeoutMs [2]Num  `json:"election_timeout_ms"`
	HeartbeatMs       Num     `json:"heartbeat_ms"`
	Latency           string  `json:"latency"`
	Loss              float64 `json:"loss"`
	Duplicate         float64 `json:"duplicate"`
	FIFO              bool    `json:"fifo"`
	PreVote           bool    `json:"prevote"`
	CheckQuorum       bool    `json:"check_quorum"`
	LeaderStickiness  bool    `json:"leader_stickiness"`
	ResetOnStepDown   bool    `json:"reset_timer_on_step_down"`
	KeepTimeout       bool    `json:"keep_timeout"`
	Bugs              string  `json:"bugs,omitempty"`
	Persist           string  `json:"persist,omitempty"`
	TimerJitter       string  `json:"timer_jitter,omitempty"`
	Processing        string  `json:"processing,omitempty"`
	// Start is when each node boots: one distribution for all, or one per
	// node, as the scenario's cluster.start.
	Start []string `json:"start,omitempty"`
	// Links are the per-link overrides of latency, loss and duplication.
	Links []string `json:"links,omitempty"`
	// Impl is the Raft every node ran (raftsim or etcd); TickMs, etcd's tick.
	Impl   string `json:"impl"`
	TickMs *Num   `json:"tick_ms,omitempty"`
}

// Options returns the protocol options of p.
func (p *Params) Options() raft.Options {
	return raft.Options{PreVote: p.PreVote, CheckQuorum: p.CheckQuorum, LeaderStickiness: p.LeaderStickiness, ResetTimerOnStepDown: p.ResetOnStepDown,
		KeepTimeout: p.KeepTimeout}
}

// ParamsOf reads the parameters of s.
func ParamsOf(s *scenarios.Scenario) Params {
	c := &s.Cluster
	return Params{
		Nodes:             c.Nodes,
		ElectionTimeoutMs: [2]Num{ms(c.ElectionTimeout.Min), ms(c.ElectionTimeout.Max)},
		HeartbeatMs:       ms(c.HeartbeatInterval()),
		Latency:           scenarios.FormatDist(s.Network.Latency),
		Loss:              s.Network.Loss,
		Duplicate:         s.Network.Dup,
		FIFO:              s.Network.FIFO,
		PreVote:           c.Options.PreVote,
		CheckQuorum:       c.Options.CheckQuorum,
		LeaderStickiness:  c.Options.LeaderStickiness,
		ResetOnStepDown:   c.Options.ResetTimerOnStepDown,
		KeepTimeout:       c.Options.KeepTimeout,
		Bugs:              c.Bugs.String(),
		Persist:           distText(c.Persist),
		TimerJitter:       distText(c.TimerJitter),
		Links:             linksText(s.Network.Links),
		Start:             startText(c.Start),
		Processing:        distText(c.Processing),
		Impl:              c.Impl.String(),
		TickMs:            tickMs(c),
	}
}

// tickMs is etcd's tick, or nil for raftsim's node, which has none.
func tickMs(c *scenarios.Cluster) *Num {
	if c.Impl != scenarios.ImplEtcd {
		return nil
	}
	t := ms(c.TickLength())
	return &t
}

func startText(start []sim.Dist) []string {
	var out []string
	for _, d := range start {
		out = append(out, scenarios.FormatDist(d))
	}
	return out
}

func linksText(links []scenarios.LinkOverride) []string {
	var out []string
	for _, l := range links {
		out = append(out, l.String())
	}
	return out
}

func distText(d *sim.Dist) string {
	if d == nil {
		return ""
	}
	return scenarios.FormatDist(*d)
}

func ms(d time.Duration) Num { return Num(float64(d) / 1e6) }

// Failure is one failed trial, with the command that replays it. A live
// trial does not replay: it has the observations that show its failure
// and the file with its timeline instead.
type Failure struct {
	Trial    int      `json:"trial"`
	Seed     uint64   `json:"seed"`
	Kind     string   `json:"kind"`
	Detail   string   `json:"detail"`
	AtMs     Num      `json:"at_ms"`
	Event    uint64   `json:"event"`
	Replay   string   `json:"replay"`
	Evidence []string `json:"evidence,omitempty"`
	Timeline string   `json:"timeline,omitempty"`
	// TimelineTail is the timeline's last lines, for the first failure.
	TimelineTail []string `json:"timeline_tail,omitempty"`
	// Weighed, for the first liveness failure of a run, is how often its
	// configuration misses the same expectation over other trials.
	*Weighed
}

// Note is something said of one trial, with the command that replays it.
type Note struct {
	Trial  int    `json:"trial"`
	Seed   uint64 `json:"seed"`
	Detail string `json:"detail"`
	Replay string `json:"replay"`
}

// Stats are the statistics of one set of trials: a run, or a sweep cell.
type Stats struct {
	Trials               int       `json:"trials"`
	Started              int       `json:"started"`
	Measured             int       `json:"measured"`
	TimeToLeaderMs       Dist      `json:"time_to_leader_ms"`
	SplitVoteProbability Num       `json:"split_vote_probability"`
	SplitVoteCI95        [2]Num    `json:"split_vote_ci95"`
	SplitVotes           int64     `json:"split_votes"`
	OtherLostElections   int64     `json:"other_lost_elections"`
	RoundsMean           Num       `json:"rounds_mean"`
	Rounds               Dist      `json:"rounds"`
	MessagesMean         Num       `json:"messages_mean"`
	StaleLeaderMs        *Dist     `json:"stale_leader_ms,omitempty"`
	TermsBumped          Dist      `json:"terms_bumped"`
	Disruptions          Dist      `json:"disruptions"`
	Events               uint64    `json:"events"`
	Failed               int       `json:"failed"`
	Failures             []Failure `json:"failures"`
	// Unfinished counts the trials that ended before their fault timeline
	// did (a step waiting for an event that never came).
	Unfinished       int    `json:"unfinished"`
	UnfinishedTrials []Note `json:"unfinished_trials"`
}

// StatsOf builds the statistics of agg; replay returns the command that
// replays the trial with the given seed.
func StatsOf(agg *runner.Aggregate, replay func(seed uint64) string) Stats {
	lo, hi := agg.SplitVote.Wilson95()
	st := Stats{
		Trials:               agg.Trials,
		Started:              agg.Started,
		Measured:             agg.Measured,
		TimeToLeaderMs:       DistOf(&agg.TimeToLeader, 1e6),
		SplitVoteProbability: Num(agg.SplitVote.P()),
		SplitVoteCI95:        [2]Num{Num(lo), Num(hi)},
		SplitVotes:           agg.SplitVotes,
		OtherLostElections:   agg.OtherLosses,
		RoundsMean:           Num(agg.Rounds.Mean()),
		Rounds:               DistOf(&agg.Rounds, 1),
		MessagesMean:         Num(agg.Messages.Mean()),
		TermsBumped:          DistOf(&agg.TermsBumped, 1),
		Disruptions:          DistOf(&agg.Disruptions, 1),
		Events:               agg.Events,
		Failed:               agg.Failed,
		Failures:             []Failure{},
		Unfinished:           agg.Unfinished,
		UnfinishedTrials:     []Note{},
	}
	if agg.StaleLeader.N() > 0 {
		d := DistOf(&agg.StaleLeader, 1e6)
		st.StaleLeaderMs = &d
	}
	for _, u := range agg.UnfinishedTrials {
		st.UnfinishedTrials = append(st.UnfinishedTrials, Note{Trial: u.Trial, Seed: u.Seed, Detail: u.Detail, Replay: replay(u.Seed)})
	}
	for _, f := range agg.Failures {
		st.Failures = append(st.Failures, Failure{
			Trial: f.Trial, Seed: f.Seed, Kind: f.Kind, Detail: f.Detail,
			AtMs: ms(f.At), Event: f.Event, Replay: replay(f.Seed),
		})
	}
	return st
}

// Run is the report of raftsim run.
type Run struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description,omitempty"`
	// Overrides are the command line's changes to the scenario, which its
	// description does not know of: "--nodes 3".
	Overrides []string `json:"overrides,omitempty"`
	Seed      uint64   `json:"seed"`
	Params    Params   `json:"params"`
	Measure   Measure  `json:"measure"`
	Expect    []string `json:"expect"`
	// Warnings say what looks wrong in the scenario's timing
	// (scenarios.Scenario.Warnings); raftsim prints them on stderr.
	Warnings []string `json:"warnings,omitempty"`
	Stats
	Stability *Stability `json:"stability,omitempty"`
	// Found holds, with --find, the trials each query picked out.
	Found []Found `json:"found,omitempty"`
}

// Measure says what was measured.
type Measure struct {
	From  string `json:"from"`
	Until string `json:"until"`
}

// MeasureOf describes what s measures.
func MeasureOf(s *scenarios.Scenario) Measure {
	return Measure{From: s.Measure.From.String(), Until: s.Measure.Until.String()}
}

// ExpectOf lists what every trial of s must satisfy, one phrase each.
func ExpectOf(s *scenarios.Scenario) []string {
	var out []string
	for _, inv := range s.Expect.Invariants {
		out = append(out, inv.String())
	}
	e := &s.Expect
	if e.LeaderWithin > 0 {
		out = append(out, "leader within "+scenarios.FormatDuration(e.LeaderWithin))
	}
	if e.NoLeader {
		out = append(out, "no leader")
	}
	if e.OneLeaderAtEnd {
		out = append(out, "one leader at the end")
	}
	if e.ConvergeWithin > 0 {
		out = append(out, "a working leader within "+scenarios.FormatDuration(e.ConvergeWithin)+" of the last fault")
	}
	if n := s.Checks(); n > 0 {
		out = append(out, "the checks of "+scenarios.Count(n, "step", "steps"))
	}
	return out
}

// NewRun builds the report of a run of s.
func NewRun(s *scenarios.Scenario, agg *runner.Aggregate, replay func(uint64) string) *Run {
	return &Run{
		Scenario:    s.Name,
		Description: s.Description,
		Seed:        s.Seed,
		Params:      ParamsOf(s),
		Measure:     MeasureOf(s),
		Expect:      ExpectOf(s),
		Warnings:    warningsOf(s),
		Stats:       StatsOf(agg, replay),
	}
}

// warningsOf returns the texts of s's warnings.
func warningsOf(s *scenarios.Scenario) []string {
	var out []string
	for _, w := range s.Warnings() {
		out = append(out, w.Text)
	}
	return out
}
