// Package tune turns what an etcd cluster's members say about themselves
// (their Prometheus metrics, read by package metrics) into a scenario that
// raftsim runs on etcd's raft, and recommends a heartbeat interval and an
// election timeout from the trials of that scenario at many settings:
// the pair that meets the user's goals for failover time and leader
// changes with the most margin. It also compares the leader changes the
// cluster saw between two scrapes with what the model predicts at its
// current settings.
//
// tune never runs trials and never prints: cmd runs the cells with runner
// and report prints them.
package tune

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/metrics"
)

// Member is one etcd member scraped, once or more: Scrapes in time order.
type Member struct {
	ID      string
	Scrapes []*metrics.Scrape
}

// First and Last are the member's earliest and latest scrapes.
func (m *Member) First() *metrics.Scrape { return m.Scrapes[0] }
func (m *Member) Last() *metrics.Scrape  { return m.Scrapes[len(m.Scrapes)-1] }

// Members groups scrapes by the member they are of, in the order members
// first appear, each member's scrapes by time. A scrape that names no
// member, or two scrapes of a member taken at the same time, is an error.
func Members(scrapes []*metrics.Scrape) ([]Member, error) {
	var out []Member
	for _, s := range scrapes {
		if s.Member == "" {
			return nil, fmt.Errorf("%s: no etcd_server_id: tune needs each member's ID to pair its scrapes and its peers' round trips", s.Source)
		}
		i := slices.IndexFunc(out, func(m Member) bool { return m.ID == s.Member })
		if i < 0 {
			out = append(out, Member{ID: s.Member})
			i = len(out) - 1
		}
		out[i].Scrapes = append(out[i].Scrapes, s)
	}
	for k := range out {
		m := &out[k]
		slices.SortStableFunc(m.Scrapes, func(a, b *metrics.Scrape) int { return a.At.Compare(b.At) })
		for j := 1; j < len(m.Scrapes); j++ {
			if a, b := m.Scrapes[j-1], m.Scrapes[j]; a.At.Equal(b.At) {
				return nil, fmt.Errorf("%s and %s: two scrapes of member %s taken at the same time (%s): give each file its time, FILE@%s",
					a.Source, b.Source, m.ID, a.At.Format(time.RFC3339), time.RFC3339)
			}
		}
	}
	return out, nil
}

// Model is what tune knows of a cluster from its members' metrics.
type Model struct {
	Members []Member
	// Version is the members' etcd version (the latest scrape's that says).
	Version string
	// Size is the cluster's size: each member and the peers whose round
	// trips it measures.
	Size int
	// Network is the one-way latency of every round trip any member
	// measured, halved; Links each directed link's between two members
	// scraped (indexes into Members), where both ends were scraped.
	Network metrics.Histogram
	Links   []metrics.Link
	// Persist is the WAL fsync time of every member.
	Persist metrics.Histogram
	Stalls  Stalls
}

// Stalls are the fsyncs long enough to matter: while etcd waits for its
// WAL it runs no tick and sends no heartbeat (its raft loop writes the WAL
// before it reads the next tick), so a member whose fsync takes longer
// than a heartbeat interval is, to its peers, a paused member.
type Stalls struct {
	// Floor is the bucket bound above which fsyncs count as stalls.
	Floor time.Duration
	// Tail is the histogram of the stalls' durations.
	Tail metrics.Histogram
	// Count stalls were seen in Hours member-hours (0: the window is
	// unknown, so the rate is).
	Count, Hours float64
	// Fraction is the stalls' share of all fsyncs.
	Fraction float64
	// Window says what the hours were measured from.
	Window string
}

// PerHour returns the stalls per member-hour, NaN when the window is
// unknown.
func (s *Stalls) PerHour() float64 {
	if s.Hours <= 0 {
		return math.NaN()
	}
	return s.Count / s.Hours
}

// CI95 returns the exact 95% interval of the stalls per member-hour.
func (s *Stalls) CI95() (lo, hi float64) {
	if s.Hours <= 0 {
		return math.NaN(), math.NaN()
	}
	lo, hi = stats.Poisson95(int64(math.Round(s.Count)))
	return lo / s.Hours, hi / s.Hours
}

// NewModel reads the model of a cluster from its members' scrapes. The
// network and the disk are the latest scrapes' histograms (all a member
// has seen since it started). Fsyncs above stallFloor (rounded down to a
// bucket's bound) are stalls; their rate comes from a member's two
// scrapes (what it did in between), else from one scrape and its process's
// start.
func NewModel(members []Member, stallFloor time.Duration) (*Model, error) {
	m := &Model{Members: members}
	var latest []*metrics.Scrape
	for k := range members {
		s := members[k].Last()
		latest = append(latest, s)
		if s.Version != "" {
			m.Version = s.Version
		}
		m.Size = max(m.Size, 1+len(s.RoundTrip))
	}
	var err error
	if m.Network, err = metrics.Network(latest); err != nil {
		return nil, fmt.Errorf("the network: %v", err)
	}
	if m.Links, err = metrics.Links(latest); err != nil {
		return nil, fmt.Errorf("the network: %v", err)
	}
	if m.Persist, err = metrics.Persist(latest); err != nil {
		return nil, fmt.Errorf("the disk: %v", err)
	}
	if m.Stalls, err = stallsOf(members, m.Persist, stallFloor); err != nil {
		return nil, err
	}
	return m, nil
}

