package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// captured returns the scrapes of the capture in testdata, by round (1,
// 2) and member (n1, n2, n3), each with the time it was taken.
func captured(t *testing.T) map[string]*Scrape {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(captureDir, "scrapes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []scrape
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]*Scrape{}
	for _, sc := range list {
		f, err := os.Open(filepath.Join(captureDir, sc.File))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Read(f, sc.File, sc.At)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(sc.File, ".prom")] = s
	}
	if len(out) != 6 {
		t.Fatalf("got %d scrapes, want 6", len(out))
	}
	return out
}

// round returns round r's scrapes of n1, n2 and n3.
func round(all map[string]*Scrape, r string) []*Scrape {
	return []*Scrape{all["n1-"+r], all["n2-"+r], all["n3-"+r]}
}

// TestReadCapture reads what three real etcd 3.4.23 members exposed.
func TestReadCapture(t *testing.T) {
	all := captured(t)
	for _, r := range []string{"1", "2"} {
		scrapes := round(all, r)
		leaders := 0
		for i, s := range scrapes {
			if s.Version != "3.4.23" || len(s.Member) != 16 || !s.HasLeader || s.ProcessStart.IsZero() {
				t.Errorf("%s: version %q, member %q, has leader %v, started %v", s.Source, s.Version, s.Member, s.HasLeader, s.ProcessStart)
			}
			if s.IsLeader {
				leaders++
			}
			if s.Fsync == nil || s.Fsync.Count() < 100 || !math.IsInf(s.Fsync.Bounds[len(s.Fsync.Bounds)-1], 1) || s.Fsync.Bounds[0] != 0.001 {
				t.Errorf("%s: fsync histogram %+v", s.Source, s.Fsync)
			}
			// Each member measures its round trips to the other two.
			var want []string
			for j, o := range scrapes {
				if j != i {
					want = append(want, o.Member)
				}
			}
			slices.Sort(want)
			var got []string
			for _, p := range s.RoundTrip {
				got = append(got, p.To)
				if p.RTT.Count() == 0 || len(p.RTT.Bounds) != 17 || p.RTT.Bounds[0] != 0.0001 {
					t.Errorf("%s: round trips to %s: %+v", s.Source, p.To, p.RTT)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: round trips to %v, want %v", s.Source, got, want)
			}
		}
		if leaders != 1 {
			t.Errorf("round %s: %d members say they lead, want 1", r, leaders)
		}
	}
}

// TestLinks halves the round trips of each pair of members into the
// one-way latency of both directions.
func TestLinks(t *testing.T) {
	scrapes := round(captured(t), "1")
	links, err := Links(scrapes)
	if err != nil {
		t.Fatal(err)
	}
	var pairs [][2]int
	for _, l := range links {
		pairs = append(pairs, [2]int{l.From, l.To})
		a, _ := scrapes[l.From].roundTrip(scrapes[l.To].Member)
		b, _ := scrapes[l.To].roundTrip(scrapes[l.From].Member)
		if got, want := l.OneWay.Count(), a.Count()+b.Count(); got != want {
			t.Errorf("link %d->%d: %v round trips, want %v", l.From, l.To, got, want)
		}
		if got, want := l.OneWay.Bounds[0], a.Bounds[0]/2; got != want {
			t.Errorf("link %d->%d: first bound %v, want %v (half a round trip)", l.From, l.To, got, want)
		}
		if _, err := l.OneWay.Dist("link.csv"); err != nil {
			t.Errorf("link %d->%d: %v", l.From, l.To, err)
		}
	}
	if want := [][2]int{{0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}}; !slices.Equal(pairs, want) {
		t.Errorf("links %v, want %v", pairs, want)
	}
	// A member scraped alone has no link to another scraped member.
	if links, err := Links(scrapes[:1]); err != nil || len(links) != 0 {
		t.Errorf("Links of one member: %v, %v", links, err)
	}
}

// TestDists turns the capture's histograms into distributions and checks
// them against the histograms: one way is half the round trip, and the
// fsyncs of all members make the disk.
func TestDists(t *testing.T) {
	scrapes := round(captured(t), "2")
	net, err := Network(scrapes)
	if err != nil {
		t.Fatal(err)
	}
	var rtts float64
	for _, s := range scrapes {
		for _, p := range s.RoundTrip {
			rtts += p.RTT.Count()
		}
	}
	if net.Count() != rtts {
		t.Errorf("the network's histogram holds %v round trips, want %v", net.Count(), rtts)
	}
	persist, err := Persist(scrapes)
	if err != nil {
		t.Fatal(err)
	}
	if want := scrapes[0].Fsync.Count() + scrapes[1].Fsync.Count() + scrapes[2].Fsync.Count(); persist.Count() != want {
		t.Errorf("persist holds %v fsyncs, want %v", persist.Count(), want)
	}
	for _, h := range []Histogram{net, persist} {
		d, err := h.Dist("x.csv")
		if err != nil {
			t.Fatal(err)
		}
		if got := scenarios.FormatDist(d); got != "empirical:x.csv" {
			t.Errorf("FormatDist: got %q", got)
		}
		checkShares(t, h, d)
	}
}

// checkShares draws from d and checks that each of h's buckets gets its
// share of the draws, within five standard deviations.
func checkShares(t *testing.T, h Histogram, d sim.Dist) {
	t.Helper()
	r := sim.NewRand(7)
	const n = 200000
	draws := make([]float64, n)
	for i := range draws {
		draws[i] = d.Sample(r).Seconds()
	}
	slices.Sort(draws)
	for i, le := range h.Bounds {
		if math.IsInf(le, 1) {
			continue
		}
		k, _ := slices.BinarySearch(draws, le*(1+1e-9))
		p := h.Counts[i] / h.Count()
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(float64(k)-n*p) > 5*sd+1 {
			t.Errorf("draws at or below %vs: %d, want about %.0f", le, k, n*p)
		}
	}
}

// TestHeavyTail reads the hand-made members whose disk takes 1-4s for
// 0.1% of its fsyncs: the tail stays in the persist distribution, and the
// steady members' disk has none.
func TestHeavyTail(t *testing.T) {
	for _, tt := range []struct {
		kind string
		tail float64
	}{{"steady", 0}, {"heavy-fsync-tail", 0.001}} {
		var scrapes []*Scrape
		for _, n := range []string{"n1", "n2", "n3"} {
			s, err := Load(context.Background(), filepath.Join("testdata", "handmade", tt.kind+"-"+n+".prom"))
			if err != nil {
				t.Fatal(err)
			}
			scrapes = append(scrapes, s)
		}
		h, err := Persist(scrapes)
		if err != nil {
			t.Fatal(err)
		}
		d, err := h.Dist("fsync.csv")
		if err != nil {
			t.Fatal(err)
		}
		r := sim.NewRand(8)
		const n = 1000000
		slow := 0
		for i := 0; i < n; i++ {
			if x := d.Sample(r); x >= 1024*time.Millisecond {
				slow++
				if x > 4096*time.Millisecond {
					t.Fatalf("%s: a draw of %v, above the largest observation's bucket", tt.kind, x)
				}
			}
		}
		if sd := math.Sqrt(n * tt.tail * (1 - tt.tail)); math.Abs(float64(slow)-n*tt.tail) > 5*sd {
			t.Errorf("%s: %d of %d fsyncs at 1-4s, want about %.0f", tt.kind, slow, n, n*tt.tail)
		}
		links, err := Links(scrapes)
		if err != nil || len(links) != 6 || links[0].OneWay.Count() != 4000 {
			t.Errorf("%s: links %v, %v", tt.kind, links, err)
		}
	}
}

// TestLeaderChanges takes the rate of leader changes from two scrapes:
// n1 saw the leader killed between them; n3, the leader killed, restarted.
func TestLeaderChanges(t *testing.T) {
	all := captured(t)
	l, err := LeaderChangesBetween(all["n1-1"], all["n1-2"])
	if err != nil {
		t.Fatal(err)
	}
	if l.Changes != 1 || l.Restarted || l.Over != 32756*time.Millisecond {
		t.Errorf("n1: %+v, want 1 change over 32.756s", l)
	}
	if got, want := l.PerHour(), 3600/32.756; math.Abs(got-want) > 1e-9 {
		t.Errorf("n1: %v an hour, want %v", got, want)
	}
	l, err = LeaderChangesBetween(all["n3-1"], all["n3-2"])
	if err != nil || !l.Restarted || l.Changes != 1 {
		t.Errorf("n3, restarted: %+v, %v", l, err)
	}
	if _, err := LeaderChangesBetween(all["n1-1"], all["n2-2"]); err == nil || !strings.Contains(err.Error(), "different members") {
		t.Errorf("scrapes of two members: %v", err)
	}
	if _, err := LeaderChangesBetween(all["n1-2"], all["n1-1"]); err == nil || !strings.Contains(err.Error(), "was not taken after") {
		t.Errorf("scrapes in the wrong order: %v", err)
	}
	// Of the fsyncs, those between the scrapes.
	d, err := all["n1-2"].Fsync.Since(*all["n1-1"].Fsync)
	if err != nil || d.Count() != all["n1-2"].Fsync.Count()-all["n1-1"].Fsync.Count() {
		t.Errorf("Since: %v, %v", d.Count(), err)
	}
	if _, err := all["n3-2"].Fsync.Since(*all["n3-1"].Fsync); err == nil {
		t.Errorf("Since across a restart: no error")
	}
}

func TestConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(captureDir, "n1-1.vars.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(data, "n1-1.vars.json")
	if want := (Config{Heartbeat: 100 * time.Millisecond, ElectionTimeout: time.Second, HeartbeatGiven: true, ElectionGiven: true}); err != nil || c != want {
		t.Errorf("got %+v, %v; want %+v", c, err, want)
	}
	for _, tt := range []struct {
		vars string
		want Config
		err  string
	}{
		{`{"cmdline": ["etcd", "--name", "a"]}`, Config{Heartbeat: EtcdHeartbeat, ElectionTimeout: EtcdElectionTimeout}, ""},
		{`{"cmdline": ["etcd", "--heartbeat-interval=50", "-election-timeout", "500", "--config-file", "/etc/etcd.yaml"]}`,
			Config{Heartbeat: 50 * time.Millisecond, ElectionTimeout: 500 * time.Millisecond, HeartbeatGiven: true, ElectionGiven: true, ConfigFile: "/etc/etcd.yaml"}, ""},
		{`{"cmdline": ["etcd", "--election-timeout", "1s"]}`, Config{}, `v: cmdline: --election-timeout "1s": want a whole number of milliseconds`},
		{`{"memstats": {}}`, Config{}, "v: no cmdline"},
		{`<html>`, Config{}, "v: not etcd's /debug/vars"},
	} {
		c, err := ReadConfig([]byte(tt.vars), "v")
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("%s: got %v, want the error %q", tt.vars, err, tt.err)
			}
		} else if err != nil || c != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.vars, c, err, tt.want)
		}
	}
}

