package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/scenarios"
)

// Live is the report of raftsim live: the live trials' statistics under
// run's keys, and beside them the simulator's prediction for the same
// scenario (simulated, the same statistics keys) and the two-sample
// Kolmogorov-Smirnov distance between live and simulated times to leader.
type Live struct {
	Run
	Nodes      string `json:"nodes"` // the program the nodes ran
	Simulated  *Stats `json:"simulated"`
	KSDistance Num    `json:"ks_distance"`
	// KSCritical95 is the distance above which the two samples differ at
	// the 5% level.
	KSCritical95 Num `json:"ks_critical_95"`
	// KSVerdict says in words whether the distance is evidence of a
	// difference.
	KSVerdict string `json:"ks_verdict"`
	// Measured are the overheads the proxy measured; WithOverheads is the
	// simulator again, its model given them.
	Measured      *Overheads     `json:"overheads,omitempty"`
	WithOverheads *WithOverheads `json:"with_overheads,omitempty"`
	Notes         []string       `json:"notes"`
	Logs          []string       `json:"logs"`

	live, sim *runner.Aggregate
}

// Overheads are a live cluster's costs beyond the scenario's latency, as
// the proxy measured them: nodes' answer times to RPCs without and with a
// disk write, and how late messages were delivered. A proxy that carries
// bytes, not RPCs (etcd's members), measures only the lateness; the
// answers then have n 0 and no values.
type Overheads struct {
	AnswerMs     Dist `json:"answer_ms"`
	AnswerSyncMs Dist `json:"answer_sync_ms"`
	LateMs       Dist `json:"late_ms"`
}

// WithOverheads is the simulator's prediction with the measured overheads
// in its model: the model's parameters, the statistics under the same keys
// as run's, and the KS distance to the live times to leader.
type WithOverheads struct {
	agg         *runner.Aggregate
	Processing  string `json:"processing"`
	Persist     string `json:"persist"`
	TimerJitter string `json:"timer_jitter"`
	Simulated   Stats  `json:"simulated"`
	KSDistance  Num    `json:"ks_distance"`
	// Worse says the overheads made the simulator agree less with live.
	Worse bool `json:"agrees_less"`
}

// NewLive builds the report of a live run of s: its trials' aggregate, the
// simulated aggregate of the same scenario (nil for none), and the KS
// distance and its 5% critical value.
func NewLive(s *scenarios.Scenario, nodes string, live, sim *runner.Aggregate, ks, critical float64) *Live {
	none := func(uint64) string { return "" } // live trials do not replay
	l := &Live{Run: *NewRun(s, live, none), Nodes: nodes, KSDistance: Num(ks), KSCritical95: Num(critical),
		Notes: []string{}, Logs: []string{}, live: live, sim: sim}
	l.KSVerdict = l.ksVerdict()
	if sim != nil {
		st := StatsOf(sim, none)
		l.Simulated = &st
	}
	return l
}

