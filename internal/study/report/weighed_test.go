package report

import (
	"testing"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
)

func TestWeighedSentence(t *testing.T) {
	for _, tt := range []struct {
		hits, trials int64
		want         string
	}{
		{75, 1000, "this configuration misses converge_within in 7.5% (95% CI 6.0-9.3%) of 1,000 trials: a slow configuration, not a rare path"},
		{0, 1000, "this configuration misses converge_within in 0 of 1,000 trials (95% CI 0-0.38%): a rare path, worth a replay"},
		{1, 1000, "this configuration misses converge_within in 0.10% (95% CI 0.018-0.56%) of 1,000 trials: a slow configuration, not a rare path"},
		{1000, 1000, "this configuration misses converge_within in 100% (95% CI 99.62-100%) of 1,000 trials: a slow configuration, not a rare path"},
		{0, 1, "this configuration misses converge_within in 0 of 1 trial (95% CI 0-79%): a rare path, worth a replay"},
	} {
		w := WeighedOf(runner.Weight{Expectation: "converge_within", Missed: stats.Proportion{Hits: tt.hits, Trials: tt.trials}})
		if got := w.Sentence(); got != tt.want {
			t.Errorf("%d of %d:\n got %s\nwant %s", tt.hits, tt.trials, got, tt.want)
		}
	}
	check := WeighedOf(runner.Weight{Expectation: "the check of step 2 (line 15)", Missed: stats.Proportion{Hits: 200, Trials: 200}})
	if got, want := check.Sentence(), "this configuration misses the check of step 2 (line 15) in 100% (95% CI 98.1-100%) of 200 trials: a property of the configuration (or the node), not a rare path"; got != want {
		t.Errorf("a check:\n got %s\nwant %s", got, want)
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %s, want %s", n, got, want)
		}
	}
}
