package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/live/proxy"
	"github.com/raftsim/raftsim/internal/live/supervisor"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Nodes says what program the nodes of a cluster run.
type Nodes struct {
	// Cmd, when set, is a shell command that runs one node of the course's
	// API (raftsim live --cmd); NODE_ID, PORT and PEERS say which.
	Cmd string
	// Exe is the raftsim binary whose serve runs raftsim's own node, when
	// Cmd is empty.
	Exe string
	// Etcd, when set, is an etcd binary: the nodes are real etcd members
	// (raftsim live --etcd), behind a TCP-level proxy.
	Etcd string
	// ServeArgs are the protocol flags raftsim serve (or etcd) gets
	// (--election-timeout and the like); Env is added to a Cmd's
	// environment.
	ServeArgs []string
	Env       []string
}

// Describe names the nodes' program for reports.
func (ns *Nodes) Describe() string {
	switch {
	case ns.Cmd != "":
		return ns.Cmd
	case ns.Etcd != "":
		return "etcd members (" + ns.Etcd + ")"
	}
	if i := slices.Index(ns.ServeArgs, "--impl"); i >= 0 && i+1 < len(ns.ServeArgs) {
		return "raftsim serve --impl " + ns.ServeArgs[i+1]
	}
	return "raftsim serve"
}

// StartsAtOwnPace reports whether the nodes start up at their own pace
// (another program, or etcd), rather than as raftsim serve, whose Raft
// clock starts when told.
func (ns *Nodes) StartsAtOwnPace() bool { return ns.Cmd != "" || ns.Etcd != "" }

// ClusterConfig says what cluster to start.
type ClusterConfig struct {
	Nodes Nodes
	Size  int
	// Ports are where the nodes listen, on 127.0.0.1; a node without one
	// (nil, or 0) gets a free port, held until it starts.
	Ports []int
	// Data holds each node's data directory (Data/NAME); Logs each node's
	// log file (Logs/NAME.log), which grows across restarts.
	Data, Logs string
	// Links, FIFO, Seed and Observer set up the proxy (package proxy;
	// nil Links: no latency, nil Observer: nobody listens); Now is the
	// clock its observations are stamped with (nil: since NewCluster).
	Links    [][]sim.Link
	FIFO     bool
	Seed     uint64
	Observer proxy.Observer
	Now      func() time.Duration
	// Output, if set, gets a copy of every node's output.
	Output io.Writer
}

// Cluster is a running cluster on loopback: its nodes' processes and the
// proxy between them.
type Cluster struct {
	cfg    ClusterConfig
	names  wire.Names
	ports  []int
	mu     sync.Mutex         // guards procs, killed and paused: a live trial starts and kills processes while it polls them
	procs  []*supervisor.Proc // by node: the current process, nil before the first start
	killed []bool             // by node: its process was killed (Kill), and not started again
	paused []bool             // by node: its process is stopped (Pause)
	group  supervisor.Group
	net    *proxy.Net
	client *http.Client
	held   []net.Listener // by node: its port, held until it first starts; nil once given up
	etcd   *etcdMembers   // etcd members' peer side; nil for the course's API
}

// Start limits.
const (
	proxyTimeout  = 2 * time.Second        // for a node's answer to an RPC the proxy carries
	startTimeout  = 10 * time.Second       // for a node to answer /status
	statusTimeout = 500 * time.Millisecond // for one /status answer
	logTail       = 20                     // lines of a node's log in an error
)

