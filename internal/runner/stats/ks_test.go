package stats

import (
	"math"
	"testing"
	"time"
)

func TestKSDistance(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		a, b []time.Duration
		want float64
	}{
		{ms(1, 2, 3), ms(3, 2, 1), 0},         // the same samples, in any order
		{ms(1, 2), ms(10, 20), 1},             // no overlap
		{ms(1, 2, 3, 4), ms(3, 4, 5, 6), 0.5}, // half the mass shifted
		{nil, ms(1), 1},
		{nil, nil, 0},
	} {
		if got := KSDistance(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("KS(%v, %v): got %g, want %g", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestKSCritical95(t *testing.T) {
	// 200 live trials against 10,000 simulated: about 0.097.
	if got := KSCritical95(200, 10000); math.Abs(got-0.0970) > 0.0005 {
		t.Errorf("got %g, want about 0.0970", got)
	}
	if got := KSCritical95(0, 10); got != 1 {
		t.Errorf("no samples: got %g, want 1", got)
	}
}

// TestKS: ties are stepped over at once, and +Inf (no leader) ties with
// itself above every time.
func TestKS(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{3, 1, 2}, []float64{1, 2, 3}, 0},
		{[]float64{1, 1, 1, 1}, []float64{1, 1, 2, 2}, 0.5},
		{[]float64{1, 2, inf, inf}, []float64{1, 2, 3, inf}, 0.25},
		{[]float64{inf}, []float64{inf}, 0},
		{[]float64{1, 2}, []float64{10, 20}, 1},
	} {
		if got := KS(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("KS(%v, %v): got %g, want %g", tc.a, tc.b, got, tc.want)
		}
	}
	if !math.IsNaN(KS(nil, []float64{1})) {
		t.Errorf("KS of an empty sample is not NaN")
	}
}

func TestKSPValue(t *testing.T) {
	ne := 1000.0 * 1000 / 2000
	if p := KSPValue(1.36/math.Sqrt(ne), 1000, 1000); math.Abs(p-0.05) > 0.005 {
		t.Errorf("the 5%% critical distance: p %g", p)
	}
	if p := KSPValue(0, 100, 100); p != 1 {
		t.Errorf("distance 0: p %g", p)
	}
}

// TestTwoProportionsP: known z values, and the degenerate cases.
func TestTwoProportionsP(t *testing.T) {
	// 0.20 of 1000 against 0.25 of 1000: z = 2.68, p = 0.0074.
	if p := TwoProportionsP(200, 1000, 250, 1000); math.Abs(p-0.0074) > 0.0002 {
		t.Errorf("200/1000 against 250/1000: p %g, want about 0.0074", p)
	}
	if p := TwoProportionsP(10, 1000, 10, 1000); p != 1 {
		t.Errorf("equal proportions: p %g", p)
	}
	if p := TwoProportionsP(0, 10, 0, 20); p != 1 {
		t.Errorf("no hits at all: p %g", p)
	}
	if p := TwoProportionsP(0, 0, 1, 2); !math.IsNaN(p) {
		t.Errorf("no trials: p %g", p)
	}
}
