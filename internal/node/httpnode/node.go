// Package httpnode is one Raft node on HTTP, speaking the course's API
// (package wire): raftsim serve. It puts raftsim's own node (package raft)
// behind the real-time driver (package realtime), keeps its term, vote and
// log in a data directory (package disk), answers RequestVote, Pre-Vote,
// AppendEntries and its alias heartbeat, /status and /propose, and sends its
// own requests to its peers with an HTTP client. It logs one line per change
// of term, role or leader.
//
// httpnode must never answer a request, or send one, before what it depends
// on is on disk (the driver sees to it), never crash on a malformed request
// or change anything for it (it answers 400 with a JSON error; package wire
// says what is malformed), never let a slow client keep a connection past
// its client timeout, and never wait on a peer while holding the node.
package httpnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/node/realtime"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
)

// Config is what a node needs to run.
type Config struct {
	Name   string // this node's name
	Listen string // host:port to listen on
	// Listener, when set, is used instead of listening on Listen.
	Listener net.Listener
	Peers    []wire.Peer
	Data     string // the data directory: term, vote and log

	// Raft is the node's protocol: its election timeout, heartbeat,
	// options and bugs (a scenario's, from scenarios.Cluster.NodeConfig);
	// its ID and Size come from the names.
	Raft raft.Config

	// StartAt, when set, is when the node starts its Raft clock; until
	// then it answers /status but refuses RPCs. It lets a cluster's
	// processes, started one after the other, boot together.
	StartAt time.Time
	// Rand draws election timeouts; nil draws from a randomly seeded source.
	Rand raft.Rand
	// Clock is the node's clock and its timers; nil is the wall clock.
	// Tests move a clock of their own.
	Clock realtime.Clock
	// ClientTimeout bounds how long a client may take to send a request
	// (headers and body), and twice it how long until its reply is written:
	// a slower client's connection is closed, so that slow or stalled
	// clients cannot hold the node's connections. 0 means 2s.
	ClientTimeout time.Duration
	// Machine, when set, makes the node to run from its configuration and
	// Rand instead of raftsim's own: etcd's, for raftsim serve --impl etcd.
	Machine func(raft.Config, raft.Rand) raft.Machine
	// Log receives one line per change of term, role or leader, and other
	// news; nil discards it.
	Log io.Writer
}

// Limits. Bodies are bounded by wire.MaxBody.
const (
	maxInFlight          = 32  // requests to one peer awaiting their reply: more are dropped, as a full network would
	maxPropose           = 100 // entries one /propose may append
	requestTimeout       = 2 * time.Second
	defaultClientTimeout = 2 * time.Second  // a client's, as the node's own requests are bounded by requestTimeout
	idleTimeout          = 30 * time.Second // an idle kept-alive connection, as the node's own client keeps them
)

// Node is a running node.
type Node struct {
	cfg      Config
	names    wire.Names // by raft.ID
	self     raft.ID
	urls     []string // by raft.ID: the base URL of each peer
	store    *disk.Store
	restart  bool       // the data directory held a state: this is a restart
	stored   disk.State // what the data directory held, which /status reports until the boot
	drv      *realtime.Driver
	booted   chan struct{}
	client   *http.Client
	inFlight []chan struct{} // by raft.ID: a slot per request awaiting its reply
	ln       net.Listener
	log      *log.Logger
	ctx      context.Context // ends the node's outgoing requests
	cancel   context.CancelFunc
}

