package stats

import (
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// KSDistance returns the two-sample Kolmogorov-Smirnov statistic of a and
// b: the largest distance between their empirical distribution functions,
// from 0 (the same samples) to 1 (no overlap). It is 1 when exactly one of
// them is empty, 0 when both are.
func KSDistance(a, b []time.Duration) float64 {
	return stat.KolmogorovSmirnov(sortedFloats(a), nil, sortedFloats(b), nil)
}

func sortedFloats(xs []time.Duration) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	slices.Sort(out)
	return out
}

// KSCritical95 returns the distance above which two samples of sizes n and
// m differ at the 5% level (the asymptotic two-sample bound
// 1.358·√((n+m)/(n·m))): a KS distance below it is no evidence that the
// distributions differ.
func KSCritical95(n, m int) float64 {
	if n == 0 || m == 0 {
		return 1
	}
	return 1.358 * math.Sqrt(float64(n+m)/float64(n*m))
}

// KS returns the two-sample Kolmogorov-Smirnov statistic of a and b,
// which need not be sorted and may hold ties and +Inf (a trial that found
// no leader, longer than any that did): the largest distance between their
// empirical distribution functions, stepping over tied values at once. It
// is NaN when either is empty.
func KS(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	n, m := float64(len(a)), float64(len(b))
	var d float64
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		v := math.Inf(1)
		if i < len(a) {
			v = a[i]
		}
		if j < len(b) {
			v = math.Min(v, b[j])
		}
		for i < len(a) && a[i] == v {
			i++
		}
		for j < len(b) && b[j] == v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/n-float64(j)/m))
	}
	return d
}

// KSPValue returns the asymptotic p-value of the two-sample
// Kolmogorov-Smirnov statistic d of samples of n and m (Stephens'
// correction for small samples). For samples with many ties, such as
// counts, it is conservative: it overstates the p-value.
func KSPValue(d, n, m float64) float64 {
	if math.IsNaN(d) {
		return math.NaN()
	}
	ne := n * m / (n + m)
	lambda := (math.Sqrt(ne) + 0.12 + 0.11/math.Sqrt(ne)) * d
	if lambda < 0.2 {
		return 1
	}
	p, sign := 0.0, 1.0
	for k := 1.0; k <= 100; k++ {
		term := math.Exp(-2 * k * k * lambda * lambda)
		p += sign * term
		if term < 1e-12 {
			break
		}
		sign = -sign
	}
	return math.Min(1, math.Max(0, 2*p))
}

// TwoProportionsP returns the two-sided p-value of the pooled two-sample
// z-test that proportions hits1/n1 and hits2/n2 are equal: 1 when neither
// or both have every trial a hit (nothing varies), NaN without trials.
func TwoProportionsP(hits1, n1, hits2, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return math.NaN()
	}
	p := float64(hits1+hits2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1
	}
	z := math.Abs(float64(hits1)/float64(n1)-float64(hits2)/float64(n2)) / se
	return math.Erfc(z / math.Sqrt2)
}
