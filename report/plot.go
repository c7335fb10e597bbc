package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/raftsim/raftsim/runner"
)

// PlotFormat returns the image format a plot file's extension asks for.
func PlotFormat(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	}
	return "", fmt.Errorf("plot %s: want a .svg or .png file", path)
}

// CDFPlot draws the cumulative distribution of time to leader, one line per
// cell, like the Raft paper's Figure 16: x is the time without a leader in
// ms, on a log scale when the values span two decades or more; y is the
// cumulative percent of all trials, so trials that found no leader keep a
// line below 100%. format is "svg" or "png".
func (sw *Sweep) CDFPlot(title, format string) ([]byte, error) {
	lines := make([]cdfLine, len(sw.Cells))
	for i, c := range sw.Cells {
		lines[i] = cdfLine{legendLabel(c.Label), c.agg}
	}
	return cdfPlot(title, format, lines)
}

// cdfLine is one line of a CDF plot: the time to leader of agg's trials.
type cdfLine struct {
	label string
	agg   *runner.Aggregate
}

func cdfPlot(title, format string, lines []cdfLine) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time without leader (ms)"
	p.Y.Label.Text = "cumulative percent"
	p.Add(plotter.NewGrid())
	lo, hi := 0.0, 0.0
	var empty []string
	for i, c := range lines {
		if c.agg == nil || c.agg.TimeToLeader.N() == 0 {
			empty = append(empty, c.label)
			continue
		}
		x, frac := c.agg.TimeToLeader.CDF()
		share := float64(c.agg.Measured) / float64(c.agg.Started) // of the trials that reached the measured fault
		pts := make(plotter.XYs, 0, len(x)+1)
		for j := range x {
			ms := x[j] / 1e6
			if len(pts) == 0 {
				pts = append(pts, plotter.XY{X: ms, Y: 0})
			}
			pts = append(pts, plotter.XY{X: ms, Y: 100 * frac[j] * share})
			if lo == 0 || ms < lo {
				lo = ms
			}
			hi = max(hi, ms)
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color = lineColors[i%len(lineColors)]
		l.Dashes = plotutil.Dashes(i / len(lineColors))
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(c.label, l)
	}
	for _, label := range empty {
		// No trial found a leader: a legend entry with no line says so.
		p.Legend.Add(label + ": no leader")
	}
	if hi > 100*lo && lo > 0 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Label.Text += ", log scale"
		p.X.Min = math.Pow(10, math.Floor(math.Log10(lo))) // start at a labelled decade
	}
	p.Y.Min, p.Y.Max = 0, 100
	p.Legend.Left = false
	p.Legend.Top = false
	p.Legend.XOffs = -vg.Points(4)
	p.Legend.YOffs = vg.Points(4)
	wt, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// legendLabel drops the parameter names when the sweep varies only the
// election timeout, as the paper's legends do.
func legendLabel(label string) string {
	if rest, ok := strings.CutPrefix(label, "election-timeout "); ok && !strings.Contains(rest, ", ") {
		return rest
	}
	return label
}

// lineColors are ten colours a reader can tell apart (Tableau 10), so a
// sweep of ten ranges, like Figure 16's, needs no dashes; gonum's default
// palette has two near-identical reds among its seven.
var lineColors = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}
