package live

import (
	"context"
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
	// ServeArgs are the protocol flags raftsim serve gets (--election-timeout
	// and the like); Env is added to a Cmd's environment.
	ServeArgs []string
	Env       []string
}

// Describe names the nodes' program for reports.
func (ns *Nodes) Describe() string {
	if ns.Cmd != "" {
		return ns.Cmd
	}
	if i := slices.Index(ns.ServeArgs, "--impl"); i >= 0 && i+1 < len(ns.ServeArgs) {
		return "raftsim serve --impl " + ns.ServeArgs[i+1]
	}
	return "raftsim serve"
}

// ClusterConfig says what cluster to start.
type ClusterConfig struct {
	Nodes Nodes
	Size  int
	// Ports are where the nodes listen, on 127.0.0.1; nil picks free ones.
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
	mu     sync.Mutex         // guards procs: a live trial starts and kills processes while it polls them
	procs  []*supervisor.Proc // by node: the current process, nil before the first start
	group  supervisor.Group
	net    *proxy.Net
	client *http.Client
	held   []net.Listener // by node: its port, held until it first starts; nil once given up
}

// Start limits.
const (
	startTimeout  = 10 * time.Second       // for a node to answer /status
	statusTimeout = 500 * time.Millisecond // for one /status answer
	logTail       = 20                     // lines of a node's log in an error
)

// NewCluster sets a cluster up: it picks ports and starts the proxy. No
// node runs until [Cluster.Start].
func NewCluster(cfg ClusterConfig) (*Cluster, error) {
	c := &Cluster{cfg: cfg, names: wire.NodeNames(cfg.Size), procs: make([]*supervisor.Proc, cfg.Size),
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
	c.ports = cfg.Ports
	if c.ports == nil {
		// Hold free ports until the nodes start, so that the proxy's own
		// listeners, opened meanwhile, cannot take them.
		for range cfg.Size {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				c.release()
				return nil, err
			}
			c.held = append(c.held, ln)
			c.ports = append(c.ports, ln.Addr().(*net.TCPAddr).Port)
		}
	}
	targets := make([]string, cfg.Size)
	for i, p := range c.ports {
		targets[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	var err error
	c.net, err = proxy.Start(proxy.Config{Names: c.names, Targets: targets, Links: cfg.Links, FIFO: cfg.FIFO, Seed: cfg.Seed,
		Now: cfg.Now, Observer: cfg.Observer, Timeout: 2 * time.Second})
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

// release closes the listeners that hold the nodes' ports.
func (c *Cluster) release() {
	for _, ln := range c.held {
		if ln != nil {
			ln.Close()
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
		return fmt.Errorf("%s is already running", c.names[i])
	}
	name := c.names[i]
	spec := supervisor.Spec{Name: name, Log: c.LogFile(i), Also: c.cfg.Output}
	ns := &c.cfg.Nodes
	if ns.Cmd != "" {
		// The command runs where raftsim was started, so that its paths
		// mean what they say; its data directory is DATA_DIR.
		data := filepath.Join(c.cfg.Data, name)
		spec.Argv = []string{"sh", "-c", ns.Cmd}
		spec.Env = append([]string{wire.EnvNodeID + "=" + name, wire.EnvPort + "=" + strconv.Itoa(c.ports[i]),
			wire.EnvPeers + "=" + wire.FormatPeers(c.peers(i)), wire.EnvDataDir + "=" + data}, ns.Env...)
		if err := mkdir(data); err != nil {
			return err
		}
	} else {
		spec.Argv = []string{ns.Exe, "serve", "--id", name, "--listen", c.Addr(i), "--data", filepath.Join(c.cfg.Data, name),
			"--start-at", strconv.FormatInt(startAt.UnixMilli(), 10)}
		for _, p := range c.peers(i) {
			spec.Argv = append(spec.Argv, "--peer", p.Name+"="+p.Addr)
		}
		spec.Argv = append(spec.Argv, ns.ServeArgs...)
	}
	if i < len(c.held) && c.held[i] != nil {
		c.held[i].Close() // the node takes its port from here
		c.held[i] = nil
	}
	p, err := c.group.Start(spec)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[i] = p
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

// Status asks node i for its /status.
func (c *Cluster) Status(i int) (wire.Status, error) {
	resp, err := c.client.Get("http://" + c.Addr(i) + wire.PathStatus)
	if err != nil {
		return wire.Status{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return wire.Status{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return wire.Status{}, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	return wire.DecodeStatus(data)
}

// Running reports whether node i's process runs (paused or not).
func (c *Cluster) Running(i int) bool {
	p := c.proc(i)
	return p != nil && p.Running()
}

// Kill kills node i's process with SIGKILL.
func (c *Cluster) Kill(i int) error {
	if p := c.proc(i); p != nil {
		return p.Kill()
	}
	return nil
}

// Pause stops node i with SIGSTOP.
func (c *Cluster) Pause(i int) error {
	p := c.proc(i)
	if p == nil || !p.Running() {
		return supervisor.ErrNotRunning
	}
	return p.Pause()
}

// Resume continues node i with SIGCONT.
func (c *Cluster) Resume(i int) error {
	p := c.proc(i)
	if p == nil || !p.Running() {
		return supervisor.ErrNotRunning
	}
	return p.Resume()
}

// Block blocks or unblocks the one-way link from → to, in the proxy.
func (c *Cluster) Block(from, to int, blocked bool) { c.net.Block(from, to, blocked) }

// SetLoss sets the loss probability of every link, in the proxy.
func (c *Cluster) SetLoss(p float64) { c.net.SetLoss(p) }

// SetHold makes the proxy discard the requests hold says (nil: none).
func (c *Cluster) SetHold(hold func(*raft.Message) bool) { c.net.SetHold(hold) }

// Propose asks node leader to append entries (POST /propose, which the
// contract makes optional) and returns the status of its answer.
func (c *Cluster) Propose(leader, entries int) (status int, err error) {
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
			c.net.Block(i, j, true)
			c.net.Block(j, i, true)
		}
	}
}

// Heal unblocks every link.
func (c *Cluster) Heal() {
	for i := range c.names {
		for j := range c.names {
			c.net.Block(i, j, false)
		}
	}
}

// Close kills every process and closes the proxy.
func (c *Cluster) Close() error {
	c.release()
	err := c.group.Close()
	c.net.Close()
	c.client.CloseIdleConnections()
	return err
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }

// For returns ns set up for the protocol of s: raftsim serve's flags, and
// a --cmd node's optional environment (the timeouts and the Pre-Vote
// switch).
func (ns Nodes) For(s *scenarios.Scenario) Nodes {
	c := &s.Cluster
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
