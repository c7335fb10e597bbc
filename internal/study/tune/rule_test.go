package tune

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// TestOutcomeOf: failover quantiles in ms with their intervals, rates a
// day from the steady state, and what counts as clean.
func TestOutcomeOf(t *testing.T) {
	runs := &runner.Aggregate{}
	for i := 1; i <= 1000; i++ {
		runs.Add(i, &trial.Result{Started: true, Measured: true, TimeToLeader: time.Duration(i) * time.Millisecond})
	}
	steady := &runner.Aggregate{Trials: 288, SteadyRuns: 288, SteadyTime: int64(48 * time.Hour), LeaderChanges: 2, Elections: 5}
	o := OutcomeOf(runs, steady)
	lo, hi := runs.TimeToLeader.QuantileCI95(0.99)
	if math.Abs(o.P50-500) > 1 || math.Abs(o.P99-990) > 1 || o.P99CI != [2]float64{lo / 1e6, hi / 1e6} || !(o.P50CI[0] < o.P50 && o.P50 < o.P50CI[1]) {
		t.Errorf("p50 %g %v, p99 %g %v", o.P50, o.P50CI, o.P99, o.P99CI)
	}
	rate, rlo, rhi := o.PerDay(o.LeaderChanges)
	plo, phi := stats.Poisson95(2)
	if rate != 1 || rlo != plo/2 || rhi != phi/2 || o.Needless != 5 || o.SteadyHours != 48 {
		t.Errorf("leader changes %g [%g, %g] a day, needless %d over %gh", rate, rlo, rhi, o.Needless, o.SteadyHours)
	}
	if !o.Clean() {
		t.Error("1000 measured trials are not clean")
	}
	for _, bad := range []Outcome{{Trials: 10, Measured: 9}, {Trials: 10, Measured: 10, Failed: 1}, {}} {
		if bad.Clean() {
			t.Errorf("%+v is clean", bad)
		}
	}
	none := OutcomeOf(&runner.Aggregate{}, nil)
	if r, _, _ := none.PerDay(0); !math.IsNaN(none.P99) || !math.IsNaN(r) || !math.IsNaN(none.P99CI[1]) {
		t.Errorf("no trials: %+v", none)
	}
}

// TestJudgeMargins: the margin is the smaller of the two goals' relative
// margins; without steady state the leader changes are not judged and
// nothing meets the goals; equal margins go to the smaller p99.
func TestJudgeMargins(t *testing.T) {
	g := Goals{FailoverP99: 2 * time.Second, LeaderChangesPerDay: 4}
	o := Outcome{Trials: 10, Measured: 10, P99: 500, P99CI: [2]float64{400, 600}, LeaderChanges: 3, SteadyHours: 24 * 10}
	j := g.Judge(&o) // rate 0.3 a day: margin min(0.75, 0.925)
	if math.Abs(j.Margin-0.75) > 1e-12 || !j.Meets {
		t.Errorf("%+v", j)
	}
	o.LeaderChanges = 35 // 3.5 a day: margin 0.125, and its interval holds 4
	if j := g.Judge(&o); math.Abs(j.Margin-0.125) > 1e-12 || j.Changes != sweep.Undecided || j.Meets {
		t.Errorf("%+v", j)
	}
	o.SteadyHours = 0
	if j := g.Judge(&o); j.Changes != sweep.NotJudged || j.Meets {
		t.Errorf("no steady state: %+v", j)
	}
	o.SteadyHours, o.P99CI = 240, [2]float64{1900, 2000} // the upper end at the goal: below
	o.LeaderChanges = 0
	if j := g.Judge(&o); j.Failover != sweep.Below {
		t.Errorf("a p99 interval ending at the goal: %v", j.Failover)
	}
	o.P99CI = [2]float64{2000.5, 2100}
	if j := g.Judge(&o); j.Failover != sweep.Above {
		t.Errorf("a p99 interval above the goal: %v", j.Failover)
	}
	tie := []Outcome{
		{Trials: 1, Measured: 1, P99: 800, P99CI: [2]float64{700, 900}, SteadyHours: 240},
		{Trials: 1, Measured: 1, P99: 600, P99CI: [2]float64{500, 700}, SteadyHours: 240},
	}
	g.FailoverP99 = time.Hour // both margins the rate's: 1
	if best, _ := g.Recommend(tie); best != 1 {
		t.Errorf("a tie went to %d, want the smaller p99, 1", best)
	}
	// A setting whose margin only equals the recommended one's needs no
	// more steady state.
	tie = append(tie, Outcome{Trials: 1, Measured: 1, P99: 700, P99CI: [2]float64{600, 800}, SteadyHours: 1})
	if more := g.NeedMore(tie); len(more) != 0 {
		t.Errorf("need more: %v", more)
	}
	// With none shown within the goals, the undecided setting with the most
	// margin needs more first, and it alone.
	g.FailoverP99 = 2 * time.Second
	open := []Outcome{
		{Trials: 1, Measured: 1, P99: 1500, P99CI: [2]float64{1400, 1600}, SteadyHours: 1}, // margin 0.25
		{Trials: 1, Measured: 1, P99: 1000, P99CI: [2]float64{900, 1100}, SteadyHours: 1},  // margin 0.5
		{Trials: 1, Measured: 1, P99: 500, P99CI: [2]float64{400, 2100}, SteadyHours: 1},   // failover undecided
	}
	if more := g.NeedMore(open); len(more) != 1 || more[0] != 1 {
		t.Errorf("need more: %v, want [1]", more)
	}
}

