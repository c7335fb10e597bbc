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
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/scenarios"
)

// Stability is what steady-state runs measured: how often a healthy
// cluster holds a needless election, changes leader, and is without a
// working leader. Each rate of events per hour has, beside it under the
// same key with _ci, its exact (Garwood) 95% Poisson interval.
type Stability struct {
	Runs                       int       `json:"runs"`
	Hours                      Num       `json:"hours"`
	NeedlessElections          int64     `json:"needless_elections"`
	NeedlessElectionsPerHour   Num       `json:"needless_elections_per_hour"`
	NeedlessElectionsPerHourCI [2]Num    `json:"needless_elections_per_hour_ci"`
	LeaderChanges              int64     `json:"leader_changes"`
	LeaderChangesPerHour       Num       `json:"leader_changes_per_hour"`
	LeaderChangesPerHourCI     [2]Num    `json:"leader_changes_per_hour_ci"`
	LeaderlessMsPerHour        Num       `json:"leaderless_ms_per_hour"`
	DisruptionsPerHour         Num       `json:"disruptions_per_hour"`
	DisruptionsPerHourCI       [2]Num    `json:"disruptions_per_hour_ci"`
	Failed                     int       `json:"failed"`
	Failures                   []Failure `json:"failures"`
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
	ci := func(k int64) [2]Num {
		lo, hi := stats.Poisson95(k)
		return [2]Num{per(lo), per(hi)}
	}
	st := &Stability{
		Runs:                       agg.SteadyRuns,
		Hours:                      Num(h),
		NeedlessElections:          agg.Elections,
		NeedlessElectionsPerHour:   per(float64(agg.Elections)),
		NeedlessElectionsPerHourCI: ci(agg.Elections),
		LeaderChanges:              agg.LeaderChanges,
		LeaderChangesPerHour:       per(float64(agg.LeaderChanges)),
		LeaderChangesPerHourCI:     ci(agg.LeaderChanges),
		LeaderlessMsPerHour:        per(float64(agg.Leaderless) / 1e6),
		DisruptionsPerHour:         per(agg.Disruptions.Sum()),
		DisruptionsPerHourCI:       ci(int64(agg.Disruptions.Sum())),
		Failed:                     agg.Failed,
		Failures:                   []Failure{},
	}
	for _, f := range agg.Failures {
		st.Failures = append(st.Failures, Failure{Trial: f.Trial, Seed: f.Seed, Kind: f.Kind, Detail: f.Detail,
			AtMs: ms(f.At), Event: f.Event, Replay: replay(f.Seed)})
	}
	return st
}

// Cell is one combination of a sweep's parameters.
type Cell struct {
	Label       string `json:"label"` // the varied parameters, as the table shows them
	Params      Params `json:"params"`
	Group       int    `json:"group"` // cells that differ only in election timeout share a group
	Recommended bool   `json:"recommended"`
	// StabilityVerdict is how the cell's needless elections per hour stand
	// to the rule's threshold: below (the whole 95% interval at or under
	// it), above (wholly over it) or undecided (the interval holds it);
	// none without steady state.
	StabilityVerdict string `json:"stability_verdict,omitempty"`
	// RecommendationNote, for a recommended cell that draws warnings, says
	// how the recommendation and the warnings relate.
	RecommendationNote string     `json:"recommendation_note,omitempty"`
	Stability          *Stability `json:"stability,omitempty"`
	Warnings           []string   `json:"warnings,omitempty"` // as Run's
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
	// Undecided lists the groups the data cannot decide: no range is
	// recommended in them, and Text says why and what would decide.
	Undecided []Undecided `json:"undecided,omitempty"`
}

// Rule is how a sweep recommends an election timeout range in each group.
type Rule struct {
	Text               string  `json:"text"`
	MaxNeedlessPerHour float64 `json:"max_needless_elections_per_hour"`
	// Confidence is the level of the intervals the rule compares with its
	// threshold; MaxSteadyHours the most steady state a cell may get when
	// its interval holds the threshold.
	Confidence     float64 `json:"confidence"`
	MaxSteadyHours Num     `json:"max_steady_hours_per_cell"`
}