// NewCluster sets a cluster up: it picks ports and starts the proxy. No
// node runs until [Cluster.Start].
func NewCluster(cfg ClusterConfig) (*Cluster, error) {
	c := &Cluster{cfg: cfg, names: wire.NodeNames(cfg.Size), procs: make([]*supervisor.Proc, cfg.Size),
		killed: make([]bool, cfg.Size), paused: make([]bool, cfg.Size),
		client: &http.Client{Timeout: statusTimeout}}
	if cfg.Links == nil {
		cfg.Links = make([][]sim.Link, cfg.Size)
		for i := range cfg.Links {
			cfg.Links[i] = make([]sim.Link, cfg.Size)
		}
	}
	if cfg.Observer == nil {
		cfg.Observer = ignore{}
	}
	if cfg.Now == nil {
		start := time.Now()
		cfg.Now = func() time.Duration { return time.Since(start) }
	}
	c.cfg = cfg
	// Hold a free port for each node without one until the node starts,
	// so that the proxy's own listeners, opened meanwhile, cannot take it.
	c.ports = make([]int, cfg.Size)
	copy(c.ports, cfg.Ports)
	c.held = make([]net.Listener, cfg.Size)
	for i, p := range c.ports {
		if p != 0 {
			continue
		}
		ln, err := holdPort()
		if err != nil {
			c.release()
			return nil, err
		}
		c.held[i], c.ports[i] = ln, ln.Addr().(*net.TCPAddr).Port
	}
	targets := make([]string, cfg.Size)
	for i, p := range c.ports {
		targets[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	if cfg.Nodes.Etcd != "" {
		if err := c.startEtcdNet(); err != nil {
			c.release()
			return nil, err
		}
		return c, nil
	}
	var err error
	c.net, err = proxy.Start(proxy.Config{Names: c.names, Targets: targets, Links: cfg.Links, FIFO: cfg.FIFO, Seed: cfg.Seed,
		Now: cfg.Now, Observer: cfg.Observer, Timeout: proxyTimeout})
	if err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// LinksOf returns the behaviour of every link of plan's scenario, as the
// proxy takes it.
func LinksOf(plan *trial.Plan) [][]sim.Link {
	n := plan.Scenario.Cluster.Nodes
	links := make([][]sim.Link, n)
	for from := range links {
		links[from] = make([]sim.Link, n)
		for to := range links[from] {
			links[from][to] = plan.Link(from, to)
		}
	}
	return links
}

// ignore is an observer that hears nothing.
type ignore struct{}

func (ignore) Sent(*raft.Message, time.Duration, time.Duration, string) {}
func (ignore) Delivered(*raft.Message, time.Duration, time.Duration)    {}
func (ignore) Answered(*raft.Message, *raft.Message, time.Duration)     {}
func (ignore) Dropped(*raft.Message, time.Duration, string)             {}
func (ignore) Unreadable(int, int, time.Duration, string, error)        {}

// release closes the listeners that hold the nodes' ports, and an etcd
// cluster's proxy.
func (c *Cluster) release() {
	for _, ln := range c.held {
		if ln != nil {
			ln.Close()
		}
	}
	if m := c.etcd; m != nil {
		for _, ln := range m.peerHeld {
			if ln != nil {
				ln.Close()
			}
		}
		if m.net != nil {
			m.net.Close()
		}
	}
}

// Names returns the nodes' names: n1, n2, ...
func (c *Cluster) Names() wire.Names { return c.names }

// Addr returns where node i listens.
func (c *Cluster) Addr(i int) string { return "127.0.0.1:" + strconv.Itoa(c.ports[i]) }

// LogFile returns node i's log file.
func (c *Cluster) LogFile(i int) string { return filepath.Join(c.cfg.Logs, c.names[i]+".log") }

// Net returns the proxy.
func (c *Cluster) Net() *proxy.Net { return c.net }

// peers lists the other nodes as node i reaches them: through the proxy.
func (c *Cluster) peers(i int) []wire.Peer {
	var out []wire.Peer
	for j := range c.names {
		if j != i {
			out = append(out, wire.Peer{Name: c.names[j], Addr: c.net.Addr(i, j)})
		}
	}
	return out
}

// Start starts node i's process (again, after a kill: its data directory
// is kept). raftsim's own node starts its Raft clock at startAt; another
// program starts when its process does.
func (c *Cluster) Start(i int, startAt time.Time) error {
	if c.Running(i) {
		return fmt.Errorf("%s is running: kill it first", c.names[i])
	}
	name := c.names[i]
	spec := supervisor.Spec{Name: name, Log: c.LogFile(i), Also: c.cfg.Output}
	ns := &c.cfg.Nodes
	switch {
	case ns.Etcd != "":
		spec.Argv = c.etcdArgv(i)
		if err := mkdir(c.cfg.Data); err != nil {
			return err
		}
		if ln := c.etcd.peerHeld[i]; ln != nil {
			ln.Close() // the member takes its peer port from here
			c.etcd.peerHeld[i] = nil
		}
	case ns.Cmd != "":
		// The command runs where raftsim was started, so that its paths
		// mean what they say; its data directory is DATA_DIR.
		data := filepath.Join(c.cfg.Data, name)
		spec.Argv = []string{"sh", "-c", ns.Cmd}
		spec.Env = append([]string{wire.EnvNodeID + "=" + name, wire.EnvPort + "=" + strconv.Itoa(c.ports[i]),
			wire.EnvPeers + "=" + wire.FormatPeers(c.peers(i)), wire.EnvDataDir + "=" + data}, ns.Env...)
		if err := mkdir(data); err != nil {
			return err
		}
	default:
		spec.Argv = []string{ns.Exe, "serve", "--id", name, "--listen", c.Addr(i), "--data", filepath.Join(c.cfg.Data, name),
			"--start-at", strconv.FormatInt(startAt.UnixMilli(), 10)}
		for _, p := range c.peers(i) {
			spec.Argv = append(spec.Argv, "--peer", p.Name+"="+p.Addr)
		}
		spec.Argv = append(spec.Argv, ns.ServeArgs...)
	}
	if c.held[i] != nil {
		c.held[i].Close() // the node takes its port from here
		c.held[i] = nil
	}
	p, err := c.group.Start(spec)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[i], c.killed[i], c.paused[i] = p, false, false
	c.mu.Unlock()
	return nil
}

// proc returns node i's current process, or nil before its first start.
func (c *Cluster) proc(i int) *supervisor.Proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i]
}

// WaitReady waits until node i answers /status, its process exits, or
// ctx ends.
func (c *Cluster) WaitReady(ctx context.Context, i int) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		p := c.proc(i)
		if p == nil || !p.Running() {
			return c.startError(i, fmt.Sprintf("exited (%v) before answering %s", exitText(p), wire.PathStatus))
		}
		if _, err := c.Status(i); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	_, err := c.Status(i)
	return c.startError(i, fmt.Sprintf("did not answer GET http://%s%s within %v (last: %v)", c.Addr(i), wire.PathStatus, startTimeout, err))
}

