// Package runner runs many trials of a scenario on several workers and
// folds their results into an [Aggregate]. The aggregate is the same
// whatever the number of workers: every trial's seed depends only on the
// scenario seed and the trial's index, and every statistic merges in any
// order. It also owns the steady-state plan: how a stretch of steady state
// is split into runs.
//
// runner must never let the number of workers, the order in which they
// finish or the wall clock change a result; it never prints.
package runner

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsim/raftsim/internal/runner/find"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/scenarios"
)

// MaxListedFailures bounds the failures an aggregate lists (all are counted).
const MaxListedFailures = 100

// Aggregate is what many trials measured.
type Aggregate struct {
	Trials   int
	Started  int // trials whose measurement origin happened
	Measured int // trials that found their leader
	// TimeToLeader, Rounds and Messages cover measured trials; StaleLeader
	// covers trials where a fault removed a live leader.
	TimeToLeader stats.Summary
	Rounds       stats.Summary
	Messages     stats.Summary
	StaleLeader  stats.Summary
	// TermsBumped and Disruptions cover every trial (see trial.Result).
	TermsBumped stats.Summary
	Disruptions stats.Summary
	// SplitVote counts started trials with at least one split vote:
	// those that never found their leader count theirs too.
	SplitVote   stats.Proportion
	SplitVotes  int64 // split votes over all started trials
	OtherLosses int64
	Events      uint64
	Failed      int            // trials that failed
	Failures    []TrialFailure // the first MaxListedFailures, by trial index
	// Unfinished counts the trials that ended before their fault timeline
	// did; UnfinishedTrials lists the first MaxListedFailures of them.
	Unfinished       int
	UnfinishedTrials []TrialNote
	// Matches holds, for each of Options.Queries, the trials it picked out.
	Matches []Matches

	// Steady-state runs: their number, the virtual time they measured, and
	// what happened in it.
	SteadyRuns    int
	SteadyTime    int64 // ns
	Elections     int64
	LeaderChanges int64
	Leaderless    int64 // ns
}

// TrialNote is something said of one trial.
type TrialNote struct {
	Trial  int
	Seed   uint64
	Detail string
}

// TrialFailure is a failed trial.
type TrialFailure struct {
	Trial int
	Seed  uint64
	trial.Failure
}

// Add folds one trial's result into a.
func (a *Aggregate) Add(index int, r *trial.Result) {
	a.Trials++
	a.Events += r.Events
	a.TermsBumped.Add(int64(r.TermsBumped))
	a.Disruptions.Add(int64(r.Disruptions))
	if r.Measured {
		a.Measured++
		a.TimeToLeader.Add(int64(r.TimeToLeader))
		a.Rounds.Add(int64(r.Rounds))
		a.Messages.Add(int64(r.Messages))
	}
	if r.Started {
		a.Started++
		a.SplitVote.Trials++
		if r.SplitVotes > 0 {
			a.SplitVote.Hits++
		}
		a.SplitVotes += int64(r.SplitVotes)
		a.OtherLosses += int64(r.OtherLosses)
	}
	if r.HasStale {
		a.StaleLeader.Add(int64(r.StaleLeader))
	}
	if r.SteadyTime > 0 {
		a.SteadyRuns++
		a.SteadyTime += int64(r.SteadyTime)
		a.Elections += int64(r.Elections)
		a.LeaderChanges += int64(r.LeaderChanges)
		a.Leaderless += int64(r.Leaderless)
	}
	for i := range a.Matches {
		a.Matches[i].add(index, r)
	}
	if r.Failure != nil {
		a.Failed++
		a.Failures = append(a.Failures, TrialFailure{Trial: index, Seed: r.Seed, Failure: *r.Failure})
		a.trimFailures()
	}
	if r.Unfinished != "" {
		a.Unfinished++
		a.UnfinishedTrials = append(a.UnfinishedTrials, TrialNote{Trial: index, Seed: r.Seed, Detail: r.Unfinished})
		a.trimFailures()
	}
}

