package httpnode

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/node/etcdnode"
	"github.com/raftsim/raftsim/internal/node/realtime"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/testkit/fuzzing"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// The fuzz tests hand each endpoint's handler one request against a node
// with a state, booted from a data directory — a follower of term 5 that
// voted for n2 and holds entries of terms 1, 1, 3, 5 (as a cluster that
// lived through a few elections leaves one), or for /propose, the leader of
// a one-node cluster — then let its election timer fire, and check what
// must hold whatever the body:
//
//   - no panic;
//   - an answer other than 200 is 400 (404 or 405 for a wrong path or
//     method) with a JSON error, or the router's redirect to a clean path,
//     and changes nothing: the node's state and its write-ahead log are as
//     they were;
//   - a 200 is the endpoint's reply, and the node's term, reported and on
//     disk, has not gone back, and what it reports is on disk;
//   - after the election timeout that follows, the term has not gone back
//     either, nor passed raft.MaxTerm (a term of 2^64-1, adopted, wrapped
//     to 0 at the next election).
//
// Each input meets a fresh node of raftsim's Raft, then one of etcd's (the
// node raftsim serve --impl etcd runs), so that a failing input fails alone when
// go test replays it. The seed corpus in testdata/fuzz is requests a real
// cluster sent (go test -run TestRecordFuzzCorpus -record rewrites it);
// f.Add adds hostile ones by hand. Plain go test replays them; the long
// suite fuzzes each target for a while (TestFuzzLong).

// fuzzState is the follower's state; aloneState the one-node cluster's
// before it elects itself, in term 6.
var (
	fuzzState  = disk.State{Term: 5, Vote: "n2", Log: []uint64{1, 1, 3, 5}}
	aloneState = disk.State{Term: 5, Log: []uint64{1, 1, 3, 5}}
)

// The election timeout of the fuzzed follower, on a clock of its own: none
// of its timers fires while an input is handled, so that only the input
// changes it, until the test moves the clock.
const quiet = time.Hour

// fuzzImpl is a Raft the fuzz tests run behind the handlers: every input
// meets each of them.
type fuzzImpl struct {
	name    string
	machine func(raft.Config, raft.Rand) raft.Machine // nil: raftsim's node
	// timeout is how far to move the clock for the election timer to fire
	// once, and once only.
	timeout time.Duration
}

var fuzzImpls = []fuzzImpl{
	{"raftsim", nil, quiet + time.Millisecond},
	// etcd draws its timeout from [10, 20) ticks of 6 minutes: from quiet
	// to 1h54m; a candidate's next one is at least an hour on.
	{"etcd", func(c raft.Config, r raft.Rand) raft.Machine {
		return etcdnode.New(c, scenarios.EtcdConfig{Tick: quiet / 10, ElectionTick: 10, HeartbeatTick: 5}, r)
	}, 2*quiet - time.Millisecond},
}

// fuzzed is a node booted for one input, on its manual clock.
type fuzzed struct {
	*Node
	clock *manualClock
	impl  fuzzImpl
}

// manualClock is a realtime.Clock that moves only when told to; timers fire
// in the goroutine that moves it, in the order they are due.
type manualClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*manualTimer
}

type manualTimer struct {
	c    *manualClock
	due  time.Duration
	f    func()
	done bool // fired or stopped
}

