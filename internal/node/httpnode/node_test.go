package httpnode

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
)

// cluster runs n nodes in this process on loopback, with data in dir.
type cluster struct {
	t     *testing.T
	nodes []*Node
	stop  []context.CancelFunc
	done  []chan error
}

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func config(name string, ln net.Listener, dir string, peers []wire.Peer) Config {
	return Config{Name: name, Listener: ln, Peers: peers, Data: filepath.Join(dir, name),
		Raft: raft.Config{ElectionMin: 150 * time.Millisecond, ElectionMax: 300 * time.Millisecond, Heartbeat: 50 * time.Millisecond}}
}

func startCluster(t *testing.T, n int) *cluster {
	dir := t.TempDir()
	lns := make([]net.Listener, n)
	for i := range lns {
		lns[i] = listen(t)
	}
	c := &cluster{t: t}
	for i := range n {
		var peers []wire.Peer
		for j := range n {
			if j != i {
				peers = append(peers, wire.Peer{Name: wire.NodeNames(n)[j], Addr: lns[j].Addr().String()})
			}
		}
		c.start(config(wire.NodeNames(n)[i], lns[i], dir, peers))
	}
	t.Cleanup(c.close)
	return c
}

func (c *cluster) start(cfg Config) *Node {
	node, err := New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Serve(ctx) }()
	c.nodes, c.stop, c.done = append(c.nodes, node), append(c.stop, cancel), append(c.done, done)
	if !time.Now().Before(cfg.StartAt) {
		// Serve boots the node in its own goroutine: a request sent before
		// the boot would get 503.
		select {
		case <-node.booted:
		case <-time.After(10 * time.Second):
			c.t.Fatalf("%s did not boot within 10s", cfg.Name)
		}
	}
	return node
}

func (c *cluster) close() {
	for i := range c.stop {
		c.stopNode(i)
	}
}

func (c *cluster) stopNode(i int) {
	if c.stop[i] == nil {
		return
	}
	c.stop[i]()
	c.stop[i] = nil
	if err := <-c.done[i]; err != nil {
		c.t.Errorf("%s: %v", c.nodes[i].cfg.Name, err)
	}
}

