package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/scenarios"
)

// Tune is what raftsim tune found: the model it read from a cluster's
// metrics, each setting it tried with its failover times and leader
// changes (each with its 95% interval), the setting it recommends and the
// etcd flags that set it, and, given two scrapes, whether the model
// explains the leader changes the cluster saw.
type Tune struct {
	Members     []TuneMember `json:"members"`
	Version     string       `json:"version"`
	ClusterSize int          `json:"cluster_size"` // the members simulated
	PreVote     bool         `json:"pre_vote"`
	Model       TuneModel    `json:"model"`
	Goals       TuneGoals    `json:"goals"`
	Trials      int          `json:"trials"`
	Seed        uint64       `json:"seed"`
	// SteadyHours is the steady state every setting got; MaxSteadyHours
	// the most one got where its leader changes could not yet be judged.
	SteadyHours    Num        `json:"steady_hours"`
	MaxSteadyHours Num        `json:"max_steady_hours"`
	Current        TuneSet    `json:"current"`
	Settings       []TuneCell `json:"settings"`
	// Recommended is the setting recommended, or nil; NoRecommendation
	// then says why not.
	Recommended      *TuneCell     `json:"recommended"`
	EtcdFlags        string        `json:"etcd_flags,omitempty"`
	EtcdEnv          string        `json:"etcd_env,omitempty"`
	NoRecommendation string        `json:"no_recommendation,omitempty"`
	Observed         *TuneObserved `json:"observed"`
	// Scenario is the scenario file tune ran (written with --save), with
	// its data files beside it.
	Scenario string   `json:"scenario,omitempty"`
	Notes    []string `json:"notes"`
}

// TuneMember is one member scraped.
type TuneMember struct {
	ID      string   `json:"id"`
	Scrapes []string `json:"scrapes"` // the files or URLs, in time order
}

// TuneModel is what the metrics said of the network and the disk.
type TuneModel struct {
	// OneWayMs is half of every round trip the members measured;
	// RoundTrips counts them.
	OneWayMs   Quantiles  `json:"one_way_ms"`
	RoundTrips Num        `json:"round_trips"`
	Links      []TuneLink `json:"links"` // per link, when the scenario gives each its own
	FsyncMs    Quantiles  `json:"fsync_ms"`
	Fsyncs     Num        `json:"fsyncs"`
	Stalls     TuneStalls `json:"stalls"`
}

// Quantiles are a histogram's quantiles.
type Quantiles struct {
	P50  Num `json:"p50"`
	P99  Num `json:"p99"`
	P999 Num `json:"p999"`
}

// TuneLink is one pair of members' one-way latency.
type TuneLink struct {
	From, To   string    `json:"-"`
	Link       string    `json:"link"` // n1<->n2
	OneWayMs   Quantiles `json:"one_way_ms"`
	RoundTrips Num       `json:"round_trips"`
}

// TuneStalls are the fsyncs long enough to stall a member.
type TuneStalls struct {
	FloorMs         Num       `json:"floor_ms"`
	Fraction        Num       `json:"fraction"`
	Count           Num       `json:"count"`
	MemberHours     Num       `json:"member_hours"`
	PerMemberHour   Num       `json:"per_member_hour"`
	PerMemberHourCI [2]Num    `json:"per_member_hour_ci"`
	Window          string    `json:"window"`
	DurationMs      Quantiles `json:"duration_ms"`
}

// TuneGoals are the goals a recommended setting meets.
type TuneGoals struct {
	FailoverP99Ms       Num `json:"failover_p99_ms"`
	LeaderChangesPerDay Num `json:"max_leader_changes_per_day"`
}

// TuneSet is a setting, and where it came from.
type TuneSet struct {
	HeartbeatMs       int64  `json:"heartbeat_ms"`
	ElectionTimeoutMs int64  `json:"election_timeout_ms"`
	From              string `json:"from,omitempty"`
}

