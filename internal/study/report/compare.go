package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/study/compare"
	"github.com/raftsim/raftsim/scenarios"
)

// Compare is raftsim compare's report: the same trials of a scenario run
// on two Raft implementations, statistic by statistic.
type Compare struct {
	Scenario string        `json:"scenario"`
	Seed     uint64        `json:"seed"`
	Trials   int           `json:"trials"`
	Params   Params        `json:"params"` // the first implementation's; the second differs in impl only
	Measure  Measure       `json:"measure"`
	Impls    []string      `json:"impls"`
	Alpha    float64       `json:"alpha"`
	Stats    []CompareStat `json:"stats"`
	Differs  bool          `json:"differs"`
	// Failed counts each implementation's failed trials; Failures lists
	// the first few of each, with replay commands.
	Failed   map[string]int       `json:"failed"`
	Failures map[string][]Failure `json:"failures"`
	sides    [2]*runner.Aggregate
	labels   [2]string // the implementations as the table names them: etcd with its tick
}

// CompareStat is one statistic of both implementations.
type CompareStat struct {
	Name       string                  `json:"name"`
	Kind       string                  `json:"kind"` // distribution or rate
	Values     map[string]CompareValue `json:"values"`
	KSDistance Num                     `json:"ks_distance"` // null for a rate
	PValue     Num                     `json:"p_value"`
	Differs    bool                    `json:"differs"`
	label      string
}

// CompareValue is one implementation's statistic: a distribution's n,
// mean and quantiles (and, for time to leader, how many trials found no
// leader), or a rate's hits of n.
type CompareValue struct {
	N        int64  `json:"n"`
	Mean     *Num   `json:"mean,omitempty"`
	P50      *Num   `json:"p50,omitempty"`
	P90      *Num   `json:"p90,omitempty"`
	P99      *Num   `json:"p99,omitempty"`
	NoLeader *int   `json:"no_leader,omitempty"`
	Hits     *int64 `json:"hits,omitempty"`
	Rate     *Num   `json:"rate,omitempty"`
}

// listedFailures is how many failures of each implementation the report
// lists.
const listedFailures = 3

// NewCompare reports the comparison st of the runs a and b of scenarios
// s[0] and s[1] (the same but for the implementation), replay giving each
// side's replay command.
func NewCompare(s [2]*scenarios.Scenario, a, b *compare.Side, st []compare.Stat, replay [2]func(uint64) string) *Compare {
	c := &Compare{Scenario: s[0].Name, Seed: s[0].Seed, Trials: a.Agg.Trials, Params: ParamsOf(s[0]), Measure: MeasureOf(s[0]),
		Impls: []string{a.Impl, b.Impl}, Alpha: compare.Alpha, Differs: compare.Differs(st),
		Failed: map[string]int{}, Failures: map[string][]Failure{}, sides: [2]*runner.Aggregate{a.Agg, b.Agg}}
	for k, side := range []*compare.Side{a, b} {
		c.labels[k] = side.Impl
		if p := ParamsOf(s[k]); p.TickMs != nil {
			c.labels[k] += " (tick " + p.TickMs.String("?") + "ms)"
		}
		c.Failed[side.Impl] = side.Agg.Failed
		fs := []Failure{}
		for _, f := range side.Agg.Failures[:min(listedFailures, len(side.Agg.Failures))] {
			fs = append(fs, Failure{Trial: f.Trial, Seed: f.Seed, Kind: f.Kind, Detail: f.Detail, AtMs: ms(f.At), Event: f.Event,
				Replay: replay[k](f.Seed)})
		}
		c.Failures[side.Impl] = fs
	}
	for _, x := range st {
		cs := CompareStat{Name: x.Name, Kind: x.Kind, Values: map[string]CompareValue{}, KSDistance: Num(x.KS), PValue: Num(x.P),
			Differs: x.Differs, label: x.Label}
		for k, v := range x.Of {
			cs.Values[c.Impls[k]] = compareValue(x.Kind, x.Name, v)
		}
		c.Stats = append(c.Stats, cs)
	}
	return c
}

func compareValue(kind, name string, v compare.Value) CompareValue {
	num := func(x float64) *Num { n := Num(x); return &n }
	cv := CompareValue{N: v.N}
	if kind == compare.Rate {
		cv.Hits, cv.Rate = &v.Hits, num(v.Rate)
		return cv
	}
	cv.Mean, cv.P50, cv.P90, cv.P99 = num(v.Mean), num(v.P50), num(v.P90), num(v.P99)
	if name == "time_to_leader_ms" {
		cv.NoLeader = &v.NoLeader
	}
	return cv
}

// Write writes the report in format f.
func (c *Compare) Write(w io.Writer, f Format) error { return write(w, f, c) }

