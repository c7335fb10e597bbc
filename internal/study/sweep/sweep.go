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

// Axes returns the swept parameters in the order cells nest them: nodes,
// latency, loss, heartbeat, options, election timeout (innermost). Each
// takes its flag's list when given has one for it (even an empty one),
// else the scenario's sweep: list; a parameter without values is not
// swept. Errors name the flag.
func Axes(s *scenarios.Scenario, given map[string][]string) ([]Axis, error) {
	sw := &s.Sweep
	all := []Axis{
		{"nodes", texts(sw.Nodes, strconv.Itoa)},
		{"latency", texts(sw.Latency, scenarios.FormatDist)},
		{"loss", texts(sw.Loss, func(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) })},
		{"heartbeat", texts(sw.Heartbeat, scenarios.Heartbeat.String)},
		{"options", nil},
		{"election-timeout", texts(sw.ElectionTimeout, scenarios.Range.String)},
	}
	var axes []Axis
	for _, a := range all {
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

func texts[T any](xs []T, format func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, format(x))
	}
	return out
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
// found a leader and none failed, with at most MaxNeedlessPerHour needless
// elections per hour when steady state was measured.
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
		"with at most %g needless elections per hour", r.MaxNeedlessPerHour)
}

// Outcome is what the rule reads of a cell's trials.
type Outcome struct {
	Failed            int // trials and steady-state runs that failed
	Started, Measured int
	// P99, Max and Mean of the time to leader, in ms.
	P99, Max, Mean float64
	// NeedlessPerHour is NaN when no steady state was measured.
	NeedlessPerHour float64
}

// OutcomeOf reads the outcome of a cell's trials and steady-state runs
// (nil when none ran).
func OutcomeOf(runs, steady *runner.Aggregate) Outcome {
	t := &runs.TimeToLeader
	o := Outcome{Failed: runs.Failed, Started: runs.Started, Measured: runs.Measured, NeedlessPerHour: math.NaN(),
		P99: math.NaN(), Max: math.NaN(), Mean: math.NaN()}
	if t.N() > 0 {
		o.P99, o.Max, o.Mean = t.Quantile(0.99)/1e6, float64(t.Max())/1e6, t.Mean()/1e6
	}
	if steady != nil && steady.Trials > 0 {
		o.Failed += steady.Failed
		if h := float64(steady.SteadyTime) / float64(time.Hour); h > 0 {
			o.NeedlessPerHour = float64(steady.Elections) / h
		}
	}
	return o
}

// Recommend groups the cells by [Key], numbering groups in the order they
// first appear, and marks in each group the cell the rule picks. When the
// sweep does not vary the election timeout there are no groups to judge:
// every cell is in group 0 and none is picked.
func (r Rule) Recommend(sw *Sweep, outcomes []Outcome) (groups []int, picked []bool) {
	groups, picked = make([]int, len(sw.Cells)), make([]bool, len(sw.Cells))
	if !sw.sweepsTimeout() {
		return groups, picked
	}
	number := map[Key]int{}
	best := map[int]int{}
	for i := range sw.Cells {
		k := sw.Cells[i].Key()
		g, ok := number[k]
		if !ok {
			g = len(number)
			number[k] = g
		}
		groups[i] = g
		if !r.eligible(&outcomes[i]) {
			continue
		}
		if b, ok := best[g]; !ok || better(&outcomes[i], &outcomes[b]) {
			best[g] = i
		}
	}
	for _, i := range best {
		picked[i] = true // setting flags: the order of this loop does not matter
	}
	return groups, picked
}

func (r Rule) eligible(o *Outcome) bool {
	return o.Failed == 0 && o.Measured >= o.Started && o.Measured > 0 && !(o.NeedlessPerHour > r.MaxNeedlessPerHour)
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