// Undecided is a group without a recommendation because the data cannot
// decide: Cell is the label of the range the rule would pick, were its
// stability shown.
type Undecided struct {
	Group int    `json:"group"`
	Cell  string `json:"cell"`
	Text  string `json:"text"`
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

// Mark sets each cell's group, its stability verdict and whether the
// sweep's rule recommends it, and the groups it cannot decide.
func (sw *Sweep) Mark(d sweep.Decision) {
	for i := range sw.Cells {
		c := &sw.Cells[i]
		c.Group, c.Recommended, c.StabilityVerdict = d.Groups[i], d.Recommended[i], d.Verdicts[i].String()
	}
	for i := range sw.Cells {
		if c := &sw.Cells[i]; c.Recommended && len(c.Warnings) > 0 {
			var alt *Cell
			if j := d.Unwarned[i]; j >= 0 {
				alt = &sw.Cells[j]
			}
			c.RecommendationNote = recommendationNote(c, d.Verdicts[i], alt)
		}
	}
	for _, o := range d.Open {
		sw.Undecided = append(sw.Undecided, Undecided{Group: o.Group, Cell: sw.Cells[o.Cell].Label, Text: o.Text})
	}
}

// recommendationNote says how a recommended cell's warnings and its
// recommendation relate; alt is the best cell of its group the rule
// accepts that draws no warning, or nil.
func recommendationNote(c *Cell, v sweep.Verdict, alt *Cell) string {
	warned := strings.Join(c.Warnings, "; and ")
	var note string
	if v != sweep.Below {
		note = "recommended on time to leader alone, though " + warned +
			". The warnings are about needless elections, and stability was not measured (--steady-time 0): measure it (--steady-time 1h) before you rely on this range"
	} else {
		st := c.Stability
		note = fmt.Sprintf("recommended although %s. The warnings are rules of thumb against needless elections; the steady state measured here "+
			"shows %s [%s, %s] per hour under this network model, within --max-needless. They keep a margin for what the model may lack "+
			"(latency spikes, slow disks, a busy machine): if your network's latency varies more than --latency says, prefer a range that draws no warning",
			warned, st.NeedlessElectionsPerHour.Fixed(2, "-"), st.NeedlessElectionsPerHourCI[0].Fixed(2, "-"), st.NeedlessElectionsPerHourCI[1].Fixed(2, "-"))
	}
	switch {
	case alt == nil:
		return note + " (none in this group does)"
	case alt.StabilityVerdict == sweep.Undecided.String():
		st := alt.Stability
		return fmt.Sprintf("%s; the best that does not is %s (p99 %sms), its stability not shown: %s [%s, %s] needless elections per hour "+
			"over %s (run it alone for longer)", note, alt.Params.electionTimeout(), alt.TimeToLeaderMs.P99.Fixed(1, "-"),
			st.NeedlessElectionsPerHour.Fixed(2, "-"), st.NeedlessElectionsPerHourCI[0].Fixed(2, "-"), st.NeedlessElectionsPerHourCI[1].Fixed(2, "-"),
			scenarios.Hours(float64(st.Hours)))
	}
	return fmt.Sprintf("%s; the best that does not is %s (p99 %sms)", note, alt.Params.electionTimeout(), alt.TimeToLeaderMs.P99.Fixed(1, "-"))
}

// electionTimeout writes the election timeout range as flags take it.
func (p *Params) electionTimeout() string {
	return fmt.Sprintf("%s-%sms", p.ElectionTimeoutMs[0].String("?"), p.ElectionTimeoutMs[1].String("?"))
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
		header = append(header, "needless/h [95% CI]", "changes/h", "leaderless ms/h")
	}
	open := map[string]bool{} // the cells of undecided groups the rule would pick; looked up only
	for _, u := range sw.Undecided {
		open[u.Cell] = true
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
				needless := fmt.Sprintf("%s [%s,%s]", st.NeedlessElectionsPerHour.Fixed(1, "-"), st.NeedlessElectionsPerHourCI[0].Fixed(1, "-"),
					st.NeedlessElectionsPerHourCI[1].Fixed(1, "-"))
				row = append(row, needless, st.LeaderChangesPerHour.Fixed(1, "-"), st.LeaderlessMsPerHour.Fixed(1, "-"))
			} else {
				row = append(row, "-", "-", "-")
			}
		}
		rec := ""
		switch {
		case c.Recommended:
			rec = "*"
		case open[c.Label]:
			rec = "?"
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
	if steady {
		fmt.Fprintf(&b, "needless/h: needless elections per hour with the exact 95%% Poisson interval.\n")
		var longer []string
		for _, c := range sw.Cells {
			if c.Stability != nil && c.Stability.Hours > sw.SteadyHours {
				longer = append(longer, fmt.Sprintf("%s: %s", c.Label, scenarios.Hours(float64(c.Stability.Hours))))
			}
		}
		if len(longer) > 0 {
			fmt.Fprintf(&b, "more steady state where the interval held --max-needless (at most %s per cell): %s.\n",
				scenarios.Hours(float64(sw.Rule.MaxSteadyHours)), strings.Join(longer, "; "))
		}
	}
	fmt.Fprintf(&b, "* recommended: %s.\n", sw.Rule.Text)
	for _, c := range sw.Cells {
		if c.RecommendationNote != "" {
			fmt.Fprintf(&b, "* %s: %s.\n", c.Label, c.RecommendationNote)
		}
	}
	for _, u := range sw.Undecided {
		fmt.Fprintf(&b, "? %s: no recommendation in its group: %s.\n", u.Cell, u.Text)
	}
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
	cw.Write(concat(csvHeader, csvStability, []string{"group", "recommended"}, csvMore, []string{"stability_verdict"}))
	for _, c := range sw.Cells {
		cw.Write(concat(csvRow(sw.Scenario, sw.Seed, &c.Params, &c.Stats), csvStabilityRow(c.Stability),
			[]string{strconv.Itoa(c.Group), strconv.FormatBool(c.Recommended)}, csvMoreRow(&c.Params, &c.Stats, c.Stability),
			[]string{c.StabilityVerdict}))
	}
	cw.Flush()
	return cw.Error()
}