func (c *manualClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) realtime.Stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, due: c.now + d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// advance moves the clock on by d, firing at most 100 timers that come due.
func (c *manualClock) advance(t *testing.T, d time.Duration) {
	c.mu.Lock()
	end := c.now + d
	c.mu.Unlock()
	for range 100 {
		c.mu.Lock()
		var next *manualTimer
		for _, tm := range c.timers {
			if !tm.done && tm.due <= end && (next == nil || tm.due < next.due) {
				next = tm
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		c.now, next.done = next.due, true
		c.mu.Unlock()
		next.f()
	}
	t.Fatalf("more than 100 timers came due within %v", d)
}

// closedListener stands in for a listener: the fuzz tests call the handler
// directly and never serve.
type closedListener struct{}

func (closedListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (closedListener) Close() error              { return nil }
func (closedListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// fuzzNode boots node n1 of impl from a data directory holding st, on a
// manual clock: with peers n2 and n3 (which never answer), or alone, when
// it is made to elect itself and left leading.
func fuzzNode(t *testing.T, st disk.State, alone bool, impl fuzzImpl) *fuzzed {
	t.Helper()
	dir := t.TempDir()
	store(t, dir, "n1", st)
	clock := &manualClock{}
	cfg := Config{Name: "n1", Listener: closedListener{}, Data: filepath.Join(dir, "n1"), Clock: clock, Machine: impl.machine,
		Raft: raft.Config{ElectionMin: quiet, ElectionMax: quiet, Heartbeat: 2 * quiet}}
	if !alone {
		cfg.Peers = []wire.Peer{{Name: "n2", Addr: "127.0.0.1:1"}, {Name: "n3", Addr: "127.0.0.1:1"}}
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.halt)
	if err := n.boot(); err != nil {
		t.Fatal(err)
	}
	if alone {
		clock.advance(t, impl.timeout)
		if st := n.drv.State(); st.Role != raft.Leader {
			t.Fatalf("%s: a node alone did not lead after its election timeout: %+v", impl.name, st)
		}
	}
	return &fuzzed{n, clock, impl}
}

// checkRequest sends one request to n's handler, then lets its election
// timeout pass, and checks the invariants above; reply decodes a 200's
// body and reports what is wrong with it. It reports false, doing nothing,
// for a method and path that make no HTTP request: a server never sees one.
func checkRequest(t *testing.T, n *fuzzed, method, path string, body []byte, reply func([]byte) error) bool {
	t.Helper()
	at := n.impl.name + ": " + method // the Raft, and the method, in every message

	if !strings.HasPrefix(path, "/") {
		return false
	}
	req, err := http.NewRequest(method, "http://n1"+path, bytes.NewReader(body))
	if err != nil {
		return false
	}
	before, walBefore := n.drv.State(), walOf(t, n)
	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, req)
	after, walAfter := n.drv.State(), walOf(t, n)
	answer := rec.Body.Bytes()
	if rec.Code != http.StatusOK {
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
			var e wire.Error
			if err := json.Unmarshal(answer, &e); err != nil || e.Error == "" {
				t.Errorf("%s %s %q: %d %q is not {\"error\": ...}", at, path, body, rec.Code, answer)
			}
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect: // the router's answer to /a/../b
			if rec.Header().Get("Location") == "" {
				t.Errorf("%s %s %q: a redirect (%d) with no Location", at, path, body, rec.Code)
			}
		default:
			t.Errorf("%s %s %q: got %d %s, want 200, or 400 or 404 or 405 with an error", at, path, body, rec.Code, answer)
		}
		if after != before {
			t.Errorf("%s %s %q, refused with %s, changed the node:\n  before %+v\n  after  %+v", at, path, body, answer, before, after)
		}
		if !bytes.Equal(walAfter, walBefore) {
			t.Errorf("%s %s %q, refused with %s, wrote to the data directory: %s", at, path, body, answer, walAfter[len(walBefore):])
		}
		afterTimeout(t, n, before.Term, at, path, body)
		return true
	}
	if err := reply(answer); err != nil {
		t.Errorf("%s %s %q: the reply %s: %v", at, path, body, answer, err)
	}
	durable := n.store.State()
	if after.Term < before.Term || durable.Term < before.Term {
		t.Errorf("%s %s %q: the term went back from %d to %d (on disk %d)", at, path, body, before.Term, after.Term, durable.Term)
	}
	if durable.Term != after.Term || durable.Vote != n.names.Name(after.Vote) || uint64(len(durable.Log)) != after.LastIndex {
		t.Errorf("%s %s %q: the node reports %+v, but its disk holds %+v", at, path, body, after, durable)
	}
	afterTimeout(t, n, after.Term, at, path, body)
	return true
}

// afterTimeout lets n's election timer fire (a leader's heartbeat timer
// stays quiet) and checks that its term has not gone below term, nor past
// raft.MaxTerm.
func afterTimeout(t *testing.T, n *fuzzed, term uint64, method, path string, body []byte) {
	t.Helper()
	n.clock.advance(t, n.impl.timeout)
	if st := n.drv.State(); st.Term < term || st.Term > raft.MaxTerm {
		t.Errorf("%s %s %q: after an election timeout, term %d (it was %d; the bound is %d)", method, path, body, st.Term, term, uint64(raft.MaxTerm))
	}
}

func walOf(t *testing.T, n *fuzzed) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(n.cfg.Data, disk.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rpcReply checks a 200's body as the reply to a request of type typ.
func rpcReply(typ raft.MsgType) func([]byte) error {
	return func(answer []byte) error {
		_, err := wire.DecodeReply(&raft.Message{Type: typ}, answer)
		return err
	}
}

// hostile are bodies no honest node sends, for every RPC.
var hostile = []string{
	`{"term":18446744073709551615,"candidateId":"n2","lastLogIndex":4,"lastLogTerm":5}`,
	`{"term":9007199254740992,"leaderId":"n2","prevLogIndex":4,"prevLogTerm":5}`,
	`{"term":9007199254740991,"candidateId":"n3","lastLogIndex":4,"lastLogTerm":5}`,
	`{"term":6,"candidateId":"n3","lastLogIndex":4,"lastLogTerm":5,"term":4}`,
	`{"term":6,"leaderId":"n3","LEADERID":"n2"}`,
	`{"term":6,"leaderId":"n2","prevLogIndex":4,"prevLogTerm":5,"entries":[{"index":6,"term":6}]}`,
	`{"term":6,"leaderId":"n2","prevLogIndex":2,"prevLogTerm":1,"entries":[{"index":3,"term":7}]}`,
	`{"term":6,"candidateId":"n1","lastLogIndex":9,"lastLogTerm":6}`,
	`{"term":6,"candidateId":"n9"}`,
	`{"term":-1,"leaderId":"n2"}`,
	`{"term":1e3,"leaderId":"n2"}`,
	`{"term":null,"candidateId":"n2"}`,
	`[{"term":6}]`,
	`{"term":6,"candidateId":"n2"`,
	``,
}

func FuzzRequestVote(f *testing.F) {
	for _, b := range hostile {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, impl := range fuzzImpls {
			checkRequest(t, fuzzNode(t, fuzzState, false, impl), http.MethodPost, wire.PathRequestVote, body, rpcReply(raft.MsgVote))
		}
	})
}

func FuzzPreVote(f *testing.F) {
	for _, b := range hostile {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, impl := range fuzzImpls {
			checkRequest(t, fuzzNode(t, fuzzState, false, impl), http.MethodPost, wire.PathPreVote, body, rpcReply(raft.MsgPreVote))
		}
	})
}

// FuzzAppendEntries fuzzes both of its paths: heartbeat is the chapter's
// name for the same RPC.
func FuzzAppendEntries(f *testing.F) {
	for _, b := range hostile {
		f.Add(false, []byte(b))
	}
	f.Add(true, []byte(`{"term":6,"leaderId":"n3"}`)) // the chapter's bare heartbeat
	f.Fuzz(func(t *testing.T, heartbeat bool, body []byte) {
		path := wire.PathAppendEntries
		if heartbeat {
			path = wire.PathHeartbeat
		}
		for _, impl := range fuzzImpls {
			checkRequest(t, fuzzNode(t, fuzzState, false, impl), http.MethodPost, path, body, rpcReply(raft.MsgApp))
		}
	})
}

func FuzzPropose(f *testing.F) {
	for _, b := range []string{`{"count":0}`, `{"count":101}`, `{"count":-1}`, `{"count":1,"count":100}`, `{"count":"3"}`,
		`{"count":9223372036854775808}`, `{}`, `null`} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, impl := range fuzzImpls {
			checkRequest(t, fuzzNode(t, aloneState, true, impl), http.MethodPost, wire.PathPropose, body, func(answer []byte) error {
				var r ProposeReply
				return wire.DecodeObject(answer, &r, "accepted")
			})
		}
	})
}

