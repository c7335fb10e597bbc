package live

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/live/tcpproxy"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Real etcd members as live nodes (raftsim live --etcd): each member runs
// etcd with the scenario's heartbeat interval and election timeout, a data
// directory of its own, its client API on a port of raftsim's choosing and
// its peer API behind a TCP-level proxy (package tcpproxy), since etcd's
// peers talk over long-lived connections, not one request a message. What
// raftsim knows of a member comes from its client API's status
// (POST /v3/maintenance/status): whom it follows, and the term of the
// last entry it applied (etcd 3.4 reports no other), so a new leader shows
// its term once its first entry of the term is applied.

// etcdToken is the clusters' --initial-cluster-token: member IDs derive
// from it and the peer URLs (tcpproxy.MemberID).
const etcdToken = "raftsim"

// etcdMembers are an etcd cluster's peer side: where each member's real
// peer API listens (held until it starts), its ID, and the proxy in front.
type etcdMembers struct {
	peer     []int          // by node: the port of --listen-peer-urls
	peerHeld []net.Listener // by node: that port, held until the member first starts
	ids      []uint64       // by node: its member ID
	net      *tcpproxy.Net
}

// startEtcdNet holds a peer port for each member and puts the TCP proxy in
// front of them; the caller holds the client ports.
func (c *Cluster) startEtcdNet() error {
	n := c.cfg.Size
	m := &etcdMembers{peer: make([]int, n), peerHeld: make([]net.Listener, n), ids: make([]uint64, n)}
	c.etcd = m
	targets := make([]string, n)
	for i := range n {
		ln, err := holdPort()
		if err != nil {
			return err
		}
		m.peerHeld[i], m.peer[i] = ln, ln.Addr().(*net.TCPAddr).Port
		targets[i] = "127.0.0.1:" + strconv.Itoa(m.peer[i])
	}
	tn, err := tcpproxy.Listen(n)
	if err != nil {
		return err
	}
	m.net = tn
	for i := range n {
		m.ids[i] = tcpproxy.MemberID([]string{"http://" + tn.Addr(i)}, etcdToken)
	}
	rec, _ := c.cfg.Observer.(lateRecorder)
	return tn.Start(tcpproxy.Config{IDs: m.ids, Targets: targets, Links: c.cfg.Links, Seed: c.cfg.Seed, Observer: etcdObserver{rec}})
}

// etcdArgv is member i's command line.
func (c *Cluster) etcdArgv(i int) []string {
	m, ns, name := c.etcd, &c.cfg.Nodes, c.names[i]
	var initial []string
	for j, nm := range c.names {
		initial = append(initial, nm+"=http://"+m.net.Addr(j))
	}
	client := "http://" + c.Addr(i)
	argv := []string{ns.Etcd, "--name", name, "--data-dir", filepath.Join(c.cfg.Data, name),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", "http://127.0.0.1:" + strconv.Itoa(m.peer[i]), "--initial-advertise-peer-urls", "http://" + m.net.Addr(i),
		"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-token", etcdToken, "--initial-cluster-state", "new",
		"--logger", "zap", "--log-outputs", "stderr"}
	return append(argv, ns.ServeArgs...)
}

