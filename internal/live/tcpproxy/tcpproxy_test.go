package tcpproxy

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// The machine running the tests is busy: they check that bytes are never
// early, and wait for what must happen with deadlines of seconds.

const lat = 150 * time.Millisecond

func TestARequestTakesTheLatencyOfItsDirection(t *testing.T) {
	c := startCluster(t, links(0, 0, 1, lat), 0) // n1->n2 slow, n2->n1 instant
	sent := time.Now()
	if _, err := c.client(t, 0).post(c.nw, 1, "vote"); err != nil {
		t.Fatal(err)
	}
	got := c.members[1].received()
	if len(got) != 1 || got[0].body != "vote" {
		t.Fatalf("got %v, want the message vote", got)
	}
	if took := got[0].at.Sub(sent); took < lat {
		t.Errorf("the request reached n2 after %v, want at least the latency of n1->n2, %v", took, lat)
	}
	if got := c.obs.count(c.obs.accepted, 0, 1); got != 1 {
		t.Errorf("the observer heard %d connections n1->n2, want 1", got)
	}
	// The proxy may tell the observer after the answer came back.
	waitFor(t, "the observer to hear bytes both ways", func() bool {
		return c.obs.count(c.obs.bytes, 0, 1) > 0 && c.obs.count(c.obs.bytes, 1, 0) > 0
	})
}

func TestAnAnswerTakesTheLatencyOfItsDirection(t *testing.T) {
	c := startCluster(t, links(0, 1, 0, lat), 0) // n2->n1 slow, n1->n2 instant
	answered, err := c.client(t, 0).post(c.nw, 1, "vote")
	if err != nil {
		t.Fatal(err)
	}
	got := c.members[1].received()
	if len(got) != 1 {
		t.Fatalf("got %v, want one message", got)
	}
	if took := answered.Sub(got[0].at); took < lat {
		t.Errorf("the answer reached n1 %v after n2 answered, want at least the latency of n2->n1, %v", took, lat)
	}
}

func TestAStreamCarriesTheLatencyOfTheDialedMember(t *testing.T) {
	// n1 dials n2's stream: n2's messages come back to n1 over n2->n1,
	// drawn uniformly, and are delivered in order.
	ls := links(0, 0, 1, 0)
	ls[1][0] = sim.Link{Latency: sim.UniformDist(50*time.Millisecond, 250*time.Millisecond)}
	c := startCluster(t, ls, 0)
	f := c.members[1]
	l := c.client(t, 0).openStream(t, c.nw, f, 1)
	var want []string
	for k := range 20 {
		want = append(want, fmt.Sprintf("heartbeat %d", k))
		f.stream <- want[k]
	}
	waitFor(t, "20 heartbeats", func() bool { got, _, _ := l.snapshot(); return len(got) == 20 })
	got, at, _ := l.snapshot()
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	f.mu.Lock()
	wrote := f.wrote
	f.mu.Unlock()
	for k := range got {
		if took := at[k].Sub(wrote[k]); took < 50*time.Millisecond {
			t.Errorf("%s came %v after n2 wrote it, want at least 50ms", got[k], took)
		}
	}
}

