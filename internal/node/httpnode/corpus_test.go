package httpnode

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
)

var record = flag.Bool("record", false, "rewrite the fuzz tests' seed corpus (testdata/fuzz/Fuzz*/traffic-*) from a real cluster's requests")

// corpusTargets are the fuzz targets whose seeds are recorded traffic, with
// the endpoint each one's requests went to.
var corpusTargets = []struct {
	target string
	path   string
}{
	{"FuzzRequestVote", wire.PathRequestVote},
	{"FuzzPreVote", wire.PathPreVote},
	{"FuzzAppendEntries", wire.PathAppendEntries},
	{"FuzzPropose", wire.PathPropose},
}

// perTarget is how many recorded requests seed each target.
const perTarget = 6

// TestRecordFuzzCorpus checks that the recorded seeds are requests the
// wire reads, so that the fuzz tests start from what real nodes send (a
// tightened decoder that refuses them would refuse raftsim's own nodes).
// With -record it first rewrites them: a three-node cluster with Pre-Vote,
// whose requests pass through recording proxies, elects a leader, takes a
// write of six entries, loses its leader and elects another.
func TestRecordFuzzCorpus(t *testing.T) {
	if *record {
		recordTraffic(t)
	}
	for _, ct := range corpusTargets {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", ct.target, "traffic-*"))
		if err != nil || len(files) == 0 {
			t.Errorf("%s: no recorded seeds in testdata/fuzz (go test -run TestRecordFuzzCorpus -record writes them)", ct.target)
			continue
		}
		for _, file := range files {
			body, err := corpusBody(file)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			if ct.path == wire.PathPropose {
				var a ProposeArgs
				err = wire.DecodeObject(body, &a, "count")
			} else {
				typ, _ := wire.RequestType(ct.path)
				_, err = wire.DecodeRequest(typ, body)
			}
			if err != nil {
				t.Errorf("%s: the recorded request %s no longer reads: %v", file, body, err)
			}
		}
	}
}

// corpusBody reads the []byte value of a corpus file (the last value: the
// body, after FuzzAppendEntries' bool).
func corpusBody(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	last := lines[len(lines)-1]
	if lines[0] != "go test fuzz v1" || !strings.HasPrefix(last, "[]byte(") || !strings.HasSuffix(last, ")") {
		return nil, fmt.Errorf("not a corpus file of a []byte value")
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(last, "[]byte("), ")"))
	return []byte(s), err
}

// recorder is a proxy in front of one node that keeps a copy of every
// request body it forwards, by path.
type recorder struct {
	mu     sync.Mutex
	bodies map[string][][]byte
}

func (r *recorder) keep(path string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies[path] = append(r.bodies[path], body)
}

func (r *recorder) proxy(t *testing.T, target func() string) *httptest.Server {
	client := &http.Client{Timeout: 2 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(io.LimitReader(req.Body, wire.MaxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.keep(req.URL.Path, body)
		resp, err := client.Post("http://"+target()+req.URL.Path, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recordTraffic runs the cluster and rewrites the traffic-* seeds.
func recordTraffic(t *testing.T) {
	rec := &recorder{bodies: map[string][][]byte{}}
	const size = 3
	names := wire.NodeNames(size)
	lns := make([]string, size)
	proxies := make([]string, size) // proxies[i] forwards to node i
	for i := range size {
		ln := listen(t)
		lns[i] = ln.Addr().String()
		ln.Close() // the node listens on it again below
		proxies[i] = strings.TrimPrefix(rec.proxy(t, func() string { return lns[i] }).URL, "http://")
	}
	dir := t.TempDir()
	c := &cluster{t: t}
	t.Cleanup(c.close)
	for i := range size {
		var peers []wire.Peer
		for j := range size {
			if j != i {
				peers = append(peers, wire.Peer{Name: names[j], Addr: proxies[j]})
			}
		}
		cfg := config(names[i], nil, dir, peers)
		cfg.Listen, cfg.Raft.Options.PreVote = lns[i], true
		cfg.Raft.ElectionMin, cfg.Raft.ElectionMax, cfg.Raft.Heartbeat = 100*time.Millisecond, 200*time.Millisecond, 30*time.Millisecond
		c.start(cfg)
	}
	first := waitForLeader(t, c, -1)
	write := `{"count":6}`
	rec.keep(wire.PathPropose, []byte(write))
	if code, body := post(t, c.nodes[first], wire.PathPropose, write); code != http.StatusOK || !strings.Contains(body, "true") {
		t.Fatalf("the write: got %d %s", code, body)
	}
	if !waitFor(10*time.Second, func() bool {
		for i := range size {
			if status(t, c.nodes[i]).CommitIndex < 7 {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the write was not committed everywhere within 10s")
	}
	c.stopNode(first)
	waitForLeader(t, c, first)
	for i := range size {
		c.stopNode(i)
	}
	for _, ct := range corpusTargets {
		bodies := rec.bodies[ct.path]
		dir := filepath.Join("testdata", "fuzz", ct.target)
		old, _ := filepath.Glob(filepath.Join(dir, "traffic-*"))
		for _, f := range old {
			os.Remove(f)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		kept := spread(bodies, perTarget)
		for k, body := range kept {
			value := fmt.Sprintf("[]byte(%q)\n", body)
			if ct.target == "FuzzAppendEntries" {
				value = "bool(false)\n" + value
			}
			file := filepath.Join(dir, fmt.Sprintf("traffic-%d", k+1))
			if err := os.WriteFile(file, []byte("go test fuzz v1\n"+value), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %d requests recorded, %d kept", ct.target, len(bodies), len(kept))
	}
}

// waitForLeader waits up to 10s for a leader other than node not, followed
// by every other running node, and returns it.
func waitForLeader(t *testing.T, c *cluster, not int) int {
	t.Helper()
	leader := -1
	if !waitFor(10*time.Second, func() bool {
		leader = -1
		var term uint64
		for i, n := range c.nodes {
			if c.stop[i] == nil {
				continue
			}
			s := status(t, n)
			if s.State == wire.StateLeader && i != not {
				leader, term = i, s.Term
			}
		}
		if leader < 0 {
			return false
		}
		for i, n := range c.nodes {
			if c.stop[i] != nil && i != leader {
				if s := status(t, n); s.Term != term || s.Leader == nil || *s.Leader != c.nodes[leader].cfg.Name {
					return false
				}
			}
		}
		return true
	}) {
		t.Fatal("no leader followed by the others within 10s")
	}
	return leader
}

// spread returns up to k of the distinct bodies, from the shortest to the
// longest, evenly spaced: heartbeats and requests with entries alike.
func spread(bodies [][]byte, k int) [][]byte {
	distinct := slices.Clone(bodies)
	slices.SortFunc(distinct, func(a, b []byte) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return bytes.Compare(a, b)
	})
	distinct = slices.CompactFunc(distinct, bytes.Equal)
	if len(distinct) <= k {
		return distinct
	}
	var out [][]byte
	for i := range k {
		out = append(out, distinct[i*(len(distinct)-1)/(k-1)])
	}
	return out
}