// WriteTable writes the live run and the simulated one, one table each.
func (l *Live) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s, live: %s of %s on 127.0.0.1, seed %d\n", l.Scenario, scenarios.Count(l.Trials, "trial", "trials"), l.Nodes, l.Seed)
	l.writeHeader(&b)
	b.WriteString("live: real processes in real time, so every number is noisy\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := l.Stats.writeTable(w, l.Expect); err != nil {
		return err
	}
	b.Reset()
	if d := l.TimeToLeaderMs; d.N > 0 {
		fmt.Fprintf(&b, "live time to leader with 95%% intervals (distribution-free, from %s): p50 %s, p90 %s, p99 %s ms\n",
			scenarios.Count(int(d.N), "trial", "trials"), withInterval(d.P50, d.P50CI), withInterval(d.P90, d.P90CI), withInterval(d.P99, d.P99CI))
	}
	if l.Simulated != nil {
		fmt.Fprintf(&b, "\nsimulated: the same scenario, %s\n", scenarios.Count(l.Simulated.Trials, "trial", "trials"))
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		if err := l.Simulated.writeTable(w, l.Expect); err != nil {
			return err
		}
		b.Reset()
		fmt.Fprintf(&b, "\nKS distance between live and simulated times to leader: %s (%s would be evidence of a difference at the 5%% level): %s\n",
			l.KSDistance.Fixed(3, "-"), l.KSCritical95.Fixed(3, "-"), l.KSVerdict)
	}
	if m := l.Measured; m != nil {
		p := func(d Dist) string {
			return fmt.Sprintf("p50 %s, p90 %s, p99 %s ms (n=%d)", d.P50.Fixed(2, "-"), d.P90.Fixed(2, "-"), d.P99.Fixed(2, "-"), d.N)
		}
		if m.AnswerMs.N+m.AnswerSyncMs.N == 0 {
			fmt.Fprintf(&b, "measured by the proxy: deliveries late by %s; answers not seen (the proxy carries bytes, not RPCs)\n", p(m.LateMs))
		} else {
			fmt.Fprintf(&b, "measured by the proxy: answers without a disk write %s; with one %s; deliveries late by %s\n",
				p(m.AnswerMs), p(m.AnswerSyncMs), p(m.LateMs))
		}
	}
	if wo := l.WithOverheads; wo != nil {
		d := wo.Simulated.TimeToLeaderMs
		fmt.Fprintf(&b, "simulated with them (processing %s, persist %s, timer_jitter %s): time to leader mean %s, p50 %s, p99 %s ms; KS distance to live %s\n",
			orNone(wo.Processing), orNone(wo.Persist), orNone(wo.TimerJitter), d.Mean.Fixed(1, "-"), d.P50.Fixed(1, "-"), d.P99.Fixed(1, "-"),
			wo.KSDistance.Fixed(3, "-"))
		if wo.Worse {
			fmt.Fprintf(&b, "  with the overheads in its model the simulator agrees less with live (KS %s against %s without): what the proxy measured is not what elections wait for here (slow answers the nodes' own timers do not see, or a node's stack delaying replies)\n",
				wo.KSDistance.Fixed(3, "-"), l.KSDistance.Fixed(3, "-"))
		}
	}
	if len(l.Notes) > 0 {
		b.WriteString("notes:\n")
		for _, n := range l.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	if len(l.Logs) > 0 {
		fmt.Fprintf(&b, "node logs: %s\n", strings.Join(l.Logs, " "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ksVerdict says in words what the KS distance shows.
func (l *Live) ksVerdict() string {
	switch ks, c := float64(l.KSDistance), float64(l.KSCritical95); {
	case math.IsNaN(ks) || math.IsNaN(c):
		return "too few times to compare"
	case ks > c:
		return "live and simulated differ"
	}
	return "no evidence that live and simulated differ"
}

// withInterval writes a quantile and its interval, "171.0 [165.2, 178.4]",
// and says so where too few samples cannot give an end.
func withInterval(q Num, ci [2]Num) string {
	lo, hi := ci[0].Fixed(1, ""), ci[1].Fixed(1, "")
	switch {
	case lo == "" && hi == "":
		return q.Fixed(1, "-") + " [too few trials to bound it]"
	case lo == "":
		lo = "no lower bound"
	case hi == "":
		hi = "no upper bound"
	}
	return fmt.Sprintf("%s [%s, %s]", q.Fixed(1, "-"), lo, hi)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// WriteCSV writes run's CSV header and two rows: the live run, then the
// simulated one, their scenario names marked "(live)" and "(simulated)".
func (l *Live) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	cw.Write(csvRow(l.Scenario+" (live)", l.Seed, &l.Params, &l.Stats))
	if l.Simulated != nil {
		cw.Write(csvRow(l.Scenario+" (simulated)", l.Seed, &l.Params, l.Simulated))
	}
	cw.Flush()
	return cw.Error()
}

// Write writes the report in format f.
func (l *Live) Write(w io.Writer, f Format) error { return write(w, f, l) }

// NewWithOverheads describes the simulator's prediction with overheads in
// its model (their text forms, "" for none), from agg and the KS distance
// of its times to leader to the live ones, ks, beside the plain
// simulator's, ksPlain.
func NewWithOverheads(processing, persist, timerJitter string, agg *runner.Aggregate, ks, ksPlain float64) *WithOverheads {
	return &WithOverheads{agg: agg, Processing: processing, Persist: persist, TimerJitter: timerJitter,
		Simulated: StatsOf(agg, func(uint64) string { return "" }), KSDistance: Num(ks), Worse: ks > ksPlain}
}

// CDFPlot draws the live and the simulated times to leader on one plot,
// and the simulated with overheads when there are.
func (l *Live) CDFPlot(title, format string) ([]byte, error) {
	c := newCDFPlot(title)
	if err := c.addTrials(fmt.Sprintf("live (%s)", scenarios.Count(l.Trials, "trial", "trials")), l.live, 0); err != nil {
		return nil, err
	}
	if l.sim != nil {
		if err := c.addTrials(fmt.Sprintf("simulated (%s)", scenarios.Count(l.sim.Trials, "trial", "trials")), l.sim, 1); err != nil {
			return nil, err
		}
	}
	if wo := l.WithOverheads; wo != nil && wo.agg != nil {
		if err := c.addTrials(fmt.Sprintf("simulated with the measured overheads (%s)", scenarios.Count(wo.agg.Trials, "trial", "trials")), wo.agg, 2); err != nil {
			return nil, err
		}
	}
	return c.render(format)
}
