package sweep

import (
	"slices"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
)

// outcome is a cell's outcome with the given p99 (ms), counts and
// stability: needless elections in 100 hours of steady state (needless
// < 0: none measured). Every trial reached the measured fault.
func outcome(p99 float64, trials, measured, failed int, needless int64) Outcome {
	o := Outcome{Failed: failed, Started: trials, Measured: measured, P99: p99, Max: p99 * 2, Mean: p99 / 2}
	if needless >= 0 {
		o.Needless, o.SteadyHours = needless, 100
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
		outcome(80, 100, 100, 0, 4000), // fast but unstable
		outcome(150, 100, 100, 0, 50),  // the pick: 0.5 per hour [0.37, 0.66]
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
	d := rule.Recommend(sw, out)
	groups, picked := d.Groups, d.Recommended
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
	if picked := rule.Recommend(sw, []Outcome{outcome(80, 10, 10, 0, -1), outcome(250, 10, 10, 0, -1)}).Recommended; !picked[0] || picked[1] {
		t.Errorf("without stability: got %v, want [true false]", picked)
	}
	// Nothing eligible: nothing recommended.
	sw = cells([]string{"election-timeout"}, 5)
	if picked := rule.Recommend(sw, []Outcome{outcome(0, 10, 0, 0, -1)}).Recommended; picked[0] {
		t.Error("a range with no leader was recommended")
	}
	// No election timeout swept: nothing to judge.
	sw = cells([]string{"nodes"}, 3, 5)
	if picked := rule.Recommend(sw, []Outcome{outcome(80, 10, 10, 0, -1), outcome(90, 10, 10, 0, -1)}).Recommended; picked[0] || picked[1] {
		t.Error("a cell was recommended though the sweep does not vary the election timeout")
	}
	if got, want := rule.Text(sw), "none: the sweep does not vary the election timeout"; got != want {
		t.Errorf("rule text %q, want %q", got, want)
	}
}

// TestRecommendUncertain: a range is recommended only when the whole 95%
// interval of its needless elections per hour is at or below the
// threshold; when the best range's interval holds it, the group has no
// recommendation, says what would decide it, and names the best range
// shown below; more steady state goes only to the range the rule would
// pick, were its stability shown.
func TestRecommendUncertain(t *testing.T) {
	sw := cells([]string{"election-timeout"}, 3, 3, 3)
	for i, r := range []string{"100ms-200ms", "150ms-300ms", "200ms-400ms"} {
		sw.Cells[i].Scenario.Cluster.ElectionTimeout, _ = scenarios.ParseRange(r)
	}
	rule := Rule{MaxNeedlessPerHour: 1, Steady: true}
	hour := func(p99 float64, needless int64, hours float64) Outcome {
		o := outcome(p99, 1000, 1000, 0, needless)
		o.SteadyHours = hours
		return o
	}
	// An hour each: 18 [10.7, 28.4] is above; 0 [0, 3.69] and 1 [0.03, 5.57] hold the threshold.
	out := []Outcome{hour(440, 18, 1), hour(510, 0, 1), hour(670, 1, 1)}
	d := rule.Recommend(sw, out)
	if !slices.Equal(d.Verdicts, []Verdict{Above, Undecided, Undecided}) {
		t.Errorf("verdicts %v, want [above undecided undecided]", d.Verdicts)
	}
	if slices.Contains(d.Recommended, true) || len(d.Open) != 1 || d.Open[0].Cell != 1 {
		t.Fatalf("recommended %v, open %+v: want nothing recommended, the group open at 150ms-300ms", d.Recommended, d.Open)
	}
	for _, want := range []string{"the data cannot decide: 150ms-300ms has the smallest p99 (510.0ms)", "0.00 [0.00, 3.69] over 1 hour of steady state, straddle --max-needless 1",
		"about 4 hours of steady state would decide it if the rate stays near 0.00 per hour (--max-steady-time 4h)"} {
		if !strings.Contains(d.Open[0].Text, want) {
			t.Errorf("open text lacks %q:\n%s", want, d.Open[0].Text)
		}
	}
	if got := rule.NeedMore(sw, out); !slices.Equal(got, []int{1}) {
		t.Errorf("need more: %v, want [1]: the range the rule would pick", got)
	}
	// Shown above, it gives way to the next.
	out[1] = hour(510, 40, 2)
	if got := rule.NeedMore(sw, out); !slices.Equal(got, []int{2}) {
		t.Errorf("need more: %v, want [2]", got)
	}
	// 200ms-400ms shown below, 150ms-300ms still open at a rate of its
	// threshold: only 150ms-300ms needs more, and the text names the
	// alternative and says that no length would tell.
	out[1], out[2] = hour(510, 2, 2), hour(670, 0, 4)
	d = rule.Recommend(sw, out)
	if got := rule.NeedMore(sw, out); !slices.Equal(got, []int{1}) || len(d.Open) != 1 ||
		!strings.Contains(d.Open[0].Text, "its rate is too near 1 for any length of steady state to tell") ||
		!strings.Contains(d.Open[0].Text, "of the ranges shown below it, 200ms-400ms is best (p99 670.0ms, 0.00 [0.00, 0.92]") {
		t.Errorf("need more %v, open %+v", got, d.Open)
	}
	// 150ms-300ms shown below: recommended, and nothing needs more.
	out[1] = hour(510, 2, 16)
	d = rule.Recommend(sw, out)
	if !d.Recommended[1] || d.Recommended[2] || len(d.Open) != 0 || len(rule.NeedMore(sw, out)) != 0 {
		t.Errorf("recommended %v, open %+v, need more %v", d.Recommended, d.Open, rule.NeedMore(sw, out))
	}
	// A worse range still undecided needs nothing once a better one is below.
	out[2] = hour(670, 1, 1)
	if got := rule.NeedMore(sw, out); len(got) != 0 {
		t.Errorf("need more %v: 200ms-400ms cannot change the pick", got)
	}
}

func TestHoursToDecide(t *testing.T) {
	for _, tt := range []struct {
		rate, threshold float64
		lo, hi          float64
	}{
		{0, 1, 3, 5},         // 3.69 hours with none
		{0.1, 1, 3, 9},       // a tenth of the threshold
		{0.5, 1, 13, 30},     // half
		{19.5, 1, 1, 1},      // far above: an hour tells
		{0.95, 1, 1000, 1e6}, // near: long
	} {
		h, ok := HoursToDecide(tt.rate, tt.threshold)
		if !ok || h < tt.lo || h > tt.hi {
			t.Errorf("rate %g against %g: %g hours (%v), want %g to %g", tt.rate, tt.threshold, h, ok, tt.lo, tt.hi)
		}
	}
	if h, ok := HoursToDecide(1, 1); ok {
		t.Errorf("a rate at the threshold: %g hours, want none", h)
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
