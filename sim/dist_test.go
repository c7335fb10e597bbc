package sim

import (
	"math"
	"math/bits"
	"testing"
	"time"
)

func TestNewDistErrors(t *testing.T) {
	tests := []struct {
		kind DistKind
		a, b time.Duration
		want error
	}{
		{Const, -ms, 0, ErrNegative},
		{Uniform, 10 * ms, 5 * ms, ErrUniformOrder},
		{Exp, 7 * ms, 5 * ms, ErrExpMean},
		{LogNormal, 0, ms, ErrLogNormalMean},
	}
	for _, tt := range tests {
		if _, err := NewDist(tt.kind, tt.a, tt.b); err != tt.want {
			t.Errorf("NewDist(%d, %v, %v): got %v, want %v", tt.kind, tt.a, tt.b, err, tt.want)
		}
	}
}

// TestDistMoments samples each distribution and checks its mean and spread.
func TestDistMoments(t *testing.T) {
	tests := []struct {
		spec         string
		kind         DistKind
		a, b         time.Duration
		mean, stddev float64 // in ms
		min, max     float64
	}{
		{"const:7ms", Const, 7 * ms, 0, 7, 0, 7, 7},
		{"uniform:5ms-10ms", Uniform, 5 * ms, 10 * ms, 7.5, 5 / math.Sqrt(12), 5, 10},
		{"normal:7ms,2ms", Normal, 7 * ms, 2 * ms, 7, 2, 0, math.Inf(1)},
		{"exp:7ms", Exp, 0, 7 * ms, 7, 7, 0, math.Inf(1)},
		{"exp:5ms,7ms", Exp, 5 * ms, 7 * ms, 7, 2, 5, math.Inf(1)},
		{"lognormal:7ms,2ms", LogNormal, 7 * ms, 2 * ms, 7, 2, 0, math.Inf(1)},
	}
	for _, tt := range tests {
		d, err := NewDist(tt.kind, tt.a, tt.b)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRand(3)
		const n = 200000
		var sum, sq float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < n; i++ {
			x := float64(d.Sample(r)) / 1e6
			sum += x
			sq += x * x
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		mean := sum / n
		sd := math.Sqrt(sq/n - mean*mean)
		if math.Abs(mean-tt.mean) > 0.05 || math.Abs(sd-tt.stddev) > 0.05 {
			t.Errorf("%s: mean %.3f sd %.3f, want %.3f and %.3f", tt.spec, mean, sd, tt.mean, tt.stddev)
		}
		if lo < tt.min || hi > tt.max {
			t.Errorf("%s: samples span [%.3f, %.3f], want within [%v, %v]", tt.spec, lo, hi, tt.min, tt.max)
		}
	}
}

// TestRandIntnUniform checks Int63n has no visible bias over a small range.
func TestRandIntnUniform(t *testing.T) {
	r := NewRand(4)
	var counts [7]int
	const n = 700000
	for i := 0; i < n; i++ {
		counts[r.Intn(7)]++
	}
	for v, c := range counts {
		if math.Abs(float64(c)-n/7) > 5*math.Sqrt(n/7) {
			t.Errorf("value %d drawn %d times, want about %d", v, c, n/7)
		}
	}
}

// TestInt63nDraws checks Int63n against Lemire's method written out
// plainly, draw for draw, including ranges where rejections are common, so
// that the stream of values never changes.
func TestInt63nDraws(t *testing.T) {
	lemire := func(r *Rand, n int64) int64 {
		un := uint64(n)
		hi, lo := bits.Mul64(r.Uint64(), un)
		if lo < un {
			thresh := -un % un
			for lo < thresh {
				hi, lo = bits.Mul64(r.Uint64(), un)
			}
		}
		return int64(hi)
	}
	for _, n := range []int64{1, 2, 3, 7, 150000001, 1<<62 + 1, 3 << 61, math.MaxInt64} {
		r, ref := NewRand(6), NewRand(6)
		for i := 0; i < 2000; i++ {
			if got, want := r.Int63n(n), lemire(ref, n); got != want {
				t.Fatalf("Int63n(%d) draw %d = %d, want %d", n, i, got, want)
			}
		}
		if got, want := r.Uint64(), ref.Uint64(); got != want {
			t.Errorf("after Int63n(%d): next draw %x, want %x", n, got, want)
		}
	}
}

// TestChanceOneDraw checks that Chance answers as Float64() < p would and
// consumes exactly one draw, also for the p it answers without scrambling.
func TestChanceOneDraw(t *testing.T) {
	for _, p := range []float64{-1, 0, 0.25, 0.5, 1, 2, math.NaN()} {
		r, ref := NewRand(5), NewRand(5)
		for i := 0; i < 1000; i++ {
			if got, want := r.Chance(p), ref.Float64() < p; got != want {
				t.Fatalf("Chance(%v) draw %d = %v, want %v", p, i, got, want)
			}
		}
		if got, want := r.Uint64(), ref.Uint64(); got != want {
			t.Errorf("after Chance(%v): next draw %x, want %x", p, got, want)
		}
	}
}

// TestDistQuantile: known answers for each family, and the sampled
// fraction above a quantile matches its tail.
func TestDistQuantile(t *testing.T) {
	tests := []struct {
		kind DistKind
		a, b time.Duration
		p    float64
		want float64 // ms
	}{
		{Const, 7 * ms, 0, 0.999, 7},
		{Uniform, 5 * ms, 10 * ms, 0.5, 7.5},
		{Uniform, 5 * ms, 10 * ms, 0.999, 9.995},
		{Normal, 7 * ms, 2 * ms, 0.5, 7},                      // the truncation below 0 is 2e-4 of the mass
		{Normal, 7 * ms, 2 * ms, 1 - 1e-9, 7 + 2*5.997807015}, // z of 1e-9
		{Exp, 5 * ms, 7 * ms, 1 - 1e-3, 5 + 2*math.Log(1000)},
		{LogNormal, 7 * ms, 2 * ms, 0.5, 7 / math.Sqrt(1+4.0/49)},
	}
	for _, tt := range tests {
		d, err := NewDist(tt.kind, tt.a, tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(d.Quantile(tt.p)) / 1e6; math.Abs(got-tt.want) > 2e-3 {
			t.Errorf("kind %d (%v, %v): Quantile(%v) = %.6fms, want %.6fms", tt.kind, tt.a, tt.b, tt.p, got, tt.want)
		}
	}
	for _, kind := range []DistKind{Uniform, Normal, Exp, LogNormal} {
		d, _ := NewDist(kind, 2*ms, 3*ms)
		if kind == Uniform {
			d = UniformDist(2*ms, 6*ms)
		}
		r := NewRand(11)
		q := d.Quantile(0.99)
		const n = 200000
		above := 0
		for i := 0; i < n; i++ {
			if d.Sample(r) > q {
				above++
			}
		}
		if f := float64(above) / n; f < 0.0085 || f > 0.0115 {
			t.Errorf("kind %d: %.4f of draws above the 0.99 quantile %v, want 0.01", kind, f, q)
		}
	}
}