// WaitAll waits until every node answers /status, a process exits, or
// ctx ends; ready, if set, hears each node as it first answers.
func (c *Cluster) WaitAll(ctx context.Context, ready func(i int)) error {
	pending := make([]int, len(c.names))
	for i := range pending {
		pending[i] = i
	}
	deadline := time.Now().Add(startTimeout)
	for {
		var still []int
		for _, i := range pending {
			if p := c.proc(i); p == nil || !p.Running() {
				return c.startError(i, fmt.Sprintf("exited (%v) before answering %s", exitText(p), wire.PathStatus))
			}
			if _, err := c.Status(i); err != nil {
				still = append(still, i)
			} else if ready != nil {
				ready(i)
			}
		}
		if pending = still; len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			_, err := c.Status(pending[0])
			return c.startError(pending[0], fmt.Sprintf("did not answer GET http://%s%s within %v (last: %v)",
				c.Addr(pending[0]), wire.PathStatus, startTimeout, err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func exitText(p *supervisor.Proc) string {
	if p == nil {
		return "never started"
	}
	if err := p.Exit(); err != nil {
		return err.Error()
	}
	return "exit status 0"
}

// StartError is a node that did not start.
type StartError struct {
	Node    string
	Problem string
	Log     string // the log file
	Tail    string // its last lines
}

func (e *StartError) Error() string {
	return fmt.Sprintf("node %s %s; the end of its log %s:\n%s", e.Node, e.Problem, e.Log, indent(e.Tail))
}

// PortTaken reports whether the node could not listen because another
// process took its port first (the port was free when raftsim picked it).
func (e *StartError) PortTaken() bool {
	t := strings.ToLower(e.Tail)
	return strings.Contains(t, "address already in use") || strings.Contains(t, "eaddrinuse")
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func (c *Cluster) startError(i int, problem string) error {
	return &StartError{Node: c.names[i], Problem: problem, Log: c.LogFile(i), Tail: supervisor.Tail(c.LogFile(i), logTail)}
}

// ErrBadAnswer is an answer to GET /status that does not follow the
// contract: the node runs and answers HTTP, but not as raftsim needs.
var ErrBadAnswer = errors.New("an answer that does not follow the contract")

// statusAnswer reads the body of an answer to a status request (at most
// 64 KiB), or says what went wrong: no answer, or one other than 200 OK.
func statusAnswer(resp *http.Response, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: %s", ErrBadAnswer, resp.Status, snippet(data))
	}
	return data, nil
}

// Status asks node i for its /status (an etcd member for its status, as
// the course's /status says it).
func (c *Cluster) Status(i int) (wire.Status, error) {
	if c.etcd != nil {
		return c.etcdStatus(i)
	}
	data, err := statusAnswer(c.client.Get("http://" + c.Addr(i) + wire.PathStatus))
	if err != nil {
		return wire.Status{}, err
	}
	s, err := wire.DecodeStatus(data)
	if err != nil {
		return s, fmt.Errorf("%w: %v, in %s", ErrBadAnswer, err, snippet(data))
	}
	return s, nil
}

// snippet quotes the start of a body for a message.
func snippet(data []byte) string {
	const show = 120
	s := strings.TrimSpace(string(data))
	if len(s) > show {
		s = s[:show] + "..."
	}
	return strconv.Quote(s)
}

// Running reports whether node i's process runs (paused or not).
func (c *Cluster) Running(i int) bool {
	p := c.proc(i)
	return p != nil && p.Running()
}

// Kill kills node i's process with SIGKILL.
func (c *Cluster) Kill(i int) error {
	p := c.proc(i)
	if p == nil {
		return nil
	}
	c.mu.Lock()
	c.killed[i] = true
	c.mu.Unlock()
	return p.Kill()
}

// Down says why node i does not answer, when its process is not running
// or is stopped: not started yet, killed, stopped, or exited by itself (how);
// "" while it runs.
func (c *Cluster) Down(i int) string {
	c.mu.Lock()
	p, killed, paused := c.procs[i], c.killed[i], c.paused[i]
	c.mu.Unlock()
	switch {
	case p == nil:
		return "not started"
	case killed && !p.Running():
		return "down: killed (kill -9)"
	case !p.Running():
		return fmt.Sprintf("down: exited by itself (%v)", exitText(p))
	case paused:
		return "paused (SIGSTOP)"
	}
	return ""
}

// Pause stops node i with SIGSTOP.
func (c *Cluster) Pause(i int) error {
	p := c.proc(i)
	if p == nil || !p.Running() {
		return supervisor.ErrNotRunning
	}
	if err := p.Pause(); err != nil {
		return err
	}
	c.mu.Lock()
	c.paused[i] = true
	c.mu.Unlock()
	return nil
}

// Resume continues node i with SIGCONT.
func (c *Cluster) Resume(i int) error {
	p := c.proc(i)
	if p == nil || !p.Running() {
		return supervisor.ErrNotRunning
	}
	c.mu.Lock()
	c.paused[i] = false
	c.mu.Unlock()
	return p.Resume()
}

// Block blocks or unblocks the one-way link from → to, in the proxy.
func (c *Cluster) Block(from, to int, blocked bool) {
	if c.etcd != nil {
		c.etcd.net.Block(from, to, blocked)
		return
	}
	c.net.Block(from, to, blocked)
}

// SetLoss sets the loss probability of every link, in the proxy.
func (c *Cluster) SetLoss(p float64) {
	if c.etcd == nil { // etcd's TCP streams lose nothing: CheckEtcd refuses loss
		c.net.SetLoss(p)
	}
}

// SetHold makes the proxy discard the requests hold says (nil: none).
func (c *Cluster) SetHold(hold func(*raft.Message) bool) {
	if c.etcd == nil { // etcd's entries are inside its streams: CheckEtcd refuses a write's reach
		c.net.SetHold(hold)
	}
}

// Propose asks node leader to append entries (POST /propose, which the
// contract makes optional) and returns the status of its answer.
func (c *Cluster) Propose(leader, entries int) (status int, err error) {
	if c.etcd != nil {
		return c.etcdPut(leader, entries)
	}
	resp, err := c.client.Post("http://"+c.Addr(leader)+wire.PathPropose, "application/json",
		strings.NewReader(fmt.Sprintf(`{"count":%d}`, entries)))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Isolate cuts node i off from every other node, both ways.
func (c *Cluster) Isolate(i int) {
	for j := range c.names {
		if j != i {
			c.Block(i, j, true)
			c.Block(j, i, true)
		}
	}
}

// Heal unblocks every link.
func (c *Cluster) Heal() {
	for i := range c.names {
		for j := range c.names {
			c.Block(i, j, false)
		}
	}
}

// Close stops every process (SIGTERM, then SIGKILL for those that do not
// exit within supervisor.StopGrace; etcd members at once with SIGKILL:
// their data is thrown away, and a leader's graceful stop hands its
// leadership over first, for up to an election timeout) and closes the
// proxy. It returns a note naming the nodes that had to be killed, or "".
func (c *Cluster) Close() (note string, err error) {
	c.release()
	var killed []string
	if c.etcd != nil {
		err = c.group.Kill()
	} else {
		killed, err = c.group.Close()
	}
	if c.net != nil {
		c.net.Close()
	}
	c.client.CloseIdleConnections()
	if len(killed) > 0 {
		note = fmt.Sprintf("%s did not exit within %v of SIGTERM at the end of a trial and was killed (kill -9): handle SIGTERM to stop cleanly",
			strings.Join(killed, ", "), supervisor.StopGrace)
	}
	return note, err
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }

// For returns ns set up for the protocol of s: raftsim serve's flags, and
// a --cmd node's optional environment (the timeouts and the Pre-Vote
// switch).
func (ns Nodes) For(s *scenarios.Scenario) Nodes {
	c := &s.Cluster
	if ns.Etcd != "" {
		ns.ServeArgs = EtcdFlags(s)
		return ns
	}
	ns.ServeArgs = []string{"--election-timeout", c.ElectionTimeout.String(), "--heartbeat", scenarios.FormatDuration(c.HeartbeatInterval())}
	for _, flag := range scenarios.OptionFlags(c.Options) {
		ns.ServeArgs = append(ns.ServeArgs, "--"+flag)
	}
	if c.Bugs != 0 {
		ns.ServeArgs = append(ns.ServeArgs, "--bug", c.Bugs.String())
	}
	if c.Impl == scenarios.ImplEtcd {
		ns.ServeArgs = append(ns.ServeArgs, "--impl", c.Impl.String(), "--tick", scenarios.FormatDuration(c.TickLength()))
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	ns.Env = []string{wire.EnvElectionMin + "=" + ms(c.ElectionTimeout.Min), wire.EnvElectionMax + "=" + ms(c.ElectionTimeout.Max),
		wire.EnvHeartbeat + "=" + ms(c.HeartbeatInterval())}
	if c.Options.PreVote {
		ns.Env = append(ns.Env, wire.EnvPreVote+"=1")
	}
	return ns
}
