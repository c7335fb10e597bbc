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
