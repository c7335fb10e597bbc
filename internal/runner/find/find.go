// Package find picks out trials worth a look among those that held: a
// split vote, many election rounds, the slowest elections, a disruption, a
// removed leader that went on believing it led; in steady-state runs,
// needless elections and time without a working leader. A [Query] is what
// raftsim run --find KIND asks for: it says whether a trial's result
// matches and scores it, and the runner keeps the best-scoring few of each
// query, so that the trials listed never depend on the number of workers.
//
// find must never run trials or print: it only judges results.
package find

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// DefaultLimit is how many trials a query lists unless it says (:N).
const DefaultLimit = 10

// MaxLimit bounds what a query may list.
const MaxLimit = 1000

// Query is one --find: a kind of trial, a threshold when the kind takes
// one, and how many matching trials to list.
type Query struct {
	Text    string // as written, in canonical form: rounds>=3, slowest:5
	Limit   int
	kind    *kind
	atLeast float64 // the threshold, in the kind's unit; strict when above is set
	above   bool
}

// Steady reports whether q looks at steady-state runs rather than trials.
func (q *Query) Steady() bool { return q.kind.steady }

// Had says in words what the trials q picks out had: "had a split vote",
// "had election rounds >= 3".
func (q *Query) Had() string {
	if q.kind.threshold == "" {
		return q.kind.had
	}
	op := ">="
	if q.above {
		op = ">"
	}
	return fmt.Sprintf("%s %s %s", q.kind.had, op, q.kind.format(q.atLeast))
}

// Listed says in words which n trials a list of q's holds: "the 10 with
// the most split votes", "the 5 slowest".
func (q *Query) Listed(n int) string { return fmt.Sprintf(q.kind.listed, n) }

// Match reports whether r matches q and how strongly: a higher score lists
// first. A failed trial never matches: failures are listed anyway.
func (q *Query) Match(r *trial.Result) (score float64, ok bool) {
	if r.Failure != nil || (r.SteadyTime > 0) != q.kind.steady {
		return 0, false
	}
	x, ok := q.kind.value(r)
	switch {
	case !ok:
		return 0, false
	case q.kind.threshold == "":
		return x, true
	case q.above:
		return x, x > q.atLeast
	}
	return x, x >= q.atLeast
}

// kind is one kind of trial a query can ask for.
type kind struct {
	name   string
	form   string // how it is written, for help: rounds>=K
	help   string // what it picks out, for help
	steady bool   // looks at steady-state runs
	had    string // what the trials it picks out had, in words
	listed string // which it lists, a format of their number
	// threshold names the threshold the kind needs (K a count, D a
	// duration), or is empty when it takes none; def is its default, when
	// it has one.
	threshold string
	def       string
	// value returns the quantity the kind scores by, and false when the
	// result does not have it (no leader was found, say).
	value func(r *trial.Result) (float64, bool)
}

