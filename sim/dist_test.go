package sim

import (
	"math"
	"math/bits"
	"testing"
	"time"
)

func TestParseDist(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"7ms", "const:7ms"},
		{"const:7ms", "const:7ms"},
		{"uniform:5ms-10ms", "uniform:5ms-10ms"},
		{"uniform:5-10ms", "uniform:5ms-10ms"},
		{"uniform:0-50ms", "uniform:0s-50ms"},
		{"normal:7ms,2ms", "normal:7ms,2ms"},
		{"exp:7ms", "exp:7ms"},
		{"exp:5ms,7ms", "exp:5ms,7ms"},
		{"lognormal:7ms,2ms", "lognormal:7ms,2ms"},
		{"uniform:1.5ms-2s", "uniform:1500us-2s"},
	}
	for _, tt := range tests {
		d, err := ParseDist(tt.in)
		if err != nil {
			t.Errorf("ParseDist(%q): %v", tt.in, err)
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("ParseDist(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		again, err := ParseDist(d.String())
		if err != nil || again != d {
			t.Errorf("ParseDist(%q) does not round-trip: %v, %v", d.String(), again, err)
		}
	}
}

func TestParseDistErrors(t *testing.T) {
	for _, in := range []string{"", "7", "fast", "uniform:10ms-5ms", "normal:7ms", "exp:7ms,5ms",
		"lognormal:0,1ms", "gamma:1ms", "const:-1ms", "uniform:-5ms-1ms", "normal:1ms,x"} {
		if d, err := ParseDist(in); err == nil {
			t.Errorf("ParseDist(%q) = %v, want an error", in, d)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in       string
		min, max time.Duration
	}{
		{"150ms-300ms", 150 * time.Millisecond, 300 * time.Millisecond},
		{"150-300ms", 150 * time.Millisecond, 300 * time.Millisecond},
		{"500ms-1s", 500 * time.Millisecond, time.Second},
		{"150ms", 150 * time.Millisecond, 150 * time.Millisecond},
		{"0-50ms", 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.in)
		if err != nil || r.Min != tt.min || r.Max != tt.max {
			t.Errorf("ParseRange(%q) = %v, %v; want %v-%v", tt.in, r, err, tt.min, tt.max)
		}
	}
	for _, in := range []string{"300ms-150ms", "a-b", "-", "150ms-", "1.5-2"} {
		if r, err := ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) = %v, want an error", in, r)
		}
	}
}

// TestDistMoments samples each distribution and checks its mean and spread.
func TestDistMoments(t *testing.T) {
	tests := []struct {
		spec         string
		mean, stddev float64 // in ms
		min, max     float64
	}{
		{"const:7ms", 7, 0, 7, 7},
		{"uniform:5ms-10ms", 7.5, 5 / math.Sqrt(12), 5, 10},
		{"normal:7ms,2ms", 7, 2, 0, math.Inf(1)},
		{"exp:7ms", 7, 7, 0, math.Inf(1)},
		{"exp:5ms,7ms", 7, 2, 5, math.Inf(1)},
		{"lognormal:7ms,2ms", 7, 2, 0, math.Inf(1)},
	}
	for _, tt := range tests {
		d, err := ParseDist(tt.spec)
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

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 1500 * time.Millisecond: "1500ms", 7 * time.Millisecond: "7ms",
		1500 * time.Microsecond: "1500us", 12: "12ns", 90 * time.Second: "90s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
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