// FuzzOtherRequests: whatever reaches anything but the RPC and /propose
// endpoints — /status, an unknown path, a wrong method — changes nothing.
func FuzzOtherRequests(f *testing.F) {
	f.Add(http.MethodGet, wire.PathStatus, []byte(nil))
	f.Add(http.MethodPost, wire.PathStatus, []byte(`{"term":99}`))
	f.Add(http.MethodGet, wire.PathRequestVote, []byte(nil))
	f.Add(http.MethodPut, "/raft/../status", []byte(nil))
	f.Add(http.MethodDelete, "/raft/request-vote/", []byte(`{}`))
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if _, rpc := wire.RequestType(path); (rpc || path == wire.PathPropose) && method == http.MethodPost {
			return // the other fuzz tests' endpoints
		}
		for _, impl := range fuzzImpls {
			n := fuzzNode(t, fuzzState, false, impl)
			before := n.drv.State()
			sent := checkRequest(t, n, method, path, body, func(answer []byte) error {
				_, err := wire.DecodeStatus(answer)
				return err
			})
			if after := n.drv.State(); sent && (after.Term != before.Term+1 || after.Role != raft.Candidate || after.LastIndex != before.LastIndex) {
				t.Errorf("%s: %s %s %q: after an election timeout: got %+v, want a candidate in term %d (the request changed something)", impl.name, method, path, body, after, before.Term+1)
			}
		}
	})
}

// TestFuzzLong fuzzes each endpoint's handler for a while, in the long
// suites (internal/testkit/long); a failing input lands in testdata/fuzz,
// which every go test replays.
func TestFuzzLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("fuzzing runs in the long suites (RAFTSIM_LONG=1); go test replays the seed corpus")
	}
	for _, target := range []string{"FuzzRequestVote", "FuzzPreVote", "FuzzAppendEntries", "FuzzPropose", "FuzzOtherRequests"} {
		t.Run(target, func(t *testing.T) {
			fuzzing.Run(t, target, 10*time.Second, 3*time.Minute)
		})
	}
}