// New checks cfg, opens the data directory and listens. Serve runs the node.
func New(cfg Config) (*Node, error) {
	names := wire.Names{cfg.Name}
	for _, p := range cfg.Peers {
		names = append(names, p.Name)
	}
	if err := checkNames(names); err != nil {
		return nil, err
	}
	wire.Sort(names)
	self, _ := names.ID(cfg.Name)
	rc := cfg.Raft
	rc.ID, rc.Size = self, len(names)
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	if cfg.Data == "" {
		return nil, errors.New("no data directory")
	}
	store, found, err := disk.Open(cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("data directory: %v", err)
	}
	st := store.State()
	if err := withinMaxTerm(st); err != nil {
		store.Close()
		return nil, fmt.Errorf("data directory %s: %v", cfg.Data, err)
	}
	if st.Vote != "" {
		if _, ok := names.ID(st.Vote); !ok {
			store.Close()
			return nil, fmt.Errorf("data directory %s: voted for %q, who is not in the cluster", cfg.Data, st.Vote)
		}
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			store.Close()
			return nil, err
		}
	}
	out := cfg.Log
	if out == nil {
		out = io.Discard
	}
	n := &Node{cfg: cfg, names: names, self: self, store: store, restart: found, stored: st, booted: make(chan struct{}), ln: ln,
		log: log.New(out, "", log.Ltime|log.Lmicroseconds)}
	n.urls = make([]string, len(names))
	n.inFlight = make([]chan struct{}, len(names))
	for _, p := range cfg.Peers {
		id, _ := names.ID(p.Name)
		n.urls[id] = "http://" + p.Addr
		n.inFlight[id] = make(chan struct{}, maxInFlight)
	}
	n.client = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second, DisableCompression: true}}
	rnd := cfg.Rand
	if rnd == nil {
		rnd = osRand{}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	clock := cfg.Clock
	if clock == nil {
		clock = realtime.WallClock()
	}
	var machine raft.Machine
	if cfg.Machine != nil {
		machine = cfg.Machine(rc, rnd)
	}
	n.drv = realtime.New(realtime.Config{Node: rc, Rand: rnd, Machine: machine, Clock: clock,
		Storage: storage{n}, Transport: transport{n}, OnState: n.logState, OnCampaignRefused: n.logCampaignRefused})
	return n, nil
}

// withinMaxTerm refuses a stored state whose term, or an entry's, is above
// raft.MaxTerm: an older raftsim, or another program, may have written it,
// and the node cannot run from it.
func withinMaxTerm(st disk.State) error {
	if st.Term > raft.MaxTerm {
		return fmt.Errorf("term %d is above %d (2^53-1), the largest term a node may reach", st.Term, uint64(raft.MaxTerm))
	}
	for i, t := range st.Log {
		if t > raft.MaxTerm {
			return fmt.Errorf("entry %d has term %d, above %d (2^53-1), the largest term a node may reach", i+1, t, uint64(raft.MaxTerm))
		}
	}
	return nil
}

// checkNames refuses an empty name, a name twice, and names with commas or
// equals signs (PEERS could not list them).
func checkNames(names wire.Names) error {
	seen := map[string]bool{}
	for _, name := range names {
		switch {
		case name == "":
			return errors.New("a node without a name")
		case strings.ContainsAny(name, ",= \t"):
			return fmt.Errorf("node name %q: no commas, equals signs or spaces", name)
		case seen[name]:
			return fmt.Errorf("node name %q twice", name)
		}
		seen[name] = true
	}
	return nil
}

