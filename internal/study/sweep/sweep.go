// Package sweep lays out a sweep of a scenario: the swept parameters
// (axes), one cell per combination of their values, and the rule that
// recommends an election timeout range in each group of cells that differ
// only in election timeout. A cell is a set of command-line overrides
// ([scenarios.Overrides]) and the validated scenario they make, so a cell's
// replay command is the one raftsim run would print for the same flags.
//
// sweep never runs trials and never prints: cmd runs the cells with
// runner and report prints them. Nothing here may depend on the order in
// which cells finish.
package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// Axis is one swept parameter: the flag it overrides (nodes, latency,
// loss, heartbeat, options, election-timeout) and its values, as that
// flag takes them (options: sets such as prevote+check-quorum, or none).
type Axis struct {
	Name   string
	Values []string
}

// MaxCells bounds the cells of one sweep.
const MaxCells = 10000

// Axes returns the swept parameters ([scenarios.SweptParams]) in the order
// cells nest them: the election timeout innermost. Each takes its flag's
// list when given has one for it (even an empty one), else the scenario's
// sweep: list; a parameter without values is not swept. Errors name the
// flag.
func Axes(s *scenarios.Scenario, given map[string][]string) ([]Axis, error) {
	var axes []Axis
	for _, p := range scenarios.SweptParams {
		a := Axis{Name: p.Flag, Values: p.Values(&s.Sweep)}
		if list, ok := given[a.Name]; ok {
			a.Values = list
		}
		for _, v := range a.Values {
			var o scenarios.Overrides
			if err := a.set(&o, v); err != nil {
				return nil, fmt.Errorf("--%s: %v", a.Name, err)
			}
		}
		if len(a.Values) > 0 {
			axes = append(axes, a)
		}
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("nothing to sweep: give lists such as --election-timeout 50ms-100ms,150ms-300ms (or a sweep: section in the scenario)")
	}
	return axes, nil
}