// Merge folds o into a.
func (a *Aggregate) Merge(o *Aggregate) {
	a.Trials += o.Trials
	a.Started += o.Started
	a.Measured += o.Measured
	a.TimeToLeader.Merge(&o.TimeToLeader)
	a.Rounds.Merge(&o.Rounds)
	a.Messages.Merge(&o.Messages)
	a.StaleLeader.Merge(&o.StaleLeader)
	a.TermsBumped.Merge(&o.TermsBumped)
	a.Disruptions.Merge(&o.Disruptions)
	a.SplitVote.Hits += o.SplitVote.Hits
	a.SplitVote.Trials += o.SplitVote.Trials
	a.SplitVotes += o.SplitVotes
	a.OtherLosses += o.OtherLosses
	a.Events += o.Events
	a.Failed += o.Failed
	a.Failures = append(a.Failures, o.Failures...)
	a.Unfinished += o.Unfinished
	a.UnfinishedTrials = append(a.UnfinishedTrials, o.UnfinishedTrials...)
	a.trimFailures()
	if len(a.Matches) == 0 && len(o.Matches) > 0 {
		a.Matches = make([]Matches, len(o.Matches))
		for i := range o.Matches {
			a.Matches[i].Query = o.Matches[i].Query
		}
	}
	for i := range o.Matches {
		a.Matches[i].merge(&o.Matches[i])
	}
	a.SteadyRuns += o.SteadyRuns
	a.SteadyTime += o.SteadyTime
	a.Elections += o.Elections
	a.LeaderChanges += o.LeaderChanges
	a.Leaderless += o.Leaderless
}

func (a *Aggregate) trimFailures() {
	slices.SortFunc(a.Failures, func(x, y TrialFailure) int { return x.Trial - y.Trial })
	if len(a.Failures) > MaxListedFailures {
		a.Failures = a.Failures[:MaxListedFailures]
	}
	slices.SortFunc(a.UnfinishedTrials, func(x, y TrialNote) int { return x.Trial - y.Trial })
	if len(a.UnfinishedTrials) > MaxListedFailures {
		a.UnfinishedTrials = a.UnfinishedTrials[:MaxListedFailures]
	}
}

// Options say how to run.
type Options struct {
	Trials int
	// First is the index of the first trial: trials First to
	// First+Trials-1 run, a part of a larger run (a shard's). Each keeps the
	// seed and the index its place in the whole run gives it.
	First   int
	Seed    uint64 // the scenario seed; trial i runs with the plan's SeedOf(Seed, i)
	Workers int    // 0: one per CPU
	// Progress, if set, is called with the number of trials done so far,
	// from any goroutine, at most once per chunk of trials.
	Progress func(done int)
	// Stop, if set, is polled between chunks; when it returns true the run
	// ends early with what is done.
	Stop func() bool
	// Trial, if set, is given each trial's result as it ends, from any
	// goroutine: calls for different indexes may run at once, so it must
	// only touch what belongs to index (a slot of a slice, say). Callers
	// that keep every trial's result use it; the aggregate does not.
	Trial func(index int, r *trial.Result)
	// Queries pick out trials worth a look ([Aggregate.Matches]).
	Queries []*find.Query
}

// maxChunk is the most trials a worker takes at once.
const maxChunk = 64

// chunkSize is how many trials a worker takes at once: up to maxChunk, but
// few enough that every worker gets some when there are few trials, as in
// an hour of steady state (six runs).
func chunkSize(trials, workers int) int {
	return max(1, min(maxChunk, trials/(4*workers)))
}

// Run runs the trials of plan and returns their aggregate.
func Run(plan *trial.Plan, opt Options) *Aggregate {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	chunk := chunkSize(opt.Trials, workers)
	chunks := (opt.Trials + chunk - 1) / chunk
	workers = max(1, min(workers, chunks))
	parts := make([]Aggregate, workers)
	for i := range parts {
		parts[i].Matches = newMatches(opt.Queries)
	}
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := range parts {
		wg.Add(1)
		go func(agg *Aggregate) {
			defer wg.Done()
			r := simulated.NewDriver(plan)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks || opt.Stop != nil && opt.Stop() {
					return
				}
				lo, hi := opt.First+c*chunk, opt.First+min((c+1)*chunk, opt.Trials)
				for i := lo; i < hi; i++ {
					res := r.Run(plan.SeedOf(opt.Seed, i))
					agg.Add(i, &res)
					if opt.Trial != nil {
						opt.Trial(i, &res)
					}
				}
				n := done.Add(int64(hi - lo))
				if opt.Progress != nil {
					opt.Progress(int(n))
				}
			}
		}(&parts[w])
	}
	wg.Wait()
	total := &Aggregate{Matches: newMatches(opt.Queries)}
	for i := range parts {
		total.Merge(&parts[i])
	}
	return total
}

