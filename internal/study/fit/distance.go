package fit

import (
	"math"
)

// What the fit minimises, in words.
const (
	DistanceSamples = "Cramér–von Mises: the sum over groups of the two-sample statistic T = nm/(n+m)² Σ (F_data − F_sim)² over the pooled times"
	DistanceTargets = "squared log error: the sum over targets of ln(simulated / target)²"
)

// weighted is a sorted sample with a weight per value (nil: 1 each), as a
// bootstrap resample is: how often each value was drawn.
type weighted struct {
	x []float64 // sorted; +Inf for no leader
	w []float64
}

func (s weighted) weight(i int) float64 {
	if s.w == nil {
		return 1
	}
	return s.w[i]
}

func (s weighted) total() float64 {
	if s.w == nil {
		return float64(len(s.x))
	}
	t := 0.0
	for _, w := range s.w {
		t += w
	}
	return t
}

// compare returns the two-sample Cramér–von Mises statistic T and the
// Kolmogorov–Smirnov statistic D of a and b. Values at +Inf (no leader)
// tie with each other and lie above every time.
func compare(a, b weighted) (cvm, ks float64) {
	n, m := a.total(), b.total()
	if n == 0 || m == 0 {
		return math.NaN(), math.NaN()
	}
	var fa, fb, sum float64
	i, j := 0, 0
	for i < len(a.x) || j < len(b.x) {
		v := math.Inf(1)
		if i < len(a.x) {
			v = a.x[i]
		}
		if j < len(b.x) {
			v = math.Min(v, b.x[j])
		}
		var ca, cb float64
		for ; i < len(a.x) && a.x[i] == v; i++ {
			ca += a.weight(i)
		}
		for ; j < len(b.x) && b.x[j] == v; j++ {
			cb += b.weight(j)
		}
		fa += ca / n
		fb += cb / m
		d := fa - fb
		sum += (ca + cb) * d * d
		ks = math.Max(ks, math.Abs(d))
	}
	return n * m / ((n + m) * (n + m)) * sum, ks
}

// statistic returns stat of the times that are finite (the trials that
// found a leader), as raftsim run computes it: NaN when there are none.
// Quantiles are empirical: the smallest time with at least that share of
// the weight at or below it.
func statistic(stat Stat, s weighted) float64 {
	var total, sum, last float64
	for i, x := range s.x {
		if math.IsInf(x, 1) {
			break
		}
		if w := s.weight(i); w > 0 {
			total += w
			sum += w * x
			last = x
		}
	}
	if total == 0 {
		return math.NaN()
	}
	switch stat {
	case Mean:
		return sum / total
	case Max:
		return last
	}
	p := [...]float64{P50: 0.5, P90: 0.9, P99: 0.99}[stat]
	seen := 0.0
	for i, x := range s.x {
		if seen += s.weight(i); seen >= p*total {
			return x
		}
	}
	return last
}

// missLoss is the loss of a target the simulation cannot compute (no
// trial found a leader): as if it were off by a factor of e⁵.
const missLoss = 25

// targetLoss returns ln(simulated/target)², or missLoss.
func targetLoss(simulated, target float64) float64 {
	if math.IsNaN(simulated) || simulated <= 0 {
		return missLoss
	}
	l := math.Log(simulated / target)
	return l * l
}
