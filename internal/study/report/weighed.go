package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
)

// Weighed is a liveness failure weighed against its own configuration: how
// often the configuration misses the same expectation over other trials,
// with its 95% interval. It sits beside the failure, in JSON as its keys
// config_failure_rate, config_failure_rate_ci95 and config_trials.
type Weighed struct {
	Expectation string `json:"config_expectation"` // converge_within or leader_within
	Rate        Num    `json:"config_failure_rate"`
	CI95        [2]Num `json:"config_failure_rate_ci95"`
	Failures    int64  `json:"config_failures"` // the trials that missed it
	Trials      int64  `json:"config_trials"`
}

// WeighedOf reports w.
func WeighedOf(w runner.Weight) *Weighed {
	lo, hi := w.Missed.Wilson95()
	return &Weighed{Expectation: w.Expectation, Rate: Num(w.Missed.P()), CI95: [2]Num{Num(lo), Num(hi)},
		Failures: w.Missed.Hits, Trials: w.Missed.Trials}
}

// Sentence says what the weight means: "this configuration misses
// converge_within in 7.5% (6.0-9.3%) of 1,000 trials: a slow
// configuration, not a rare path", or "in 0 of 1,000 trials (0-0.38%): a
// rare path, worth a replay".
func (w *Weighed) Sentence() string {
	of := thousands(w.Trials) + " trials"
	if w.Trials == 1 {
		of = "1 trial"
	}
	if w.Failures == 0 {
		return fmt.Sprintf("this configuration misses %s in 0 of %s (95%% CI 0-%s): a rare path, worth a replay",
			w.Expectation, of, percent(float64(w.CI95[1])))
	}
	what := "a slow configuration" // for its bound, or for the node
	if strings.HasPrefix(w.Expectation, "the check of ") {
		what = "a property of the configuration (or the node)" // a check judges more than speed
	}
	return fmt.Sprintf("this configuration misses %s in %s (95%% CI %s-%s) of %s: %s, not a rare path",
		w.Expectation, percent(float64(w.Rate)), strings.TrimSuffix(percent(float64(w.CI95[0])), "%"), percent(float64(w.CI95[1])), of, what)
}

// percent prints a proportion as a percentage with two significant digits
// of itself or of what it lacks of 100%: 7.5%, 0.38%, 99.62%, 100%.
func percent(p float64) string {
	x := 100 * p
	if math.IsNaN(x) {
		return "?"
	}
	decimals := 0
	if y := min(x, 100-x); y > 0 {
		decimals = max(0, 1-int(math.Floor(math.Log10(y))))
	}
	return strconv.FormatFloat(x, 'f', decimals, 64) + "%"
}

// thousands prints n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
