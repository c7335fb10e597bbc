package httpnode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/node/etcdnode"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// statusTimeout is how long raftsim live waits for one /status answer
// (internal/live's statusTimeout): the node must answer within it whatever
// else it is doing.
const statusTimeout = 500 * time.Millisecond

// store writes st into the data directory of node name under dir, as an
// earlier run of the node would have left it.
func store(t *testing.T, dir, name string, st disk.State) {
	t.Helper()
	s, _, err := disk.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var first uint64
	if len(st.Log) > 0 {
		first = 1
	}
	if err := s.Save(st.Term, st.Vote, first, st.Log); err != nil {
		t.Fatal(err)
	}
}

func wal(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name, disk.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestHostileRequestsAreRefusedAndChangeNothing: each request no honest
// node sends gets 400 with a JSON error naming what is wrong, and leaves
// the node's state and its data directory as they were.
func TestHostileRequestsAreRefusedAndChangeNothing(t *testing.T) {
	dir := t.TempDir()
	store(t, dir, "n1", disk.State{Term: 5, Vote: "n2", Log: []uint64{1, 5}})
	_, n := lone(t, dir)
	before, walBefore := status(t, n), wal(t, dir, "n1")
	if before.Term != 5 || before.LogLength != 2 {
		t.Fatalf("setup: got %+v, want term 5 and two entries", before)
	}
	huge := `{"term":6,"leaderId":"n2","prevLogIndex":2,"prevLogTerm":5,"entries":[{"index":3,"term":6,"command":"` +
		strings.Repeat("x", wire.MaxBody) + `"}]}`
	for _, tc := range []struct{ name, path, body, want string }{
		{"the issue's vote of term 2^64-1", wire.PathRequestVote, `{"term":18446744073709551615,"candidateId":"n2","lastLogIndex":2,"lastLogTerm":5}`,
			`field \"term\": 18446744073709551615 is above 9007199254740991 (2^53-1)`},
		{"a heartbeat of term 2^53", wire.PathHeartbeat, `{"term":9007199254740992,"leaderId":"n2"}`, `is above 9007199254740991`},
		{"a pre-vote beyond 2^64", wire.PathPreVote, `{"term":99999999999999999999,"candidateId":"n3"}`, `is above 9007199254740991`},
		{"an entry index of 2^53", wire.PathAppendEntries, `{"term":6,"leaderId":"n2","prevLogIndex":9007199254740991,"prevLogTerm":5,"entries":[{"index":9007199254740992,"term":6}]}`,
			`field \"entries[0].index\"`},
		{"entries that do not follow prevLogIndex", wire.PathAppendEntries, `{"term":6,"leaderId":"n2","prevLogIndex":2,"prevLogTerm":5,"entries":[{"index":4,"term":6}]}`,
			"entries[0].index is 4: entries must be numbered one by one from prevLogIndex+1"},
		{"entries newer than the term", wire.PathAppendEntries, `{"term":6,"leaderId":"n2","prevLogIndex":2,"prevLogTerm":5,"entries":[{"index":3,"term":7}]}`,
			"entries[0].term is 7, above term 6"},
		{"a candidate's log newer than its term", wire.PathRequestVote, `{"term":6,"candidateId":"n3","lastLogIndex":9,"lastLogTerm":8}`,
			"lastLogTerm 8 is above term 6"},
		{"a sender that is not a peer", wire.PathRequestVote, `{"term":6,"candidateId":"n9","lastLogIndex":2,"lastLogTerm":5}`, `sender \"n9\" is not a peer`},
		{"the node's own name", wire.PathAppendEntries, `{"term":6,"leaderId":"n1","prevLogIndex":2,"prevLogTerm":5}`, `sender \"n1\" is not a peer`},
		{"a key twice", wire.PathRequestVote, `{"term":6,"candidateId":"n3","lastLogIndex":2,"lastLogTerm":5,"term":7}`, `key \"term\": a key twice`},
		{"a key twice, in other case", wire.PathHeartbeat, `{"term":6,"leaderId":"n2","LeaderId":"n3"}`, `keys \"leaderId\" and \"LeaderId\"`},
		{"a body over the bound", wire.PathAppendEntries, huge, fmt.Sprintf("the body is over %d bytes", wire.MaxBody)},
		{"a count twice", wire.PathPropose, `{"count":1,"count":1000}`, `key \"count\"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, n, tc.path, tc.body)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s, want 400 with %q", code, body, tc.want)
			}
			var e wire.Error
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Errorf("the error %s is not {\"error\": ...}", body)
			}
		})
	}
	if after := status(t, n); !sameStatus(after, before) {
		t.Errorf("after the refused requests: got %+v, want %+v", after, before)
	}
	if after := wal(t, dir, "n1"); !bytes.Equal(after, walBefore) {
		t.Errorf("the refused requests wrote to the data directory:\n%s", after[len(walBefore):])
	}
	// The same node still grants an honest candidate of the next term.
	if _, body := post(t, n, wire.PathRequestVote, `{"term":6,"candidateId":"n3","lastLogIndex":2,"lastLogTerm":5}`); body != `{"term":6,"voteGranted":true}` {
		t.Errorf("an honest vote after them: got %s", body)
	}
}

func sameStatus(a, b wire.Status) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// syncBuffer is a node's log, written by its goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond every few milliseconds until it holds or the deadline
// passes, and reports whether it held.
func waitFor(deadline time.Duration, cond func() bool) bool {
	end := time.Now().Add(deadline)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeStopsAtMaxTerm: a node one term below raft.MaxTerm stands once
// more, in MaxTerm; when its election timer fires again it does not
// campaign, says why in its log, and stays in MaxTerm, on disk too:
// raftsim's node as a follower, etcd's (which cannot be told to step
// down) as the candidate it was.
func TestServeStopsAtMaxTerm(t *testing.T) {
	for _, impl := range []struct {
		name    string
		machine func(raft.Config, raft.Rand) raft.Machine
		state   string
	}{
		{"raftsim", nil, wire.StateFollower},
		{"etcd", func(c raft.Config, r raft.Rand) raft.Machine {
			return etcdnode.New(c, scenarios.EtcdConfig{Tick: time.Millisecond, ElectionTick: 20, HeartbeatTick: 5}, r)
		}, wire.StateCandidate},
	} {
		t.Run(impl.name, func(t *testing.T) {
			dir := t.TempDir()
			store(t, dir, "n1", disk.State{Term: raft.MaxTerm - 1})
			c := &cluster{t: t}
			t.Cleanup(c.close)
			var logged syncBuffer
			cfg := config("n1", listen(t), dir, []wire.Peer{{Name: "n2", Addr: "127.0.0.1:1"}, {Name: "n3", Addr: "127.0.0.1:1"}})
			cfg.Raft.ElectionMin, cfg.Raft.ElectionMax, cfg.Raft.Heartbeat, cfg.Log = 20*time.Millisecond, 40*time.Millisecond, 5*time.Millisecond, &logged
			cfg.Machine = impl.machine
			n := c.start(cfg)
			if !waitFor(10*time.Second, func() bool { return strings.Contains(logged.String(), "does not campaign") }) {
				t.Fatalf("no word of a refused campaign within 10s; the log:\n%s", logged.String())
			}
			want := fmt.Sprintf("n1 does not campaign: its term %d is 2^53-1", uint64(raft.MaxTerm))
			if !strings.Contains(logged.String(), want) {
				t.Errorf("the log does not say %q:\n%s", want, logged.String())
			}
			if !strings.Contains(logged.String(), fmt.Sprintf("n1 candidate term=%d", uint64(raft.MaxTerm))) {
				t.Errorf("the node did not stand in term 2^53-1 first:\n%s", logged.String())
			}
			if s := status(t, n); s.Term != raft.MaxTerm || s.State != impl.state {
				t.Errorf("got %+v, want a %s in term %d", s, impl.state, uint64(raft.MaxTerm))
			}
			c.stopNode(0)
			s, _, err := disk.Open(filepath.Join(dir, "n1"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if st := s.State(); st.Term != raft.MaxTerm {
				t.Errorf("on disk: term %d, want %d", st.Term, uint64(raft.MaxTerm))
			}
		})
	}
}

// TestADataDirectoryAboveMaxTermIsRefused: a data directory that an older
// raftsim left with a term beyond 2^53-1 stops the node before it starts,
// with the reason, rather than a panic.
func TestADataDirectoryAboveMaxTermIsRefused(t *testing.T) {
	for _, st := range []disk.State{{Term: raft.MaxTerm + 1}, {Term: 3, Log: []uint64{1, raft.MaxTerm + 1}}} {
		dir := t.TempDir()
		store(t, dir, "n1", st)
		ln := listen(t)
		_, err := New(config("n1", ln, dir, []wire.Peer{{Name: "n2", Addr: "127.0.0.1:1"}}))
		ln.Close()
		if err == nil || !strings.Contains(err.Error(), "above 9007199254740991 (2^53-1)") {
			t.Errorf("%+v: got %v, want an error naming the bound", st, err)
		}
	}
}

// TestSlowClientsAreCutOff: clients that send their headers or their body
// too slowly have their connections closed after the node's client
// timeout, and /status answers while they hang on.
func TestSlowClientsAreCutOff(t *testing.T) {
	c := &cluster{t: t}
	t.Cleanup(c.close)
	cfg := config("n1", listen(t), t.TempDir(), []wire.Peer{{Name: "n2", Addr: "127.0.0.1:1"}})
	cfg.Raft.ElectionMin, cfg.Raft.ElectionMax = time.Hour, time.Hour
	cfg.ClientTimeout = 200 * time.Millisecond
	n := c.start(cfg)
	starts := map[string]string{
		"headers": "POST " + wire.PathRequestVote + " HTTP/1.1\r\nHost: n1\r\nContent-Type: application/json\r\n",
		"body":    "POST " + wire.PathRequestVote + " HTTP/1.1\r\nHost: n1\r\nContent-Length: 100\r\n\r\n{\"term\":",
		"nothing": "",
	}
	const each = 10
	type slow struct {
		kind string
		conn net.Conn
	}
	var conns []slow
	for kind, start := range starts {
		for range each {
			conn, err := net.Dial("tcp", n.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, start); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, slow{kind, conn})
		}
	}
	client := &http.Client{Timeout: statusTimeout}
	resp, err := client.Get("http://" + n.Addr() + wire.PathStatus)
	if err != nil {
		t.Fatalf("/status while %d slow clients hang on: %v", len(conns), err)
	}
	resp.Body.Close()
	// Each connection must be closed by the node: a read ends (after a 400
	// for a body cut short) with EOF or a reset, well before the deadline.
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range conns {
		s.conn.SetReadDeadline(deadline)
		_, err := io.ReadAll(s.conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("a client slow to send its %s: the node kept the connection open for 10s (client timeout 200ms)", s.kind)
		}
	}
}

// TestConcurrentRequestsLeaveStatusAnswering: a bounded flood of requests
// from many connections — AppendEntries of a thousand entries, which hold
// the node while it writes them (one write per raft.MaxEntries entries),
// votes and heartbeats of new terms that must reach the disk, malformed
// bodies — leaves the node answering /status within raftsim live's
// timeout, and its term never goes back.
//
// A poll that outlasts the timeout while the test's own process was
// stalled (a machine loaded by other work) says nothing about the node: it
// is counted apart, and judged only if no poll could be.
func TestConcurrentRequestsLeaveStatusAnswering(t *testing.T) {
	_, n := lone(t, t.TempDir())
	const (
		workers   = 16
		appenders = 4 // of the workers, those that send long AppendEntries
		perWorker = 100
		flood     = 2 * time.Second
		entries   = 2000
	)
	stop, done := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var inFlight, answered, nextTerm atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for k := range perWorker {
				select {
				case <-stop:
					return
				default:
				}
				term := int(nextTerm.Add(1)) // a new term each time, mostly above the node's: a write to the disk
				var path, body string
				switch {
				case w < appenders:
					path, body = wire.PathAppendEntries, longAppend(term, entries)
				case k%3 == 0:
					path, body = wire.PathRequestVote, fmt.Sprintf(`{"term":%d,"candidateId":"n2","lastLogIndex":%d,"lastLogTerm":%d}`, term, entries, term)
				case k%3 == 1:
					path, body = wire.PathHeartbeat, fmt.Sprintf(`{"term":%d,"leaderId":"n3","term":%d}`, term, term)
				default:
					path, body = wire.PathRequestVote, `{"term":18446744073709551615,"candidateId":"n2"}`
				}
				inFlight.Add(1)
				resp, err := client.Post("http://"+n.Addr()+path, "application/json", strings.NewReader(body))
				inFlight.Add(-1)
				if err != nil {
					continue // the node may shed load; what matters is /status
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered.Add(1)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	stalls := watchStalls(t)
	client := &http.Client{Timeout: statusTimeout}
	var last uint64
	var slowest time.Duration
	var busiest int64 // the most requests under way when a poll began
	polls, late, stalled := 0, 0, 0
	for end := time.Now().Add(flood); time.Now().Before(end); polls++ {
		select {
		case <-done:
			end = time.Now() // every worker has sent its requests
		default:
		}
		busiest = max(busiest, inFlight.Load())
		stalls.reset()
		asked := time.Now()
		resp, err := client.Get("http://" + n.Addr() + wire.PathStatus)
		took := time.Since(asked)
		slowest = max(slowest, took)
		if err != nil {
			if stalls.total() > statusTimeout/4 {
				stalled++
				continue
			}
			late++
			t.Errorf("/status during the flood, after %v: %v", took.Round(time.Millisecond), err)
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s, err := wire.DecodeStatus(data)
		if err != nil {
			t.Fatalf("/status during the flood: %s: %v", data, err)
		}
		if s.Term < last {
			t.Errorf("term went back from %d to %d", last, s.Term)
		}
		last = s.Term
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	<-done
	t.Logf("%d /status polls (%d late, %d late while this process stalled; the slowest %v) while up to %d of %d requests were under way; %d answered",
		polls, late, stalled, slowest.Round(time.Millisecond), busiest, workers, answered.Load())
	if stalled == polls {
		t.Skipf("every /status poll was late while this process stalled too: the machine is too loaded to judge the node")
	}
	if busiest < workers/2 {
		t.Errorf("at most %d requests were under way at once: the flood did not happen", busiest)
	}
	if s := status(t, n); s.Term < last {
		t.Errorf("after the flood: term %d, below %d seen during it", s.Term, last)
	}
}

// stallWatch measures how late this process runs a goroutine that is due,
// in all: a machine loaded by other work, or a process short of CPU,
// rather than a node that makes its /status wait.
type stallWatch struct{ late atomic.Int64 }

const stallTick = 5 * time.Millisecond

// watchStalls ticks every stallTick until the test ends, adding up how much
// later than due each tick ran since the last reset.
func watchStalls(t *testing.T) *stallWatch {
	w := &stallWatch{}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(stallTick)
		defer tick.Stop()
		prev := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				now := time.Now()
				if late := now.Sub(prev) - stallTick; late > 0 {
					w.late.Add(int64(late))
				}
				prev = now
			}
		}
	}()
	return w
}

func (w *stallWatch) reset()               { w.late.Store(0) }
func (w *stallWatch) total() time.Duration { return time.Duration(w.late.Load()) }

// longAppend is an AppendEntries of term from n2 that replaces the log with
// count entries of that term.
func longAppend(term, count int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"term":%d,"leaderId":"n2","prevLogIndex":0,"prevLogTerm":0,"leaderCommit":0,"entries":[`, term)
	for i := 1; i <= count; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"index":%d,"term":%d,"command":null}`, i, term)
	}
	b.WriteString("]}")
	return b.String()
}