// Addr returns the address the node listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Serve boots the node (at StartAt, if set) and serves until ctx ends; then
// it stops the node and closes its listener. It returns nil after ctx ends,
// or the error that stopped it.
func (n *Node) Serve(ctx context.Context) error {
	ct := n.cfg.ClientTimeout
	if ct <= 0 {
		ct = defaultClientTimeout
	}
	srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: ct, ReadTimeout: ct, WriteTimeout: 2 * ct,
		IdleTimeout: idleTimeout, ErrorLog: log.New(io.Discard, "", 0)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(n.ln) }()
	var err error
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(n.cfg.StartAt)):
		err = n.boot()
	}
	if err == nil {
		select {
		case <-ctx.Done():
		case err = <-served:
		}
	}
	n.halt()
	shut, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(shut)
	if err == nil {
		err = n.drv.Err()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// halt stops the node: its timers, its disk, its outgoing requests.
func (n *Node) halt() {
	n.drv.Stop()
	n.store.Close()
	n.cancel()
}

func (n *Node) boot() error {
	st := n.store.State()
	vote := raft.None
	if st.Vote != "" {
		vote, _ = n.names.ID(st.Vote)
	}
	how := "first boot"
	if n.restart {
		how = fmt.Sprintf("restart from %s: term %d, voted for %s, %d entries", n.cfg.Data, st.Term, nameOr(st.Vote, "nobody"), len(st.Log))
	}
	n.log.Printf("%s %s, peers %s", n.cfg.Name, how, strings.Join(n.peerList(), " "))
	for _, p := range n.cfg.Peers {
		if why := unresolvable(p.Addr); why != "" {
			n.log.Printf("%s: peer %s at %s: %s; every request to it will fail (outside Docker, give PEERS as NAME=127.0.0.1:PORT)", n.cfg.Name, p.Name, p.Addr, why)
		}
	}
	err := n.drv.Boot(st.Term, vote, st.Log, n.restart)
	close(n.booted)
	return err
}

func (n *Node) peerList() []string {
	var out []string
	for _, p := range n.cfg.Peers {
		out = append(out, p.Name+"="+p.Addr)
	}
	return out
}

func nameOr(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// logState writes the line of a change of term, role or leader.
func (n *Node) logState(prev, cur raft.State) {
	if prev.Role == cur.Role && prev.Term == cur.Term && prev.Lead == cur.Lead {
		return
	}
	hint := ""
	if cur.Role == raft.PreCandidate {
		hint = " (a follower asking for pre-votes before it stands: /status says follower)"
	}
	n.log.Printf("%s %s term=%d leader=%s%s", n.cfg.Name, cur.Role, cur.Term, nameOr(n.names.Name(cur.Lead), "none"), hint)
}

// unresolvable says why addr's host cannot be reached by name (the
// chapter's compose form, node2:3002, outside Docker), or "" when it is an
// address or a name that resolves.
func unresolvable(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err.Error()
	}
	if net.ParseIP(host) != nil {
		return ""
	}
	if _, err := net.LookupHost(host); err != nil {
		return fmt.Sprintf("the host %q does not resolve", host)
	}
	return ""
}

// logCampaignRefused says why a node whose election timer fired does not
// campaign: its term is raft.MaxTerm. (raftsim's node becomes a follower;
// etcd's has no way to be told to, and stays what it was.)
func (n *Node) logCampaignRefused(st raft.State) {
	n.log.Printf("%s does not campaign: its term %d is 2^53-1, the largest a JSON number carries exactly, and an election needs one more; it stays a %s, votes and follows a leader of this term", n.cfg.Name, st.Term, wire.StateOf(st.Role))
}

// storage saves through the disk store, naming the vote.
type storage struct{ n *Node }

func (s storage) Save(term uint64, vote raft.ID, first uint64, entries []uint64) error {
	return s.n.store.Save(term, s.n.names.Name(vote), first, entries)
}

// transport sends each request in its own goroutine and hands the reply to
// the driver. A request that finds maxInFlight others awaiting their reply
// from the same peer is dropped.
type transport struct{ n *Node }

func (t transport) Send(m raft.Message) {
	n := t.n
	slots := n.inFlight[m.To]
	select {
	case slots <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-slots }()
		reply, err := n.call(&m)
		if err != nil {
			return // no reply: the node will try again when its timers say so
		}
		n.drv.Receive(reply)
	}()
}

// call sends request m and returns its reply.
func (n *Node) call(m *raft.Message) (raft.Message, error) {
	body, err := json.Marshal(wire.EncodeRequest(m, n.cfg.Name))
	if err != nil {
		return raft.Message{}, err
	}
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, n.urls[m.To]+wire.Path(m.Type), strings.NewReader(string(body)))
	if err != nil {
		return raft.Message{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return raft.Message{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxBody))
	if err != nil {
		return raft.Message{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return raft.Message{}, fmt.Errorf("%s: %s", resp.Status, data)
	}
	return wire.DecodeReply(m, data)
}
