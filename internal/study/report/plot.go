package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/raftsim/raftsim/internal/runner"
)

// PlotFormat returns the image format a plot file's extension asks for:
// png or svg, and svg for a path without one (standard output, a FIFO).
func PlotFormat(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	case "":
		return "svg", nil
	}
	return "", fmt.Errorf("plot %s: want a .svg or .png file", path)
}

// CDFPlot draws the cumulative distribution of time to leader, one line per
// cell, like the Raft paper's Figure 16: x is the time to leader in ms, on
// a log scale when the values span two decades or more; y is the
// cumulative percent of all trials, so trials that found no leader keep a
// line below 100%. The legend stands right of the axes, never over a
// curve, and the image grows as tall as its entries need. format is "svg"
// or "png".
func (sw *Sweep) CDFPlot(title, format string) ([]byte, error) {
	c := newCDFPlot(title)
	for i, cell := range sw.Cells {
		if err := c.addTrials(legendLabel(cell.Label), cell.agg, i); err != nil {
			return nil, err
		}
	}
	return c.render(format)
}

// cdfPlot is a plot of cumulative distributions of time to leader, with
// its legend beside it.
type cdfPlot struct {
	p      *plot.Plot
	legend plot.Legend
	lo, hi float64 // the smallest and largest time drawn, in ms
}

func newCDFPlot(title string) *cdfPlot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time to leader (ms)"
	p.Y.Label.Text = "cumulative percent of trials"
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	return &cdfPlot{p: p, legend: legend}
}

// add draws one distribution as steps: x are times in ms, increasing, and
// pct the cumulative percent at each. The line has colour i and dash
// pattern dashes (and more when colours run out).
func (c *cdfPlot) add(label string, x, pct []float64, i, dashes int) error {
	pts := make(plotter.XYs, 0, len(x)+1)
	for j, ms := range x {
		if len(pts) == 0 {
			pts = append(pts, plotter.XY{X: ms, Y: 0})
		}
		pts = append(pts, plotter.XY{X: ms, Y: pct[j]})
		if c.lo == 0 || ms < c.lo {
			c.lo = ms
		}
		c.hi = max(c.hi, ms)
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.StepStyle = plotter.PostStep
	l.Color = lineColors[i%len(lineColors)]
	l.Dashes = plotutil.Dashes(dashes + i/len(lineColors))
	l.Width = vg.Points(1.2)
	c.p.Add(l)
	c.legend.Add(label, l)
	return nil
}

// addTrials draws the times to leader of agg's trials with colour i, as
// a percent of the trials that reached the measured fault, so trials that
// found no leader keep the line below 100%. With none to draw, a legend
// entry without a line says so.
func (c *cdfPlot) addTrials(label string, agg *runner.Aggregate, i int) error {
	if agg == nil || agg.TimeToLeader.N() == 0 {
		c.legend.Add(label + ": no leader")
		return nil
	}
	x, frac := agg.TimeToLeader.CDF()
	share := float64(agg.Measured) / float64(agg.Started)
	pct := make([]float64, len(x))
	for j := range x {
		x[j] /= 1e6
		pct[j] = 100 * frac[j] * share
	}
	return c.add(label, x, pct, i, 0)
}

// render sets the axes and writes the plot as an image: x on a log scale
// when the times span two decades or more; the legend a column right of
// the axes, never over a curve.
func (c *cdfPlot) render(format string) ([]byte, error) {
	p := c.p
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	if c.hi > 100*c.lo && c.lo > 0 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Label.Text = "time to leader (ms, log scale)"
		p.X.Min = math.Pow(10, math.Floor(math.Log10(c.lo))) // start at a labelled decade
	}
	p.Y.Min, p.Y.Max = 0, 100

	// The axes take 7 by 4.5 inches; the legend a column to their right,
	// top-aligned with the axes, as wide and tall as its entries.
	gap := vg.Points(12)
	size := c.legend.Rectangle(draw.Canvas{}).Size()
	titleH := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	w := 7*vg.Inch + size.X + 2*gap
	h := max(4.5*vg.Inch, titleH+size.Y+2*gap)
	cw, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(cw)
	dc.SetColor(color.White) // the legend's column too, not only the axes' part
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, 0, -(size.X + 2*gap), 0, 0))
	c.legend.Draw(draw.Crop(dc, w-size.X-gap, 0, 0, -titleH-gap))
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// plainTicks are gonum's default ticks, labelled with as few decimals as
// tell them apart: 250, 500, 750 rather than 250.00, 500.00, 750.00 (gonum
// gives two decimals whenever its step is 2.5 of a power of ten).
type plainTicks struct{}

// Ticks implements plot.Ticker.
func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for prec := 0; prec <= 6; prec++ {
		exact := true
		for _, t := range ticks {
			if t.Label == "" {
				continue
			}
			v, _ := strconv.ParseFloat(strconv.FormatFloat(t.Value, 'f', prec, 64), 64)
			exact = exact && math.Abs(v-t.Value) <= 1e-9*math.Max(1, math.Abs(t.Value))
		}
		if exact || prec == 6 {
			for i := range ticks {
				if ticks[i].Label != "" {
					ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', prec, 64)
				}
			}
			return ticks
		}
	}
	return ticks
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
