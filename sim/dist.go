package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// DistKind names a family of duration distributions.
type DistKind uint8

// The distributions a [Dist] can draw from.
const (
	Const     DistKind = iota // always A
	Uniform                   // uniform over the integers [A, B]
	Normal                    // mean A, standard deviation B, truncated at 0
	Exp                       // minimum A plus an exponential; overall mean B
	LogNormal                 // a log-normal with mean A and standard deviation B
	Empirical                 // a table of values or histogram buckets ([NewEmpirical])
	Mixture                   // a mixture of other distributions ([NewMix])
)

// Dist is a distribution of durations, such as one-way message latency.
// Its text form (const:7ms, uniform:5ms-10ms, ...) belongs to the scenario
// format, package scenarios; here it is only numbers. The zero Dist is
// always 0. A Dist is a value; an Empirical or Mixture one shares its table,
// which nothing changes once made, with its copies.
type Dist struct {
	Kind      DistKind
	A, B      time.Duration
	mu, sigma float64 // log-normal parameters of the underlying normal
	table     *table  // Empirical and Mixture
}

// ConstDist returns the distribution that is always d.
func ConstDist(d time.Duration) Dist { return Dist{Kind: Const, A: d} }

// UniformDist returns the uniform distribution over [lo, hi].
func UniformDist(lo, hi time.Duration) Dist { return Dist{Kind: Uniform, A: lo, B: hi} }

// Errors from [NewDist].
var (
	ErrNegative      = errors.New("durations must not be negative")
	ErrUniformOrder  = errors.New("uniform: minimum is above maximum")
	ErrExpMean       = errors.New("exp: mean must be above the minimum")
	ErrLogNormalMean = errors.New("lognormal: mean must be above 0")
)

// NewDist returns the distribution of the given kind with parameters a and
// b, as [DistKind] describes them, or an error when they are impossible.
// It precomputes what sampling needs.
func NewDist(kind DistKind, a, b time.Duration) (Dist, error) {
	d := Dist{Kind: kind, A: a, B: b}
	if a < 0 || b < 0 {
		return Dist{}, ErrNegative
	}
	switch kind {
	case Uniform:
		if a > b {
			return Dist{}, ErrUniformOrder
		}
	case Exp:
		if b <= a {
			return Dist{}, ErrExpMean
		}
	case LogNormal:
		if a == 0 {
			return Dist{}, ErrLogNormalMean
		}
		m, s := float64(a), float64(b)
		d.sigma = math.Sqrt(math.Log1p(s * s / (m * m)))
		d.mu = math.Log(m) - d.sigma*d.sigma/2
	}
	return d, nil
}

// Sample draws one duration from d using r.
func (d *Dist) Sample(r *Rand) time.Duration {
	switch d.Kind {
	case Const:
		return d.A
	case Uniform:
		return d.A + time.Duration(r.Int63n(int64(d.B-d.A)+1))
	case Normal:
		if d.B == 0 {
			return d.A
		}
		for {
			x := float64(d.A) + float64(float64(d.B)*r.Normal())
			if x >= 0 {
				return durationOf(x)
			}
		}
	case Exp:
		return d.A + durationOf(float64(float64(d.B-d.A)*r.Exp()))
	case LogNormal:
		return durationOf(math.Exp(d.mu + float64(d.sigma*r.Normal())))
	case Empirical:
		return d.table.sampleBucket(r)
	case Mixture:
		return d.table.parts[d.table.pick(r.Float64())].Sample(r)
	}
	panic(fmt.Sprintf("sim: unknown distribution kind %d", d.Kind))
}

// durationOf rounds a non-negative float of nanoseconds, saturating at the
// largest duration so that a far tail never wraps around.
func durationOf(x float64) time.Duration {
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Round(x))
}

// Mean returns the mean of d (of the untruncated normal for Normal).
func (d Dist) Mean() time.Duration {
	switch d.Kind {
	case Uniform:
		return (d.A + d.B) / 2
	case Exp:
		return d.B
	case Empirical, Mixture:
		return d.table.mean
	}
	return d.A
}

// Quantile returns the duration that a draw of d exceeds with probability
// 1-p at most: the p-quantile of d (of the normal truncated at 0, as
// [Dist.Sample] draws it). p must be in [0, 1); the tail 1-p may be as
// small as 1e-15. It is what a bound on latency rests on: a message is
// later than d.Quantile(1-eps) with probability eps.
func (d Dist) Quantile(p float64) time.Duration {
	q := 1 - p // the upper tail, which sets the far quantiles
	switch d.Kind {
	case Uniform:
		return d.A + time.Duration(math.Ceil(p*float64(d.B-d.A)))
	case Normal:
		if d.B == 0 {
			return d.A
		}
		// Φ(z) = 1 - q·(1-Φ(-A/B)): the tail of the normal above 0.
		above0 := math.Erfc(-float64(d.A)/(float64(d.B)*math.Sqrt2)) / 2
		z := math.Sqrt2 * math.Erfcinv(2*q*above0)
		return durationOf(math.Max(0, float64(d.A)+float64(d.B)*z))
	case Exp:
		return d.A + durationOf(-float64(d.B-d.A)*math.Log(q))
	case LogNormal:
		return durationOf(math.Exp(d.mu + d.sigma*math.Sqrt2*math.Erfcinv(2*q)))
	}
	return d.A
}

// Max returns the largest value d can take, or -1 when it is unbounded.
func (d Dist) Max() time.Duration {
	switch d.Kind {
	case Const:
		return d.A
	case Uniform:
		return d.B
	case Empirical, Mixture:
		return d.table.max
	}
	return -1
}
