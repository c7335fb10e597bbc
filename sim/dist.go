package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
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
)

var distNames = [...]string{Const: "const", Uniform: "uniform", Normal: "normal", Exp: "exp", LogNormal: "lognormal"}

// Dist is a distribution of durations, such as one-way message latency. Its
// text form, accepted by [ParseDist] and printed by [Dist.String], is one of
//
//	const:7ms             always 7ms (a bare duration such as 7ms means the same)
//	uniform:5ms-10ms      uniform between 5ms and 10ms, both included
//	normal:7ms,2ms        normal with mean 7ms and standard deviation 2ms, truncated at 0
//	exp:7ms               exponential with mean 7ms
//	exp:5ms,7ms           5ms plus an exponential: minimum 5ms, mean 7ms
//	lognormal:7ms,2ms     log-normal with mean 7ms and standard deviation 2ms
//
// Durations take Go's units (ns, us, ms, s, m, h); a bare 0 needs none.
type Dist struct {
	Kind      DistKind
	A, B      time.Duration
	mu, sigma float64 // log-normal parameters of the underlying normal
}

// ConstDist returns the distribution that is always d.
func ConstDist(d time.Duration) Dist { return Dist{Kind: Const, A: d} }

// UniformDist returns the uniform distribution over [lo, hi].
func UniformDist(lo, hi time.Duration) Dist { return Dist{Kind: Uniform, A: lo, B: hi} }

// ParseDist parses the text form described at [Dist].
func ParseDist(s string) (Dist, error) {
	kind, args, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		d, err := ParseDuration(kind)
		if err != nil {
			return Dist{}, fmt.Errorf("%q is neither a duration nor a distribution (const:, uniform:, normal:, exp:, lognormal:)", s)
		}
		return checkDist(Dist{Kind: Const, A: d})
	}
	switch kind {
	case "const":
		d, err := ParseDuration(args)
		if err != nil {
			return Dist{}, err
		}
		return checkDist(Dist{Kind: Const, A: d})
	case "uniform":
		r, err := ParseRange(args)
		if err != nil {
			return Dist{}, err
		}
		return checkDist(Dist{Kind: Uniform, A: r.Min, B: r.Max})
	case "normal", "lognormal":
		a, b, err := parsePair(args)
		if err != nil {
			return Dist{}, fmt.Errorf("%s: want MEAN,STDDEV: %v", kind, err)
		}
		k := Normal
		if kind == "lognormal" {
			k = LogNormal
		}
		return checkDist(Dist{Kind: k, A: a, B: b})
	case "exp":
		if !strings.Contains(args, ",") {
			mean, err := ParseDuration(args)
			if err != nil {
				return Dist{}, err
			}
			return checkDist(Dist{Kind: Exp, A: 0, B: mean})
		}
		a, b, err := parsePair(args)
		if err != nil {
			return Dist{}, fmt.Errorf("exp: want MEAN or MIN,MEAN: %v", err)
		}
		return checkDist(Dist{Kind: Exp, A: a, B: b})
	}
	return Dist{}, fmt.Errorf("unknown distribution %q (want const, uniform, normal, exp or lognormal)", kind)
}

func parsePair(s string) (a, b time.Duration, err error) {
	x, y, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, fmt.Errorf("%q has no comma", s)
	}
	if a, err = ParseDuration(x); err != nil {
		return 0, 0, err
	}
	if b, err = ParseDuration(y); err != nil {
		return 0, 0, err
	}
	return a, b, nil
}

// checkDist validates d and precomputes what sampling needs.
func checkDist(d Dist) (Dist, error) {
	if d.A < 0 || d.B < 0 {
		return Dist{}, errors.New("durations must not be negative")
	}
	switch d.Kind {
	case Uniform:
		if d.A > d.B {
			return Dist{}, fmt.Errorf("uniform: minimum %s is above maximum %s", FormatDuration(d.A), FormatDuration(d.B))
		}
	case Exp:
		if d.B <= d.A {
			return Dist{}, fmt.Errorf("exp: mean %s must be above the minimum %s", FormatDuration(d.B), FormatDuration(d.A))
		}
	case LogNormal:
		if d.A == 0 {
			return Dist{}, errors.New("lognormal: mean must be above 0")
		}
		m, s := float64(d.A), float64(d.B)
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
	}
	return -1
}

// String returns the canonical text form, which [ParseDist] accepts.
func (d Dist) String() string {
	name := distNames[d.Kind]
	switch d.Kind {
	case Const:
		return name + ":" + FormatDuration(d.A)
	case Uniform:
		return name + ":" + Range{d.A, d.B}.String()
	case Exp:
		if d.A == 0 {
			return name + ":" + FormatDuration(d.B)
		}
	}
	return name + ":" + FormatDuration(d.A) + "," + FormatDuration(d.B)
}

// Range is a closed interval of durations, such as an election timeout range.
// Its text form is MIN-MAX, for example 150ms-300ms; a unit on the maximum
// alone applies to both (150-300ms).
type Range struct {
	Min, Max time.Duration
}

// ParseRange parses MIN-MAX. A single duration D means D-D.
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		d, err := ParseDuration(s)
		if err != nil {
			return Range{}, err
		}
		return Range{d, d}, nil
	}
	max, err := ParseDuration(hi)
	if err != nil {
		return Range{}, err
	}
	min, err := ParseDuration(lo)
	if err != nil {
		// "150-300ms": the minimum borrows the maximum's unit.
		unit := strings.TrimLeft(strings.TrimSpace(hi), "0123456789.")
		if _, perr := strconv.ParseFloat(strings.TrimSpace(lo), 64); perr != nil || unit == "" {
			return Range{}, err
		}
		if min, err = ParseDuration(strings.TrimSpace(lo) + unit); err != nil {
			return Range{}, err
		}
	}
	if min > max {
		return Range{}, fmt.Errorf("range %q: minimum is above maximum", s)
	}
	return Range{min, max}, nil
}

// String returns MIN-MAX in the form [ParseRange] accepts.
func (r Range) String() string { return FormatDuration(r.Min) + "-" + FormatDuration(r.Max) }

// ParseDuration is [time.ParseDuration] that also accepts a bare 0 and
// refuses negative durations.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (examples: 150ms, 1.5s, 500us)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// FormatDuration prints d in the largest of s, ms, us and ns that shows it
// exactly, so that the text parses back to the same value: 1s, 1500ms, 7ms.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d%time.Microsecond == 0:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}
