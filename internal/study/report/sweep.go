package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/scenarios"
)

// Stability is what steady-state runs measured: how often a healthy
// cluster holds a needless election, changes leader, and is without a
// working leader.
type Stability struct {
	Runs                     int       `json:"runs"`
	Hours                    Num       `json:"hours"`
	NeedlessElections        int64     `json:"needless_elections"`
	NeedlessElectionsPerHour Num       `json:"needless_elections_per_hour"`
	LeaderChanges            int64     `json:"leader_changes"`
	LeaderChangesPerHour     Num       `json:"leader_changes_per_hour"`
	LeaderlessMsPerHour      Num       `json:"leaderless_ms_per_hour"`
	DisruptionsPerHour       Num       `json:"disruptions_per_hour"`
	Failed                   int       `json:"failed"`
	Failures                 []Failure `json:"failures"`
}

// StabilityOf summarises steady-state runs; nil when there were none.
// replay spells the command that replays a steady-state run.
func StabilityOf(agg *runner.Aggregate, replay func(uint64) string) *Stability {
	if agg == nil || agg.Trials == 0 {
		return nil
	}
	h := float64(agg.SteadyTime) / float64(time.Hour)
	per := func(x float64) Num {
		if h == 0 {
			return Num(math.NaN())
		}
		return Num(x / h)
	}
	st := &Stability{
		Runs:                     agg.SteadyRuns,
		Hours:                    Num(h),
		NeedlessElections:        agg.Elections,
		NeedlessElectionsPerHour: per(float64(agg.Elections)),
		LeaderChanges:            agg.LeaderChanges,
		LeaderChangesPerHour:     per(float64(agg.LeaderChanges)),
		LeaderlessMsPerHour:      per(float64(agg.Leaderless) / 1e6),
		DisruptionsPerHour:       per(agg.Disruptions.Sum()),
		Failed:                   agg.Failed,
		Failures:                 []Failure{},
	}
	for _, f := range agg.Failures {
		st.Failures = append(st.Failures, Failure{Trial: f.Trial, Seed: f.Seed, Kind: f.Kind, Detail: f.Detail,
			AtMs: ms(f.At), Event: f.Event, Replay: replay(f.Seed)})
	}
	return st
}

// Cell is one combination of a sweep's parameters.
type Cell struct {
	Label       string     `json:"label"` // the varied parameters, as the table shows them
	Params      Params     `json:"params"`
	Group       int        `json:"group"` // cells that differ only in election timeout share a group
	Recommended bool       `json:"recommended"`
	Stability   *Stability `json:"stability,omitempty"`
	Warnings    []string   `json:"warnings,omitempty"` // as Run's
	Stats
	agg    *runner.Aggregate
	values []string // of the varied parameters, in the order of Sweep.Varied
}

// Sweep is the report of raftsim sweep.
type Sweep struct {
	Scenario    string   `json:"scenario"`
	Description string   `json:"description,omitempty"`
	Overrides   []string `json:"overrides,omitempty"` // as Run's, shared by every cell
	Seed        uint64   `json:"seed"`
	Trials      int      `json:"trials"` // per cell, with the same trial seeds in every cell
	Varied      []string `json:"varied"`
	Measure     Measure  `json:"measure"`
	SteadyHours Num      `json:"steady_hours_per_cell"`
	Rule        Rule     `json:"recommendation_rule"`
	Cells       []Cell   `json:"cells"`
}

// Rule is how a sweep recommends an election timeout range in each group.
type Rule struct {
	Text               string  `json:"text"`
	MaxNeedlessPerHour float64 `json:"max_needless_elections_per_hour"`
}

// AddCell adds a cell of scenario s with its trials' aggregate, its
// steady-state aggregate (or nil), and its value of each varied parameter.
func (sw *Sweep) AddCell(values []string, s *scenarios.Scenario, agg, steady *runner.Aggregate, replay, steadyReplay func(uint64) string) {
	c := Cell{Params: ParamsOf(s), Stats: StatsOf(agg, replay), Stability: StabilityOf(steady, steadyReplay), Warnings: warningsOf(s),
		agg: agg, values: values}
	var label []string
	for i, v := range sw.Varied {
		label = append(label, v+" "+values[i])
	}
	c.Label = strings.Join(label, ", ")
	sw.Cells = append(sw.Cells, c)
}

// Mark sets each cell's group and whether the sweep's rule recommends it.
func (sw *Sweep) Mark(groups []int, recommended []bool) {
	for i := range sw.Cells {
		sw.Cells[i].Group, sw.Cells[i].Recommended = groups[i], recommended[i]
	}
}

// Failed counts the failed trials of every cell, steady-state runs included.
func (sw *Sweep) Failed() int {
	n := 0
	for _, c := range sw.Cells {
		n += c.Stats.Failed
		if c.Stability != nil {
			n += c.Stability.Failed
		}
	}
	return n
}

// same reports whether every cell has the same value of varied parameter j.
func (sw *Sweep) same(j int) bool {
	for _, c := range sw.Cells[1:] {
		if c.values[j] != sw.Cells[0].values[j] {
			return false
		}
	}
	return true
}

// Write writes the sweep in format f.
func (sw *Sweep) Write(w io.Writer, f Format) error { return write(w, f, sw) }

