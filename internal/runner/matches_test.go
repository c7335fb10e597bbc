package runner

import (
	"fmt"
	"slices"
	"testing"

	"github.com/raftsim/raftsim/internal/runner/find"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
)

// TestMatchesAnyWorkers: the trials a query picks out are the same at any
// number of workers, listed best first, and each is what a fresh run of
// its seed measures.
func TestMatchesAnyWorkers(t *testing.T) {
	p := plan(t, "staggered-start", nil)
	var queries []*find.Query
	for _, text := range []string{"split-vote:5", "slowest:7", "rounds>=3", "disruption"} {
		q, err := find.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, q)
	}
	render := func(a *Aggregate) string {
		var s string
		for _, m := range a.Matches {
			s += fmt.Sprint(m.Query.Text, m.Count)
			for _, x := range m.Top {
				s += fmt.Sprint(" ", x.Trial, x.Seed, x.Score)
			}
			s += "\n"
		}
		return s
	}
	one := Run(p, Options{Trials: 700, Seed: 3, Workers: 1, Queries: queries})
	want := render(one)
	for _, w := range []int{2, 8} {
		if got := render(Run(p, Options{Trials: 700, Seed: 3, Workers: w, Queries: queries})); got != want {
			t.Fatalf("%d workers:\n%s\nwant (1 worker)\n%s", w, got, want)
		}
	}
	split := one.Matches[0]
	if split.Count < 10 || len(split.Top) != 5 {
		t.Fatalf("split-vote: %d matched, %d listed; want a few dozen and 5", split.Count, len(split.Top))
	}
	if !slices.IsSortedFunc(split.Top, func(a, b Match) int { return before(&a, &b) }) {
		t.Errorf("split-vote: not listed best first: %v", split.Top)
	}
	for _, x := range one.Matches[1].Top {
		r := simulated.NewDriver(p).Run(x.Seed)
		if x.Seed != trial.Seed(3, x.Trial) || float64(r.TimeToLeader)/1e6 != x.Score {
			t.Errorf("slowest: trial %d seed %d scored %g; a fresh run measures %v", x.Trial, x.Seed, x.Score, r.TimeToLeader)
		}
	}
}
