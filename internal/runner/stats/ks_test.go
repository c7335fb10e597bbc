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