// TuneCell is one setting's trials and steady state.
type TuneCell struct {
	HeartbeatMs       int64 `json:"heartbeat_ms"`
	ElectionTimeoutMs int64 `json:"election_timeout_ms"`
	Current           bool  `json:"current"`
	Trials            int   `json:"trials"`
	Measured          int   `json:"measured"`
	Failed            int   `json:"failed"`
	// The failover time (a leader's crash until a new leader) and its
	// 95% intervals: distribution-free, from the order statistics; an
	// end the trials cannot bound is null.
	FailoverP50Ms   Num    `json:"failover_p50_ms"`
	FailoverP50MsCI [2]Num `json:"failover_p50_ms_ci"`
	FailoverP99Ms   Num    `json:"failover_p99_ms"`
	FailoverP99MsCI [2]Num `json:"failover_p99_ms_ci"`
	// Rates a day of a healthy cluster's steady state, with their exact
	// 95% Poisson intervals.
	SteadyHours               Num    `json:"steady_hours"`
	LeaderChanges             int64  `json:"leader_changes"`
	LeaderChangesPerDay       Num    `json:"leader_changes_per_day"`
	LeaderChangesPerDayCI     [2]Num `json:"leader_changes_per_day_ci"`
	NeedlessElections         int64  `json:"needless_elections"`
	NeedlessElectionsPerDay   Num    `json:"needless_elections_per_day"`
	NeedlessElectionsPerDayCI [2]Num `json:"needless_elections_per_day_ci"`
	// The verdicts against the goals (below, above, undecided), whether
	// both hold, and the margin: the smaller of 1 − p99/goal and
	// 1 − rate/goal.
	FailoverVerdict      string `json:"failover_verdict"`
	LeaderChangesVerdict string `json:"leader_changes_verdict"`
	Meets                bool   `json:"meets"`
	Margin               Num    `json:"margin"`
	Recommended          bool   `json:"recommended"`
	// Undecided says what would decide the setting that would be
	// recommended were its leader changes shown within the goal, when
	// --max-steady-time could not.
	Undecided string `json:"undecided,omitempty"`
	Replay    string `json:"replay,omitempty"`
}

// TuneObserved is what the cluster's leader changes between two scrapes
// say against the model's prediction at the current setting.
type TuneObserved struct {
	Members           []TuneObservedMember `json:"members"`
	LeaderChanges     Num                  `json:"leader_changes"`
	Hours             Num                  `json:"hours"`
	PerDay            Num                  `json:"per_day"`
	PerDayCI          [2]Num               `json:"per_day_ci"`
	PredictedPerDay   Num                  `json:"predicted_per_day"`
	PredictedPerDayCI [2]Num               `json:"predicted_per_day_ci"`
	PValue            Num                  `json:"p_value"`
	Explains          bool                 `json:"explains"`
	Text              string               `json:"text"`
}

// TuneObservedMember is one member's count between its scrapes.
type TuneObservedMember struct {
	ID            string `json:"id"`
	LeaderChanges Num    `json:"leader_changes"`
	Hours         Num    `json:"hours"`
	Restarted     bool   `json:"restarted"`
}

// Write writes the report in format f.
func (t *Tune) Write(w io.Writer, f Format) error { return write(w, f, t) }

// ciText writes a value and its interval: "1234.5 [1100.2, 1302.7]", an
// end that is not bounded as "?".
func ciText(v Num, ci [2]Num, decimals int) string {
	end := func(x Num) string {
		if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
			return "?"
		}
		return x.Fixed(decimals, "?")
	}
	return fmt.Sprintf("%s [%s, %s]", v.Fixed(decimals, "-"), end(ci[0]), end(ci[1]))
}

