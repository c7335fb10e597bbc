package fit

import (
	"math"
	"strconv"
	"testing"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// measure runs n trials of scenario name per election timeout range with
// the given latency and seed, as a real cluster's measurements would be.
func measure(t *testing.T, name, latency string, ranges []string, n int, seed uint64) []Group {
	t.Helper()
	raw, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	var gs []samples.Group
	for _, r := range ranges {
		var o scenarios.Overrides
		for _, set := range [][2]string{{"latency", latency}, {"election-timeout", r}, {"trials", strconv.Itoa(n)}, {"seed", strconv.FormatUint(seed, 10)}} {
			if err := o.Set(set[0], set[1]); err != nil {
				t.Fatal(err)
			}
		}
		s, err := o.Apply(raw)
		if err != nil {
			t.Fatal(err)
		}
		plan := trial.NewPlan(s)
		ts := make(samples.Trials, n)
		runner.Run(plan, runner.Options{Trials: n, Seed: s.Seed, Trial: ts.Record})
		g := samples.Group{Conditions: samples.Conditions{{Flag: "election-timeout", Text: r}}}
		for _, x := range ts {
			switch {
			case x.Leader:
				g.Times = append(g.Times, x.Time)
			case x.Started:
				g.NoLeader++
			}
		}
		gs = append(gs, g)
	}
	return GroupsOf(gs)
}

// problem is a fit of leader-crash with trials simulated trials per
// candidate.
func problem(t *testing.T, groups []Group, trials, bootstrap int, families ...sim.DistKind) *Problem {
	t.Helper()
	raw, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	var o scenarios.Overrides
	if err := o.Set("trials", strconv.Itoa(trials)); err != nil {
		t.Fatal(err)
	}
	return &Problem{Scenario: raw, Overrides: o, Groups: groups, Fit: []Component{Latency}, Families: families, Bootstrap: bootstrap, Workers: 2}
}

// TestRecoversUniform: from 2,000 trials measured with latency uniform
// 2ms-4ms (another seed than the fit's; 300 simulated trials per
// candidate, 1,000 with RAFTSIM_LONG), the fit finds min, max and mean
// within their 95% intervals, the mean to within 0.6ms, and the model
// passes the KS test in both ranges.
func TestRecoversUniform(t *testing.T) {
	groups := measure(t, "leader-crash", "uniform:2ms-4ms", []string{"150ms-300ms", "100ms-200ms"}, 1000, 2)
	sims := long.Pick(300, 1000)
	res, err := Run(problem(t, groups, sims, long.Pick(100, 400), sim.Uniform))
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]float64{"latency min": 2, "latency max": 4, "latency mean": 3}
	for _, e := range res.Estimates {
		want, ok := truth[e.Name]
		if !ok {
			t.Fatalf("unexpected estimate %q", e.Name)
		}
		if want < e.Lo || want > e.Hi || !(e.SD > 0) {
			t.Errorf("%s = %.3f, sd %.3f, 95%% interval %.3f-%.3f: does not hold the true %g", e.Name, e.Value, e.SD, e.Lo, e.Hi, want)
		}
		if e.Name == "latency mean" && math.Abs(e.Value-want) > 0.6 {
			t.Errorf("latency mean %.3f, want within 0.6 of %g", e.Value, want)
		}
	}
	for _, g := range res.Groups {
		if g.PValue < 0.05 || len(g.Times) != 1000 || len(g.Simulated) != sims {
			t.Errorf("%s: KS %.4f, p %.3f, %d measured, %d simulated", g.Label, g.KS, g.PValue, len(g.Times), len(g.Simulated))
		}
	}
}

// TestWrongFamilyFitsWorse: measured with a long-tailed latency (exp,
// minimum 1ms, mean 6ms), on ranges narrow enough for the latency's shape
// to decide split votes, the uniform family's best fit is measurably
// worse than the exponential's: a distance at least three times larger,
// and a KS p-value at least five times smaller in its worse range.
func TestWrongFamilyFitsWorse(t *testing.T) {
	groups := measure(t, "leader-crash", "exp:1ms,6ms", []string{"150ms-160ms", "150ms-200ms"}, 300, 2)
	var fits [2]*Result
	for i, fam := range []sim.DistKind{sim.Uniform, sim.Exp} {
		var err error
		if fits[i], err = Run(problem(t, groups, 300, 0, fam)); err != nil {
			t.Fatal(err)
		}
	}
	uni, exp := fits[0].Value, fits[1].Value
	if uni < 3*exp {
		t.Errorf("distance uniform %.3f (%s), exp %.3f (%s): want uniform's at least 3 times exp's", uni,
			scenarios.FormatDist(fits[0].Fitted[0].Dist), exp, scenarios.FormatDist(fits[1].Fitted[0].Dist))
	}
	minP := func(r *Result) float64 { return math.Min(r.Groups[0].PValue, r.Groups[1].PValue) }
	if minP(fits[0]) > minP(fits[1])/5 {
		t.Errorf("smallest KS p-value: uniform %.3f, exp %.3f; want uniform's at most a fifth of exp's", minP(fits[0]), minP(fits[1]))
	}
}

