package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/raftsim/raftsim/scenarios"
)

// Format is an output format.
type Format string

// The output formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	CSV   Format = "csv"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Table, JSON, CSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want table, json or csv)", s)
}

// WriteJSON writes v as indented JSON, with <, > and & as themselves
// (n1<->n2, not n1\u003c-\u003en2).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// newTable returns a table with ASCII borders, headers as written, no
// wrapping, and the given columns right-aligned.
func newTable(w io.Writer, header []string, right func(col int) bool) *tablewriter.Table {
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
		if right(i) {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
	t.Header(header)
	return t
}

// writeTable writes rows as a table under header, the columns right says
// right-aligned.
func writeTable(w io.Writer, header []string, right func(col int) bool, rows [][]string) error {
	t := newTable(w, header, right)
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

func distRow(name string, d Dist, decimals int) []string {
	f := func(n Num) string { return n.Fixed(decimals, "-") }
	return []string{name, strconv.FormatInt(d.N, 10), f(d.Mean), f(d.StdDev), f(d.P50), f(d.P90), f(d.P99), f(d.Max)}
}

// WriteTable writes the run as text for people.
func (r *Run) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s: %s, seed %d\n", r.Scenario, scenarios.Count(r.Trials, "trial", "trials"), r.Seed)
	r.writeHeader(&b)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := r.Stats.writeTable(w, r.Expect); err != nil {
		return err
	}
	b.Reset()
	if st := r.Stability; st != nil {
		ci := func(x [2]Num) string { return "[" + x[0].Fixed(2, "-") + ", " + x[1].Fixed(2, "-") + "]" }
		fmt.Fprintf(&b, "steady state, %s in %s: %s %s needless elections, %s %s leader changes, %s %s disruptions and %s ms without a working leader per hour (95%% intervals)\n",
			scenarios.Hours(float64(st.Hours)), scenarios.Count(st.Runs, "run", "runs"), st.NeedlessElectionsPerHour.Fixed(2, "-"), ci(st.NeedlessElectionsPerHourCI),
			st.LeaderChangesPerHour.Fixed(2, "-"), ci(st.LeaderChangesPerHourCI), st.DisruptionsPerHour.Fixed(2, "-"), ci(st.DisruptionsPerHourCI),
			st.LeaderlessMsPerHour.Fixed(1, "-"))
		for _, f := range st.Failures {
			fmt.Fprintf(&b, "  steady run %d seed %d: %s: %s\n    replay: %s\n", f.Trial, f.Seed, f.Kind, f.Detail, f.Replay)
		}
	}
	writeFound(&b, r.Found)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHeader writes the lines under a report's first: the description,
// the cluster, and what is measured.
func (r *Run) writeHeader(b *strings.Builder) {
	writeDescription(b, r.Description, r.Overrides, nil)
	fmt.Fprintf(b, "cluster: %s\n", r.Params.Describe())
	fmt.Fprintf(b, "measured from %s until %s\n\n", r.Measure.From, r.Measure.Until)
}

// writeTable writes the statistics' table and the summary under it.
func (s *Stats) writeTable(w io.Writer, expect []string) error {
	rows := [][]string{
		distRow("time to leader (ms)", s.TimeToLeaderMs, 1),
		distRow("election rounds", s.Rounds, 2),
	}
	if s.StaleLeaderMs != nil {
		rows = append(rows, distRow("stale leader (ms)", *s.StaleLeaderMs, 1))
	}
	rows = append(rows, distRow("terms bumped", s.TermsBumped, 2), distRow("disruptions", s.Disruptions, 2))
	if err := writeTable(w, []string{"metric", "n", "mean", "stddev", "p50", "p90", "p99", "max"}, func(c int) bool { return c > 0 }, rows); err != nil {
		return err
	}
	var b strings.Builder
	s.writeSummary(&b, expect)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDescription writes a scenario's description, and, when the
// command line changed the scenario or a sweep varies it, a line saying
// that the description is the scenario's own and what differs from it.
func writeDescription(b *strings.Builder, description string, overrides, varied []string) {
	if description == "" {
		return
	}
	fmt.Fprintf(b, "  %s\n", description)
	var changes []string
	if len(overrides) > 0 {
		changes = append(changes, "the command line sets "+strings.Join(overrides, " "))
	}
	if len(varied) > 0 {
		changes = append(changes, "each row sets "+strings.Join(varied, ", "))
	}
	if len(changes) > 0 {
		fmt.Fprintf(b, "  (the scenario's own description; %s)\n", strings.Join(changes, "; "))
	}
}

// Describe says in one line what the parameters are.
func (p *Params) Describe() string {
	var texts []string
	for _, pt := range p.parts() {
		if pt.text != "" {
			texts = append(texts, pt.text)
		}
	}
	return strings.Join(texts, ", ")
}

// part is one parameter as Describe writes it; text is empty when the
// parameter is at a value Describe leaves out (no duplication, say).
type part struct{ name, text string }

// parts are the parameters in the order Describe writes them.
func (p *Params) parts() []part {
	pts := []part{
		{"nodes", scenarios.Count(p.Nodes, "node", "nodes")},
		{"election timeout", fmt.Sprintf("election timeout %s-%sms", p.ElectionTimeoutMs[0].String("?"), p.ElectionTimeoutMs[1].String("?"))},
		{"heartbeat", fmt.Sprintf("heartbeat %sms", p.HeartbeatMs.String("?"))},
		{"latency", "latency " + p.Latency},
		{"loss", fmt.Sprintf("loss %g", p.Loss)},
		{"duplicate", ""}, {"fifo", ""}, {"disk writes", ""}, {"timer jitter", ""}, {"processing", ""}, {"options", ""}, {"links", ""}, {"bugs", ""},
		{"impl", ""},
	}
	set := func(name, text string) {
		for i := range pts {
			if pts[i].name == name {
				pts[i].text = text
			}
		}
	}
	if p.Duplicate > 0 {
		set("duplicate", fmt.Sprintf("duplicate %g", p.Duplicate))
	}
	if p.FIFO {
		set("fifo", "FIFO links")
	}
	if p.Persist != "" {
		set("disk writes", "disk writes "+p.Persist)
	}
	if p.TimerJitter != "" {
		set("timer jitter", "timers late by "+p.TimerJitter)
	}
	if p.Processing != "" {
		set("processing", "processing "+p.Processing)
	}
	if opts := scenarios.OptionFlags(p.Options()); len(opts) > 0 {
		set("options", "options "+strings.Join(opts, ","))
	}
	if len(p.Links) > 0 {
		set("links", "link "+strings.Join(p.Links, "; link "))
	}
	if p.Bugs != "" {
		set("bugs", "BUGS "+p.Bugs)
	}
	if p.TickMs != nil {
		set("impl", fmt.Sprintf("etcd's raft (tick %sms)", p.TickMs.String("?")))
	}
	return pts
}

// describeCommon says what the parameters of every cell share, and names
// those that differ between cells.
func describeCommon(cells []Cell) (common, varying string) {
	if len(cells) == 0 {
		return "", ""
	}
	parts := make([][]part, len(cells))
	for i := range cells {
		parts[i] = cells[i].Params.parts()
	}
	var same, differ []string
	for i, pt := range parts[0] {
		varies := false
		for _, other := range parts[1:] {
			varies = varies || other[i].text != pt.text
		}
		switch {
		case varies:
			differ = append(differ, pt.name)
		case pt.text != "":
			same = append(same, pt.text)
		}
	}
	return strings.Join(same, ", "), strings.Join(differ, ", ")
}

func (s *Stats) writeSummary(b *strings.Builder, expect []string) {
	fmt.Fprintf(b, "%d of %d trials found a leader", s.Measured, s.Trials)
	if s.Started < s.Trials {
		fmt.Fprintf(b, " (%d never reached the measured fault)", s.Trials-s.Started)
	}
	if s.Measured > 0 {
		fmt.Fprintf(b, "; messages until the leader: mean %s", s.MessagesMean.Fixed(1, "-"))
	}
	b.WriteString("\n")
	if s.Started > 0 { // trials that never elect count their split votes too
		fmt.Fprintf(b, "split vote in %s of trials (95%% CI %s-%s); %s and %s in all\n",
			s.SplitVoteProbability.Fixed(4, "-"), s.SplitVoteCI95[0].Fixed(4, "-"), s.SplitVoteCI95[1].Fixed(4, "-"),
			scenarios.Count(int(s.SplitVotes), "split vote", "split votes"), scenarios.Count(int(s.OtherLostElections), "other lost election", "other lost elections"))
	}
	if s.Unfinished > 0 {
		fmt.Fprintf(b, "%d of %d trials ended before their fault timeline did", s.Unfinished, s.Trials)
		if len(s.UnfinishedTrials) > 0 {
			u := s.UnfinishedTrials[0]
			fmt.Fprintf(b, "; the first, trial %d seed %d: %s\n    replay: %s", u.Trial, u.Seed, u.Detail, u.Replay)
		}
		b.WriteString("\n")
	}
	if s.Failed == 0 {
		fmt.Fprintf(b, "held in every trial: %s\n", strings.Join(expect, ", "))
		return
	}
	fmt.Fprintf(b, "FAILED in %d of %d trials (expected: %s)\n", s.Failed, s.Trials, strings.Join(expect, ", "))
	for _, f := range s.Failures {
		fmt.Fprintf(b, "  trial %d seed %d: %s at t=%sms: %s\n", f.Trial, f.Seed, f.Kind, f.AtMs.Fixed(3, "?"), f.Detail)
		for _, e := range f.Evidence {
			fmt.Fprintf(b, "    shown by: %s\n", e)
		}
		if f.Replay != "" {
			fmt.Fprintf(b, "    replay: %s\n", f.Replay)
		}
		if f.Weighed != nil {
			fmt.Fprintf(b, "    %s\n", f.Weighed.Sentence())
		}
		if f.Timeline != "" {
			fmt.Fprintf(b, "    timeline: %s\n", f.Timeline)
		}
		if len(f.TimelineTail) > 0 {
			fmt.Fprintf(b, "    its last %s:\n", scenarios.Count(len(f.TimelineTail), "line", "lines"))
			for _, l := range f.TimelineTail {
				fmt.Fprintf(b, "      %s\n", l)
			}
		}
	}
	if s.Failed > len(s.Failures) {
		fmt.Fprintf(b, "  (%d more not listed)\n", s.Failed-len(s.Failures))
	}
}

// CSV columns. A run's row is csvHeader, csvStability and csvMore; a
// sweep's rows put group and recommended before csvMore, and
// stability_verdict after it. Columns are
// added at the end, never renamed or moved, so that tools reading them by
// position keep working.
var (
	csvHeader = []string{
		"scenario", "seed", "nodes", "election_timeout_min_ms", "election_timeout_max_ms", "heartbeat_ms", "latency",
		"loss", "duplicate", "fifo", "prevote", "check_quorum", "leader_stickiness", "bugs",
		"trials", "measured", "time_to_leader_mean_ms", "time_to_leader_stddev_ms", "time_to_leader_p50_ms",
		"time_to_leader_p90_ms", "time_to_leader_p99_ms", "time_to_leader_max_ms", "split_vote_probability",
		"split_vote_ci95_lo", "split_vote_ci95_hi", "rounds_mean", "messages_mean", "stale_leader_mean_ms",
		"stale_leader_max_ms", "failed",
	}
	csvStability = []string{"needless_elections_per_hour", "leader_changes_per_hour", "leaderless_ms_per_hour"}
	csvMore      = []string{
		"reset_timer_on_step_down", "persist", "timer_jitter", "links", "started", "time_to_leader_min_ms",
		"split_votes", "other_lost_elections", "rounds_p50", "rounds_p90", "rounds_p99", "rounds_max",
		"stale_leader_p50_ms", "stale_leader_p90_ms", "stale_leader_p99_ms",
		"terms_bumped_mean", "terms_bumped_max", "disruptions_mean", "disruptions_max", "events",
		"steady_runs", "steady_hours", "needless_elections", "leader_changes", "disruptions_per_hour", "steady_failed",
		"unfinished", "needless_elections_per_hour_ci_lo", "needless_elections_per_hour_ci_hi",
		"leader_changes_per_hour_ci_lo", "leader_changes_per_hour_ci_hi", "disruptions_per_hour_ci_lo", "disruptions_per_hour_ci_hi",
		"impl", "tick_ms", "keep_timeout",
	}
)

func csvNum(x Num) string { return x.String("") }

func csvRow(scenario string, seed uint64, p *Params, s *Stats) []string {
	n := csvNum
	stale := [2]string{}
	if s.StaleLeaderMs != nil {
		stale = [2]string{n(s.StaleLeaderMs.Mean), n(s.StaleLeaderMs.Max)}
	}
	return []string{
		scenario, strconv.FormatUint(seed, 10), strconv.Itoa(p.Nodes), n(p.ElectionTimeoutMs[0]), n(p.ElectionTimeoutMs[1]),
		n(p.HeartbeatMs), p.Latency, strconv.FormatFloat(p.Loss, 'g', -1, 64), strconv.FormatFloat(p.Duplicate, 'g', -1, 64),
		strconv.FormatBool(p.FIFO), strconv.FormatBool(p.PreVote), strconv.FormatBool(p.CheckQuorum),
		strconv.FormatBool(p.LeaderStickiness), p.Bugs,
		strconv.Itoa(s.Trials), strconv.Itoa(s.Measured), n(s.TimeToLeaderMs.Mean), n(s.TimeToLeaderMs.StdDev),
		n(s.TimeToLeaderMs.P50), n(s.TimeToLeaderMs.P90), n(s.TimeToLeaderMs.P99), n(s.TimeToLeaderMs.Max),
		n(s.SplitVoteProbability), n(s.SplitVoteCI95[0]), n(s.SplitVoteCI95[1]), n(s.RoundsMean), n(s.MessagesMean),
		stale[0], stale[1], strconv.Itoa(s.Failed),
	}
}

// csvStabilityRow holds the csvStability columns: empty without
// steady-state runs.
func csvStabilityRow(st *Stability) []string {
	if st == nil {
		return make([]string, len(csvStability))
	}
	return []string{csvNum(st.NeedlessElectionsPerHour), csvNum(st.LeaderChangesPerHour), csvNum(st.LeaderlessMsPerHour)}
}

// csvMoreRow holds the csvMore columns.
func csvMoreRow(p *Params, s *Stats, st *Stability) []string {
	n := csvNum
	stale := make([]string, 3)
	if d := s.StaleLeaderMs; d != nil {
		stale = []string{n(d.P50), n(d.P90), n(d.P99)}
	}
	steady := make([]string, 6)
	if st != nil {
		steady = []string{strconv.Itoa(st.Runs), n(st.Hours), strconv.FormatInt(st.NeedlessElections, 10),
			strconv.FormatInt(st.LeaderChanges, 10), n(st.DisruptionsPerHour), strconv.Itoa(st.Failed)}
	}
	row := []string{
		strconv.FormatBool(p.ResetOnStepDown), p.Persist, p.TimerJitter, strings.Join(p.Links, "; "),
		strconv.Itoa(s.Started), n(s.TimeToLeaderMs.Min), strconv.FormatInt(s.SplitVotes, 10), strconv.FormatInt(s.OtherLostElections, 10),
		n(s.Rounds.P50), n(s.Rounds.P90), n(s.Rounds.P99), n(s.Rounds.Max),
	}
	row = append(row, stale...)
	row = append(row, n(s.TermsBumped.Mean), n(s.TermsBumped.Max), n(s.Disruptions.Mean), n(s.Disruptions.Max),
		strconv.FormatUint(s.Events, 10))
	tick := ""
	if p.TickMs != nil {
		tick = n(*p.TickMs)
	}
	row = append(append(row, steady...), strconv.Itoa(s.Unfinished))
	cis := make([]string, 6)
	if st != nil {
		cis = []string{n(st.NeedlessElectionsPerHourCI[0]), n(st.NeedlessElectionsPerHourCI[1]), n(st.LeaderChangesPerHourCI[0]),
			n(st.LeaderChangesPerHourCI[1]), n(st.DisruptionsPerHourCI[0]), n(st.DisruptionsPerHourCI[1])}
	}
	return append(append(row, cis...), p.Impl, tick, strconv.FormatBool(p.KeepTimeout))
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// WriteCSV writes the run as a CSV header and one row.
func (r *Run) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(concat(csvHeader, csvStability, csvMore))
	cw.Write(concat(csvRow(r.Scenario, r.Seed, &r.Params, &r.Stats), csvStabilityRow(r.Stability),
		csvMoreRow(&r.Params, &r.Stats, r.Stability)))
	cw.Flush()
	return cw.Error()
}

// Write writes the run in format f.
func (r *Run) Write(w io.Writer, f Format) error { return write(w, f, r) }

// write writes a report in format f: its table, its CSV, or JSON.
func write(w io.Writer, f Format, rep interface {
	WriteTable(io.Writer) error
	WriteCSV(io.Writer) error
}) error {
	switch f {
	case JSON:
		return WriteJSON(w, rep)
	case CSV:
		return rep.WriteCSV(w)
	}
	return rep.WriteTable(w)
}