// SteadyRuns returns how many steady-state runs make up total virtual time,
// and how long each is: runs of at most scenarios.SteadyRun.
func SteadyRuns(total time.Duration) (runs int, each time.Duration) {
	if total <= 0 {
		return 0, 0
	}
	runs = int((total + scenarios.SteadyRun - 1) / scenarios.SteadyRun)
	return runs, total / time.Duration(runs)
}

// SteadyPlan returns the plan of the steady-state runs that measure total
// virtual time of s, and how many runs it takes: the plan run, sweep and
// replay all use. s must be valid.
func SteadyPlan(s *scenarios.Scenario, total time.Duration) (*trial.Plan, int, error) {
	runs, each := SteadyRuns(total)
	if runs == 0 {
		return nil, 0, fmt.Errorf("steady-state time %v: want above 0", total)
	}
	plan, err := trial.NewSteadyPlan(s, each)
	return plan, runs, err
}

// RunSteady runs steady-state runs of s that measure total virtual time in
// all, with seeds derived from opt.Seed: all of them when opt.Trials is 0,
// else opt.Trials of them from run opt.First on (a shard's part). Runs
// past those total makes are further runs of the same length, each with
// the seed its index gives: the steady state a sweep adds to cells it
// cannot yet judge, which replays as any other.
func RunSteady(s *scenarios.Scenario, total time.Duration, opt Options) (*Aggregate, error) {
	if total <= 0 {
		return &Aggregate{}, nil
	}
	plan, runs, err := SteadyPlan(s, total)
	if err != nil {
		return nil, err
	}
	if opt.Trials == 0 {
		opt.Trials = runs
	}
	if opt.First < 0 {
		return nil, fmt.Errorf("steady-state runs from %d: want from 0", opt.First)
	}
	opt.Seed = trial.SteadySeed(opt.Seed)
	return Run(plan, opt), nil
}

// Source gives the plan and seed of trial index, for Find. Plans may be
// shared between indexes (the same scenario) or not (a swarm).
type Source func(index int) (*trial.Plan, uint64, error)

// findRound is how many trials Find runs between looks for a failure: a
// constant, so that the failure Find reports never depends on the number of
// workers.
const findRound = 256

// Found is the first failing trial Find met.
type Found struct {
	Index  int
	Seed   uint64
	Plan   *trial.Plan
	Result trial.Result
}

// Trace runs the trial again with tracers and returns the SHA-256 of its
// text trace (the same hash means the same trial, event for event) and its
// last n lines, which end with its failure.
func (f *Found) Trace(n int) (hash string, last []string) {
	h := trace.NewHash()
	tail := &trace.Tail{N: n}
	d := simulated.NewDriver(f.Plan)
	d.SetTracer(trace.Tee{h, tail})
	d.Run(f.Seed)
	return h.Sum(), tail.Lines()
}

// Find runs trials 0, 1, 2, ... of src until one fails, n have run, or stop
// says to end, and returns the failing trial with the lowest index (nil if
// none) and how many trials ran.
func Find(src Source, n, workers int, stop func() bool, progress func(int)) (*Found, int, error) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	ran := 0
	for lo := 0; lo < n; lo += findRound {
		if stop != nil && stop() {
			break
		}
		hi := min(lo+findRound, n)
		found := make([]*Found, hi-lo)
		errs := make([]error, hi-lo)
		var next atomic.Int64
		next.Store(int64(lo))
		var wg sync.WaitGroup
		for w := 0; w < min(workers, hi-lo); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runners := map[*trial.Plan]*simulated.Driver{} // one runner per plan this worker meets
				for {
					i := int(next.Add(1) - 1)
					if i >= hi {
						return
					}
					plan, seed, err := src(i)
					if err != nil {
						errs[i-lo] = err
						continue
					}
					r := runners[plan]
					if r == nil {
						if len(runners) > 16 {
							clear(runners) // a swarm: plans are not met again
						}
						r = simulated.NewDriver(plan)
						runners[plan] = r
					}
					if res := r.Run(seed); res.Failure != nil {
						found[i-lo] = &Found{Index: i, Seed: seed, Plan: plan, Result: res}
					}
				}
			}()
		}
		wg.Wait()
		for i := range found {
			if errs[i] != nil {
				return nil, ran, errs[i]
			}
			if found[i] != nil {
				return found[i], lo + i + 1, nil
			}
		}
		ran = hi
		if progress != nil {
			progress(ran)
		}
	}
	return nil, ran, nil
}
