package tcpproxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// The members' IDs in the tests: any three distinct IDs do.
var testIDs = []uint64{0x8e9e05c52164694d, 0x91bc3c398fb3c146, 0xfd422379fda50e48}

// fake is a member's rafthttp listener, as far as the proxy can tell:
// POST /raft takes a message and answers 204, GET /raft/stream/... streams
// what the test sends on stream, one line at a time, GET /raft/probing
// answers at once.
type fake struct {
	srv    *httptest.Server
	stream chan string // lines for the open stream to send

	mu    sync.Mutex
	conns int           // connections accepted
	posts []post        // messages received, in order
	wrote []time.Time   // when the stream wrote each line
	froms []string      // X-Server-From of each request
	open  chan struct{} // a stream began
}

type post struct {
	body string
	at   time.Time // when the member read it, and answered
}

// newFake starts a fake member; the caller closes f.srv.
func newFake() *fake {
	f := &fake{stream: make(chan string), open: make(chan struct{}, 8)}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	f.srv.Start()
	return f
}

func (f *fake) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.froms = append(f.froms, r.Header.Get(headerFrom))
	f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/raft":
		body, _ := io.ReadAll(r.Body)
		at := time.Now()
		f.mu.Lock()
		f.posts = append(f.posts, post{body: string(body), at: at})
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(r.URL.Path, "/raft/stream/"):
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		f.open <- struct{}{}
		for { // one line a turn; ends with the connection
			select {
			case line := <-f.stream:
				f.mu.Lock()
				f.wrote = append(f.wrote, time.Now())
				f.mu.Unlock()
				io.WriteString(w, line+"\n")
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	case r.URL.Path == "/raft/probing":
		io.WriteString(w, `{"OK":true}`)
	default:
		http.NotFound(w, r)
	}
}

func (f *fake) received() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

func (f *fake) accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// recorder is an Observer that counts what it hears.
type recorder struct {
	mu        sync.Mutex
	accepted  map[[2]int]int
	refused   map[[2]int]int
	bytes     map[[2]int]int
	overflows map[[2]int]int
	unknown   []string
}

func newRecorder() *recorder {
	return &recorder{accepted: map[[2]int]int{}, refused: map[[2]int]int{}, bytes: map[[2]int]int{}, overflows: map[[2]int]int{}}
}

func (r *recorder) Accepted(from, to int, refused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if refused {
		r.refused[[2]int{from, to}]++
	} else {
		r.accepted[[2]int{from, to}]++
	}
}

func (r *recorder) Unknown(to int, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unknown = append(r.unknown, fmt.Sprintf("n%d: %s", to+1, why))
}

func (r *recorder) Delivered(from, to, n int, late time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bytes[[2]int{from, to}] += n
}

func (r *recorder) Overflow(from, to int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.overflows[[2]int{from, to}]++
}

// count reads one of the recorder's counters.
func (r *recorder) count(m map[[2]int]int, from, to int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[[2]int{from, to}]
}

func (r *recorder) unknowns() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.unknown...)
}

// cluster is three fake members behind a proxy.
type cluster struct {
	nw      *Net
	members []*fake
	obs     *recorder
}

// links returns the links of a 3-node cluster, all with latency d but
// from → to with latency dFromTo.
func links(d time.Duration, from, to int, dFromTo time.Duration) [][]sim.Link {
	ls := make([][]sim.Link, 3)
	for i := range ls {
		ls[i] = make([]sim.Link, 3)
		for j := range ls[i] {
			ls[i][j] = sim.Link{Latency: sim.ConstDist(d)}
		}
	}
	ls[from][to] = sim.Link{Latency: sim.ConstDist(dFromTo)}
	return ls
}

