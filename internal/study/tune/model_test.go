package tune

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/scenarios"
)

// testdata is where package metrics keeps captured and hand-made
// expositions.
const testdata = "../metrics/testdata"

// scrape reads one exposition file, taken at at.
func scrape(t *testing.T, name string, at time.Time) *metrics.Scrape {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := metrics.Read(f, name, at)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var noon = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// handmade returns the members of the hand-made cluster kind (steady or
// heavy-fsync-tail), each scraped once at noon.
func handmade(t *testing.T, kind string) []Member {
	t.Helper()
	var scrapes []*metrics.Scrape
	for _, n := range []string{"n1", "n2", "n3"} {
		scrapes = append(scrapes, scrape(t, filepath.Join("handmade", kind+"-"+n+".prom"), noon))
	}
	ms, err := Members(scrapes)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestMembers: scrapes group by member in the order members first
// appear, each member's by time; two of a member at one time are an error
// that says how to give their times.
func TestMembers(t *testing.T) {
	a := scrape(t, "etcd-3.4.23/n1-2.prom", noon.Add(time.Hour))
	b := scrape(t, "etcd-3.4.23/n2-1.prom", noon)
	c := scrape(t, "etcd-3.4.23/n1-1.prom", noon)
	ms, err := Members([]*metrics.Scrape{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != a.Member || ms[0].First() != c || ms[0].Last() != a || ms[1].First() != b || ms[1].Last() != b {
		t.Errorf("got %+v", ms)
	}
	same := scrape(t, "etcd-3.4.23/n1-2.prom", noon)
	if _, err := Members([]*metrics.Scrape{c, same}); err == nil || !strings.Contains(err.Error(), "FILE@") {
		t.Errorf("two scrapes at one time: %v", err)
	}
	anon := &metrics.Scrape{Source: "anon.prom"}
	if _, err := Members([]*metrics.Scrape{anon}); err == nil || !strings.Contains(err.Error(), "anon.prom: no etcd_server_id") {
		t.Errorf("a scrape without a member: %v", err)
	}
}

// TestModelOfTheHandmadeCluster: the hand-made cluster's three members and
// 2,000 round trips to each peer become per-link latencies; 0.1% of
// 100,000 fsyncs a member take 1-4 s, and those are the stalls, at the
// rate the members' process start gives.
func TestModelOfTheHandmadeCluster(t *testing.T) {
	m, err := NewModel(handmade(t, "heavy-fsync-tail"), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != 3 || m.Version != "3.4.23" || len(m.Links) != 6 || m.Network.Count() != 12000 || m.Persist.Count() != 300000 {
		t.Fatalf("size %d, version %q, %d links, %g round trips, %g fsyncs", m.Size, m.Version, len(m.Links), m.Network.Count(), m.Persist.Count())
	}
	st := &m.Stalls
	if st.Floor != 32*time.Millisecond || st.Count != 300 || math.Abs(st.Fraction-0.001) > 1e-12 || st.Window != "since its process started" {
		t.Errorf("stalls: floor %v, count %g, fraction %g, window %q", st.Floor, st.Count, st.Fraction, st.Window)
	}
	if q := st.Tail.Quantile(0.5); q < 1.024 || q > 4.096 {
		t.Errorf("the stalls' median %gs: want 1-4s", q)
	}
	steady, err := NewModel(handmade(t, "steady"), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if steady.Stalls.Count != 0 || steady.Stalls.Fraction != 0 {
		t.Errorf("the steady disk stalls: %+v", steady.Stalls)
	}
}

// TestStallsBetweenScrapes: a member scraped twice counts the stalls
// between its scrapes over their window; one that restarted in between
// counts those since its new process started.
func TestStallsBetweenScrapes(t *testing.T) {
	s1, s2 := scrape(t, "etcd-3.4.23/n1-1.prom", noon), scrape(t, "etcd-3.4.23/n1-2.prom", noon.Add(30*time.Minute))
	m, err := NewModel([]Member{{ID: s1.Member, Scrapes: []*metrics.Scrape{s1, s2}}}, 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s1.Fsync.Above(m.Stalls.Floor.Seconds())
	last, _ := s2.Fsync.Above(m.Stalls.Floor.Seconds())
	if want := last.Count() - first.Count(); m.Stalls.Count != want || m.Stalls.Hours != 0.5 || m.Stalls.Window != "between its scrapes" {
		t.Errorf("stalls %g in %gh (%s), want %g in 0.5h between its scrapes", m.Stalls.Count, m.Stalls.Hours, m.Stalls.Window, want)
	}
}

// TestGrid: pairs etcd refuses, or whose timeout is no whole number of
// heartbeats, are left out; With adds the current setting in its place.
func TestGrid(t *testing.T) {
	ms := time.Millisecond
	got := With(Grid([]time.Duration{100 * ms, 300 * ms}, []time.Duration{400 * ms, 1000 * ms, 1500 * ms}), Setting{70 * ms, 1000 * ms})
	want := []Setting{{70 * ms, 1000 * ms}, {100 * ms, 1000 * ms}, {100 * ms, 1500 * ms}, {300 * ms, 1500 * ms}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	for _, tt := range []struct {
		s   Setting
		bad string
	}{
		{Setting{100 * ms, 499 * ms}, "at least 5 heartbeat"},
		{Setting{100 * ms, 51 * time.Second}, "at most 50s"},
		{Setting{100*ms + 1, time.Second}, "whole milliseconds"},
		{Setting{100 * ms, 500 * ms}, ""},
	} {
		err := tt.s.Check()
		if (tt.bad == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.bad) {
			t.Errorf("%v: %v, want %q", tt.s, err, tt.bad)
		}
	}
	if s := (Setting{100 * ms, 1000 * ms}); s.Flags() != "--heartbeat-interval=100 --election-timeout=1000" || s.Env() != "ETCD_HEARTBEAT_INTERVAL=100 ETCD_ELECTION_TIMEOUT=1000" {
		t.Errorf("flags %q, env %q", s.Flags(), s.Env())
	}
}

func TestPreVote(t *testing.T) {
	for v, want := range map[string]bool{"3.4.23": false, "3.5.0": true, "3.6.1": true, "2.3.8": false, "4.0.0": true, "": true} {
		if PreVote(v) != want {
			t.Errorf("PreVote(%q) = %v, want %v", v, !want, want)
		}
	}
}

// TestTheScenarioParsesAsEtcdRunsIt: the scenario of a setting runs
// etcd's raft on ticks of one heartbeat, with the model's files; the
// overrides of another setting turn it into that one.
func TestTheScenarioParsesAsEtcdRunsIt(t *testing.T) {
	m, err := NewModel(handmade(t, "heavy-fsync-tail"), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Model: m, Size: 3, Dir: "tune"}
	files, notes := c.Files(Setting{100 * time.Millisecond, time.Second})
	if len(notes) != 0 || len(files) != 7 { // the scenario, latency, three links, fsync, stall
		t.Fatalf("notes %q, %d files", notes, len(files))
	}
	s, err := c.Scenario(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	cl := &s.Cluster
	if cl.Impl != scenarios.ImplEtcd || cl.Tick != 100*time.Millisecond || cl.ElectionTimeout.String() != "1s-1900ms" || !cl.Options.CheckQuorum ||
		cl.Persist == nil || len(s.Network.Links) != 3 || len(s.Steady.Faults) != 1 {
		t.Errorf("cluster %+v, %d links, %d steady faults", cl, len(s.Network.Links), len(s.Steady.Faults))
	}
	o, err := Overrides(scenarios.Overrides{}, Setting{50 * time.Millisecond, 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := o.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Cluster.Tick != 50*time.Millisecond || s2.Cluster.ElectionTimeout.String() != "500ms-950ms" {
		t.Errorf("50ms/500ms: tick %v, timeout %s", s2.Cluster.Tick, s2.Cluster.ElectionTimeout)
	}
	five := &Cluster{Model: m, Size: 5, Dir: "tune"}
	if _, notes := five.Files(Setting{100 * time.Millisecond, time.Second}); len(notes) != 1 || !strings.Contains(notes[0], "per-link latencies") {
		t.Errorf("five members of a three-member model: notes %q", notes)
	}
}

// TestJudgeAndRecommend: the verdicts read the intervals; the setting that
// meets both goals with the most margin is recommended, ties going to the
// smaller p99; settings whose leader changes straddle the goal and whose
// margin could beat it need more steady state.
func TestJudgeAndRecommend(t *testing.T) {
	g := Goals{FailoverP99: 3 * time.Second, LeaderChangesPerDay: 1}
	out := func(p99, lo, hi float64, changes int64, hours float64) Outcome {
		return Outcome{Trials: 1000, Measured: 1000, P99: p99, P99CI: [2]float64{lo, hi}, LeaderChanges: changes, SteadyHours: hours}
	}
	outcomes := []Outcome{
		out(2900, 2800, 3100, 0, 100), // failover undecided
		out(1500, 1400, 1600, 0, 100), // meets: margin min(0.5, 1) = 0.5
		out(1200, 1100, 1300, 0, 10),  // changes undecided (10h), margin 0.6: needs more
		out(2400, 2300, 2500, 0, 200), // meets: margin 0.2
		out(1000, 900, 1100, 40, 100), // changes above
	}
	best, js := g.Recommend(outcomes)
	want := []struct{ f, c sweep.Verdict }{
		{sweep.Undecided, sweep.Below}, {sweep.Below, sweep.Below}, {sweep.Below, sweep.Undecided}, {sweep.Below, sweep.Below}, {sweep.Below, sweep.Above}}
	for i, w := range want {
		if js[i].Failover != w.f || js[i].Changes != w.c {
			t.Errorf("setting %d: failover %v, changes %v; want %v, %v", i, js[i].Failover, js[i].Changes, w.f, w.c)
		}
	}
	if best != 1 || math.Abs(js[1].Margin-0.5) > 1e-12 {
		t.Errorf("recommended %d (margin %g), want 1 (0.5)", best, js[1].Margin)
	}
	if more := g.NeedMore(outcomes); len(more) != 1 || more[0] != 2 {
		t.Errorf("need more: %v, want [2]", more)
	}
	outcomes[2].SteadyHours = 100 // now shown below: it has the most margin
	if best, _ := g.Recommend(outcomes); best != 2 || len(g.NeedMore(outcomes)) != 0 {
		t.Errorf("recommended %d, want 2", best)
	}
	outcomes[1].Failed = 1 // a failed trial: not clean, never recommended
	outcomes[2].Measured = 999
	if best, _ := g.Recommend(outcomes); best != 3 {
		t.Errorf("recommended %d, want 3", best)
	}
	if text := g.Undecided(&Outcome{LeaderChanges: 0, SteadyHours: 10}); !strings.Contains(text, "about") || !strings.Contains(text, "--max-steady-time") {
		t.Errorf("undecided: %q", text)
	}
}

// TestCompare: the conditional binomial test of observed and predicted
// leader changes; a restart in between is named.
func TestCompare(t *testing.T) {
	for _, tt := range []struct {
		changes, hours float64
		predicted      int64
		predHours      float64
		explains       bool
		says           string
	}{
		{0, 1, 0, 100, true, "explains"},
		{2, 24, 20, 240, true, "explains"},     // the same rate
		{10, 1, 0, 100, false, "more often"},   // a flapping cluster the model calls calm
		{0, 240, 100, 24, false, "less often"}, // a calm cluster the model calls flapping
		{3, 100, 1, 100, true, "explains"},     // too few to tell
	} {
		o := &Observed{Changes: tt.changes, Hours: tt.hours}
		c := Compare(o, tt.predicted, tt.predHours)
		if c.Explains != tt.explains || !strings.Contains(c.Text, tt.says) || (c.P < 0.05) == tt.explains {
			t.Errorf("%g in %gh against %d in %gh: p=%g, %q", tt.changes, tt.hours, tt.predicted, tt.predHours, c.P, c.Text)
		}
	}
	c := Compare(&Observed{Changes: 1, Hours: 0.01, Restarted: []string{"4072d0fe2d95568d"}}, 0, 100)
	if c.Explains || !strings.Contains(c.Text, "restarted in between ([4072d0fe2d95568d])") {
		t.Errorf("a restart: %q", c.Text)
	}
}

// TestObservedOfTheCapture: in the capture, n3 led and was killed between
// the scrapes: n1 and n2 saw one leader change, n3 restarted.
func TestObservedOfTheCapture(t *testing.T) {
	var scrapes []*metrics.Scrape
	for i, at := range []time.Time{noon, noon.Add(32 * time.Second)} {
		for _, n := range []string{"n1", "n2", "n3"} {
			scrapes = append(scrapes, scrape(t, filepath.Join("etcd-3.4.23", n+"-"+string(rune('1'+i))+".prom"), at))
		}
	}
	ms, err := Members(scrapes)
	if err != nil {
		t.Fatal(err)
	}
	o, err := ObservedOf(ms)
	if err != nil {
		t.Fatal(err)
	}
	if o == nil || o.Changes != 1 || math.Abs(o.Hours*3600-32) > 1e-9 || len(o.Restarted) != 1 || o.Restarted[0] != ms[2].ID {
		t.Errorf("observed %+v", o)
	}
	if o, _ := ObservedOf(ms[:0]); o != nil {
		t.Error("no member: observed something")
	}
}
