package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/raftsim/raftsim/internal/study/fit"
	"github.com/raftsim/raftsim/scenarios"
)

// Fit is the report of raftsim fit.
type Fit struct {
	Scenario string `json:"scenario"`
	Distance string `json:"distance"` // what was minimised
	// DistanceValue is its value at the fit.
	DistanceValue Num    `json:"distance_value"`
	Family        string `json:"family"`
	// Params holds each fitted distribution in the syntax of its flag
	// (latency, persist, timer-jitter).
	Params            map[string]string `json:"params"`
	LatencyMeanMs     Num               `json:"latency_mean_ms"`
	LatencyMeanCI95Ms [2]Num            `json:"latency_mean_ms_ci95"`
	Estimates         []FitEstimate     `json:"estimates"`
	Families          []FitFamily       `json:"families"`
	Ranges            []FitRange        `json:"ranges"`
	Trials            int               `json:"trials"` // simulated per range and candidate
	Seed              uint64            `json:"seed"`
	Bootstrap         int               `json:"bootstrap"`
	Evaluations       int               `json:"evaluations"`
	// Off lists the components asked for that the best fit leaves out.
	Off []string `json:"off,omitempty"`
	FitHealth
	res *fit.Result
}

// FitHealth says how far the fit can be trusted (see [fit.Health]).
type FitHealth struct {
	Converged  bool        `json:"converged"`
	Bounds     []FitBound  `json:"bounds"`
	Level      float64     `json:"level"`
	Consistent bool        `json:"consistent"`
	Nested     []FitNested `json:"nested,omitempty"`
}

// FitBound is an estimate at an end of the range searched.
type FitBound struct {
	Coordinate string `json:"coordinate"`
	Upper      bool   `json:"upper"`
	Text       string `json:"text"`
}

// FitNested is the best fit over fewer components that the search
// started from.
type FitNested struct {
	Fit      string `json:"fit"` // the components, as --fit takes them
	Distance Num    `json:"distance"`
}

// FitEstimate is a fitted parameter with its bootstrap uncertainty.
type FitEstimate struct {
	Name   string `json:"name"`
	Ms     Num    `json:"ms"`
	SDMs   Num    `json:"sd_ms"`
	CI95Ms [2]Num `json:"ci95_ms"`
}

// FitFamily is the distance a latency family reached.
type FitFamily struct {
	Family   string `json:"family"`
	Distance Num    `json:"distance"`
}

// FitRange is how well the fit matches the trials of one election timeout
// range (and the other conditions of its rows).
type FitRange struct {
	ElectionTimeout string            `json:"election_timeout"`
	Conditions      map[string]string `json:"conditions,omitempty"` // nodes, heartbeat, loss, where ranges differ in them
	N               int               `json:"n"`
	NoLeader        int               `json:"no_leader"`
	KS              Num               `json:"ks"`
	PValue          Num               `json:"p_value"`
	CvM             Num               `json:"cvm"`
	Simulated       int               `json:"simulated"`
	Targets         []FitTarget       `json:"targets,omitempty"`
}

// FitTarget is a published figure and the fit's value of it.
type FitTarget struct {
	Stat        string `json:"stat"`
	TargetMs    Num    `json:"target_ms"`
	SimulatedMs Num    `json:"simulated_ms"`
	// PlausibleMs is the central 1-level of what the figure takes over
	// resamples of the fitted model's trials.
	PlausibleMs [2]Num `json:"plausible_ms"`
}