// etcdStatus asks member i whom it follows, and turns the answer into the
// course's /status: leader when it follows itself, follower otherwise (a
// candidate is not told apart), in the term of the last entry it applied.
func (c *Cluster) etcdStatus(i int) (wire.Status, error) {
	data, err := statusAnswer(c.client.Post("http://"+c.Addr(i)+"/v3/maintenance/status", "application/json", bytes.NewReader([]byte("{}"))))
	if err != nil {
		return wire.Status{}, err
	}
	var st struct {
		Header struct {
			MemberID string `json:"member_id"`
		} `json:"header"`
		Leader   string `json:"leader"`
		RaftTerm string `json:"raftTerm"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return wire.Status{}, fmt.Errorf("%w: %v, in %s", ErrBadAnswer, err, snippet(data))
	}
	term, _ := strconv.ParseUint(st.RaftTerm, 10, 64) // absent before the first entry is applied: term 0
	s := wire.Status{ID: c.names[i], State: wire.StateFollower, Term: term}
	if lead, ok := c.etcdNode(st.Leader); ok {
		name := c.names[lead]
		s.Leader = &name
		if lead == i {
			s.State = wire.StateLeader
		}
	}
	return s, nil
}

// etcdNode returns the node whose member ID id (decimal, as the gateway
// prints it) names.
func (c *Cluster) etcdNode(id string) (int, bool) {
	v, err := strconv.ParseUint(id, 10, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	for i, x := range c.etcd.ids {
		if x == v {
			return i, true
		}
	}
	return 0, false
}

// etcdPut writes entries keys through member leader's client API: the
// write of a scenario's write action.
func (c *Cluster) etcdPut(leader, entries int) (int, error) {
	for k := range entries {
		body := fmt.Sprintf(`{"key":%q,"value":%q}`, base64.StdEncoding.EncodeToString([]byte("raftsim/"+strconv.Itoa(k))),
			base64.StdEncoding.EncodeToString([]byte("x")))
		resp, err := c.client.Post("http://"+c.Addr(leader)+"/v3/kv/put", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
	}
	return http.StatusOK, nil
}

// etcdObserver turns what the TCP proxy does into what live hears: how
// late its deliveries were. It sees no raft message: etcd's are protobuf
// streams, read by nobody but the members.
type etcdObserver struct{ rec lateRecorder } // nil: nobody listens

func (etcdObserver) Accepted(int, int, bool) {}
func (etcdObserver) Unknown(int, string)     {}
func (e etcdObserver) Delivered(_, _, _ int, late time.Duration) {
	if e.rec != nil {
		e.rec.late(late)
	}
}
func (etcdObserver) Overflow(int, int) {}

// lateRecorder hears how late the proxy delivered bytes (live's observer).
type lateRecorder interface{ late(time.Duration) }

// EtcdFlags returns the etcd flags that give members s's protocol: the
// heartbeat interval and the election timeout (etcd draws from [T, 2T)
// with T its --election-timeout), and Pre-Vote. CheckEtcd refuses what
// these cannot say.
func EtcdFlags(s *scenarios.Scenario) []string {
	c := &s.Cluster
	flags := []string{"--heartbeat-interval", strconv.FormatInt(c.HeartbeatInterval().Milliseconds(), 10),
		"--election-timeout", strconv.FormatInt(c.ElectionTimeout.Min.Milliseconds(), 10)}
	if c.Options.PreVote {
		flags = append(flags, "--pre-vote")
	}
	return flags
}

// EtcdSimulation returns s as the simulator runs what real etcd members
// run (raftsim live --etcd simulates it beside them): etcd's raft (impl:
// etcd) on etcd's ticks, one tick a heartbeat interval (etcd ticks every
// --heartbeat-interval, so HeartbeatTick is 1 and ElectionTick is
// --election-timeout in whole heartbeats, rounded down, as etcd divides),
// drawing timeouts of ElectionTick to 2·ElectionTick−1 ticks, and checking
// quorum, which etcd members always do. Where s does not say when nodes
// start, each starts at a uniformly random point of the first tick: a
// member ticks from its own start, and real members' tickers are out of
// step with each other, where nodes started together would tick in step
// and, drawing the same number of ticks, campaign at the same instant. A
// measurement until a leader becomes one until its first entry is
// committed: a member shows a new leader only once that entry is applied.
// s is not changed; a note says what the simulation runs.
func EtcdSimulation(s *scenarios.Scenario) (*scenarios.Scenario, string, error) {
	e := *s
	c := &e.Cluster
	hb := c.HeartbeatInterval()
	ticks := c.ElectionTimeout.Min / hb
	c.Impl, c.Tick, c.Heartbeat = scenarios.ImplEtcd, hb, scenarios.Heartbeat{D: hb}
	c.ElectionTimeout = scenarios.Range{Min: ticks * hb, Max: (2*ticks - 1) * hb}
	c.Options.CheckQuorum = true
	unaligned := len(c.Start) == 0
	if unaligned {
		c.Start = []sim.Dist{sim.UniformDist(0, hb)}
	}
	toCommit := e.Measure.Until == scenarios.UntilLeader
	if toCommit {
		e.Measure.Until = scenarios.UntilCommit
	}
	if err := e.Validate(); err != nil {
		return nil, "", fmt.Errorf("the simulation of etcd's members: %v", err)
	}
	note := fmt.Sprintf("simulated: etcd's raft (--impl etcd) as the members run it: a tick of %s (their --heartbeat-interval), ElectionTick %d "+
		"(timeouts of %d to %d ticks, %s), check-quorum on", scenarios.FormatDuration(hb), ticks, ticks, 2*ticks-1, c.ElectionTimeout)
	if unaligned {
		note += fmt.Sprintf(", each node started at a random point of the first tick (cluster.start %s), so that their ticks are out of step as real members' are",
			scenarios.FormatDist(c.Start[0]))
	}
	if toCommit {
		note += ", measured until the new leader's first entry is committed (measure.until commit), as the members show a new leader only once it is applied"
	}
	return &e, note, nil
}

// EtcdInvariants returns the invariants of want that can be judged of etcd
// members from outside: election safety and term monotonicity, from their
// status. Votes, logs and a candidate's state travel inside etcd's
// streams, unseen.
func EtcdInvariants(want []scenarios.Invariant) []scenarios.Invariant {
	var out []scenarios.Invariant
	for _, inv := range want {
		if inv == scenarios.ElectionSafety || inv == scenarios.TermMonotonic {
			out = append(out, inv)
		}
	}
	return out
}

// CheckEtcd refuses, naming the field, what real etcd members cannot run of
// s, and returns notes on what they do differently.
func CheckEtcd(s *scenarios.Scenario) (notes []string, err error) {
	c, nw := &s.Cluster, &s.Network
	hb, et := c.HeartbeatInterval(), c.ElectionTimeout
	switch {
	case hb%time.Millisecond != 0 || et.Min%time.Millisecond != 0:
		return nil, fmt.Errorf("cluster.heartbeat and cluster.election_timeout: etcd takes whole milliseconds (%v, %v)", hb, et)
	case et.Max != 2*et.Min:
		return nil, fmt.Errorf("cluster.election_timeout: %v: etcd's --election-timeout T draws from [T, 2T); write %v-%v", et, et.Min, 2*et.Min)
	case et.Min < 5*hb:
		return nil, fmt.Errorf("cluster.election_timeout: %v: etcd wants --election-timeout at least 5 times --heartbeat-interval (%v)", et.Min, hb)
	case nw.Loss > 0 || nw.Dup > 0:
		return nil, fmt.Errorf("network.loss and network.duplicate: a TCP stream cannot lose or duplicate etcd's messages faithfully: set them to 0 for --etcd")
	case c.Options.LeaderStickiness:
		return nil, fmt.Errorf("cluster.options.leader_stickiness: etcd has no such option")
	case c.Bugs != 0:
		return nil, fmt.Errorf("cluster.bugs: %s are raftsim's node's; etcd has none to switch on", c.Bugs)
	case c.Term > 0 || len(c.Logs) > 0:
		return nil, fmt.Errorf("cluster.term and cluster.logs: live cannot give an etcd member an initial term or log")
	}
	for _, l := range nw.Links {
		if l.Loss != nil && *l.Loss > 0 || l.Dup != nil && *l.Dup > 0 {
			return nil, fmt.Errorf("%s:%d: network.links: loss and duplication cannot be done on a TCP stream: set them to 0 for --etcd", s.Source, l.Line)
		}
	}
	unseen := false
	for _, st := range s.Timeline() {
		unseen = unseen || st.After == scenarios.AfterHeartbeat
		for _, a := range st.Actions {
			switch {
			case a.Kind == scenarios.SetLoss && a.Loss > 0:
				return nil, fmt.Errorf("%s:%d: loss: a TCP stream cannot lose etcd's messages faithfully", s.Source, a.Line)
			case a.Kind == scenarios.Write && a.Reach >= 0:
				return nil, fmt.Errorf("%s:%d: write: reach: etcd's entries travel inside its TCP streams and cannot be held back from some followers", s.Source, a.Line)
			}
		}
	}
	if unseen {
		notes = append(notes, "after: heartbeat: etcd's heartbeats travel inside its TCP streams, unseen; such a step waits a uniformly random part of one heartbeat interval instead, as long as the wait for the next heartbeat from a moment unrelated to their phase")
	}
	if !c.Options.CheckQuorum {
		notes = append(notes, "etcd members always check quorum (a leader that has not heard from a majority steps down): cluster.options.check_quorum is false, etcd's is not")
	}
	notes = append(notes, "etcd members tell only whom they follow and the term of the last entry they applied: a new leader shows once its first entry is applied, two leaders of one term count only when both persist for two heartbeats, and votes, logs, election rounds, split votes and messages are not seen (their zeros mean nothing); vote-once, leader-completeness and candidate-steps-down are not judged")
	return notes, nil
}
