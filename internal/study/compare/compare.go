// Package compare sets two Raft implementations' runs of the same trials
// side by side (raftsim compare): per statistic, both values, a test of
// whether they differ — the two-sample Kolmogorov-Smirnov distance and its
// p-value for distributions, a two-proportion z-test for rates — and
// whether the difference is beyond sampling error at [Alpha].
//
// compare only reads results: it never runs trials, and the same results
// give the same statistics.
package compare

import (
	"math"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/trial"
)

// Alpha is the level below which a p-value says two implementations
// differ: a difference that sampling error alone would show once in a
// hundred comparisons.
const Alpha = 0.01

// Side is one implementation's run of the trials.
type Side struct {
	Impl    string
	Agg     *runner.Aggregate
	Results []trial.Result // by trial index
}

// The kinds of statistic.
const (
	Distribution = "distribution"
	Rate         = "rate"
)

// Stat is one statistic of both sides.
type Stat struct {
	Name  string // as JSON names it: time_to_leader_ms, rounds, split_vote_rate, terms_bumped, disruptions
	Label string // as a table shows it
	Kind  string
	Of    [2]Value
	// KS is the two-sample Kolmogorov-Smirnov distance of a distribution
	// (NaN for a rate); P the p-value of its test.
	KS, P   float64
	Differs bool // P < Alpha
}

// Value is one side's statistic: for a distribution its mean and
// quantiles over N samples (NoLeader more, for time to leader, found no
// leader), for a rate its hits of N.
type Value struct {
	N                   int64
	Mean, P50, P90, P99 float64
	NoLeader            int
	Hits                int64
	Rate                float64
}

// Stats compares a and b, which ran the same trials: time to leader (over
// the trials whose fault came, a trial without a leader longer than any),
// election rounds (over trials that found a leader), the split-vote rate,
// terms begun and disruptions (over every trial).
func Stats(a, b *Side) []Stat {
	sides := [2]*Side{a, b}
	var out []Stat
	dist := func(name, label string, summary func(*runner.Aggregate) *stats.Summary, unit float64, sample func(*trial.Result) (float64, bool)) {
		st := Stat{Name: name, Label: label, Kind: Distribution}
		var xs [2][]float64
		for k, s := range sides {
			sum := summary(s.Agg)
			v := Value{N: sum.N(), Mean: math.NaN(), P50: math.NaN(), P90: math.NaN(), P99: math.NaN()}
			if sum.N() > 0 {
				v.Mean, v.P50, v.P90, v.P99 = sum.Mean()/unit, sum.Quantile(0.5)/unit, sum.Quantile(0.9)/unit, sum.Quantile(0.99)/unit
			}
			for i := range s.Results {
				if x, ok := sample(&s.Results[i]); ok {
					xs[k] = append(xs[k], x)
					if math.IsInf(x, 1) {
						v.NoLeader++
					}
				}
			}
			st.Of[k] = v
		}
		st.KS = stats.KS(xs[0], xs[1])
		st.P = stats.KSPValue(st.KS, float64(len(xs[0])), float64(len(xs[1])))
		st.Differs = st.P < Alpha
		out = append(out, st)
	}
	dist("time_to_leader_ms", "time to leader (ms)", func(g *runner.Aggregate) *stats.Summary { return &g.TimeToLeader }, 1e6,
		func(r *trial.Result) (float64, bool) {
			if !r.Measured {
				return math.Inf(1), r.Started
			}
			return float64(r.TimeToLeader) / 1e6, true
		})
	dist("rounds", "election rounds", func(g *runner.Aggregate) *stats.Summary { return &g.Rounds }, 1,
		func(r *trial.Result) (float64, bool) { return float64(r.Rounds), r.Measured })

	rate := Stat{Name: "split_vote_rate", Label: "split-vote rate", Kind: Rate, KS: math.NaN()}
	for k, s := range sides {
		p := s.Agg.SplitVote
		rate.Of[k] = Value{N: p.Trials, Hits: p.Hits, Rate: p.P()}
	}
	rate.P = stats.TwoProportionsP(int(rate.Of[0].Hits), int(rate.Of[0].N), int(rate.Of[1].Hits), int(rate.Of[1].N))
	rate.Differs = rate.P < Alpha
	out = append(out, rate)

	dist("terms_bumped", "terms bumped", func(g *runner.Aggregate) *stats.Summary { return &g.TermsBumped }, 1,
		func(r *trial.Result) (float64, bool) { return float64(r.TermsBumped), true })
	dist("disruptions", "disruptions", func(g *runner.Aggregate) *stats.Summary { return &g.Disruptions }, 1,
		func(r *trial.Result) (float64, bool) { return float64(r.Disruptions), true })
	return out
}

// Differs reports whether any statistic differs.
func Differs(st []Stat) bool {
	for _, s := range st {
		if s.Differs {
			return true
		}
	}
	return false
}