// stallsOf counts the fsyncs above floor of each member over the window
// its scrapes show.
func stallsOf(members []Member, all metrics.Histogram, floor time.Duration) (Stalls, error) {
	bound := all.BoundBelow(floor.Seconds())
	tail, err := all.Above(bound)
	if err != nil {
		return Stalls{}, err
	}
	st := Stalls{Floor: time.Duration(bound * float64(time.Second)), Tail: tail, Fraction: tail.Count() / all.Count()}
	var windows []string
	for k := range members {
		mb := &members[k]
		first, last := mb.First(), mb.Last()
		if last.Fsync == nil {
			continue
		}
		above := func(h metrics.Histogram) float64 { t, _ := h.Above(bound); return t.Count() }
		switch {
		case first != last && first.Fsync != nil && first.ProcessStart.Equal(last.ProcessStart):
			since, err := last.Fsync.Since(*first.Fsync)
			if err != nil {
				return Stalls{}, fmt.Errorf("%s and %s: %s: %v", first.Source, last.Source, "etcd_disk_wal_fsync_duration_seconds", err)
			}
			st.Count += above(since)
			st.Hours += last.At.Sub(first.At).Hours()
			windows = append(windows, "between its scrapes")
		case !last.ProcessStart.IsZero() && last.At.After(last.ProcessStart):
			st.Count += above(*last.Fsync)
			st.Hours += last.At.Sub(last.ProcessStart).Hours()
			windows = append(windows, "since its process started")
		}
	}
	slices.Sort(windows)
	st.Window = strings.Join(slices.Compact(windows), ", or ")
	return st, nil
}

// Setting is an etcd member's timing: --heartbeat-interval and
// --election-timeout.
type Setting struct {
	Heartbeat, Election time.Duration
}

// Ticks returns the setting as etcd counts it: ElectionTick, the election
// timeout in whole heartbeats (etcd divides, rounding down).
func (s Setting) Ticks() int64 { return int64(s.Election / s.Heartbeat) }

// Flags returns the etcd flags that set s, in milliseconds.
func (s Setting) Flags() string {
	return fmt.Sprintf("--heartbeat-interval=%d --election-timeout=%d", s.Heartbeat.Milliseconds(), s.Election.Milliseconds())
}

// Env returns the environment variables that set s.
func (s Setting) Env() string {
	return fmt.Sprintf("ETCD_HEARTBEAT_INTERVAL=%d ETCD_ELECTION_TIMEOUT=%d", s.Heartbeat.Milliseconds(), s.Election.Milliseconds())
}

// Check says what etcd refuses of s: whole milliseconds, an election
// timeout of at least five heartbeats and at most 50s.
func (s Setting) Check() error {
	switch {
	case s.Heartbeat <= 0 || s.Heartbeat%time.Millisecond != 0 || s.Election%time.Millisecond != 0:
		return fmt.Errorf("heartbeat %v, election timeout %v: etcd takes whole milliseconds above 0", s.Heartbeat, s.Election)
	case s.Election < 5*s.Heartbeat:
		return fmt.Errorf("election timeout %v: etcd wants at least 5 heartbeat intervals (%v)", s.Election, 5*s.Heartbeat)
	case s.Election > 50*time.Second:
		return fmt.Errorf("election timeout %v: etcd allows at most 50s", s.Election)
	}
	return nil
}

func (s Setting) String() string {
	return fmt.Sprintf("heartbeat %s, election timeout %s", msText(s.Heartbeat), msText(s.Election))
}

func msText(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// Grid returns the settings to try: every pair of heartbeats and
// election timeouts that etcd accepts and whose election timeout is a
// whole number of heartbeats, sorted by heartbeat, then election timeout.
func Grid(heartbeats, elections []time.Duration) []Setting {
	var out []Setting
	for _, h := range heartbeats {
		for _, e := range elections {
			if s := (Setting{h, e}); s.Check() == nil && e%h == 0 {
				out = append(out, s)
			}
		}
	}
	return sortSettings(out)
}

// With returns settings with s among them, in order.
func With(settings []Setting, s Setting) []Setting {
	return sortSettings(append(slices.Clone(settings), s))
}

func sortSettings(settings []Setting) []Setting {
	slices.SortFunc(settings, func(a, b Setting) int {
		return cmp.Or(cmp.Compare(a.Heartbeat, b.Heartbeat), cmp.Compare(a.Election, b.Election))
	})
	return slices.Compact(settings)
}

// PreVote returns whether members of etcd version v campaign with
// Pre-Vote by default: etcd 3.5 and later do, 3.4 and earlier do not. An
// unknown version is taken as 3.5's default.
func PreVote(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return true
	}
	return major > 3 || major == 3 && minor >= 5
}
