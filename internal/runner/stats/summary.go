// Package stats summarises many trials' measurements in bounded memory:
// exact counts, means and standard deviations from integer sums, and
// quantiles from a mergeable log-linear histogram, computed with
// gonum/stat. Summaries merge in any order with the same result, so the
// numbers never depend on how trials were spread over workers, and a
// summary's JSON form is its exact state, so summaries written by separate
// processes merge as if one process had made them all.
//
// stats must never keep samples (memory is bounded whatever the number of
// trials) or depend on the order of Add and Merge calls.
package stats

import (
	"math"
	"math/big"
	"math/bits"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Histogram geometry: values below 2^subBits are counted exactly; above,
// each power of two is split into 2^(subBits-1) buckets, so a bucket is at
// most 1/1024 of its values wide and its midpoint is within 0.05% of every
// value in it.
const (
	subBits     = 11
	exactLimit  = 1 << subBits       // 2048: values below are exact
	perOctave   = 1 << (subBits - 1) // 1024 buckets per power of two above
	chunkSize   = 1024
	numBuckets  = exactLimit + (63-subBits+1)*perOctave
	numChunks   = (numBuckets + chunkSize - 1) / chunkSize
	maxRelError = 0.5 / perOctave // of a reported quantile, relative
)

// QuantilePrecision is the largest relative error of a reported quantile
// (values below 2048 are exact).
const QuantilePrecision = maxRelError

// Summary is a streaming summary of non-negative integer samples.
type Summary struct {
	n        int64
	sum      [2]uint64 // 128-bit: hi, lo
	sumSq    [2]uint64
	min, max int64
	chunks   [numChunks]*[chunkSize]uint64
}

// Add records one sample; negative samples count as 0.
func (s *Summary) Add(v int64) {
	v = max(v, 0)
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if v > s.max {
		s.max = v
	}
	s.n++
	add128(&s.sum, 0, uint64(v))
	hi, lo := bits.Mul64(uint64(v), uint64(v))
	add128(&s.sumSq, hi, lo)
	b := bucketOf(v)
	c := s.chunks[b/chunkSize]
	if c == nil {
		c = new([chunkSize]uint64)
		s.chunks[b/chunkSize] = c
	}
	c[b%chunkSize]++
}

// Merge adds every sample of o to s.
func (s *Summary) Merge(o *Summary) {
	if o.n == 0 {
		return
	}
	if s.n == 0 || o.min < s.min {
		s.min = o.min
	}
	s.max = max(s.max, o.max)
	s.n += o.n
	add128(&s.sum, o.sum[0], o.sum[1])
	add128(&s.sumSq, o.sumSq[0], o.sumSq[1])
	for i, oc := range o.chunks {
		if oc == nil {
			continue
		}
		if s.chunks[i] == nil {
			s.chunks[i] = new([chunkSize]uint64)
		}
		for j, c := range oc {
			s.chunks[i][j] += c
		}
	}
}

func add128(acc *[2]uint64, hi, lo uint64) {
	var carry uint64
	acc[1], carry = bits.Add64(acc[1], lo, 0)
	acc[0], _ = bits.Add64(acc[0], hi, carry)
}

func bucketOf(v int64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits
	top := int(uint64(v) >> shift) // in [1024, 2048)
	return exactLimit + (shift-1)*perOctave + top - perOctave
}

// buckets yields the number and count of each non-empty bucket, in
// increasing order.
func (s *Summary) buckets(yield func(b int, count uint64) bool) {
	for i, c := range s.chunks {
		if c == nil {
			continue
		}
		for j, count := range c {
			if count > 0 && !yield(i*chunkSize+j, count) {
				return
			}
		}
	}
}

// bucketMid returns the midpoint of bucket b.
func bucketMid(b int) float64 {
	if b < exactLimit {
		return float64(b)
	}
	shift := (b-exactLimit)/perOctave + 1
	top := (b-exactLimit)%perOctave + perOctave
	lo := float64(uint64(top) << shift)
	return lo + float64(uint64(1)<<shift)/2 - 0.5
}

// N returns the number of samples.
func (s *Summary) N() int64 { return s.n }

// Sum returns the sum of the samples (exact up to the final rounding).
func (s *Summary) Sum() float64 {
	f, _ := new(big.Float).SetInt(int128(s.sum)).Float64()
	return f
}

// Min returns the smallest sample, exactly (0 when empty).
func (s *Summary) Min() int64 { return s.min }

// Max returns the largest sample, exactly (0 when empty).
func (s *Summary) Max() int64 { return s.max }

// Mean returns the exact mean (NaN when empty).
func (s *Summary) Mean() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	f, _ := new(big.Rat).SetFrac(int128(s.sum), big.NewInt(s.n)).Float64()
	return f
}

