package runner

import (
	"slices"

	"github.com/raftsim/raftsim/internal/runner/find"
	"github.com/raftsim/raftsim/internal/trial"
)

// Matches are the trials one query ([Options.Queries]) picked out: how
// many matched, and the best few. Which trials those are never depends on
// the number of workers: they are the first in a total order.
type Matches struct {
	Query *find.Query
	Count int     // trials that matched
	Top   []Match // at most Query.Limit: the highest score first, then the lowest trial index
}

// Match is one trial a query picked out.
type Match struct {
	Trial  int
	Seed   uint64
	Score  float64
	Result trial.Result
}

// before orders matches: the higher score first, then the lower index.
func before(x, y *Match) int {
	switch {
	case x.Score > y.Score:
		return -1
	case x.Score < y.Score:
		return 1
	}
	return x.Trial - y.Trial
}

// add counts r, trial index, when it matches.
func (m *Matches) add(index int, r *trial.Result) {
	score, ok := m.Query.Match(r)
	if !ok {
		return
	}
	m.Count++
	x := Match{Trial: index, Seed: r.Seed, Score: score, Result: *r}
	at, _ := slices.BinarySearchFunc(m.Top, &x, func(a Match, b *Match) int { return before(&a, b) })
	if at < m.Query.Limit {
		m.Top = slices.Insert(m.Top, at, x)
		m.Top = m.Top[:min(len(m.Top), m.Query.Limit)]
	}
}

// merge folds o, the same query's matches over other trials, into m.
func (m *Matches) merge(o *Matches) {
	m.Count += o.Count
	m.Top = append(m.Top, o.Top...)
	slices.SortFunc(m.Top, func(a, b Match) int { return before(&a, &b) })
	m.Top = m.Top[:min(len(m.Top), m.Query.Limit)]
}

// newMatches returns empty matches for each query.
func newMatches(queries []*find.Query) []Matches {
	var out []Matches
	for _, q := range queries {
		out = append(out, Matches{Query: q})
	}
	return out
}