func startCluster(t *testing.T, ls [][]sim.Link, maxHeld int) *cluster {
	c := &cluster{obs: newRecorder()}
	targets := make([]string, 3)
	for i := range targets {
		c.members = append(c.members, newFake())
		t.Cleanup(c.members[i].srv.Close)
		targets[i] = c.members[i].addr()
	}
	c.nw = start(t, Config{IDs: testIDs, Targets: targets, Links: ls, Seed: 1, Observer: c.obs, MaxHeld: maxHeld})
	t.Cleanup(func() {
		if err := c.nw.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// start opens a proxy for len(cfg.IDs) members and starts it; the caller
// closes it.
func start(t *testing.T, cfg Config) *Net {
	nw, err := Listen(len(cfg.IDs))
	if err != nil {
		t.Fatal(err)
	}
	if err := nw.Start(cfg); err != nil {
		nw.Close()
		t.Fatal(err)
	}
	return nw
}

// client is one member's side of the proxy: an HTTP client that names
// its member in X-Server-From (from, "" for none), over at most one
// connection per peer, so that tests know which connection carries what.
type client struct {
	from string
	tr   *http.Transport
	hc   *http.Client
}

// newClient returns the client of node i, or of nobody for Unknown; the
// caller closes its idle connections.
func newClient(i int) *client {
	c := &client{tr: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}}
	c.hc = &http.Client{Transport: c.tr, Timeout: 30 * time.Second}
	if i != Unknown {
		c.from = fmt.Sprintf("%x", testIDs[i])
	}
	return c
}

// client returns the client of node i, closed when the test ends.
func (c *cluster) client(t *testing.T, i int) *client {
	cl := newClient(i)
	t.Cleanup(cl.tr.CloseIdleConnections)
	return cl
}

func (c *client) request(ctx context.Context, method, url, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if c.from != "" {
		req.Header.Set(headerFrom, c.from)
	}
	return c.hc.Do(req)
}

// post sends a message to member to through the proxy and returns when
// the answer came.
func (c *client) post(nw *Net, to int, body string) (time.Time, error) {
	resp, err := c.request(context.Background(), http.MethodPost, "http://"+nw.Addr(to)+"/raft", body)
	if err != nil {
		return time.Time{}, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return time.Time{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Now(), nil
}

// lines is what a stream brought, line by line, with when each came.
type lines struct {
	mu   sync.Mutex
	got  []string
	at   []time.Time
	err  error
	done chan struct{}
}

func (l *lines) snapshot() ([]string, []time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...), append([]time.Time(nil), l.at...), l.err
}

// openStream opens member to's stream to c's member and reads it in the
// background until it ends; it returns once the member has begun to
// stream. The stream ends when the test does.
func (c *client) openStream(t *testing.T, nw *Net, f *fake, to int) *lines {
	ctx, cancel := context.WithCancel(context.Background())
	l := &lines{done: make(chan struct{})}
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	resp, err := c.request(ctx, http.MethodGet, fmt.Sprintf("http://%s/raft/stream/message/%s", nw.Addr(to), c.from), "")
	if err != nil {
		t.Fatal(err)
	}
	<-f.open
	go func() {
		defer close(l.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() { // one line a turn; ends with the stream
			l.mu.Lock()
			l.got = append(l.got, sc.Text())
			l.at = append(l.at, time.Now())
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.err = sc.Err()
		if l.err == nil {
			l.err = io.EOF
		}
		l.mu.Unlock()
	}()
	return l
}

// waitFor polls cond until it holds, for 10s at most.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() { // one poll a millisecond; ends at the deadline
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// held returns the bytes the proxy holds from → to, over all connections.
func held(nw *Net, from, to int) int {
	nw.mu.Lock()
	conns := make([]*conn, 0, len(nw.conns))
	for c := range nw.conns {
		conns = append(conns, c)
	}
	nw.mu.Unlock()
	total := 0
	for _, c := range conns {
		for _, p := range []*pipe{&c.up, &c.down} {
			p.mu.Lock()
			for _, ch := range p.queue {
				if ch.from == from && ch.to == to {
					total += len(ch.data)
				}
			}
			p.mu.Unlock()
		}
	}
	return total
}