// StdDev returns the sample standard deviation (n-1 in the denominator),
// exact up to the final rounding; 0 for one sample, NaN when empty.
func (s *Summary) StdDev() float64 {
	switch s.n {
	case 0:
		return math.NaN()
	case 1:
		return 0
	}
	n := big.NewInt(s.n)
	sum := int128(s.sum)
	// (n·Σx² − (Σx)²) / (n·(n−1))
	num := new(big.Int).Mul(n, int128(s.sumSq))
	num.Sub(num, new(big.Int).Mul(sum, sum))
	den := new(big.Int).Mul(n, big.NewInt(s.n-1))
	v, _ := new(big.Rat).SetFrac(num, den).Float64()
	return math.Sqrt(v)
}

func int128(w [2]uint64) *big.Int {
	x := new(big.Int).SetUint64(w[0])
	x.Lsh(x, 64)
	return x.Or(x, new(big.Int).SetUint64(w[1]))
}

// Quantile returns the empirical p-quantile (0 <= p <= 1) of the samples,
// within [QuantilePrecision] of the true sample value, and never outside
// [Min, Max]. It is NaN when there are no samples.
func (s *Summary) Quantile(p float64) float64 {
	if s.n == 0 {
		return math.NaN()
	}
	var x, w []float64
	for b, count := range s.buckets {
		x = append(x, bucketMid(b))
		w = append(w, float64(count))
	}
	q := stat.Quantile(p, stat.Empirical, x, w)
	return math.Min(math.Max(q, float64(s.min)), float64(s.max))
}

// CDF returns the empirical distribution function: for each distinct
// histogram bucket in increasing order, its value (the bucket's midpoint,
// kept within [Min, Max]) and the fraction of samples at or below it.
func (s *Summary) CDF() (x, p []float64) {
	var seen uint64
	for b, count := range s.buckets {
		seen += count
		v := math.Min(math.Max(bucketMid(b), float64(s.min)), float64(s.max))
		x = append(x, v)
		p = append(p, float64(seen)/float64(s.n))
	}
	return x, p
}

// Proportion is a count of successes among trials.
type Proportion struct {
	Hits, Trials int64
}

// P returns the observed proportion (NaN without trials).
func (p Proportion) P() float64 {
	if p.Trials == 0 {
		return math.NaN()
	}
	return float64(p.Hits) / float64(p.Trials)
}

// z95 is the two-sided 95% standard normal quantile.
var z95 = distuv.UnitNormal.Quantile(0.975)

// Wilson95 returns the 95% Wilson score interval of the proportion, which
// stays inside [0, 1] and behaves at 0 and 1 hits.
func (p Proportion) Wilson95() (lo, hi float64) {
	if p.Trials == 0 {
		return math.NaN(), math.NaN()
	}
	n := float64(p.Trials)
	ph := float64(p.Hits) / n
	z2 := z95 * z95
	center := (ph + z2/(2*n)) / (1 + z2/n)
	half := z95 * math.Sqrt(float64(ph*(1-ph)/n)+float64(z2/(4*n*n))) / (1 + z2/n)
	return math.Max(0, center-half), math.Min(1, center+half)
}

// Poisson95 returns the exact (Garwood) 95% confidence interval of the
// mean of a Poisson count, given k events seen: from the 2.5% quantile of
// χ² with 2k degrees of freedom to the 97.5% quantile with 2k+2, halved
// (0 below for k = 0). Divided by the time observed, it is the interval of
// a rate such as needless elections per hour. It never undercovers.
func Poisson95(k int64) (lo, hi float64) {
	if k < 0 {
		return math.NaN(), math.NaN()
	}
	if k > 0 {
		lo = distuv.ChiSquared{K: float64(2 * k)}.Quantile(0.025) / 2
	}
	hi = distuv.ChiSquared{K: float64(2*k + 2)}.Quantile(0.975) / 2
	return lo, hi
}
