package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
)

func sweepWithData() *Sweep {
	sw := &Sweep{Varied: []string{"election-timeout"}}
	for i, scale := range []float64{1, 200} {
		agg := &runner.Aggregate{Trials: 100, Started: 100, Measured: 100}
		for k := 0; k < 100; k++ {
			agg.TimeToLeader.Add(int64(scale * float64(150+k) * 1e6))
		}
		v := []string{"150ms-300ms", "30s-60s"}[i]
		c := Cell{Label: "election-timeout " + v, agg: agg, values: []string{v}}
		c.Trials, c.Started, c.Measured = 100, 100, 100
		sw.Cells = append(sw.Cells, c)
	}
	sw.Cells = append(sw.Cells, Cell{Label: "election-timeout 150ms-150ms", agg: &runner.Aggregate{Trials: 100, Started: 100},
		values: []string{"150ms-150ms"}})
	sw.Cells[2].Trials, sw.Cells[2].Started = 100, 100
	return sw
}

func TestCDFPlotSVG(t *testing.T) {
	img, err := sweepWithData().CDFPlot("test", "svg")
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(img))
	elements := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not valid XML: %v", err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			elements++
		}
	}
	for _, want := range []string{"<svg", "log scale", "150ms-150ms: no leader"} {
		if !bytes.Contains(img, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if elements < 20 {
		t.Errorf("SVG has %d elements", elements)
	}
	again, _ := sweepWithData().CDFPlot("test", "svg")
	if !bytes.Equal(img, again) {
		t.Error("the same data drew two different SVGs")
	}
}

func TestCDFPlotPNG(t *testing.T) {
	img, err := sweepWithData().CDFPlot("test", "png")
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	if b := m.Bounds(); b.Dx() < 400 || b.Dy() < 250 {
		t.Errorf("PNG is %dx%d", b.Dx(), b.Dy())
	}
}

func TestStabilityRates(t *testing.T) {
	agg := &runner.Aggregate{Trials: 6, SteadyRuns: 6, SteadyTime: int64(2 * 3600e9), Elections: 10, LeaderChanges: 4, Leaderless: int64(3e9)}
	st := StabilityOf(agg, func(uint64) string { return "" })
	if st.Hours != 2 || st.NeedlessElectionsPerHour != 5 || st.LeaderChangesPerHour != 2 || st.LeaderlessMsPerHour != 1500 {
		t.Errorf("stability %+v", st)
	}
	if StabilityOf(nil, nil) != nil {
		t.Error("no runs gave a stability")
	}
}

func TestNumJSON(t *testing.T) {
	for _, tt := range []struct {
		n    Num
		want string
	}{{1.5, "1.5"}, {287.123456, "287.123"}, {Num(math.NaN()), "null"}, {0.000123456, "0.000123456"}} {
		b, _ := tt.n.MarshalJSON()
		if string(b) != tt.want {
			t.Errorf("%v marshals to %s, want %s", float64(tt.n), b, tt.want)
		}
	}
	var s stats.Summary
	if d := DistOf(&s, 1); !math.IsNaN(float64(d.Mean)) {
		t.Error("empty summary has a mean")
	}
}

// TestSweepTableUnmeasured: the trials column tells trials without a leader
// from trials that never reached the fault they measure from, and the
// footnote explains "no fault" only when some cell has such trials.
func TestSweepTableUnmeasured(t *testing.T) {
	sw := sweepWithData()
	sw.Cells[0].Started, sw.Cells[0].Measured = 97, 95
	var b bytes.Buffer
	if err := sw.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"100 (2 no leader, 3 no fault)", "100 (100 no leader)", "no fault: trials in which no step removed a leader"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	sw = sweepWithData()
	b.Reset()
	if err := sw.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("no fault")) {
		t.Errorf("every trial reached its fault, yet the table speaks of none:\n%s", b.String())
	}
}

// TestCDFLegendBesideTheCurves: at any number of cells, every legend
// entry stands outside the axes, where no curve is drawn, and the title
// and the x axis name the same quantity.
func TestCDFLegendBesideTheCurves(t *testing.T) {
	path := regexp.MustCompile(`<path d="M([-0-9.]+),([-0-9.]+)L([-0-9.]+),([-0-9.]+)" style="fill:none;stroke:#000000`)
	text := regexp.MustCompile(`<text x="([-0-9.]+)" y="([-0-9.]+)"[^>]*>([^<]*)</text>`)
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	for _, n := range []int{1, 3, 10, 24, 60} {
		sw := &Sweep{Varied: []string{"nodes", "election-timeout"}}
		labels := map[string]bool{}
		for i := range n {
			agg := &runner.Aggregate{Trials: 50, Started: 50, Measured: 50}
			for k := range 50 {
				agg.TimeToLeader.Add(int64((150 + 3*i + k) * 1e6))
			}
			label := fmt.Sprintf("nodes %d, election-timeout %dms-%dms", 3+i%5, 150+i, 300+i)
			labels[label] = true
			c := Cell{Label: label, agg: agg}
			c.Trials, c.Started, c.Measured = 50, 50, 50
			sw.Cells = append(sw.Cells, c)
		}
		img, err := sw.CDFPlot("time to leader: test", "svg")
		if err != nil {
			t.Fatal(err)
		}
		// The axes: the longest black horizontal and vertical lines.
		var left, right, bottom, top float64
		for _, m := range path.FindAllStringSubmatch(string(img), -1) {
			x0, y0, x1, y1 := num(m[1]), num(m[2]), num(m[3]), num(m[4])
			if y0 == y1 && x1-x0 > right-left {
				left, right, bottom = x0, x1, y0
			}
			if x0 == x1 && y1-y0 > top {
				top = y1
			}
		}
		seen, xLabel := 0, ""
		for _, m := range text.FindAllStringSubmatch(string(img), -1) {
			x, y := num(m[1]), -num(m[2]) // text is drawn flipped
			if strings.HasPrefix(m[3], "time to leader (") {
				xLabel = m[3]
			}
			if !labels[m[3]] {
				continue
			}
			seen++
			if x > left && x < right && y > bottom && y < top {
				t.Errorf("%d cells: legend entry %q at (%g, %g) is inside the axes [%g, %g]x[%g, %g]", n, m[3], x, y, left, right, bottom, top)
			}
		}
		if seen != n {
			t.Errorf("%d cells: %d legend entries", n, seen)
		}
		if xLabel == "" {
			t.Errorf("%d cells: the x axis does not say time to leader, as the title does", n)
		}
	}
}

// TestPlainTicks: tick labels have as few decimals as tell them apart
// (the live plot's axis read "250.00, 750.00").
func TestPlainTicks(t *testing.T) {
	for _, tt := range []struct {
		min, max float64
		want     string
	}{
		{180, 760, "250 500 750"}, // gonum: 250.00 500.00 750.00
		{200, 900, "300 600 900"},
		{0, 100, "0 50 100"},
		{0.1, 0.9, "0.1 0.3 0.5 0.7 0.9"},
		{0.18, 0.76, "0.25 0.50 0.75"}, // as many decimals as the finest needs
	} {
		var labels []string
		for _, tick := range (plainTicks{}).Ticks(tt.min, tt.max) {
			if tick.Label != "" {
				labels = append(labels, tick.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tt.want {
			t.Errorf("[%g, %g]: labels %q, want %q", tt.min, tt.max, got, tt.want)
		}
	}
}