// set adds value of a to the overrides o.
func (a *Axis) set(o *scenarios.Overrides, value string) error {
	if a.Name != "options" {
		return o.Set(a.Name, value)
	}
	set, err := scenarios.ParseOptionSet(value)
	if err != nil {
		return err
	}
	for _, opt := range scenarios.ProtocolOptions {
		if on, ok := set[opt.Flag]; ok {
			if err := o.Set(opt.Flag, strconv.FormatBool(on)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Cell is one combination of the axes' values: the sweep's overrides with
// the cell's values added, and the validated scenario they make.
type Cell struct {
	Overrides scenarios.Overrides
	Scenario  *scenarios.Scenario
	// Values holds the cell's value of each axis as tables show it.
	Values []string
}

// Key is what a cell's group is made of: every parameter a sweep varies
// but the election timeout. The latency is its text: each cell reads its
// own copy of an empirical or mixed distribution.
type Key struct {
	Nodes     int
	Latency   string
	Loss      float64
	Heartbeat scenarios.Heartbeat
	Options   raft.Options
}

// Key returns the key of c's group.
func (c *Cell) Key() Key {
	s := c.Scenario
	return Key{s.Cluster.Nodes, scenarios.FormatDist(s.Network.Latency), s.Network.Loss, s.Cluster.Heartbeat, s.Cluster.Options}
}

// Sweep is the cells of a scenario over some axes.
type Sweep struct {
	Axes  []Axis
	Cells []Cell
}

// New returns the sweep of s under the overrides o over axes: one cell per
// combination of the axes' values, the last axis varying fastest. Each
// cell is validated; s itself need not be valid (a sweep over nodes may
// name nodes only its larger clusters have).
func New(s *scenarios.Scenario, o scenarios.Overrides, axes []Axis) (*Sweep, error) {
	n := 1
	for _, a := range axes {
		if n *= len(a.Values); n > MaxCells {
			return nil, fmt.Errorf("the sweep has more than %d cells", MaxCells)
		}
	}
	sw := &Sweep{Axes: axes, Cells: make([]Cell, 0, n)}
	idx := make([]int, len(axes))
	for {
		c := Cell{Overrides: o}
		for i := range axes {
			if err := axes[i].set(&c.Overrides, axes[i].Values[idx[i]]); err != nil {
				return nil, err
			}
		}
		var err error
		if c.Scenario, err = c.Overrides.Apply(s); err != nil {
			return nil, err
		}
		for _, a := range axes {
			c.Values = append(c.Values, c.value(a.Name))
		}
		sw.Cells = append(sw.Cells, c)
		i := len(axes) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(axes[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return sw, nil
		}
	}
}

// value returns c's value of axis name as tables show it: the override's
// canonical text, or for options the names of those switched on.
func (c *Cell) value(name string) string {
	if name != "options" {
		return c.Overrides.Text(name)
	}
	if names := scenarios.OptionFlags(c.Scenario.Cluster.Options); len(names) > 0 {
		return strings.Join(names, "+")
	}
	return "none"
}

// Label names cell i by its value of each axis, as tables do:
// "nodes 3, election-timeout 50ms-100ms".
func (sw *Sweep) Label(i int) string {
	parts := make([]string, len(sw.Axes))
	for j, a := range sw.Axes {
		parts[j] = a.Name + " " + sw.Cells[i].Values[j]
	}
	return strings.Join(parts, ", ")
}

// Varied returns the names of the axes.
func (sw *Sweep) Varied() []string {
	var names []string
	for _, a := range sw.Axes {
		names = append(names, a.Name)
	}
	return names
}

// sweepsTimeout reports whether the sweep varies the election timeout.
func (sw *Sweep) sweepsTimeout() bool {
	for _, a := range sw.Axes {
		if a.Name == "election-timeout" {
			return true
		}
	}
	return false
}

// Rule is how a sweep recommends an election timeout range in each group
// of cells: the smallest p99 time to leader among ranges whose trials all
// found a leader and none failed and, when steady state was measured,
// whose needless elections per hour are shown to be at most
// MaxNeedlessPerHour: the upper end of their 95% interval is.
type Rule struct {
	MaxNeedlessPerHour float64
	Steady             bool // steady-state runs were measured: stability is judged
}

// Text says the rule in words for sw's report.
func (r Rule) Text(sw *Sweep) string {
	switch {
	case !sw.sweepsTimeout():
		return "none: the sweep does not vary the election timeout"
	case !r.Steady:
		return "the smallest p99 time to leader among ranges where every measured trial found a leader and none failed (no steady-state runs: stability not judged)"
	}
	return fmt.Sprintf("the smallest p99 time to leader among ranges where every measured trial found a leader and none failed, "+
		"and whose needless elections per hour are at most %g with 95%% confidence (the upper end of their interval is)", r.MaxNeedlessPerHour)
}

// Outcome is what the rule reads of a cell's trials.
type Outcome struct {
	Failed            int // trials and steady-state runs that failed
	Started, Measured int
	// P99, Max and Mean of the time to leader, in ms.
	P99, Max, Mean float64
	// Needless counts the needless elections of SteadyHours hours of
	// steady state (0 hours: none measured).
	Needless    int64
	SteadyHours float64
}

// OutcomeOf reads the outcome of a cell's trials and steady-state runs
// (nil when none ran).
func OutcomeOf(runs, steady *runner.Aggregate) Outcome {
	t := &runs.TimeToLeader
	o := Outcome{Failed: runs.Failed, Started: runs.Started, Measured: runs.Measured, P99: math.NaN(), Max: math.NaN(), Mean: math.NaN()}
	if t.N() > 0 {
		o.P99, o.Max, o.Mean = t.Quantile(0.99)/1e6, float64(t.Max())/1e6, t.Mean()/1e6
	}
	if steady != nil && steady.Trials > 0 {
		o.Failed += steady.Failed
		o.Needless, o.SteadyHours = steady.Elections, float64(steady.SteadyTime)/float64(time.Hour)
	}
	return o
}

// NeedlessPerHour returns the needless elections per hour, NaN when no
// steady state was measured.
func (o *Outcome) NeedlessPerHour() float64 {
	if o.SteadyHours <= 0 {
		return math.NaN()
	}
	return float64(o.Needless) / o.SteadyHours
}

// NeedlessCI returns the exact 95% Poisson interval of the needless
// elections per hour.
func (o *Outcome) NeedlessCI() (lo, hi float64) {
	if o.SteadyHours <= 0 {
		return math.NaN(), math.NaN()
	}
	lo, hi = stats.Poisson95(o.Needless)
	return lo / o.SteadyHours, hi / o.SteadyHours
}

// Verdict is what the rule makes of a cell's needless elections per hour
// against its threshold.
type Verdict uint8

// The verdicts.
const (
	NotJudged Verdict = iota // no steady state measured
	Below                    // the interval's upper end is at most the threshold
	Above                    // the interval's lower end is above it
	Undecided                // the interval holds the threshold: more steady state would tell
)

var verdictNames = [...]string{NotJudged: "", Below: "below", Above: "above", Undecided: "undecided"}

func (v Verdict) String() string { return verdictNames[v] }

// Verdict judges o's needless elections per hour.
func (r Rule) Verdict(o *Outcome) Verdict {
	if !r.Steady || o.SteadyHours <= 0 {
		return NotJudged
	}
	lo, hi := o.NeedlessCI()
	switch {
	case hi <= r.MaxNeedlessPerHour:
		return Below
	case lo > r.MaxNeedlessPerHour:
		return Above
	}
	return Undecided
}

// clean reports whether o's trials all found a leader and none failed:
// the rule's conditions but stability.
func clean(o *Outcome) bool {
	return o.Failed == 0 && o.Measured >= o.Started && o.Measured > 0
}

// Decision is what the rule made of a sweep's cells.
type Decision struct {
	Groups      []int     // of each cell, numbered in the order groups first appear
	Recommended []bool    // of each cell
	Verdicts    []Verdict // of each cell
	// Open holds the groups whose recommendation the data cannot decide,
	// in group order.
	Open []OpenGroup
	// Unwarned holds, for each recommended cell whose scenario draws
	// warnings, the best clean cell of its group, not shown above the
	// threshold, that draws none (-1 when there is none); -1 for every
	// other cell.
	Unwarned []int
}

// OpenGroup is a group the data cannot decide: Cell is the range the rule
// would pick if its stability were shown, and Text says why it is not and
// what would decide it.
type OpenGroup struct {
	Group, Cell int
	Text        string
}

// Recommend groups the cells by [Key] and marks in each group the cell
// the rule picks: among the clean cells that are not above the threshold,
// the best by p99 ([better]), when its stability is shown below the
// threshold. When that best cell is undecided, the group has no
// recommendation and Open says what would decide it. When the sweep
// does not vary the election timeout there are no groups to judge: every
// cell is in group 0 and none is picked.
func (r Rule) Recommend(sw *Sweep, outcomes []Outcome) Decision {
	n := len(sw.Cells)
	d := Decision{Groups: make([]int, n), Recommended: make([]bool, n), Verdicts: make([]Verdict, n), Unwarned: make([]int, n)}
	for i := range outcomes {
		d.Verdicts[i], d.Unwarned[i] = r.Verdict(&outcomes[i]), -1
	}
	if !sw.sweepsTimeout() {
		return d
	}
	best := r.best(sw, outcomes, &d)
	for g, i := range best {
		if i < 0 {
			continue
		}
		if d.Verdicts[i] != Undecided {
			d.Recommended[i] = true
			if len(sw.Cells[i].Scenario.Warnings()) > 0 {
				d.Unwarned[i] = r.unwarned(sw, outcomes, &d, g)
			}
			continue
		}
		d.Open = append(d.Open, OpenGroup{Group: g, Cell: i, Text: r.undecided(sw, outcomes, &d, i)})
	}
	return d
}

// unwarned returns the best clean cell of group g not shown above the
// threshold whose scenario draws no warning, or -1.
func (r Rule) unwarned(sw *Sweep, outcomes []Outcome, d *Decision, g int) int {
	alt := -1
	for j := range sw.Cells {
		o := &outcomes[j]
		if d.Groups[j] != g || !clean(o) || d.Verdicts[j] == Above || len(sw.Cells[j].Scenario.Warnings()) > 0 {
			continue
		}
		if alt < 0 || better(o, &outcomes[alt]) {
			alt = j
		}
	}
	return alt
}

// best numbers the groups into d.Groups and returns, for each group, the
// cell the rule would pick were every undecided cell below the threshold
// (-1 for none).
func (r Rule) best(sw *Sweep, outcomes []Outcome, d *Decision) []int {
	number := map[Key]int{} // looked up only
	var best []int
	for i := range sw.Cells {
		k := sw.Cells[i].Key()
		g, ok := number[k]
		if !ok {
			g = len(best)
			number[k] = g
			best = append(best, -1)
		}
		d.Groups[i] = g
		o := &outcomes[i]
		if !clean(o) || d.Verdicts[i] == Above {
			continue
		}
		if b := best[g]; b < 0 || better(o, &outcomes[b]) {
			best[g] = i
		}
	}
	return best
}

// undecided says why cell i, the best of its group but for its stability,
// is not recommended, and what would decide it.
func (r Rule) undecided(sw *Sweep, outcomes []Outcome, d *Decision, i int) string {
	o := &outcomes[i]
	lo, hi := o.NeedlessCI()
	rate := o.NeedlessPerHour()
	text := fmt.Sprintf("the data cannot decide: %s has the smallest p99 (%.1fms) of the ranges left, but its needless elections per hour, "+
		"%.2f [%.2f, %.2f] over %s of steady state, straddle --max-needless %g", sw.timeout(i), o.P99, rate, lo, hi,
		scenarios.Hours(o.SteadyHours), r.MaxNeedlessPerHour)
	if h, ok := HoursToDecide(rate, r.MaxNeedlessPerHour); ok {
		text += fmt.Sprintf("; about %s of steady state would decide it if the rate stays near %.2f per hour (--max-steady-time %s)",
			scenarios.Hours(h), rate, strconv.FormatFloat(h, 'f', -1, 64)+"h")
	} else {
		text += fmt.Sprintf("; its rate is too near %g for any length of steady state to tell: choose --max-needless with that in mind", r.MaxNeedlessPerHour)
	}
	// The best range shown below the threshold, for those who would take it.
	alt := -1
	for j := range sw.Cells {
		if d.Groups[j] == d.Groups[i] && j != i && clean(&outcomes[j]) && d.Verdicts[j] == Below && (alt < 0 || better(&outcomes[j], &outcomes[alt])) {
			alt = j
		}
	}
	if alt >= 0 {
		a := &outcomes[alt]
		alo, ahi := a.NeedlessCI()
		text += fmt.Sprintf("; of the ranges shown below it, %s is best (p99 %.1fms, %.2f [%.2f, %.2f] needless elections per hour)",
			sw.timeout(alt), a.P99, a.NeedlessPerHour(), alo, ahi)
	}
	return text
}

// HoursToDecide returns about how many hours of steady state would put
// the 95% interval of a rate of events per hour, were it the rate
// measured, wholly on one side of threshold; false when no length under
// a million hours would.
func HoursToDecide(rate, threshold float64) (float64, bool) {
	for h := 1.0; h <= 1<<20; h *= math.Pow(2, 0.25) {
		lo, hi := stats.Poisson95(int64(math.Round(rate * h)))
		if hi/h <= threshold || lo/h > threshold {
			return math.Ceil(h), true
		}
	}
	return 0, false
}

// NeedMore returns the cells more steady state could decide whose verdict
// decides their group: in each group, the range the rule would pick were
// its stability shown (the best clean range by p99 not shown above the
// threshold), when its interval holds the threshold. A sweep gives them
// more steady-state runs; should one turn out above, the next best range
// is the next to need more.
func (r Rule) NeedMore(sw *Sweep, outcomes []Outcome) []int {
	var out []int
	for _, o := range r.Recommend(sw, outcomes).Open {
		out = append(out, o.Cell)
	}
	return out
}

// timeout returns cell i's election timeout range.
func (sw *Sweep) timeout(i int) string {
	return sw.Cells[i].Scenario.Cluster.ElectionTimeout.String()
}

// better orders eligible cells: smaller p99, then smaller max, then
// smaller mean, then the earlier cell.
func better(a, b *Outcome) bool {
	if a.P99 != b.P99 {
		return a.P99 < b.P99
	}
	if a.Max != b.Max {
		return a.Max < b.Max
	}
	return a.Mean < b.Mean
}