// WriteTable writes the report as text: one row per statistic.
func (c *Compare) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "compare %s: %d trials, seed %d, %s against %s on the same trial seeds\n", c.Scenario, c.Trials, c.Seed, c.labels[0], c.labels[1])
	p := c.Params
	p.Impl, p.TickMs = "", nil // the implementations are the columns
	fmt.Fprintf(&b, "cluster: %s\n", p.Describe())
	fmt.Fprintf(&b, "measured from %s until %s\n\n", c.Measure.From, c.Measure.Until)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	var rows [][]string
	for _, s := range c.Stats {
		differs := ""
		if s.Differs {
			differs = "DIFFERS"
		}
		rows = append(rows, []string{s.label, c.cell(&s, 0), c.cell(&s, 1), s.KSDistance.Fixed(4, "-"), pText(s.PValue), differs})
	}
	right := func(col int) bool { return col > 0 && col < 5 }
	if err := writeTable(w, []string{"statistic", c.Impls[0], c.Impls[1], "KS", "p-value", "differs"}, right, rows); err != nil {
		return err
	}
	b.Reset()
	b.WriteString("time to leader: p50 / p90 / p99 (ms) over the trials that found a leader; its KS over every trial the measurement began in,\n" +
		"  one without a leader counted as longer than any. rounds, terms bumped, disruptions: mean (p99).\n")
	fmt.Fprintf(&b, "differs: p-value below %g, beyond sampling error: two-sample Kolmogorov-Smirnov (asymptotic, conservative for counts),\n"+
		"  and for the split-vote rate a two-proportion z-test.\n", c.Alpha)
	var differ []string
	for _, s := range c.Stats {
		if s.Differs {
			differ = append(differ, s.label)
		}
	}
	if len(differ) > 0 {
		fmt.Fprintf(&b, "%s and %s differ in: %s\n", c.Impls[0], c.Impls[1], strings.Join(differ, ", "))
	} else {
		fmt.Fprintf(&b, "%s and %s differ in no statistic beyond sampling error at %g\n", c.Impls[0], c.Impls[1], c.Alpha)
	}
	for _, impl := range c.Impls {
		if c.Failed[impl] == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s FAILED in %d of %d trials:\n", impl, c.Failed[impl], c.Trials)
		for _, f := range c.Failures[impl] {
			fmt.Fprintf(&b, "  trial %d seed %d: %s at t=%.3fms: %s\n    replay: %s\n", f.Trial, f.Seed, f.Kind, float64(f.AtMs), f.Detail, f.Replay)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell is side k's value of s as the table shows it.
func (c *Compare) cell(s *CompareStat, k int) string {
	v := s.Values[c.Impls[k]]
	if s.Kind == compare.Rate {
		return fmt.Sprintf("%s (%d of %d)", v.Rate.Fixed(4, "-"), *v.Hits, v.N)
	}
	if s.Name == "time_to_leader_ms" {
		text := v.P50.Fixed(1, "-") + " / " + v.P90.Fixed(1, "-") + " / " + v.P99.Fixed(1, "-")
		if *v.NoLeader > 0 {
			text += fmt.Sprintf(", %d no leader", *v.NoLeader)
		}
		return text
	}
	return fmt.Sprintf("%s (%s)", v.Mean.Fixed(2, "-"), v.P99.Fixed(0, "-"))
}

// pText prints a p-value: to three decimals, or below 0.001.
func pText(p Num) string {
	switch {
	case math.IsNaN(float64(p)):
		return "-"
	case p < 0.001:
		return "<0.001"
	}
	return p.Fixed(3, "-")
}

// WriteCSV writes a header and one row per statistic: each
// implementation's values, then the test.
func (c *Compare) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"scenario", "seed", "trials", "statistic", "kind"}
	for _, impl := range c.Impls {
		for _, col := range []string{"n", "mean", "p50", "p90", "p99", "no_leader", "hits", "rate"} {
			header = append(header, impl+"_"+col)
		}
	}
	cw.Write(append(header, "ks_distance", "p_value", "differs"))
	num := func(x *Num) string {
		if x == nil {
			return ""
		}
		return x.String("")
	}
	for _, s := range c.Stats {
		row := []string{c.Scenario, strconv.FormatUint(c.Seed, 10), strconv.Itoa(c.Trials), s.Name, s.Kind}
		for _, impl := range c.Impls {
			v := s.Values[impl]
			noLeader, hits := "", ""
			if v.NoLeader != nil {
				noLeader = strconv.Itoa(*v.NoLeader)
			}
			if v.Hits != nil {
				hits = strconv.FormatInt(*v.Hits, 10)
			}
			row = append(row, strconv.FormatInt(v.N, 10), num(v.Mean), num(v.P50), num(v.P90), num(v.P99), noLeader, hits, num(v.Rate))
		}
		cw.Write(append(row, s.KSDistance.String(""), s.PValue.String(""), strconv.FormatBool(s.Differs)))
	}
	cw.Flush()
	return cw.Error()
}

// CDFPlot draws both implementations' cumulative distributions of time to
// leader on one plot, as [Sweep.CDFPlot] draws a sweep's cells.
func (c *Compare) CDFPlot(title, format string) ([]byte, error) {
	p := newCDFPlot(title)
	for k, agg := range c.sides {
		if err := p.addTrials(c.Impls[k], agg, k); err != nil {
			return nil, err
		}
	}
	return p.render(format)
}
