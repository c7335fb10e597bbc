package tune

import (
	"cmp"
	"fmt"
	"math"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/scenarios"
)

// Goals are what the user asks of a setting: a leader's crash repaired
// within FailoverP99 in 99% of crashes, and at most LeaderChangesPerDay
// leader changes a day in a healthy cluster, each shown with 95%
// confidence.
type Goals struct {
	FailoverP99         time.Duration
	LeaderChangesPerDay float64
}

// Outcome is what a setting's trials (leader crashes) and steady state
// showed.
type Outcome struct {
	Trials, Measured, Failed int
	// P50 and P99 of the failover time in ms, each with its 95% interval
	// (an end may be infinite: too few trials to bound it).
	P50, P99     float64
	P50CI, P99CI [2]float64
	// LeaderChanges and Needless elections in SteadyHours hours of steady
	// state.
	LeaderChanges, Needless int64
	SteadyHours             float64
}

// OutcomeOf reads the outcome of a setting's trials and steady-state runs
// (nil when none ran).
func OutcomeOf(runs, steady *runner.Aggregate) Outcome {
	t := &runs.TimeToLeader
	o := Outcome{Trials: runs.Trials, Measured: runs.Measured, Failed: runs.Failed, P50: math.NaN(), P99: math.NaN(),
		P50CI: [2]float64{math.NaN(), math.NaN()}, P99CI: [2]float64{math.NaN(), math.NaN()}}
	if t.N() > 0 {
		o.P50, o.P99 = t.Quantile(0.5)/1e6, t.Quantile(0.99)/1e6
		lo, hi := t.QuantileCI95(0.5)
		o.P50CI = [2]float64{lo / 1e6, hi / 1e6}
		lo, hi = t.QuantileCI95(0.99)
		o.P99CI = [2]float64{lo / 1e6, hi / 1e6}
	}
	if steady != nil && steady.Trials > 0 {
		o.Failed += steady.Failed
		o.LeaderChanges, o.Needless, o.SteadyHours = steady.LeaderChanges, steady.Elections, float64(steady.SteadyTime)/float64(time.Hour)
	}
	return o
}

// PerDay returns a count of events over the steady state as a rate a day
// with its exact 95% Poisson interval; NaN without steady state.
func (o *Outcome) PerDay(events int64) (rate, lo, hi float64) {
	if o.SteadyHours <= 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	days := o.SteadyHours / 24
	lo, hi = stats.Poisson95(events)
	return float64(events) / days, lo / days, hi / days
}

// Clean reports whether every trial found a new leader and none failed.
func (o *Outcome) Clean() bool { return o.Failed == 0 && o.Measured == o.Trials && o.Trials > 0 }

// Judgement is what the goals make of an outcome.
type Judgement struct {
	// Failover judges the p99 failover time against FailoverP99, and
	// Changes the leader changes a day against LeaderChangesPerDay: Below
	// when the interval is wholly within the goal, Above when wholly
	// beyond it, Undecided when it holds the goal.
	Failover, Changes sweep.Verdict
	// Meets says the trials were clean and both verdicts are Below.
	Meets bool
	// Margin is the smaller of the two goals' relative margins by the
	// point estimates, 1 − p99/goal and 1 − rate/goal: how far the
	// setting is from its nearest goal.
	Margin float64
}

// verdict judges an interval [lo, hi] against a goal.
func verdict(lo, hi, goal float64) sweep.Verdict {
	switch {
	case math.IsNaN(lo) || math.IsNaN(hi):
		return sweep.NotJudged
	case hi <= goal:
		return sweep.Below
	case lo > goal:
		return sweep.Above
	}
	return sweep.Undecided
}

// Judge judges an outcome.
func (g Goals) Judge(o *Outcome) Judgement {
	goal := float64(g.FailoverP99) / 1e6
	rate, lo, hi := o.PerDay(o.LeaderChanges)
	j := Judgement{Failover: verdict(o.P99CI[0], o.P99CI[1], goal), Changes: verdict(lo, hi, g.LeaderChangesPerDay)}
	j.Meets = o.Clean() && j.Failover == sweep.Below && j.Changes == sweep.Below
	j.Margin = min(1-o.P99/goal, 1-rate/g.LeaderChangesPerDay)
	return j
}

// Recommend judges every setting's outcome and returns the index of the
// setting that meets the goals with the most margin (ties: the smaller
// p99, then the earlier setting), or -1 when none meets them.
func (g Goals) Recommend(outcomes []Outcome) (best int, js []Judgement) {
	best = -1
	for i := range outcomes {
		js = append(js, g.Judge(&outcomes[i]))
		if !js[i].Meets {
			continue
		}
		if best < 0 || cmp.Or(cmp.Compare(js[i].Margin, js[best].Margin), cmp.Compare(outcomes[best].P99, outcomes[i].P99)) > 0 {
			best = i
		}
	}
	return best, js
}

// NeedMore returns the setting more steady state could make the
// recommendation: of those whose trials are clean and meet the failover
// goal, and whose leader changes' interval holds the goal, the one with
// the most margin by the point estimates (ties: the smaller p99), if that
// beats the recommended setting's. One at a time: should it be shown
// within the goal, the others cannot beat it; should it not, the next is
// the next to need more.
func (g Goals) NeedMore(outcomes []Outcome) []int {
	best, js := g.Recommend(outcomes)
	next := -1
	for i, j := range js {
		if !outcomes[i].Clean() || j.Failover != sweep.Below || j.Changes != sweep.Undecided || best >= 0 && j.Margin <= js[best].Margin {
			continue
		}
		if next < 0 || cmp.Or(cmp.Compare(j.Margin, js[next].Margin), cmp.Compare(outcomes[next].P99, outcomes[i].P99)) > 0 {
			next = i
		}
	}
	if next < 0 {
		return nil
	}
	return []int{next}
}

// Undecided says what would decide a setting whose leader changes' interval
// holds the goal: about how much steady state, if the rate stays near
// what was measured.
func (g Goals) Undecided(o *Outcome) string {
	rate, lo, hi := o.PerDay(o.LeaderChanges)
	text := fmt.Sprintf("its leader changes, %.2f [%.2f, %.2f] a day over %s of steady state, straddle --max-leader-changes-per-day %g",
		rate, lo, hi, scenarios.Hours(o.SteadyHours), g.LeaderChangesPerDay)
	if h, ok := sweep.HoursToDecide(rate/24, g.LeaderChangesPerDay/24); ok {
		return text + fmt.Sprintf("; about %s would decide it (--max-steady-time %gh)", scenarios.Hours(h), h)
	}
	return text + "; its rate is too near the goal for any length of steady state to tell"
}
