package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// QuantileCI95 returns a distribution-free 95% confidence interval of the
// true p-quantile of what the samples were drawn from: the order
// statistics X(l) and X(u) whose ranks a Binomial(n, p) count falls
// between with probability 0.95 or more, 0.025 or less in each tail. It
// assumes nothing of the distribution, so it holds for the heavy tails of
// time to leader. With too few samples for an end (the 99th percentile of
// 100 samples has no upper bound), that end is infinite: -Inf below, +Inf
// above. It is NaN when there are no samples.
func (s *Summary) QuantileCI95(p float64) (lo, hi float64) {
	if s.n == 0 {
		return math.NaN(), math.NaN()
	}
	l, u := quantileRanks(s.n, p)
	lo, hi = math.Inf(-1), math.Inf(1)
	if l >= 1 {
		lo = s.rank(l)
	}
	if u <= s.n {
		hi = s.rank(u)
	}
	return lo, hi
}

// quantileRanks returns the ranks (from 1) of the order statistics that
// bound the p-quantile of n samples with 95% confidence: l the largest
// with P(B < l) <= 0.025 and u the smallest with P(B < u) >= 0.975, for
// B ~ Binomial(n, p); l may be 0 and u n+1, when no rank will do.
func quantileRanks(n int64, p float64) (l, u int64) {
	b := distuv.Binomial{N: float64(n), P: p}
	below := func(r int64) float64 { return b.CDF(float64(r - 1)) } // P(B < r) = P(B <= r-1)
	// Search from the normal approximation's ranks outwards: a step of
	// the CDF is cheap, and the ranks lie within a few steps of them.
	sd := math.Sqrt(float64(n) * p * (1 - p))
	l = int64(math.Floor(float64(n)*p-2*sd)) + 1
	l = min(max(l, 0), n+1)
	for l > 0 && below(l) > 0.025 {
		l--
	}
	for l+1 <= n && below(l+1) <= 0.025 {
		l++
	}
	u = int64(math.Ceil(float64(n)*p+2*sd)) + 1
	u = min(max(u, 1), n+1)
	for u <= n && below(u) < 0.975 {
		u++
	}
	for u > 1 && below(u-1) >= 0.975 {
		u--
	}
	return l, u
}

// rank returns the sample of rank r (from 1) in increasing order, as
// [Summary.Quantile] places it: within [QuantilePrecision] of the sample.
func (s *Summary) rank(r int64) float64 {
	var seen int64
	for b, count := range s.buckets {
		if seen += int64(count); seen >= r {
			return math.Min(math.Max(bucketMid(b), float64(s.min)), float64(s.max))
		}
	}
	return float64(s.max)
}