func post(t *testing.T, node *Node, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+node.Addr()+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func status(t *testing.T, node *Node) wire.Status {
	t.Helper()
	resp, err := http.Get("http://" + node.Addr() + wire.PathStatus)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	s, err := wire.DecodeStatus(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return s
}

func TestThreeNodesElectOneLeader(t *testing.T) {
	c := startCluster(t, 3)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []wire.Status
		var followers int
		for _, n := range c.nodes {
			s := status(t, n)
			if s.State == wire.StateLeader {
				leaders = append(leaders, s)
			} else if s.Leader != nil {
				followers++
			}
		}
		if len(leaders) == 1 && followers == 2 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader followed by both others within 5s")
}

// A lone node (its peers do not answer) for the tests of one node's API.
func lone(t *testing.T, dir string) (*cluster, *Node) {
	c := &cluster{t: t}
	t.Cleanup(c.close)
	dead := []wire.Peer{{Name: "n2", Addr: "127.0.0.1:1"}, {Name: "n3", Addr: "127.0.0.1:1"}}
	cfg := config("n1", listen(t), dir, dead)
	cfg.Raft.ElectionMin, cfg.Raft.ElectionMax = 10*time.Second, 10*time.Second // no election while the test runs
	return c, c.start(cfg)
}

func TestMalformedRequestsGet400AndTheNodeLivesOn(t *testing.T) {
	_, n := lone(t, t.TempDir())
	for _, tc := range []struct{ path, body, want string }{
		{wire.PathRequestVote, `{"term":`, "not a JSON object"},
		{wire.PathRequestVote, `{"candidateId":"n2"}`, `missing field \"term\"`},
		{wire.PathRequestVote, `{"term":1,"candidateId":"n9"}`, `sender \"n9\" is not a peer`},
		{wire.PathRequestVote, `{"term":1,"candidateId":"n1"}`, `sender \"n1\" is not a peer`},
		{wire.PathHeartbeat, `{"term":-3,"leaderId":"n2"}`, `field \"term\"`},
		{wire.PathAppendEntries, `[1,2]`, "not a JSON object"},
		{wire.PathPropose, `{"count":0}`, "want 1 to 100"},
	} {
		code, body := post(t, n, tc.path, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s %s: got %d %s, want 400 with %q", tc.path, tc.body, code, body, tc.want)
		}
		var e wire.Error
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
			t.Errorf("POST %s %s: the error %s is not {\"error\": ...}", tc.path, tc.body, body)
		}
	}
	if code, _ := post(t, n, "/raft/nothing", `{}`); code != http.StatusNotFound {
		t.Errorf("an unknown endpoint: got %d, want 404", code)
	}
	if s := status(t, n); s.ID != "n1" || s.State != wire.StateFollower {
		t.Errorf("after the bad requests: got %+v, want n1 a follower", s)
	}
}

func TestARestartedNodeDoesNotVoteTwiceInATerm(t *testing.T) {
	dir := t.TempDir()
	c, n := lone(t, dir)
	vote := func(n *Node, candidate string) string {
		_, body := post(t, n, wire.PathRequestVote, `{"term":5,"candidateId":"`+candidate+`","lastLogIndex":0,"lastLogTerm":0}`)
		return body
	}
	if got := vote(n, "n2"); got != `{"term":5,"voteGranted":true}` {
		t.Fatalf("first vote: got %s", got)
	}
	c.stopNode(0)
	_, again := lone(t, dir)
	if got := vote(again, "n3"); got != `{"term":5,"voteGranted":false}` {
		t.Errorf("after the restart, n3 asked for the vote n2 got: got %s, want it refused", got)
	}
	if got := vote(again, "n2"); got != `{"term":5,"voteGranted":true}` {
		t.Errorf("after the restart, n2 asked again: got %s, want it granted again", got)
	}
	if s := status(t, again); s.Term != 5 || s.VotedFor == nil || *s.VotedFor != "n2" {
		t.Errorf("after the restart: got %+v, want term 5 and a vote for n2", s)
	}
}

func TestRPCsWaitForTheStart(t *testing.T) {
	c := &cluster{t: t}
	t.Cleanup(c.close)
	cfg := config("n1", listen(t), t.TempDir(), []wire.Peer{{Name: "n2", Addr: "127.0.0.1:1"}})
	cfg.StartAt = time.Now().Add(time.Hour)
	n := c.start(cfg)
	if code, body := post(t, n, wire.PathRequestVote, `{"term":1,"candidateId":"n2"}`); code != http.StatusServiceUnavailable {
		t.Errorf("before the start: got %d %s, want 503", code, body)
	}
	if s := status(t, n); s.Term != 0 {
		t.Errorf("status before the start: got %+v", s)
	}
}

// TestARestartedNodeReportsItsTermBeforeTheStart: until its start, a
// restarted node's /status is what its data directory holds, never term 0
// (raftsim live's term-monotonic check saw a restarted node "go back" to
// term 0 while it waited for its start).
func TestARestartedNodeReportsItsTermBeforeTheStart(t *testing.T) {
	dir := t.TempDir()
	c, n := lone(t, dir)
	if _, body := post(t, n, wire.PathRequestVote, `{"term":5,"candidateId":"n2","lastLogIndex":0,"lastLogTerm":0}`); body != `{"term":5,"voteGranted":true}` {
		t.Fatalf("vote: got %s", body)
	}
	c.stopNode(0)
	cfg := config("n1", listen(t), dir, n.cfg.Peers)
	cfg.StartAt = time.Now().Add(time.Hour)
	later := c.start(cfg)
	if s := status(t, later); s.Term != 5 || s.State != wire.StateFollower || s.VotedFor == nil || *s.VotedFor != "n2" || s.Leader != nil {
		t.Errorf("status of the restarted node before its start: got %+v, want a follower in term 5 that voted for n2", s)
	}
}

// TestUnresolvablePeers: the chapter's compose form names peers by host
// (node2:3002), which outside Docker does not resolve: the node says so at
// boot instead of campaigning silently into failed requests.
func TestUnresolvablePeers(t *testing.T) {
	for _, tt := range []struct {
		addr string
		bad  bool
	}{{"127.0.0.1:3002", false}, {"localhost:3002", false}, {"node2.invalid:3002", true}, {"no-port", true}} {
		if got := unresolvable(tt.addr); (got != "") != tt.bad {
			t.Errorf("unresolvable(%q) = %q, want a reason: %v", tt.addr, got, tt.bad)
		}
	}
}