// format writes a threshold or score of k in k's unit.
func (k *kind) format(x float64) string {
	if k.threshold == "D" {
		return strconv.FormatFloat(x, 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// kinds are the kinds of trial --find knows, in the order help lists them.
var kinds = []kind{
	{name: "split-vote", form: "split-vote", help: "trials with a split vote (a term with two or more candidates and no leader)",
		had: "had a split vote", listed: "the %d with the most split votes",
		value: func(r *trial.Result) (float64, bool) { return float64(r.SplitVotes), r.Measured && r.SplitVotes > 0 }},
	{name: "rounds", form: "rounds>=K", help: "trials that took K or more election rounds", threshold: "K",
		had: "took election rounds", listed: "the %d with the most rounds",
		value: func(r *trial.Result) (float64, bool) { return float64(r.Rounds), r.Measured }},
	{name: "slowest", form: "slowest", help: "the trials with the longest time to leader",
		had: "found a leader", listed: "the %d slowest",
		value: func(r *trial.Result) (float64, bool) { return ms(r.TimeToLeader), r.Measured }},
	{name: "no-leader", form: "no-leader", help: "trials that found no leader and held all the same",
		had: "found no leader", listed: "the first %d",
		value: func(r *trial.Result) (float64, bool) { return 0, r.Started && !r.Measured }},
	{name: "disruption", form: "disruption", help: "trials in which a higher term deposed a leader",
		had: "had a disruption", listed: "the %d with the most disruptions",
		value: func(r *trial.Result) (float64, bool) { return float64(r.Disruptions), r.Disruptions > 0 }},
	{name: "stale", form: "stale>D", help: "trials whose removed leader believed it led for longer than D (e.g. 500ms)", threshold: "D",
		had: "had a removed leader that believed it led for", listed: "the %d longest",
		value: func(r *trial.Result) (float64, bool) { return ms(r.StaleLeader), r.HasStale }},
	{name: "needless", steady: true, form: "needless>=K", help: "steady-state runs with K or more needless elections (needless alone: 1)", threshold: "K", def: "1",
		had: "had needless elections", listed: "the %d with the most",
		value: func(r *trial.Result) (float64, bool) { return float64(r.Elections), true }},
	{name: "leaderless", steady: true, form: "leaderless>D", help: "steady-state runs without a working leader for longer than D", threshold: "D",
		had: "were without a working leader for", listed: "the %d longest",
		value: func(r *trial.Result) (float64, bool) { return ms(r.Leaderless), true }},
}

// Syntax lists the forms --find takes, one a line, for help texts.
func Syntax() []string {
	var out []string
	for _, k := range kinds {
		out = append(out, fmt.Sprintf("%-14s %s", k.form, k.help))
	}
	return out
}

// Parse reads a --find value: KIND, KIND>=X or KIND>X for the kinds that
// take a threshold (a whole number K, or a duration D such as 500ms),
// optionally followed by :N, how many trials to list.
func Parse(text string) (*Query, error) {
	q := &Query{Limit: DefaultLimit}
	body, limit, hasLimit := strings.Cut(strings.TrimSpace(text), ":")
	if hasLimit {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxLimit {
			return nil, fmt.Errorf("%q: want :N with N from 1 to %d trials to list", text, MaxLimit)
		}
		q.Limit = n
	}
	name, op, value := body, "", ""
	if i := strings.IndexAny(body, "<>="); i >= 0 {
		name = body[:i]
		op = body[i:]
		for _, o := range []string{">=", ">"} {
			if v, ok := strings.CutPrefix(op, o); ok {
				op, value = o, v
				break
			}
		}
		if op != ">=" && op != ">" {
			return nil, fmt.Errorf("%q: want KIND>=X or KIND>X", text)
		}
	}
	for i := range kinds {
		if kinds[i].name == name {
			q.kind = &kinds[i]
		}
	}
	if q.kind == nil {
		return nil, fmt.Errorf("unknown kind %q (want one of: %s)", name, strings.Join(names(), ", "))
	}
	k := q.kind
	switch {
	case k.threshold == "" && op != "":
		return nil, fmt.Errorf("%q: %s takes no threshold", text, name)
	case k.threshold != "" && op == "" && k.def == "":
		return nil, fmt.Errorf("%q: %s needs a threshold, e.g. %s", text, name, example(k))
	case op == "":
		op, value = ">=", k.def
	}
	if k.threshold != "" {
		x, err := k.parse(value)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", text, err)
		}
		q.atLeast, q.above = x, op == ">"
	}
	q.Text = name
	if k.threshold != "" {
		q.Text += op + k.format(q.atLeast)
	}
	if hasLimit {
		q.Text += ":" + strconv.Itoa(q.Limit)
	}
	return q, nil
}

// parse reads a threshold of k.
func (k *kind) parse(text string) (float64, error) {
	if k.threshold == "D" {
		d, err := scenarios.ParseDuration(text)
		return ms(d), err
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number", text)
	}
	return float64(n), nil
}

func example(k *kind) string {
	if k.threshold == "D" {
		return k.name + ">500ms"
	}
	return k.name + ">=3"
}

func names() []string {
	var out []string
	for _, k := range kinds {
		out = append(out, k.name)
	}
	return out
}
