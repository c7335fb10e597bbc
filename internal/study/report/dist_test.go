package report

import (
	"testing"

	"github.com/raftsim/raftsim/internal/runner/stats"
)

// TestQuantileIntervals: each quantile of a Dist carries its
// distribution-free 95% interval, bounded by order statistics, and the
// live report says in words where the trials are too few for an end.
func TestQuantileIntervals(t *testing.T) {
	summary := func(n int) *stats.Summary {
		var s stats.Summary
		for i := 1; i <= n; i++ {
			s.Add(int64(i) * 1e6) // 1ms, 2ms, ... n ms
		}
		return &s
	}
	for _, tt := range []struct {
		n                   int
		p50ci, p90ci, p99ci string
	}{
		// Five samples bound no median at 95%: min to max covers 93.75%.
		{5, "3.0 [too few trials to bound it]", "5.0 [3.0, no upper bound]", "5.0 [4.0, no upper bound]"},
		// 100 samples: the median between the 40th and the 61st (the
		// textbook interval), the 99th percentile above the 97th and
		// unbounded above.
		{100, "50.0 [40.0, 61.0]", "90.0 [84.0, 96.0]", "99.0 [97.0, no upper bound]"},
		// 1,000: within the histogram's 0.05% of the order statistics.
		{1000, "500.0 [469.1, 532.0]", "899.9 [881.1, 918.8]", "990.1 [982.8, 996.9]"},
	} {
		d := DistOf(summary(tt.n), 1e6)
		if got := withInterval(d.P50, d.P50CI); got != tt.p50ci {
			t.Errorf("n=%d p50: %s, want %s", tt.n, got, tt.p50ci)
		}
		if got := withInterval(d.P90, d.P90CI); got != tt.p90ci {
			t.Errorf("n=%d p90: %s, want %s", tt.n, got, tt.p90ci)
		}
		if got := withInterval(d.P99, d.P99CI); got != tt.p99ci {
			t.Errorf("n=%d p99: %s, want %s", tt.n, got, tt.p99ci)
		}
	}
	if d := DistOf(&stats.Summary{}, 1e6); withInterval(d.P50, d.P50CI) != "- [too few trials to bound it]" {
		t.Errorf("no samples: %s", withInterval(d.P50, d.P50CI))
	}
}
