package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// recorder is an Observer that keeps one line per observation.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *recorder) Sent(m *raft.Message, _, _ time.Duration, dropped string) {
	r.add("sent %v->%v %s dropped=%q", m.From, m.To, m.String(), dropped)
}
func (r *recorder) Delivered(m *raft.Message, _, late time.Duration) {
	if late < 0 {
		r.add("delivered %v->%v %s %v early", m.From, m.To, m.String(), -late)
	}
	r.add("delivered %v->%v %s", m.From, m.To, m.String())
}
func (r *recorder) Answered(req, reply *raft.Message, took time.Duration) {
	if took < 0 {
		r.add("answered in %v", took)
	}
}
func (r *recorder) Dropped(m *raft.Message, _ time.Duration, reason string) {
	r.add("dropped %v->%v %s %s", m.From, m.To, m.String(), reason)
}
func (r *recorder) Unreadable(from, to int, _ time.Duration, what string, err error) {
	r.add("unreadable %v->%v %s: %v", raft.ID(from), raft.ID(to), what, err)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// voter is a node that grants every vote at term 7.
func voter(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"term":7,"voteGranted":true}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func startNet(t *testing.T, l sim.Link, obs Observer) *Net {
	start := time.Now()
	links := [][]sim.Link{{l, l}, {l, l}}
	nw, err := Start(Config{Names: wire.NodeNames(2), Targets: []string{voter(t), voter(t)}, Links: links, Seed: 1,
		Now: func() time.Duration { return time.Since(start) }, Observer: obs, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	return nw
}

// vote sends n1's RequestVote to n2 through the proxy.
func vote(nw *Net, body string) (string, error) {
	resp, err := http.Post("http://"+nw.Addr(0, 1)+wire.PathRequestVote, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return string(data), err
}

const n1Votes = `{"term":7,"candidateId":"n1","lastLogIndex":0,"lastLogTerm":0}`

func TestARequestAndItsReplyEachTakeTheLatency(t *testing.T) {
	var rec recorder
	nw := startNet(t, sim.Link{Latency: sim.ConstDist(30 * time.Millisecond)}, &rec)
	begin := time.Now()
	reply, err := vote(nw, n1Votes)
	if err != nil || reply != `{"term":7,"voteGranted":true}` {
		t.Fatalf("got %q, %v", reply, err)
	}
	if took := time.Since(begin); took < 60*time.Millisecond {
		t.Errorf("the round trip took %v, want at least two latencies of 30ms", took)
	}
	want := []string{
		`sent n1->n2 RequestVote term=7 log=0/0 dropped=""`,
		`delivered n1->n2 RequestVote term=7 log=0/0`,
		`sent n2->n1 RequestVoteResp term=7 granted dropped=""`,
		`delivered n2->n1 RequestVoteResp term=7 granted`,
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestALostMessageIsAConnectionClosedWithoutAReply(t *testing.T) {
	var rec recorder
	nw := startNet(t, sim.Link{Loss: 1}, &rec)
	if reply, err := vote(nw, n1Votes); err == nil {
		t.Fatalf("got the reply %q through a link that loses everything", reply)
	}
	want := []string{`sent n1->n2 RequestVote term=7 log=0/0 dropped="loss"`, `dropped n1->n2 RequestVote term=7 log=0/0 loss`}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestABlockedLinkCarriesNothingButTheOtherWayWorks(t *testing.T) {
	var rec recorder
	nw := startNet(t, sim.Link{}, &rec)
	nw.Block(1, 0, true) // replies from n2 to n1 are cut
	if _, err := vote(nw, n1Votes); err == nil {
		t.Fatal("a reply crossed the cut link n2->n1")
	}
	got := rec.take()
	if !slices.Contains(got, `delivered n1->n2 RequestVote term=7 log=0/0`) ||
		!slices.Contains(got, `sent n2->n1 RequestVoteResp term=7 granted dropped="partition"`) {
		t.Errorf("got %q: want the request delivered and the reply dropped by the partition", got)
	}
	nw.Block(1, 0, false)
	if _, err := vote(nw, n1Votes); err != nil {
		t.Errorf("after the heal: %v", err)
	}
}

func TestAMessageCutInFlightIsDropped(t *testing.T) {
	var rec recorder
	nw := startNet(t, sim.Link{Latency: sim.ConstDist(100 * time.Millisecond)}, &rec)
	go func() {
		time.Sleep(30 * time.Millisecond)
		nw.Block(0, 1, true)
	}()
	if _, err := vote(nw, n1Votes); err == nil {
		t.Fatal("a request cut in flight was delivered")
	}
	if got := rec.take(); !slices.Contains(got, `dropped n1->n2 RequestVote term=7 log=0/0 partition`) {
		t.Errorf("got %q", got)
	}
}

func TestUnreadableRequestsAreCarriedAndReported(t *testing.T) {
	var rec recorder
	nw := startNet(t, sim.Link{}, &rec)
	if _, err := vote(nw, `{"term":7,"candidateId":"n2"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := vote(nw, `{"candidate":"n1"}`); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	want := []string{
		`unreadable n1->n2 request /raft/request-vote: names its sender "n2", but came from n1`,
		`unreadable n1->n2 request /raft/request-vote: missing field "term"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
