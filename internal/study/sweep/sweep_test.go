package sweep

import (
	"math"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
)

// outcome is a cell's outcome with the given p99 (ms), counts and
// stability (needless < 0: none measured). Every trial reached the
// measured fault.
func outcome(p99 float64, trials, measured, failed int, needless float64) Outcome {
	o := Outcome{Failed: failed, Started: trials, Measured: measured, P99: p99, Max: p99 * 2, Mean: p99 / 2, NeedlessPerHour: math.NaN()}
	if needless >= 0 {
		o.NeedlessPerHour = needless
	}
	return o
}

// cells returns a sweep whose cells have these cluster sizes.
func cells(axes []string, nodes ...int) *Sweep {
	sw := &Sweep{}
	for _, a := range axes {
		sw.Axes = append(sw.Axes, Axis{Name: a})
	}
	for _, n := range nodes {
		s := &scenarios.Scenario{}
		s.Cluster.Nodes = n
		sw.Cells = append(sw.Cells, Cell{Scenario: s})
	}
	return sw
}

func TestRecommend(t *testing.T) {
	sw := cells([]string{"nodes", "election-timeout"}, 3, 3, 3, 5, 5, 5, 5, 7, 7)
	out := []Outcome{
		outcome(80, 100, 100, 0, 40),   // fast but unstable
		outcome(150, 100, 100, 0, 0.5), // the pick
		outcome(250, 100, 100, 0, 0),   //
		outcome(90, 100, 100, 2, 0),    // failed trials
		outcome(160, 100, 99, 0, 0),    // one trial without leader
		outcome(260, 100, 100, 0, 0),   // the pick
		outcome(900, 100, 100, 0, 0),   //
		outcome(170, 100, 97, 0, 0),    // 3 trials never reached the fault: still eligible
		outcome(270, 100, 100, 0, 0),   //
	}
	out[7].Started = 97
	rule := Rule{MaxNeedlessPerHour: 1, Steady: true}
	groups, picked := rule.Recommend(sw, out)
	want := []bool{false, true, false, false, false, true, false, true, false}
	wantGroups := []int{0, 0, 0, 1, 1, 1, 1, 2, 2}
	for i := range sw.Cells {
		if picked[i] != want[i] || groups[i] != wantGroups[i] {
			t.Errorf("cell %d: recommended %v group %d, want %v %d", i, picked[i], groups[i], want[i], wantGroups[i])
		}
	}
	// Without stability, the fastest clean range wins.
	sw = cells([]string{"election-timeout"}, 5, 5)
	rule = Rule{MaxNeedlessPerHour: 1}
	if _, picked := rule.Recommend(sw, []Outcome{outcome(80, 10, 10, 0, -1), outcome(250, 10, 10, 0, -1)}); !picked[0] || picked[1] {
		t.Errorf("without stability: got %v, want [true false]", picked)
	}
	// Nothing eligible: nothing recommended.
	sw = cells([]string{"election-timeout"}, 5)
	if _, picked := rule.Recommend(sw, []Outcome{outcome(0, 10, 0, 0, -1)}); picked[0] {
		t.Error("a range with no leader was recommended")
	}
	// No election timeout swept: nothing to judge.
	sw = cells([]string{"nodes"}, 3, 5)
	if _, picked := rule.Recommend(sw, []Outcome{outcome(80, 10, 10, 0, -1), outcome(90, 10, 10, 0, -1)}); picked[0] || picked[1] {
		t.Error("a cell was recommended though the sweep does not vary the election timeout")
	}
	if got, want := rule.Text(sw), "none: the sweep does not vary the election timeout"; got != want {
		t.Errorf("rule text %q, want %q", got, want)
	}
}

// TestCells: cells nest the axes in order, each a validated scenario whose
// values are shown in canonical form, and option sets leave
// reset-timer-on-step-down alone unless they name it.
func TestCells(t *testing.T) {
	s, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	var o scenarios.Overrides
	if err := o.Set("reset-timer-on-step-down", "true"); err != nil {
		t.Fatal(err)
	}
	axes, err := Axes(s, map[string][]string{"options": {"none", "prevote"}, "election-timeout": {"50-100ms", "150ms-300ms"}})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := New(s, o, axes)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"reset-timer-on-step-down", "50ms-100ms"}, {"reset-timer-on-step-down", "150ms-300ms"},
		{"prevote+reset-timer-on-step-down", "50ms-100ms"}, {"prevote+reset-timer-on-step-down", "150ms-300ms"}}
	if len(sw.Cells) != len(want) {
		t.Fatalf("%d cells, want %d", len(sw.Cells), len(want))
	}
	for i, c := range sw.Cells {
		if c.Values[0] != want[i][0] || c.Values[1] != want[i][1] {
			t.Errorf("cell %d: values %v, want %v", i, c.Values, want[i])
		}
	}
	if _, err := Axes(s, map[string][]string{"options": {"prevote+fast"}}); err == nil {
		t.Error("an unknown option was accepted")
	}
	if _, err := Axes(s, map[string][]string{"nodes": {}}); err == nil {
		t.Error("an empty sweep was accepted")
	}
}
