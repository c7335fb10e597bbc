package runner

import (
	"fmt"
	"strings"

	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// DefaultWeighTrials is how many trials weigh a liveness failure unless
// the command line says otherwise (--config-trials).
const DefaultWeighTrials = 1000

// Weight is how often a configuration misses the expectation that one of
// its trials missed, over other trials of it: a high rate says the
// configuration is slow (for its bound, or for the node), a rate of 0 that
// the failing trial took a rare path, worth a replay.
type Weight struct {
	// Expectation is the expectation missed: converge_within,
	// leader_within, or a check step ("the check of step 3 (line 18)").
	Expectation string
	Missed      stats.Proportion // the trials that missed it, among those run
}

// Expectation returns the expectation f says was missed — converge_within
// or leader_within for a liveness failure, the check of a step for a
// check step that did not hold (it judges the cluster at a moment, or by a
// deadline: timing decides it as it decides liveness) — or "" when f is a
// safety failure, or none: those are never weighed.
func Expectation(f *trial.Failure) string {
	switch {
	case f == nil:
		return ""
	case f.Kind == trial.KindCheck:
		// "step 3 (line 18): why", or "the check of step 3 (line 18) never ran: why"
		step, _, _ := strings.Cut(strings.TrimPrefix(f.Detail, "the check of "), ": ")
		return "the check of " + strings.TrimSuffix(step, " never ran")
	case f.Kind != trial.KindLiveness:
		return ""
	case strings.Contains(f.Detail, "converge_within"):
		return "converge_within"
	}
	return "leader_within" // its stretches, and no leader after the origin
}

// weighSalt keeps the seeds that weigh a failure apart from every other
// seed derived from the failing trial's.
const weighSalt = 0x5765696768436667 // "WeighCfg"

// WeighSeed returns the scenario seed of the trials that weigh the failure
// of the trial with the given seed: trial i of them has the seed
// trial.Seed(WeighSeed(seed), i). They depend on the failing trial alone,
// so the weight is the same at any number of workers, in a shard's merge
// and unsharded alike.
func WeighSeed(seed uint64) uint64 { return seed ^ weighSalt }

// Weigh runs opt.Trials trials of s, the configuration of the trial with
// the given seed, which failed f, a liveness failure: s's own trial_seeds
// aside, with seeds derived from the failing one ([WeighSeed]). It counts
// those that miss the same expectation. opt.Seed and opt.First are not
// used.
func Weigh(s *scenarios.Scenario, seed uint64, f *trial.Failure, opt Options) (Weight, error) {
	w := Weight{Expectation: Expectation(f)}
	if w.Expectation == "" {
		return w, fmt.Errorf("runner: only a liveness or check failure is weighed, not %v", f)
	}
	c := *s
	c.TrialSeeds, c.Trials = nil, opt.Trials
	plan := trial.NewPlan(&c)
	missed := make([]bool, opt.Trials)
	opt.Seed, opt.First = WeighSeed(seed), 0
	opt.Queries = nil
	opt.Trial = func(i int, r *trial.Result) { missed[i] = Expectation(r.Failure) == w.Expectation }
	agg := Run(plan, opt)
	w.Missed.Trials = int64(agg.Trials)
	for _, m := range missed { // a trial a stop left out did not miss

		if m {
			w.Missed.Hits++
		}
	}
	return w, nil
}