// NewFit builds the report of a fit of the scenario named name.
func NewFit(name string, r *fit.Result) *Fit {
	f := &Fit{Scenario: name, Distance: r.Distance, DistanceValue: Num(r.Value), Family: fit.FamilyName(r.Family),
		Params: map[string]string{}, Trials: r.Trials, Seed: r.Seed, Bootstrap: r.Bootstrap, Evaluations: r.Evaluations, res: r}
	for _, fd := range r.Fitted {
		f.Params[fd.Component.Flag()] = scenarios.FormatDist(fd.Dist)
	}
	for _, e := range r.Estimates {
		fe := FitEstimate{Name: e.Name, Ms: Num(e.Value), SDMs: Num(e.SD), CI95Ms: [2]Num{Num(e.Lo), Num(e.Hi)}}
		if e.Name == "latency mean" {
			f.LatencyMeanMs, f.LatencyMeanCI95Ms = fe.Ms, fe.CI95Ms
		}
		f.Estimates = append(f.Estimates, fe)
	}
	for _, fam := range r.Families {
		f.Families = append(f.Families, FitFamily{fit.FamilyName(fam.Family), Num(fam.Distance)})
	}
	for _, c := range r.Off {
		f.Off = append(f.Off, c.String())
	}
	f.FitHealth = FitHealth{Converged: r.Converged, Bounds: []FitBound{}, Level: r.Level, Consistent: r.Consistent}
	for _, b := range r.Bounds {
		f.Bounds = append(f.Bounds, FitBound{b.Coordinate, b.Upper, b.Text})
	}
	for _, n := range r.Nested {
		f.Nested = append(f.Nested, FitNested{componentsText(n.Components), Num(n.Distance)})
	}
	varies := map[string]bool{} // condition flags whose value differs between ranges; looked up only
	for i := range r.Groups {
		for _, c := range r.Groups[i].Conditions {
			varies[c.Flag] = varies[c.Flag] || r.Groups[0].Conditions.Text(c.Flag) != c.Text
		}
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		fr := FitRange{N: len(g.Times), NoLeader: g.NoLeader(), KS: Num(g.KS), PValue: Num(g.PValue), CvM: Num(g.CvM), Simulated: len(g.Simulated)}
		for _, c := range g.Conditions {
			if c.Flag == "election-timeout" {
				fr.ElectionTimeout = c.Text
				continue
			}
			if !varies[c.Flag] {
				continue
			}
			if fr.Conditions == nil {
				fr.Conditions = map[string]string{}
			}
			fr.Conditions[c.Flag] = c.Text
		}
		for j, t := range g.Targets {
			fr.Targets = append(fr.Targets, FitTarget{t.Stat.String(), Num(t.Value), Num(g.Achieved[j]),
				[2]Num{Num(g.Plausible[j][0]), Num(g.Plausible[j][1])}})
		}
		f.Ranges = append(f.Ranges, fr)
	}
	return f
}

// Write writes the fit as a table or JSON.
func (f *Fit) Write(w io.Writer, format Format) error {
	if format == JSON {
		return WriteJSON(w, f)
	}
	return f.WriteTable(w)
}

