package report

import (
	"fmt"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// Found is what one --find query picked out of a run's trials (or its
// steady-state runs).
type Found struct {
	Query   string       `json:"query"`
	Had     string       `json:"had"` // what the trials matched had, in words
	Matched int          `json:"matched"`
	Of      int          `json:"of"`
	Runs    string       `json:"runs"` // trials, or steady-state runs
	Listed  string       `json:"listed"`
	Trials  []FoundTrial `json:"trials"`
}

// FoundTrial is one trial a query picked out, with the command that
// replays it.
type FoundTrial struct {
	Trial   int    `json:"trial"`
	Seed    uint64 `json:"seed"`
	Score   Num    `json:"score"`
	Summary string `json:"summary"`
	Replay  string `json:"replay"`
}

// FoundOf reports the matches of agg's queries; replay spells the
// command that replays a trial.
func FoundOf(agg *runner.Aggregate, replay func(uint64) string) []Found {
	var out []Found
	for _, m := range agg.Matches {
		f := Found{Query: m.Query.Text, Had: m.Query.Had(), Matched: m.Count, Of: agg.Trials, Runs: "trials",
			Listed: m.Query.Listed(len(m.Top)), Trials: []FoundTrial{}}
		if m.Query.Steady() {
			f.Runs = "steady-state runs"
		}
		for _, x := range m.Top {
			f.Trials = append(f.Trials, FoundTrial{Trial: x.Trial, Seed: x.Seed, Score: Num(x.Score),
				Summary: summary(&x.Result), Replay: replay(x.Seed)})
		}
		out = append(out, f)
	}
	return out
}

// summary says in a few words what a trial measured.
func summary(r *trial.Result) string {
	var parts []string
	switch {
	case r.SteadyTime > 0:
		parts = append(parts, scenarios.Count(r.Elections, "needless election", "needless elections"),
			scenarios.Count(r.LeaderChanges, "leader change", "leader changes"),
			ms(r.Leaderless).Fixed(1, "?")+"ms without a working leader")
	case !r.Started:
		parts = append(parts, "the measured fault never happened")
	case !r.Measured:
		parts = append(parts, "no leader")
	default:
		parts = append(parts, "time to leader "+ms(r.TimeToLeader).Fixed(1, "?")+"ms", scenarios.Count(r.Rounds, "round", "rounds"))
		if r.SplitVotes > 0 {
			parts = append(parts, scenarios.Count(r.SplitVotes, "split vote", "split votes"))
		}
	}
	if r.HasStale {
		parts = append(parts, "stale leader "+ms(r.StaleLeader).Fixed(1, "?")+"ms")
	}
	if r.Disruptions > 0 && r.SteadyTime == 0 {
		parts = append(parts, scenarios.Count(r.Disruptions, "disruption", "disruptions"))
	}
	return strings.Join(parts, ", ")
}

// writeFound writes what each query picked out, each trial with its
// replay command.
func writeFound(b *strings.Builder, found []Found) {
	for _, f := range found {
		if f.Matched == 0 {
			fmt.Fprintf(b, "find %s: none of %d %s %s\n", f.Query, f.Of, f.Runs, f.Had)
			continue
		}
		fmt.Fprintf(b, "find %s: %d of %d %s %s; %s:\n", f.Query, f.Matched, f.Of, f.Runs, f.Had, f.Listed)
		what := "trial"
		if f.Runs != "trials" {
			what = "steady run"
		}
		for _, t := range f.Trials {
			fmt.Fprintf(b, "  %s %d seed %d: %s\n    replay: %s\n", what, t.Trial, t.Seed, t.Summary, t.Replay)
		}
	}
}