// TestNestedNeverWorse: a fit over more components starts from the best
// fit over fewer, the same search as that fit run alone, and ends at a
// distance no larger; components that do not help are left out.
func TestNestedNeverWorse(t *testing.T) {
	groups := measure(t, "leader-crash", "uniform:2ms-4ms", []string{"150ms-300ms"}, 200, 2)
	small, err := Run(problem(t, groups, 100, 0, sim.Uniform))
	if err != nil {
		t.Fatal(err)
	}
	p := problem(t, groups, 100, 0, sim.Uniform)
	p.Fit = []Component{Latency, Persist, Jitter}
	big, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if big.Value > small.Value {
		t.Errorf("latency,persist,jitter ended at %g, above the latency alone's %g", big.Value, small.Value)
	}
	if len(big.Nested) == 0 || big.Nested[0].Distance != small.Value || len(big.Nested[0].Components) != 1 {
		t.Errorf("nested fits %+v: want the latency alone first, at %g", big.Nested, small.Value)
	}
	for _, n := range big.Nested {
		if big.Value > n.Distance {
			t.Errorf("ended at %g, above the nested fit %v's %g", big.Value, n.Components, n.Distance)
		}
	}
	if len(big.Estimates) != 6 {
		t.Errorf("%d estimates, want latency min, max, mean, persist min, max, jitter max", len(big.Estimates))
	}
	for _, c := range big.Off {
		for _, f := range big.Fitted {
			if f.Component == c {
				t.Errorf("%s is both off and fitted", c)
			}
		}
	}
}

// TestFitHealth: times no 150-300ms cluster can produce (5-9ms) are not
// consistent with the best model, whose latency sits on the search's
// lower bound; a good fit is consistent and on no bound.
func TestFitHealth(t *testing.T) {
	g := Group{Label: "150ms-300ms", Conditions: samples.Conditions{{Flag: "election-timeout", Text: "150ms-300ms"}}}
	for i := range 100 {
		g.Times = append(g.Times, 5+4*float64(i)/100)
	}
	res, err := Run(problem(t, []Group{g}, 100, 0, sim.Uniform))
	if err != nil {
		t.Fatal(err)
	}
	if res.Consistent || res.Level != 0.05 {
		t.Errorf("5-9ms times: consistent %v at level %g, want not consistent at 0.05", res.Consistent, res.Level)
	}
	if len(res.Bounds) == 0 || res.Bounds[0].Coordinate != "latency mean" || res.Bounds[0].Upper {
		t.Errorf("bounds %+v, want the latency mean at the lower bound", res.Bounds)
	}
	good, err := Run(problem(t, measure(t, "leader-crash", "uniform:2ms-4ms", []string{"150ms-300ms"}, 300, 2), 200, 0, sim.Uniform))
	if err != nil {
		t.Fatal(err)
	}
	if !good.Consistent || len(good.Bounds) > 0 {
		t.Errorf("uniform 2-4ms data: consistent %v, bounds %+v; want consistent, none", good.Consistent, good.Bounds)
	}
}

// TestConverged: a search that stopped at its limit of evaluations has
// converged only when its last run gained no more than the distance
// varies by chance; one that met its convergence test has.
func TestConverged(t *testing.T) {
	sp := newSpace(sim.Uniform, []Component{Latency}, 150)
	fd := func(stopped bool, gain float64) *found {
		return &found{point: point{sp: sp, z: []float64{0.5, 0.5}, e: &eval{}}, stopped: stopped, gain: gain}
	}
	for _, tt := range []struct {
		f    *found
		want bool
	}{{fd(false, 5), true}, {fd(true, 0.003), true}, {fd(true, 0.05), false}} {
		if got := health(tt.f, nil, 0.01).Converged; got != tt.want {
			t.Errorf("stopped %v, gain %g, chance 0.01: converged %v, want %v", tt.f.stopped, tt.f.gain, got, tt.want)
		}
	}
}

// TestPlausibleMax: the largest of n trials of a model lies below the
// (Level/2)^(1/n) quantile only with probability Level/2; above, there is
// no end the trials can show.
func TestPlausibleMax(t *testing.T) {
	x := make([]float64, 1000)
	for i := range x {
		x[i] = float64(i + 1)
	}
	r := plausibleMax(append(x, math.Inf(1))) // one trial without a leader: not counted
	// 0.025^(1/1000) = 0.99632: the 997th of 1000.
	if r[0] != 997 || !math.IsInf(r[1], 1) {
		t.Errorf("got %v, want [997, +Inf]", r)
	}
	if r := plausibleMax([]float64{math.Inf(1)}); !math.IsNaN(r[0]) {
		t.Errorf("no leader anywhere: %v, want NaN", r)
	}
}
