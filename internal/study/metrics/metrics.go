package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Limits on reading.
const (
	MaxBytes       = 32 << 20         // of one exposition or /debug/vars
	DefaultTimeout = 10 * time.Second // of a request to a member, unless the context says sooner
)

// The metrics of etcd (3.4; also 3.5 and later) that metrics reads.
const (
	metricRoundTrip     = "etcd_network_peer_round_trip_time_seconds"
	metricFsync         = "etcd_disk_wal_fsync_duration_seconds"
	metricLeaderChanges = "etcd_server_leader_changes_seen_total"
	metricServerID      = "etcd_server_id"
	metricVersion       = "etcd_server_version"
	metricIsLeader      = "etcd_server_is_leader"
	metricHasLeader     = "etcd_server_has_leader"
	metricProcessStart  = "process_start_time_seconds"
)

// Scrape is what one etcd member's /metrics said at one time.
type Scrape struct {
	Source string    // the file or URL read
	At     time.Time // when: a URL's response, a file's modification time
	// Member is the member's ID (etcd_server_id's server_id, hex), as its
	// peers name it in their To labels; Version its etcd version.
	Member, Version     string
	IsLeader, HasLeader bool
	// LeaderChanges is etcd_server_leader_changes_seen_total: the leader
	// changes the member has seen since its process started, at
	// ProcessStart (zero when not exposed).
	LeaderChanges float64
	ProcessStart  time.Time
	// RoundTrip holds the member's round-trip histogram of each peer,
	// sorted by peer.
	RoundTrip []Peer
	// Fsync is the WAL fsync histogram, nil when not exposed.
	Fsync *Histogram
}

// Peer is a member's round-trip times to one peer, which etcd measures
// with a probe of its own every few seconds.
type Peer struct {
	To  string // the peer's member ID (the To label)
	RTT Histogram
}

// Load reads the exposition at src: an http or https URL (a member's
// /metrics, its scrape time the response's), or a file (its scrape time
// its modification time). A request ends after [DefaultTimeout] unless ctx
// ends it sooner.
func Load(ctx context.Context, src string) (*Scrape, error) {
	data, at, err := fetch(ctx, src)
	if err != nil {
		return nil, err
	}
	return Read(bytes.NewReader(data), src, at)
}

// isURL says whether src names an http(s) URL rather than a file.
func isURL(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// fetch returns the content of the file or URL src, at most [MaxBytes],
// and when it was taken.
func fetch(ctx context.Context, src string) ([]byte, time.Time, error) {
	if !isURL(src) {
		fi, err := os.Stat(src)
		if err != nil {
			return nil, time.Time{}, err
		}
		if !fi.Mode().IsRegular() {
			return nil, time.Time{}, fmt.Errorf("%s: not a regular file", src)
		}
		f, err := os.Open(src)
		if err != nil {
			return nil, time.Time{}, err
		}
		defer f.Close()
		data, err := readBounded(f, src)
		return data, fi.ModTime(), err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %v", src, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, time.Time{}, err // names the URL
	}
	defer resp.Body.Close()
	at := time.Now()
	if resp.StatusCode != http.StatusOK {
		return nil, time.Time{}, fmt.Errorf("%s: %s", src, resp.Status)
	}
	data, err := readBounded(resp.Body, src)
	return data, at, err
}

func readBounded(r io.Reader, src string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %v", src, err)
	case len(data) > MaxBytes:
		return nil, fmt.Errorf("%s: more than %d MiB", src, MaxBytes>>20)
	}
	return data, nil
}

// Read reads an etcd member's exposition from r, at most [MaxBytes]:
// source names it in errors and in the Scrape, at is when it was taken.
// An exposition that holds none of etcd's server metrics is an error.
func Read(r io.Reader, source string, at time.Time) (*Scrape, error) {
	data, err := readBounded(r, source)
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	var pe expfmt.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%s:%d: not the Prometheus text format: %s", source, pe.Line, pe.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not the Prometheus text format: %v", source, err)
	}
	s := &Scrape{Source: source, At: at}
	if families[metricServerID] == nil && families[metricFsync] == nil && families[metricRoundTrip] == nil {
		return nil, fmt.Errorf("%s: none of etcd's metrics (%s, %s, %s): is it an etcd member's /metrics?", source, metricServerID, metricFsync, metricRoundTrip)
	}
	s.Member = label(families[metricServerID], "server_id")
	s.Version = label(families[metricVersion], "server_version")
	s.IsLeader = value(families[metricIsLeader]) == 1
	s.HasLeader = value(families[metricHasLeader]) == 1
	s.LeaderChanges = value(families[metricLeaderChanges])
	if start := value(families[metricProcessStart]); start > 0 {
		sec, frac := math.Modf(start)
		s.ProcessStart = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	if mf := families[metricFsync]; mf != nil {
		if len(mf.GetMetric()) != 1 {
			return nil, fmt.Errorf("%s: %s: %d series, want one", source, metricFsync, len(mf.GetMetric()))
		}
		h, err := histogramOf(mf.GetMetric()[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", source, metricFsync, err)
		}
		s.Fsync = &h
	}
	if mf := families[metricRoundTrip]; mf != nil {
		for _, m := range mf.GetMetric() {
			to := labelOf(m, "To")
			h, err := histogramOf(m)
			if err != nil {
				return nil, fmt.Errorf("%s: %s{To=%q}: %v", source, metricRoundTrip, to, err)
			}
			if to == "" || slices.ContainsFunc(s.RoundTrip, func(p Peer) bool { return p.To == to }) {
				return nil, fmt.Errorf("%s: %s: a series without a To label, or two for To=%q", source, metricRoundTrip, to)
			}
			s.RoundTrip = append(s.RoundTrip, Peer{To: to, RTT: h})
		}
		slices.SortFunc(s.RoundTrip, func(a, b Peer) int { return strings.Compare(a.To, b.To) })
	}
	return s, nil
}

// value returns the value of a family's only series (gauge, counter or
// untyped), or 0 when there is none.
func value(mf *dto.MetricFamily) float64 {
	if mf == nil || len(mf.GetMetric()) == 0 {
		return 0
	}
	m := mf.GetMetric()[0]
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

// label returns the value of name in a family's first series.
func label(mf *dto.MetricFamily, name string) string {
	if mf == nil || len(mf.GetMetric()) == 0 {
		return ""
	}
	return labelOf(mf.GetMetric()[0], name)
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
