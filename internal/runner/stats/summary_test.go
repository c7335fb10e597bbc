package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestSummaryAgainstExact compares every statistic with an exact
// computation over the kept samples.
func TestSummaryAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() int64{
		"small":     func() int64 { return r.Int64N(100) },
		"latency":   func() int64 { return 150e6 + r.Int64N(150e6) },
		"heavy":     func() int64 { return int64(math.Exp(r.NormFloat64()*2 + 18)) },
		"one-value": func() int64 { return 42 },
	}
	for name, gen := range gens {
		var s Summary
		var xs []float64
		for i := 0; i < 20000; i++ {
			v := gen()
			s.Add(v)
			xs = append(xs, float64(v))
		}
		slices.Sort(xs)
		mean, sd := stat.MeanStdDev(xs, nil)
		if !close(s.Mean(), mean, 1e-12) || !close(s.StdDev(), sd, 1e-9) {
			t.Errorf("%s: mean %v sd %v, want %v %v", name, s.Mean(), s.StdDev(), mean, sd)
		}
		if float64(s.Min()) != xs[0] || float64(s.Max()) != xs[len(xs)-1] {
			t.Errorf("%s: min %d max %d, want %v %v", name, s.Min(), s.Max(), xs[0], xs[len(xs)-1])
		}
		for _, p := range []float64{0, 0.01, 0.5, 0.9, 0.99, 0.999, 1} {
			want := stat.Quantile(p, stat.Empirical, xs, nil)
			got := s.Quantile(p)
			if math.Abs(got-want) > QuantilePrecision*want+0.5 {
				t.Errorf("%s: p%g = %v, want %v within %.3f%%", name, p*100, got, want, QuantilePrecision*100)
			}
		}
	}
}

// TestSummaryMergeOrder: merging parts in any order gives the same summary
// as adding every sample to one.
func TestSummaryMergeOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var whole Summary
	parts := make([]Summary, 7)
	for i := 0; i < 10000; i++ {
		v := r.Int64N(1e9)
		whole.Add(v)
		parts[r.IntN(len(parts))].Add(v)
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 0, 6, 1, 5, 2, 4}} {
		var m Summary
		for _, i := range order {
			m.Merge(&parts[i])
		}
		if m.N() != whole.N() || m.Mean() != whole.Mean() || m.StdDev() != whole.StdDev() ||
			m.Quantile(0.99) != whole.Quantile(0.99) || m.Min() != whole.Min() || m.Max() != whole.Max() {
			t.Fatalf("merge in order %v differs from the whole", order)
		}
	}
}

func TestSummaryEmpty(t *testing.T) {
	var s Summary
	if !math.IsNaN(s.Mean()) || !math.IsNaN(s.StdDev()) || !math.IsNaN(s.Quantile(0.5)) {
		t.Error("an empty summary reports numbers")
	}
	s.Add(7)
	if s.StdDev() != 0 || s.Quantile(0.5) != 7 || s.Mean() != 7 {
		t.Errorf("one sample 7: sd %v p50 %v mean %v", s.StdDev(), s.Quantile(0.5), s.Mean())
	}
}

func TestBucketsCoverValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100000; i++ {
		v := int64(r.Uint64() >> uint(1+r.IntN(63)))
		b := bucketOf(v)
		if b < 0 || b >= numBuckets {
			t.Fatalf("value %d in bucket %d of %d", v, b, numBuckets)
		}
		mid := bucketMid(b)
		if math.Abs(mid-float64(v)) > QuantilePrecision*float64(v)+0.5 {
			t.Fatalf("value %d: bucket midpoint %v is too far", v, mid)
		}
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		hits, n int64
		lo, hi  float64
	}{
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{50, 100, 0.4038, 0.5962},
		{1, 1000, 0.00018, 0.00565},
	}
	for _, tt := range tests {
		lo, hi := Proportion{tt.hits, tt.n}.Wilson95()
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("Wilson(%d/%d) = [%.5f, %.5f], want [%.5f, %.5f]", tt.hits, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

func close(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Max(1, math.Abs(b)) }

func TestCDF(t *testing.T) {
	var s Summary
	for _, v := range []int64{5, 1, 3, 3, 5000, 9} {
		s.Add(v)
	}
	x, p := s.CDF()
	wantX := []float64{1, 3, 5, 9}
	wantP := []float64{1.0 / 6, 3.0 / 6, 4.0 / 6, 5.0 / 6}
	for i := range wantX {
		if x[i] != wantX[i] || math.Abs(p[i]-wantP[i]) > 1e-12 {
			t.Fatalf("CDF point %d = (%v, %v), want (%v, %v)", i, x[i], p[i], wantX[i], wantP[i])
		}
	}
	if last := len(x) - 1; math.Abs(x[last]-5000) > 5000*QuantilePrecision || p[last] != 1 {
		t.Fatalf("last CDF point (%v, %v), want (5000, 1)", x[last], p[last])
	}
}

// TestPoisson95: Garwood's exact interval, against published values
// (Garwood 1936; the table of Ulm 1990), and never undercovering: for
// means across a range, the interval holds the mean in at least 95% of
// counts, weighed by their Poisson probabilities.
func TestPoisson95(t *testing.T) {
	for _, tt := range []struct {
		k      int64
		lo, hi float64
	}{{0, 0, 3.689}, {1, 0.0253, 5.572}, {2, 0.2422, 7.225}, {10, 4.795, 18.39}, {100, 81.36, 121.6}} {
		lo, hi := Poisson95(tt.k)
		if math.Abs(lo-tt.lo) > 0.001*math.Max(1, tt.lo) || math.Abs(hi-tt.hi) > 0.001*tt.hi {
			t.Errorf("k=%d: [%.4f, %.4f], want [%.4f, %.4f]", tt.k, lo, hi, tt.lo, tt.hi)
		}
	}
	for _, mu := range []float64{0.1, 0.5, 1, 2.5, 7, 20} {
		cover, p := 0.0, math.Exp(-mu)
		for k := int64(0); k < 200; k++ {
			if lo, hi := Poisson95(k); lo <= mu && mu <= hi {
				cover += p
			}
			p *= mu / float64(k+1)
		}
		if cover < 0.95 {
			t.Errorf("mean %g: covered with probability %.4f, want at least 0.95", mu, cover)
		}
	}
}