func TestEachChunkIsDueAfterItsLatencyAndAfterTheChunkBefore(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, tc := range []struct {
		name                string
		readAt, unblockedAt time.Duration
		latency             time.Duration
		last                time.Duration
		want                time.Duration
	}{
		{"its latency after it was read", 10 * ms, 0, 30 * ms, 5 * ms, 40 * ms},
		{"never before the chunk before it (FIFO)", 10 * ms, 0, 5 * ms, 60 * ms, 60 * ms},
		{"held by a block: its latency after the unblock", 10 * ms, 100 * ms, 30 * ms, 0, 130 * ms},
		{"read after the last unblock: not held", 200 * ms, 100 * ms, 30 * ms, 0, 230 * ms},
	} {
		st := linkState{unblockedAt: t0.Add(tc.unblockedAt)}
		if got := st.due(t0.Add(tc.readAt), tc.latency, t0.Add(tc.last)).Sub(t0); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEachLinkDrawsFromItsOwnStream(t *testing.T) {
	draws := func(busy bool) []time.Duration {
		ls := links(0, 0, 1, 0)
		for i := range ls {
			for j := range ls[i] {
				ls[i][j] = sim.Link{Latency: sim.UniformDist(0, time.Second)}
			}
		}
		nw := start(t, Config{IDs: testIDs, Targets: []string{"127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1"}, Links: ls, Seed: 7})
		defer nw.Close()
		if busy {
			for range 5 {
				nw.draw(0*3 + 1) // n1->n2
			}
		}
		var out []time.Duration
		for range 5 {
			out = append(out, nw.draw(1*3+0)) // n2->n1
		}
		return out
	}
	if quiet, busy := draws(false), draws(true); !slices.Equal(quiet, busy) {
		t.Errorf("n2->n1 drew %v, and %v after n1->n2 drew: want the same", quiet, busy)
	}
}

func TestABlockHoldsTheBytesAndReleasesThemInOrder(t *testing.T) {
	c := startCluster(t, links(lat, 0, 1, lat), 0)
	f := c.members[1]
	l := c.client(t, 0).openStream(t, c.nw, f, 1)
	c.nw.Block(1, 0, true) // n2's stream to n1 stops
	want := []string{"append 1", "append 2", "append 3"}
	for _, s := range want {
		f.stream <- s
	}
	size := 0
	for _, s := range want {
		size += chunked(s + "\n")
	}
	waitFor(t, "the proxy to hold n2's three messages", func() bool { return held(c.nw, 1, 0) == size })
	// Held longer than their latency, they would have crossed by now.
	f.mu.Lock()
	wrote := f.wrote[len(f.wrote)-1]
	f.mu.Unlock()
	waitFor(t, "twice the latency to pass", func() bool { return time.Since(wrote) > 2*lat })
	if got, _, err := l.snapshot(); len(got) != 0 || err != nil || held(c.nw, 1, 0) != size {
		t.Fatalf("n1 got %q (%v) across the blocked link", got, err)
	}
	unblocked := time.Now()
	c.nw.Block(1, 0, false)
	waitFor(t, "the held messages", func() bool { got, _, _ := l.snapshot(); return len(got) == 3 })
	got, at, _ := l.snapshot()
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for k := range at {
		if took := at[k].Sub(unblocked); took < lat {
			t.Errorf("%s came %v after the unblock, want at least the latency, %v", got[k], took, lat)
		}
	}
}

func TestALinkBlockedBeforeStartRefusesTheFirstConnection(t *testing.T) {
	f := newFake()
	defer f.srv.Close()
	nw, err := Listen(3)
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	nw.Block(0, 1, true)
	if err := nw.Start(Config{IDs: testIDs, Targets: []string{f.addr(), f.addr(), f.addr()}}); err != nil {
		t.Fatal(err)
	}
	cl := newClient(0)
	defer cl.tr.CloseIdleConnections()
	if _, err := cl.post(nw, 1, "vote"); err == nil {
		t.Error("n1 reached n2 across a link blocked before Start")
	}
}

// chunked returns the size of line as net/http sends it in a response
// flushed after each line: a chunk of the chunked transfer coding.
func chunked(line string) int { return len(fmt.Sprintf("%x\r\n%s\r\n", len(line), line)) }

func TestABlockedLinkRefusesNewConnections(t *testing.T) {
	c := startCluster(t, nil, 0)
	c.nw.Block(0, 1, true)
	if _, err := c.client(t, 0).post(c.nw, 1, "vote"); err == nil {
		t.Fatal("n1 reached n2 across the blocked link")
	}
	if got := c.obs.count(c.obs.refused, 0, 1); got != 1 {
		t.Errorf("the observer heard %d refusals n1->n2, want 1", got)
	}
	if got := c.members[1].accepted(); got != 0 {
		t.Errorf("n2 accepted %d connections, want none: a refused one never reaches it", got)
	}
	// n3 still reaches n2, and, once unblocked, n1 too.
	if _, err := c.client(t, 2).post(c.nw, 1, "from n3"); err != nil {
		t.Errorf("n3 to n2: %v", err)
	}
	c.nw.Block(0, 1, false)
	if _, err := c.client(t, 0).post(c.nw, 1, "from n1"); err != nil {
		t.Errorf("n1 to n2 after the unblock: %v", err)
	}
}

func TestAOneWayCutBlocksOnlyThatWay(t *testing.T) {
	c := startCluster(t, nil, 0)
	// n1's stream from n2 is open before the cut.
	f := c.members[1]
	l := c.client(t, 0).openStream(t, c.nw, f, 1)
	c.nw.Block(0, 1, true) // n1 -> n2 cut; n2 -> n1 flows
	if !c.nw.Blocked(0, 1) || c.nw.Blocked(1, 0) {
		t.Fatal("Blocked does not say what Block did")
	}
	f.stream <- "heartbeat"
	waitFor(t, "n2's heartbeat over the stream", func() bool { got, _, _ := l.snapshot(); return len(got) == 1 })

	// n2 dials n1: its request crosses, n1's answer is held.
	m := c.members[0]
	answered := make(chan error, 1)
	go func() {
		_, err := c.client(t, 1).post(c.nw, 0, "append")
		answered <- err
	}()
	waitFor(t, "n2's message to reach n1", func() bool { return len(m.received()) == 1 })
	waitFor(t, "the proxy to hold n1's answer", func() bool { return held(c.nw, 0, 1) > 0 })
	select {
	case err := <-answered:
		t.Fatalf("n1's answer crossed the cut link (%v)", err)
	default:
	}
	c.nw.Block(0, 1, false)
	if err := <-answered; err != nil {
		t.Errorf("the answer after the heal: %v", err)
	}
}

func TestTooManyHeldBytesCloseTheConnection(t *testing.T) {
	c := startCluster(t, nil, 1000)
	f := c.members[1]
	l := c.client(t, 0).openStream(t, c.nw, f, 1)
	c.nw.Block(1, 0, true)
	line := strings.Repeat("x", 299) // 300 bytes a line: the fourth overflows
	for range 4 {
		f.stream <- line
	}
	waitFor(t, "the stream to close", func() bool { _, _, err := l.snapshot(); return err != nil })
	if got, _, _ := l.snapshot(); len(got) != 0 {
		t.Errorf("n1 got %d lines across the blocked link", len(got))
	}
	if got := c.obs.count(c.obs.overflows, 1, 0); got != 1 {
		t.Errorf("the observer heard %d overflows n2->n1, want 1", got)
	}
}

func TestAFlowingLinkWithFullBuffersWaitsInsteadOfClosing(t *testing.T) {
	// Ten times MaxHeld through a link that flows, slowly: the queue fills,
	// and the proxy stops reading until it drains.
	c := startCluster(t, links(0, 0, 1, 20*time.Millisecond), 1000)
	big := strings.Repeat("y", 10_000)
	if _, err := c.client(t, 0).post(c.nw, 1, big); err != nil {
		t.Fatal(err)
	}
	if got := c.members[1].received(); len(got) != 1 || got[0].body != big {
		t.Errorf("n2 got %d messages, want the big one whole", len(got))
	}
}

func TestUnknownDialersAreCarriedWithoutFaults(t *testing.T) {
	c := startCluster(t, nil, 0)
	for i := range 3 {
		for j := range 3 {
			if i != j {
				c.nw.Block(i, j, true)
			}
		}
	}
	// etcd's probes name no one; an ID not in the table names no one the
	// proxy knows.
	probe := c.client(t, Unknown)
	resp, err := probe.request(t.Context(), "GET", "http://"+c.nw.Addr(1)+"/raft/probing", "")
	if err != nil {
		t.Fatalf("a probe through a fully blocked cluster: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	stranger := c.client(t, Unknown)
	stranger.from = "abc"
	if _, err := stranger.post(c.nw, 2, "hello"); err != nil {
		t.Fatalf("a stranger through a fully blocked cluster: %v", err)
	}
	want := []string{
		"n2: GET /raft/probing: no X-Server-From header",
		"n3: POST /raft: X-Server-From abc is not a member of the cluster",
	}
	if got := c.obs.unknowns(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// The proxy tells the observer after it has written the bytes, so the
	// answer can reach the dialer first.
	waitFor(t, "the observer to hear bytes from the unknown dialer", func() bool {
		return c.obs.count(c.obs.bytes, Unknown, 1) > 0
	})
}

func TestAConnectionIsFaultedOnceARequestNamesItsDialer(t *testing.T) {
	// etcd's pipeline prober shares the pipeline's pool of connections: a
	// connection it opened carries raft messages next.
	c := startCluster(t, nil, 0)
	cl := c.client(t, Unknown)
	resp, err := cl.request(t.Context(), "GET", "http://"+c.nw.Addr(1)+"/raft/probing", "")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.nw.Block(0, 1, true)
	cl.from = fmt.Sprintf("%x", testIDs[0]) // the same connection (one per host), now naming n1
	sent := make(chan error, 1)
	go func() {
		_, err := cl.post(c.nw, 1, "append")
		sent <- err
	}()
	waitFor(t, "the proxy to hold n1's message", func() bool { return held(c.nw, 0, 1) > 0 })
	if got := c.members[1].received(); len(got) != 0 {
		t.Fatalf("n2 got %v across the blocked link", got)
	}
	c.nw.Block(0, 1, false)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := c.members[1].accepted(); got != 1 {
		t.Errorf("n2 accepted %d connections, want 1: the probe's", got)
	}
	if got := c.obs.count(c.obs.accepted, 0, 1); got != 1 {
		t.Errorf("the observer heard %d connections n1->n2, want 1", got)
	}
}

func TestStartRefusesLossAndDuplication(t *testing.T) {
	for _, tc := range []struct {
		link sim.Link
		want string
	}{
		{sim.Link{Loss: 0.1}, "tcpproxy: link n2->n3 has loss 0.1 and duplication 0"},
		{sim.Link{Dup: 0.5}, "tcpproxy: link n2->n3 has loss 0 and duplication 0.5"},
	} {
		ls := links(0, 0, 1, 0)
		ls[1][2] = tc.link
		nw, err := Listen(3)
		if err != nil {
			t.Fatal(err)
		}
		err = nw.Start(Config{IDs: testIDs, Targets: make([]string, 3), Links: ls})
		nw.Close()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got %v, want %q...", err, tc.want)
		}
	}
}

func TestCloseLeavesNothingBehind(t *testing.T) {
	baseline := runtime.NumGoroutine()
	members := []*fake{newFake(), newFake(), newFake()}
	targets := []string{members[0].addr(), members[1].addr(), members[2].addr()}
	nw := start(t, Config{IDs: testIDs, Targets: targets, Links: links(lat, 2, 0, 10*time.Second)})
	// A stream with bytes held on a blocked link, and a message in flight.
	n1, n3 := newClient(0), newClient(2)
	resp, err := n1.request(t.Context(), "GET", fmt.Sprintf("http://%s/raft/stream/message/%s", nw.Addr(1), n1.from), "")
	if err != nil {
		t.Fatal(err)
	}
	<-members[1].open
	nw.Block(1, 0, true)
	members[1].stream <- "held"
	waitFor(t, "the held message", func() bool { return held(nw, 1, 0) > 0 })
	posted := make(chan error, 1)
	go func() {
		_, err := n3.post(nw, 0, "in flight")
		posted <- err
	}()
	waitFor(t, "the message in flight", func() bool { return held(nw, 2, 0) > 0 })

	addr := nw.Addr(1)
	if err := nw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-posted; err == nil {
		t.Error("a message in flight when the proxy closed was answered")
	}
	resp.Body.Close()
	n1.tr.CloseIdleConnections()
	n3.tr.CloseIdleConnections()
	for _, f := range members {
		f.srv.Close()
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("the proxy still listens after Close")
	}
	waitFor(t, fmt.Sprintf("the goroutines to return to %d", baseline), func() bool { return runtime.NumGoroutine() <= baseline })
	if err := nw.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}
