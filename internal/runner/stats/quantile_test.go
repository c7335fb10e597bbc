package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestQuantileRanks: the ranks bound the quantile with at least 95%
// confidence, 2.5% or less in each tail, and are the tightest that do:
// one rank inwards on either side breaks its tail's bound.
func TestQuantileRanks(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		p    float64
		l, u int64 // checked where given (0: only the bounds)
	}{
		{n: 1000, p: 0.99, l: 983, u: 997}, // p99 of 1000: X(983) to X(997)
		{n: 1000, p: 0.5},
		{n: 10000, p: 0.99},
		{n: 100, p: 0.99, u: 101}, // no upper bound from 100 samples
		{n: 20, p: 0.5, l: 6, u: 15},
		{n: 1, p: 0.5, l: 0, u: 2},
	} {
		l, u := quantileRanks(tt.n, tt.p)
		b := distuv.Binomial{N: float64(tt.n), P: tt.p}
		below := func(r int64) float64 { return b.CDF(float64(r - 1)) }
		if (tt.l != 0 && l != tt.l) || (tt.u != 0 && u != tt.u) {
			t.Errorf("n=%d p=%g: ranks %d, %d; want %d, %d", tt.n, tt.p, l, u, tt.l, tt.u)
		}
		if l >= 1 && below(l) > 0.025 || l+1 <= tt.n && below(l+1) <= 0.025 {
			t.Errorf("n=%d p=%g: l=%d is not the largest rank with P(B < l) <= 0.025", tt.n, tt.p, l)
		}
		if u <= tt.n && below(u) < 0.975 || u > 1 && below(u-1) >= 0.975 {
			t.Errorf("n=%d p=%g: u=%d is not the smallest rank with P(B < u) >= 0.975", tt.n, tt.p, u)
		}
	}
}

// TestQuantileCI95Covers: over many samples of 1000 from an exponential
// distribution, the interval of the 99th percentile holds the true one
// about 95% of the time or more, never much less.
func TestQuantileCI95Covers(t *testing.T) {
	const runs = 400
	truth := -math.Log(0.01) * 1e6 // exp with mean 1e6: the true p99
	r := rand.New(rand.NewPCG(7, 8))
	covered := 0
	for range runs {
		var s Summary
		for range 1000 {
			s.Add(int64(-math.Log(1-r.Float64()) * 1e6))
		}
		lo, hi := s.QuantileCI95(0.99)
		if !(lo <= s.Quantile(0.99) && s.Quantile(0.99) <= hi) {
			t.Fatalf("the estimate %g is outside its interval [%g, %g]", s.Quantile(0.99), lo, hi)
		}
		if lo <= truth && truth <= hi {
			covered++
		}
	}
	if covered < runs*92/100 {
		t.Errorf("the interval held the true p99 in %d of %d samples: want about 95%%", covered, runs)
	}
	var few Summary
	for i := range 100 {
		few.Add(int64(i))
	}
	if _, hi := few.QuantileCI95(0.99); !math.IsInf(hi, 1) {
		t.Errorf("100 samples bound the p99 above at %g: want +Inf", hi)
	}
	var none Summary
	if lo, hi := none.QuantileCI95(0.5); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("no samples: [%g, %g], want NaN", lo, hi)
	}
}
