package fit

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/study/samples"
)

func TestCompare(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		a, b    []float64
		cvm, ks float64
	}{
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 0, 0},
		// T = nm/(n+m)² Σ (F−G)² = 4/16 (0.25 + 1 + 0.25 + 0)
		{[]float64{1, 2}, []float64{3, 4}, 0.375, 1},
		// No leader ties with no leader, above every time.
		{[]float64{1, inf}, []float64{2, inf}, 0.0625, 0.5},
		// Weights count as repeated values.
		{[]float64{1, 1, 2}, []float64{1, 2, 2}, 9 / 36.0 * 3 / 9, 1.0 / 3},
	} {
		cvm, ks := compare(weighted{x: c.a}, weighted{x: c.b})
		if math.Abs(cvm-c.cvm) > 1e-12 || math.Abs(ks-c.ks) > 1e-12 {
			t.Errorf("compare(%v, %v) = %g, %g; want %g, %g", c.a, c.b, cvm, ks, c.cvm, c.ks)
		}
	}
	cvm, ks := compare(weighted{x: []float64{1, 2}, w: []float64{2, 1}}, weighted{x: []float64{1, 2}, w: []float64{1, 2}})
	want, wantKS := compare(weighted{x: []float64{1, 1, 2}}, weighted{x: []float64{1, 2, 2}})
	if cvm != want || ks != wantKS {
		t.Errorf("weighted: %g, %g; want %g, %g", cvm, ks, want, wantKS)
	}
}

func TestStatistic(t *testing.T) {
	s := weighted{x: []float64{1, 2, 3, 4, math.Inf(1)}}
	for stat, want := range map[Stat]float64{Mean: 2.5, P50: 2, P90: 4, P99: 4, Max: 4} {
		if got := statistic(stat, s); got != want {
			t.Errorf("%s = %g, want %g", stat, got, want)
		}
	}
	if got := statistic(Max, weighted{x: []float64{1, 2, 3}, w: []float64{1, 1, 0}}); got != 2 {
		t.Errorf("max of weighted = %g, want 2 (3 drawn no time)", got)
	}
	if !math.IsNaN(statistic(Mean, weighted{x: []float64{math.Inf(1)}})) {
		t.Error("mean of no leader is a number")
	}
}

func TestParseTarget(t *testing.T) {
	tg, err := ParseTarget("150-155ms:p50=287ms")
	if err != nil || tg.Range != "150ms-155ms" || tg.Stat != P50 || tg.Value != 287 || tg.String() != "150ms-155ms:p50=287ms" {
		t.Fatalf("got %+v, %v", tg, err)
	}
	for _, bad := range []string{"150ms-155ms", "150ms-155ms:p50", "150ms-155ms:p95=1ms", "x:mean=1ms", "150ms-155ms:max=0", "150ms-155ms:max=-2ms"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	ts := []Target{{Range: "12ms-24ms", Stat: Mean, Value: 35}, {Range: "150ms-200ms", Stat: Max, Value: 513}, {Range: "12ms-24ms", Stat: Max, Value: 152}}
	gs, err := TargetGroups(ts)
	if err != nil || len(gs) != 2 || len(gs[0].Targets) != 2 || gs[1].Conditions.Text("election-timeout") != "150ms-200ms" {
		t.Fatalf("groups %+v, %v", gs, err)
	}
	if _, err := TargetGroups(append(ts, ts[0])); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a statistic twice: %v", err)
	}
}

func TestParseComponentsAndFamily(t *testing.T) {
	cs, err := ParseComponents("jitter,persist")
	if err != nil || len(cs) != 3 || cs[0] != Latency || cs[2].Flag() != "timer-jitter" {
		t.Errorf("got %v, %v", cs, err)
	}
	if _, err := ParseComponents("latency,disk"); err == nil {
		t.Error("disk: no error")
	}
	if fs, err := ParseFamily("auto"); err != nil || len(fs) != 4 {
		t.Errorf("auto: %v, %v", fs, err)
	}
	if fs, err := ParseFamily("lognormal"); err != nil || FamilyName(fs[0]) != "lognormal" {
		t.Errorf("lognormal: %v, %v", fs, err)
	}
	if _, err := ParseFamily("pareto"); err == nil {
		t.Error("pareto: no error")
	}
}

// TestQuadraticMinimum: on values of an exact quadratic, the fitted
// surface's minimum is the quadratic's, and a minimum outside the box is
// kept at its edge.
func TestQuadraticMinimum(t *testing.T) {
	var design []point
	for _, x := range []float64{0, 0.25, 0.5, 0.75, 1} {
		for _, y := range []float64{0, 0.5, 1} {
			design = append(design, point{z: []float64{x, y}})
		}
	}
	q := newQuadratic(design, []float64{0.5, 0.5}, []float64{0.5, 0.5})
	for _, c := range []struct{ min, want [2]float64 }{{[2]float64{0.3, 0.6}, [2]float64{0.3, 0.6}}, {[2]float64{1.4, 0.2}, [2]float64{1, 0.2}}} {
		y := make([]float64, len(design))
		for k, e := range design {
			dx, dy := e.z[0]-c.min[0], e.z[1]-c.min[1]
			y[k] = 2 + 3*dx*dx + dx*dy + dy*dy
		}
		z, ok := q.minimum(y)
		if !ok || math.Abs(z[0]-c.want[0]) > 1e-9 || math.Abs(z[1]-c.want[1]) > 1e-9 {
			t.Errorf("minimum %v, %v; want %v", z, ok, c.want)
		}
	}
	y := make([]float64, len(design))
	for k, e := range design {
		y[k] = -e.z[0] * e.z[0]
	}
	if _, ok := q.minimum(y); ok {
		t.Error("a concave surface has a minimum")
	}
}

func TestGroupsOf(t *testing.T) {
	gs := GroupsOf([]samples.Group{{Conditions: samples.Conditions{{Flag: "election-timeout", Text: "1ms-2ms"}}, Times: []time.Duration{3e6, 1e6}, NoLeader: 1}})
	if len(gs) != 1 || gs[0].Label != "1ms-2ms" || len(gs[0].Times) != 3 || gs[0].Times[0] != 1 || gs[0].Times[1] != 3 || !math.IsInf(gs[0].Times[2], 1) {
		t.Errorf("got %+v", gs)
	}
}

func TestRoundMs(t *testing.T) {
	for x, want := range map[float64]time.Duration{2.1347: 2130 * time.Microsecond, 0.0004: time.Microsecond, 150.34: 150 * time.Millisecond, 0.01234: 12 * time.Microsecond} {
		if got := roundMs(x); got != want {
			t.Errorf("roundMs(%g) = %v, want %v", x, got, want)
		}
	}
}