// WriteTable writes the model, one row per setting, and the
// recommendation with the flags to set.
func (t *Tune) WriteTable(w io.Writer) error {
	var b strings.Builder
	m := &t.Model
	ids := make([]string, len(t.Members))
	for i, mb := range t.Members {
		ids[i] = fmt.Sprintf("%s (%s)", mb.ID, scenarios.Count(len(mb.Scrapes), "scrape", "scrapes"))
	}
	version := t.Version
	if version == "" {
		version = "version unknown"
	}
	fmt.Fprintf(&b, "tune: etcd %s, %s scraped: %s\n", version, scenarios.Count(len(t.Members), "member", "members"), strings.Join(ids, ", "))
	fmt.Fprintf(&b, "simulated: %d members on etcd's raft (check-quorum on, pre-vote %v), %s a setting, seed %d\n",
		t.ClusterSize, t.PreVote, scenarios.Count(t.Trials, "leader crash", "leader crashes"), t.Seed)
	fmt.Fprintf(&b, "network: one-way latency (half of %.0f round trips the members measured): p50 %sms, p99 %sms, p99.9 %sms\n",
		float64(m.RoundTrips), m.OneWayMs.P50.Fixed(3, "-"), m.OneWayMs.P99.Fixed(3, "-"), m.OneWayMs.P999.Fixed(3, "-"))
	for _, l := range m.Links {
		fmt.Fprintf(&b, "  %s: p50 %sms, p99 %sms (%.0f round trips)\n", l.Link, l.OneWayMs.P50.Fixed(3, "-"), l.OneWayMs.P99.Fixed(3, "-"), float64(l.RoundTrips))
	}
	fmt.Fprintf(&b, "disk: WAL fsync (%.0f): p50 %sms, p99 %sms, p99.9 %sms\n", float64(m.Fsyncs),
		m.FsyncMs.P50.Fixed(3, "-"), m.FsyncMs.P99.Fixed(3, "-"), m.FsyncMs.P999.Fixed(3, "-"))
	st := &m.Stalls
	if st.Fraction > 0 {
		fmt.Fprintf(&b, "stalls: fsyncs over %sms (%s of them, p50 %sms) stall a member: no tick, no heartbeat while etcd waits for its WAL",
			st.FloorMs.Fixed(0, "-"), pctText(st.Fraction), st.DurationMs.P50.Fixed(1, "-"))
	} else {
		fmt.Fprintf(&b, "stalls: no fsync took over %sms, which would stall a member (no tick, no heartbeat while etcd waits for its WAL)", st.FloorMs.Fixed(0, "-"))
	}
	if math.IsNaN(float64(st.PerMemberHour)) {
		fmt.Fprintf(&b, "; their rate is unknown\n")
	} else {
		fmt.Fprintf(&b, "; %s per member-hour (%.0f in %s member-hours, %s), pauses in the steady state\n",
			ciText(st.PerMemberHour, st.PerMemberHourCI, 3), float64(st.Count), st.MemberHours.String("-"), st.Window)
	}
	fmt.Fprintf(&b, "goals: failover p99 at most %sms (--failover-p99), at most %s leader changes a day (--max-leader-changes-per-day), each shown with 95%% confidence\n",
		t.Goals.FailoverP99Ms.String("-"), t.Goals.LeaderChangesPerDay.String("-"))
	fmt.Fprintf(&b, "steady state: %s hours a setting, up to %s where the leader changes could not yet be judged\n\n",
		t.SteadyHours.String("-"), t.MaxSteadyHours.String("-"))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	var rows [][]string
	for _, c := range t.Settings {
		mark := ""
		switch {
		case c.Recommended:
			mark = "*"
		case c.Meets:
			mark = "+"
		}
		if c.Current {
			mark += " (current)"
		}
		rows = append(rows, []string{mark, strconv.FormatInt(c.HeartbeatMs, 10), strconv.FormatInt(c.ElectionTimeoutMs, 10),
			ciText(c.FailoverP50Ms, c.FailoverP50MsCI, 0), ciText(c.FailoverP99Ms, c.FailoverP99MsCI, 0),
			ciText(c.LeaderChangesPerDay, c.LeaderChangesPerDayCI, 2), ciText(c.NeedlessElectionsPerDay, c.NeedlessElectionsPerDayCI, 2),
			c.SteadyHours.Fixed(0, "-"), strconv.Itoa(c.Failed), c.Margin.Fixed(2, "-")})
	}
	header := []string{"", "heartbeat ms", "election ms", "failover p50 ms [95% CI]", "failover p99 ms [95% CI]",
		"leader changes/day", "needless elections/day", "steady h", "failed", "margin"}
	if err := writeTable(w, header, func(col int) bool { return col > 0 }, rows); err != nil {
		return err
	}
	b.Reset()
	b.WriteString("* recommended, + meets both goals; margin: the smaller of 1 - p99/goal and 1 - rate/goal\n\n")
	if r := t.Recommended; r != nil {
		fmt.Fprintf(&b, "recommended: heartbeat %dms, election timeout %dms: failover p50 %s ms, p99 %s ms; %s leader changes a day over %s hours\n",
			r.HeartbeatMs, r.ElectionTimeoutMs, ciText(r.FailoverP50Ms, r.FailoverP50MsCI, 0), ciText(r.FailoverP99Ms, r.FailoverP99MsCI, 0),
			ciText(r.LeaderChangesPerDay, r.LeaderChangesPerDayCI, 2), r.SteadyHours.Fixed(0, "-"))
		fmt.Fprintf(&b, "  on every member: etcd %s\n  or in the environment: %s\n", t.EtcdFlags, t.EtcdEnv)
		if r.Replay != "" {
			fmt.Fprintf(&b, "  replay: %s\n", r.Replay)
		}
	} else {
		fmt.Fprintf(&b, "no recommendation: %s\n", t.NoRecommendation)
	}
	for _, c := range t.Settings {
		if c.Undecided != "" {
			fmt.Fprintf(&b, "? heartbeat %dms, election timeout %dms: %s\n", c.HeartbeatMs, c.ElectionTimeoutMs, c.Undecided)
		}
	}
	fmt.Fprintf(&b, "current: heartbeat %dms, election timeout %dms (%s)\n", t.Current.HeartbeatMs, t.Current.ElectionTimeoutMs, t.Current.From)
	if o := t.Observed; o != nil {
		fmt.Fprintf(&b, "observed: %s\n", o.Text)
	}
	if t.Scenario != "" {
		fmt.Fprintf(&b, "scenario: %s (and its data files beside it)\n", t.Scenario)
	}
	if len(t.Notes) > 0 {
		b.WriteString("notes:\n")
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pctText(x Num) string {
	if math.IsNaN(float64(x)) {
		return "-"
	}
	return strconv.FormatFloat(100*float64(x), 'g', 3, 64) + "%"
}

// WriteCSV writes one row per setting.
func (t *Tune) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	n := func(x Num) string { return x.String("") }
	_ = cw.Write([]string{"heartbeat_ms", "election_timeout_ms", "current", "trials", "measured", "failed",
		"failover_p50_ms", "failover_p50_ms_ci_lo", "failover_p50_ms_ci_hi", "failover_p99_ms", "failover_p99_ms_ci_lo", "failover_p99_ms_ci_hi",
		"steady_hours", "leader_changes", "leader_changes_per_day", "leader_changes_per_day_ci_lo", "leader_changes_per_day_ci_hi",
		"needless_elections", "needless_elections_per_day", "needless_elections_per_day_ci_lo", "needless_elections_per_day_ci_hi",
		"failover_verdict", "leader_changes_verdict", "meets", "margin", "recommended"})
	for _, c := range t.Settings {
		_ = cw.Write([]string{strconv.FormatInt(c.HeartbeatMs, 10), strconv.FormatInt(c.ElectionTimeoutMs, 10), strconv.FormatBool(c.Current),
			strconv.Itoa(c.Trials), strconv.Itoa(c.Measured), strconv.Itoa(c.Failed),
			n(c.FailoverP50Ms), n(c.FailoverP50MsCI[0]), n(c.FailoverP50MsCI[1]), n(c.FailoverP99Ms), n(c.FailoverP99MsCI[0]), n(c.FailoverP99MsCI[1]),
			n(c.SteadyHours), strconv.FormatInt(c.LeaderChanges, 10), n(c.LeaderChangesPerDay), n(c.LeaderChangesPerDayCI[0]), n(c.LeaderChangesPerDayCI[1]),
			strconv.FormatInt(c.NeedlessElections, 10), n(c.NeedlessElectionsPerDay), n(c.NeedlessElectionsPerDayCI[0]), n(c.NeedlessElectionsPerDayCI[1]),
			c.FailoverVerdict, c.LeaderChangesVerdict, strconv.FormatBool(c.Meets), n(c.Margin), strconv.FormatBool(c.Recommended)})
	}
	cw.Flush()
	return cw.Error()
}