// WriteTable writes the fit as text for people.
func (f *Fit) WriteTable(w io.Writer) error {
	r := f.res
	var b strings.Builder
	targets := r.Distance == fit.DistanceTargets
	n := 0
	for _, fr := range f.Ranges {
		n += fr.N + len(fr.Targets)
	}
	what := scenarios.Count(n, "measured trial", "measured trials")
	if targets {
		what = scenarios.Count(n, "published figure", "published figures")
	}
	fmt.Fprintf(&b, "fit of %s to %s; %s per range and candidate, seed %d, %s\n",
		f.Scenario, what, scenarios.Count(f.Trials, "simulated trial", "simulated trials"), f.Seed, scenarios.Count(f.Evaluations, "candidate", "candidates"))
	fmt.Fprintf(&b, "distance minimised: %s\n", f.Distance)
	var fams []string
	for _, fam := range f.Families {
		fams = append(fams, fam.Family+" "+fam.Distance.Fixed(4, "-"))
	}
	fmt.Fprintf(&b, "latency family %s (distance by family: %s)\n", f.Family, strings.Join(fams, ", "))
	fmt.Fprintf(&b, "fitted: %s\n", f.Flags())
	f.writeHealth(&b)
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	var rows [][]string
	for _, e := range f.Estimates {
		ci := e.CI95Ms[0].Fixed(3, "-") + " - " + e.CI95Ms[1].Fixed(3, "-")
		rows = append(rows, []string{e.Name, e.Ms.Fixed(3, "-"), e.SDMs.Fixed(3, "-"), ci})
	}
	if err := writeTable(w, []string{"parameter", "ms", "sd", "95% interval"}, func(c int) bool { return c > 0 }, rows); err != nil {
		return err
	}
	rows = nil
	header := []string{"range", "n", "no leader", "KS", "p-value", "CvM"}
	for _, fr := range f.Ranges {
		if !targets {
			rows = append(rows, []string{fr.label(), strconv.Itoa(fr.N), strconv.Itoa(fr.NoLeader), fr.KS.Fixed(4, "-"), fr.PValue.Fixed(3, "-"), fr.CvM.Fixed(3, "-")})
			continue
		}
		header = []string{"range", "statistic", "target ms", "simulated ms", fmt.Sprintf("%g%% of the model's", 100*(1-f.Level))}
		for _, tg := range fr.Targets {
			rows = append(rows, []string{fr.label(), tg.Stat, tg.TargetMs.Fixed(1, "-"), tg.SimulatedMs.Fixed(1, "-"), tg.plausible()})
		}
	}
	if err := writeTable(w, header, func(c int) bool { return c > 0 && (!targets || c > 1) }, rows); err != nil {
		return err
	}
	b.Reset()
	switch {
	case f.Bootstrap > 0 && targets:
		fmt.Fprintf(&b, "sd and 95%% interval: %d bootstrap replicates, resampling the simulated trials, each figure varied as much as the fit's own\n", f.Bootstrap)
	case f.Bootstrap > 0:
		fmt.Fprintf(&b, "sd and 95%% interval: %d bootstrap replicates, resampling the measured and the simulated trials\n", f.Bootstrap)
	default:
		b.WriteString("no bootstrap: no uncertainty\n")
	}
	if !targets {
		b.WriteString("KS: two-sample Kolmogorov-Smirnov statistic against the fitted model's trials, trials without a leader counted as longer than any;\n" +
			"its p-value ignores that the parameters were fitted to these data, so it overstates the fit\n")
	} else {
		fmt.Fprintf(&b, "%g%% of the model's: where the figure falls in %g%% of resamples of the fitted model's trials (as many as it simulates per range); "+
			"for a maximum, which resamples cannot judge, above what the largest of as many trials of the model exceeds with probability %g%%\n",
			100*(1-f.Level), 100*(1-f.Level), 100*(1-f.Level/2))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Flags writes the fitted model as the flags that set it:
// "--latency uniform:2130us-3870us".
func (f *Fit) Flags() string {
	var flags []string
	for _, fd := range f.res.Fitted {
		flags = append(flags, "--"+fd.Component.Flag()+" "+f.Params[fd.Component.Flag()])
	}
	return strings.Join(flags, " ")
}

// ScenarioFile is the scenario with the fitted network as a file for run
// and sweep, which names what it was fitted to: comment lines with the
// command that fitted it, its sources and the fit's health, and a
// description that says so before the scenario's own.
func (f *Fit) ScenarioFile(command string, sources []string) []byte {
	s := *f.res.Scenario
	n := 0
	for _, fr := range f.Ranges {
		n += fr.N + len(fr.Targets)
	}
	what := scenarios.Count(n, "measured trial", "measured trials")
	if f.res.Distance == fit.DistanceTargets {
		what = scenarios.Count(n, "published figure", "published figures")
	}
	what += " in " + scenarios.Count(len(f.Ranges), "range", "ranges")
	src := strings.Join(sources, ", ")
	s.Description = fmt.Sprintf("%s with its network fitted by raftsim fit to %s (%s): %s.", f.Scenario, src, what, f.Flags())
	if own := f.res.Scenario.Description; own != "" {
		s.Description += " The scenario's own description: " + own
	}
	verdict := "consistent"
	if !f.Consistent {
		verdict = "NOT consistent"
	}
	header := fmt.Sprintf("# Fitted by: %s\n# to: %s (%s)\n# fitted: %s (distance %s); %s with the %s at the %g%% level\n",
		command, src, what, f.Flags(), f.DistanceValue.Fixed(4, "-"), verdict, f.Observed(), 100*f.Level)
	return append([]byte(header), s.YAML()...)
}

// writeHealth writes how far the fit can be trusted: a line on its
// search, one per estimate on a search bound, and one on its consistency
// with the observations.
func (f *Fit) writeHealth(b *strings.Builder) {
	if len(f.Nested) > 0 {
		var from []string
		for _, n := range f.Nested {
			from = append(from, fmt.Sprintf("--fit %s (distance %s)", n.Fit, n.Distance.Fixed(4, "-")))
		}
		fmt.Fprintf(b, "started from the best fit over fewer components, %s: it never ends worse\n", strings.Join(from, ", then "))
	}
	if len(f.Off) > 0 {
		fmt.Fprintf(b, "left out: %s (the fit is no better with %s: the scenario's own value is kept, or none)\n",
			strings.Join(f.Off, ", "), map[bool]string{true: "it", false: "them"}[len(f.Off) == 1])
	}
	switch {
	case f.Converged && len(f.Bounds) == 0:
		b.WriteString("search: converged; no estimate on a search bound\n")
	case f.Converged:
		b.WriteString("search: converged\n")
	default:
		b.WriteString("search: NOT CONVERGED: its last Nelder-Mead run stopped at its limit of evaluations still improving by more than chance, so a better fit may exist\n")
	}
	for _, bd := range f.Bounds {
		fmt.Fprintf(b, "on a search bound: %s\n", bd.Text)
	}
	if f.Consistent {
		fmt.Fprintf(b, "consistent with the %s at the %g%% level%s\n", f.Observed(), 100*f.Level, f.test())
		return
	}
	fmt.Fprintf(b, "NOT CONSISTENT with the %s at the %g%% level%s: %s\n", f.Observed(), 100*f.Level, f.test(), strings.Join(f.Rejections(), "; "))
}

// Observed names what the fit was fitted to: data, or published figures.
func (f *Fit) Observed() string {
	if f.res.Distance == fit.DistanceTargets {
		return "published figures"
	}
	return "data"
}

// test names the consistency test.
func (f *Fit) test() string {
	if f.res.Distance == fit.DistanceTargets {
		return fmt.Sprintf(" (each figure within the %g%% of the model's)", 100*(1-f.Level))
	}
	return fmt.Sprintf(" (KS p-value at least %g in every range)", f.Level)
}

// Rejections lists the ranges, or figures, that reject the best model.
func (f *Fit) Rejections() []string {
	var out []string
	for _, fr := range f.Ranges {
		if len(fr.Targets) == 0 {
			if !(float64(fr.PValue) >= f.Level) {
				out = append(out, fmt.Sprintf("%s: KS %s, p-value %s", fr.label(), fr.KS.Fixed(3, "-"), fr.PValue.Fixed(3, "-")))
			}
			continue
		}
		for _, tg := range fr.Targets {
			if !(tg.TargetMs >= tg.PlausibleMs[0] && tg.TargetMs <= tg.PlausibleMs[1]) {
				out = append(out, fmt.Sprintf("%s %s: %sms, the model's %sms (%s)", fr.label(), tg.Stat, tg.TargetMs.Fixed(1, "-"),
					tg.SimulatedMs.Fixed(1, "-"), tg.plausible()))
			}
		}
	}
	return out
}

// plausible writes the range of the model's values of a figure: "248.9 -
// 269.7", or for a maximum, which has no upper end, "at least 491.0".
func (t *FitTarget) plausible() string {
	if math.IsInf(float64(t.PlausibleMs[1]), 1) {
		return "at least " + t.PlausibleMs[0].Fixed(1, "-")
	}
	return t.PlausibleMs[0].Fixed(1, "-") + " - " + t.PlausibleMs[1].Fixed(1, "-")
}

// componentsText writes components as --fit takes them.
func componentsText(comps []fit.Component) string {
	var names []string
	for _, c := range comps {
		names = append(names, c.String())
	}
	return strings.Join(names, ",")
}

// label names a range and its other conditions.
func (fr *FitRange) label() string {
	s := fr.ElectionTimeout
	for _, p := range scenarios.SweptParams {
		if v, ok := fr.Conditions[p.Flag]; ok && p.Column && p.Flag != "election-timeout" {
			s += ", " + p.Flag + " " + v
		}
	}
	return s
}

// Plot draws, for each range, the data's cumulative distribution of time
// to leader (solid) against the fitted model's (dashed), in the range's
// colour; targets are points. format is "svg" or "png".
func (f *Fit) Plot(title, format string) ([]byte, error) {
	c := newCDFPlot(title)
	for i := range f.res.Groups {
		g := &f.res.Groups[i]
		label := f.Ranges[i].label()
		if len(g.Times) > 0 {
			x, pct := finiteCDF(g.Times)
			if err := c.add(label+" data", x, pct, i, 0); err != nil {
				return nil, err
			}
		}
		x, pct := finiteCDF(g.Simulated)
		if err := c.add(label+" fitted", x, pct, i, 1); err != nil {
			return nil, err
		}
		var pts plotter.XYs
		for _, t := range g.Targets {
			pts = append(pts, plotter.XY{X: t.Value, Y: targetPercent(t, g.Simulated)})
		}
		if len(pts) > 0 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: lineColors[i%len(lineColors)], Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
			c.p.Add(sc)
			c.legend.Add(label+" published", sc)
			for _, p := range pts {
				c.lo, c.hi = math.Min(c.lo, p.X), math.Max(c.hi, p.X)
			}
		}
	}
	return c.render(format)
}

// finiteCDF returns the times of a sorted sample that are finite and the
// cumulative percent of the whole sample at each.
func finiteCDF(xs []float64) (x, pct []float64) {
	for j, v := range xs {
		if math.IsInf(v, 1) {
			break
		}
		x = append(x, v)
		pct = append(pct, 100*float64(j+1)/float64(len(xs)))
	}
	return x, pct
}

// targetPercent is where a published figure is drawn: at its quantile, at
// 100% for the maximum, and for the mean where the fitted curve is at
// that time.
func targetPercent(t fit.Target, simulated []float64) float64 {
	switch t.Stat {
	case fit.P50:
		return 50
	case fit.P90:
		return 90
	case fit.P99:
		return 99
	case fit.Max:
		return 100
	}
	n := 0
	for _, v := range simulated {
		if v <= t.Value {
			n++
		}
	}
	return 100 * float64(n) / float64(max(1, len(simulated)))
}