// TestLoadURL reads a member's /metrics and /debug/vars over HTTP on
// loopback, and refuses an answer too large, too slow or not 200.
func TestLoadURL(t *testing.T) {
	prom, err := os.ReadFile(filepath.Join(captureDir, "n2-1.prom"))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := os.ReadFile(filepath.Join(captureDir, "n2-1.vars.json"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { w.Write(prom) })
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, r *http.Request) { w.Write(vars) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("# padding\n"), 1<<16)
		for i := 0; i <= MaxBytes/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	before := time.Now()
	s, err := Load(context.Background(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if s.Member != "8a71e10040414da0" || s.At.Before(before) || s.Source != srv.URL+"/metrics" {
		t.Errorf("got member %q at %v from %q", s.Member, s.At, s.Source)
	}
	c, err := LoadConfig(context.Background(), srv.URL+"/metrics")
	if err != nil || c.Heartbeat != 100*time.Millisecond || !c.ElectionGiven {
		t.Errorf("LoadConfig: %+v, %v", c, err)
	}
	if _, err := Load(context.Background(), srv.URL+"/huge"); err == nil || !strings.HasSuffix(err.Error(), "/huge: more than 32 MiB") {
		t.Errorf("an answer too large: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Load(ctx, srv.URL+"/slow"); err == nil || !strings.Contains(err.Error(), "/slow") {
		t.Errorf("an answer too slow: %v", err)
	}
	if _, err := Load(context.Background(), srv.URL+"/none"); err == nil || err.Error() != srv.URL+"/none: 404 Not Found" {
		t.Errorf("a 404: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"", "x: none of etcd's metrics"},
		{"go_goroutines 7\n", "x: none of etcd's metrics"},
		{"etcd_server_id{server_id=\"a\"} 1\nbroken line here\n", "x:2: not the Prometheus text format:"},
		{"# TYPE etcd_disk_wal_fsync_duration_seconds histogram\netcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 5\n" +
			"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 3\netcd_disk_wal_fsync_duration_seconds_count 5\n",
			"x: etcd_disk_wal_fsync_duration_seconds: the count at le=0.002 is below the one before: counts are cumulative"},
		{"# TYPE etcd_network_peer_round_trip_time_seconds histogram\netcd_network_peer_round_trip_time_seconds_bucket{le=\"0.001\"} 5\n" +
			"etcd_network_peer_round_trip_time_seconds_count 5\n", "x: etcd_network_peer_round_trip_time_seconds: a series without a To label"},
	} {
		if _, err := Read(strings.NewReader(tt.text), "x", time.Time{}); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want the error %q", tt.text, err, tt.want)
		}
	}
	if _, err := Load(context.Background(), "testdata"); err == nil || err.Error() != "testdata: not a regular file" {
		t.Errorf("a directory: %v", err)
	}
	// A histogram without its +Inf bucket gets it from _count.
	s, err := Read(strings.NewReader("# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n"+
		"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 5\netcd_disk_wal_fsync_duration_seconds_count 7\n"), "x", time.Time{})
	if err != nil || !slices.Equal(s.Fsync.Counts, []float64{5, 7}) || !math.IsInf(s.Fsync.Bounds[1], 1) {
		t.Errorf("no +Inf bucket: %+v, %v", s, err)
	}
}

// FuzzRead checks that any exposition is refused or read into histograms
// that make distributions or say why not.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"handmade/heavy-fsync-tail-n1.prom", "handmade/steady-n2.prom"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("etcd_server_id{server_id=\"a\"} 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data), "f", time.Time{})
		if err != nil {
			return
		}
		hs := []Histogram{}
		if s.Fsync != nil {
			hs = append(hs, *s.Fsync)
		}
		for _, p := range s.RoundTrip {
			hs = append(hs, p.RTT)
		}
		for _, h := range hs {
			if err := h.check(); err != nil {
				t.Fatalf("read a histogram that check refuses: %v", err)
			}
			if h.Count() > 0 {
				if _, err := h.Dist("h.csv"); err != nil && !strings.HasPrefix(err.Error(), "h.csv") {
					t.Fatalf("Dist: %v", err)
				}
			}
		}
	})
}