// WriteTable writes one row per cell, failover and stability side by side,
// the recommended range of each group marked with *.
func (sw *Sweep) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sweep of %s: %s, %s each (the same trial seeds in every cell), seed %d\n",
		sw.Scenario, scenarios.Count(len(sw.Cells), "cell", "cells"), scenarios.Count(sw.Trials, "trial", "trials"), sw.Seed)
	sets, varied := sw.Overrides, []string(nil)
	for j, name := range sw.Varied {
		if v := sw.Cells[0].values[j]; sw.same(j) {
			sets = append(sets, "--"+name+" "+v) // a list of one value
		} else {
			varied = append(varied, name)
		}
	}
	writeDescription(&b, sw.Description, sets, varied)
	if common, varying := describeCommon(sw.Cells); varying == "" {
		fmt.Fprintf(&b, "cluster: %s\n", common)
	} else {
		fmt.Fprintf(&b, "cluster: %s; per row: %s\n", common, varying)
	}
	fmt.Fprintf(&b, "time to leader in ms, measured from %s until %s", sw.Measure.From, sw.Measure.Until)
	if h := float64(sw.SteadyHours); h > 0 {
		fmt.Fprintf(&b, "; stability from %s of steady state per cell", scenarios.Hours(h))
	}
	b.WriteString("\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	header := append(append([]string{}, sw.Varied...), "trials", "mean", "p50", "p90", "p99", "max", "P(split) [95% CI]", "rounds",
		"stale ms", "terms", "disrupt", "failed")
	steady := float64(sw.SteadyHours) > 0
	if steady {
		header = append(header, "needless/h", "changes/h", "leaderless ms/h")
	}
	header = append(header, "rec")
	nv := len(sw.Varied)
	t := newTable(w, header, func(c int) bool { return c >= nv && c < len(header)-1 })
	noFault, partial := false, false
	for _, c := range sw.Cells {
		row := append([]string{}, c.values...)
		d := c.TimeToLeaderMs
		f1 := func(n Num) string { return n.Fixed(1, "-") }
		trials := strconv.Itoa(c.Trials)
		var unmeasured []string
		if n := c.Started - c.Measured; n > 0 {
			unmeasured = append(unmeasured, fmt.Sprintf("%d no leader", n))
		}
		if n := c.Trials - c.Started; n > 0 {
			unmeasured = append(unmeasured, fmt.Sprintf("%d no fault", n))
			noFault = true
		}
		if len(unmeasured) > 0 {
			trials += " (" + strings.Join(unmeasured, ", ") + ")"
		}
		split := "-"
		if c.Measured > 0 {
			split = fmt.Sprintf("%s [%s,%s]", c.SplitVoteProbability.Fixed(3, "-"), c.SplitVoteCI95[0].Fixed(3, "-"), c.SplitVoteCI95[1].Fixed(3, "-"))
		}
		failed := c.Failed
		if c.Stability != nil {
			failed += c.Stability.Failed
		}
		stale := "-"
		if c.StaleLeaderMs != nil {
			stale = f1(c.StaleLeaderMs.Mean)
		}
		mean := f1(d.Mean)
		if c.Measured > 0 && c.Measured < c.Started {
			mean += fmt.Sprintf(" (%d elected)", c.Measured)
			partial = true
		}
		row = append(row, trials, mean, f1(d.P50), f1(d.P90), f1(d.P99), f1(d.Max), split, c.RoundsMean.Fixed(2, "-"),
			stale, c.TermsBumped.Mean.Fixed(2, "-"), c.Disruptions.Mean.Fixed(2, "-"), strconv.Itoa(failed))
		if steady {
			if st := c.Stability; st != nil {
				row = append(row, st.NeedlessElectionsPerHour.Fixed(1, "-"), st.LeaderChangesPerHour.Fixed(1, "-"), st.LeaderlessMsPerHour.Fixed(1, "-"))
			} else {
				row = append(row, "-", "-", "-")
			}
		}
		rec := ""
		if c.Recommended {
			rec = "*"
		}
		if err := t.Append(append(row, rec)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	b.Reset()
	fmt.Fprintf(&b, "stale ms: mean time a removed leader still believed it led; terms, disrupt: mean terms begun and leaders deposed per trial.\n")
	if partial {
		fmt.Fprintf(&b, "(N elected): the time to leader covers only the N trials that found a leader; those without one are not in the mean or the quantiles.\n")
	}
	if noFault {
		fmt.Fprintf(&b, "no fault: trials in which no step removed a leader (none led when it came), so nothing was measured.\n")
	}
	fmt.Fprintf(&b, "* recommended: %s.\n", sw.Rule.Text)
	if n := sw.Failed(); n > 0 {
		fmt.Fprintf(&b, "FAILED: %s failed; the first of each cell:\n", scenarios.Count(n, "trial", "trials"))
		for _, c := range sw.Cells {
			for _, f := range c.Failures[:min(1, len(c.Failures))] {
				fmt.Fprintf(&b, "  %s: trial %d: %s: %s\n    replay: %s\n", c.Label, f.Trial, f.Kind, f.Detail, f.Replay)
			}
			if c.Stability != nil && len(c.Stability.Failures) > 0 {
				f := c.Stability.Failures[0]
				fmt.Fprintf(&b, "  %s (steady state): run %d: %s: %s\n    replay: %s\n", c.Label, f.Trial, f.Kind, f.Detail, f.Replay)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes a header and one row per cell: a run's columns, with
// group and recommended after the stability columns.
func (sw *Sweep) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(concat(csvHeader, csvStability, []string{"group", "recommended"}, csvMore))
	for _, c := range sw.Cells {
		cw.Write(concat(csvRow(sw.Scenario, sw.Seed, &c.Params, &c.Stats), csvStabilityRow(c.Stability),
			[]string{strconv.Itoa(c.Group), strconv.FormatBool(c.Recommended)}, csvMoreRow(&c.Params, &c.Stats, c.Stability)))
	}
	cw.Flush()
	return cw.Error()
}