// TestUndecidedSaysHowLong: the text says the rate, its interval, the
// steady state and about how much more would decide it.
func TestUndecidedSaysHowLong(t *testing.T) {
	g := Goals{FailoverP99: time.Second, LeaderChangesPerDay: 1}
	text := g.Undecided(&Outcome{LeaderChanges: 0, SteadyHours: 24})
	h, _ := sweep.HoursToDecide(0, 1.0/24)
	for _, want := range []string{"0.00 [0.00, 3.69] a day over 24 hours", fmt.Sprintf("(--max-steady-time %gh)", h)} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
	if text := g.Undecided(&Outcome{LeaderChanges: 24, SteadyHours: 576}); !strings.Contains(text, "too near the goal") {
		t.Errorf("a rate at the goal: %q", text)
	}
}

// TestStallWeather: the steady state's stalls come at the members' rate
// (a mean gap of an hour over rate × members) for enough steps to outlast
// a steady-state run; an unknown rate leaves them out with a note, and a
// rate too high for a run's steps is capped with a note.
func TestStallWeather(t *testing.T) {
	m, err := NewModel(handmade(t, "heavy-fsync-tail"), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	rate := m.Stalls.PerHour() * 3
	expected := rate * steadyRun.Hours()
	steps := int(math.Ceil(expected + 6*math.Sqrt(expected) + 10))
	gap := time.Duration(float64(time.Hour) / rate).Round(time.Millisecond)
	c := &Cluster{Model: m, Size: 3, Dir: "t"}
	files, _ := c.Files(Setting{100 * time.Millisecond, time.Second})
	yaml := string(files[c.Path()])
	for _, want := range []string{fmt.Sprintf("repeat: %d\n", steps), fmt.Sprintf(`delay: "exp:%s"`, scenarios.FormatDuration(gap)), `for: "empirical:stall.csv"`} {
		if !strings.Contains(yaml, want) {
			t.Errorf("the weather lacks %q:\n%s", want, yaml)
		}
	}
	lo, hi := m.Stalls.CI95()
	if p := m.Stalls.PerHour(); !(lo < p && p < hi) || math.Abs(p-300/m.Stalls.Hours) > 1e-9 {
		t.Errorf("stalls %g [%g, %g] a member-hour", p, lo, hi)
	}
	unknown := *m
	unknown.Stalls.Hours = 0
	c.Model = &unknown
	files, notes := c.Files(Setting{100 * time.Millisecond, time.Second})
	if !strings.Contains(string(files[c.Path()]), "faults: []") || len(notes) != 1 || !strings.Contains(notes[0], "rate is unknown") {
		t.Errorf("unknown rate: notes %q\n%s", notes, files[c.Path()])
	}
	if p := unknown.Stalls.PerHour(); !math.IsNaN(p) {
		t.Errorf("unknown rate: %g", p)
	}
	flood := *m
	flood.Stalls.Count, flood.Stalls.Hours = 1e9, 1
	c.Model = &flood
	files, notes = c.Files(Setting{100 * time.Millisecond, time.Second})
	if !strings.Contains(string(files[c.Path()]), fmt.Sprintf("repeat: %d\n", MaxStallSteps)) || len(notes) != 1 || !strings.Contains(notes[0], "so often") {
		t.Errorf("a flood of stalls: notes %q", notes)
	}
	if _, err := c.Scenario(files); err != nil {
		t.Errorf("the capped weather does not parse: %v", err)
	}
}

// TestStallsOfAScrapeWithoutStart: one scrape and no process start time:
// the stalls' window, and so their rate, is unknown.
func TestStallsOfAScrapeWithoutStart(t *testing.T) {
	s := scrape(t, "handmade/heavy-fsync-tail-n1.prom", noon)
	s.ProcessStart = time.Time{}
	m, err := NewModel([]Member{{ID: s.Member, Scrapes: []*metrics.Scrape{s}}}, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stalls.Hours != 0 || m.Stalls.Count != 0 || m.Stalls.Window != "" || !math.IsNaN(m.Stalls.PerHour()) {
		t.Errorf("%+v", m.Stalls)
	}
	s.ProcessStart = noon.Add(time.Minute) // started after the scrape: nonsense, no window
	if m, _ := NewModel([]Member{{ID: s.Member, Scrapes: []*metrics.Scrape{s}}}, 50*time.Millisecond); m.Stalls.Hours != 0 {
		t.Errorf("a process started after its scrape: %+v", m.Stalls)
	}
}

func TestHoursText(t *testing.T) {
	for h, want := range map[float64]string{32.0 / 3600: "32s", 0.75: "45m", 1: "1h", 3.21: "3.21h", 1.0 / 60: "1m"} {
		if got := hoursText(h); got != want {
			t.Errorf("hoursText(%g) = %q, want %q", h, got, want)
		}
	}
}
