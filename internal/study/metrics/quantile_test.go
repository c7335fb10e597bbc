package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// TestQuantileAboveAndBoundBelow: a histogram's quantiles interpolate
// within buckets as its distribution draws; Above keeps the tail alone,
// and its distribution draws only from it.
func TestQuantileAboveAndBoundBelow(t *testing.T) {
	h := Histogram{Bounds: []float64{0.001, 0.002, 0.004, 1.024, 2.048, 4.096, math.Inf(1)},
		Counts: []float64{600, 950, 999, 999, 999.5, 1000, 1000}}
	for _, tt := range []struct{ q, want float64 }{
		{0.3, 0.0005}, {0.6, 0.001}, {0.95, 0.002}, {0.9995, 2.048}, {1, 4.096},
	} {
		if got := h.Quantile(tt.q); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("q=%g: got %g, want %g", tt.q, got, tt.want)
		}
	}
	if !math.IsNaN((Histogram{}).Quantile(0.5)) {
		t.Error("an empty histogram has a quantile")
	}
	if got := h.BoundBelow(0.05); got != 0.004 {
		t.Errorf("BoundBelow(0.05) = %g, want 0.004", got)
	}
	if got := h.BoundBelow(0.0005); got != 0 {
		t.Errorf("BoundBelow(0.0005) = %g, want 0", got)
	}
	tail, err := h.Above(0.004)
	if err != nil {
		t.Fatal(err)
	}
	if tail.Count() != 1 || tail.Bounds[0] != 0.004 || tail.Counts[0] != 0 {
		t.Fatalf("the tail above 4ms: %+v, want one observation, from 4ms", tail)
	}
	d, err := tail.Dist("stall.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := sim.NewRand(1)
	for range 1000 {
		if x := d.Sample(r); x < time.Second || x > 4096*time.Millisecond {
			t.Fatalf("the tail drew %v: want 1.024s to 4.096s", x)
		}
	}
	if _, err := h.Above(0.003); err == nil {
		t.Error("Above a bound that is no bucket's: no error")
	}
	if all, err := h.Above(0); err != nil || all.Count() != 1000 {
		t.Errorf("Above(0): %v, %v observations; want all 1000", err, all.Count())
	}
}
