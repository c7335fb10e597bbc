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
// (it answers 400 with a JSON error), and never wait on a peer while holding
// the node.
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

	ElectionMin, ElectionMax time.Duration
	Heartbeat                time.Duration
	Options                  raft.Options
	Bugs                     raft.Bug

	// StartAt, when set, is when the node starts its Raft clock; until
	// then it answers /status but refuses RPCs. It lets a cluster's
	// processes, started one after the other, boot together.
	StartAt time.Time
	// Rand draws election timeouts; nil draws from a randomly seeded source.
	Rand raft.Rand
	// Machine, when set, makes the node to run from its configuration and
	// Rand instead of raftsim's own: etcd's, for raftsim serve --impl etcd.
	Machine func(raft.Config, raft.Rand) raft.Machine
	// Log receives one line per change of term, role or leader, and other
	// news; nil discards it.
	Log io.Writer
}

// Limits.
const (
	maxBody        = 1 << 20 // bytes of a request or reply body
	maxInFlight    = 32      // requests to one peer awaiting their reply: more are dropped, as a full network would
	maxPropose     = 100     // entries one /propose may append
	requestTimeout = 2 * time.Second
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
	rc := raft.Config{ID: self, Size: len(names), ElectionMin: cfg.ElectionMin, ElectionMax: cfg.ElectionMax,
		Heartbeat: cfg.Heartbeat, Options: cfg.Options, Bugs: cfg.Bugs}
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
	if st.Vote != "" {
		if _, ok := names.ID(st.Vote); !ok {
			return nil, fmt.Errorf("data directory %s: voted for %q, who is not in the cluster", cfg.Data, st.Vote)
		}
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
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
	var machine raft.Machine
	if cfg.Machine != nil {
		machine = cfg.Machine(rc, rnd)
	}
	n.drv = realtime.New(realtime.Config{Node: rc, Rand: rnd, Machine: machine, Clock: realtime.WallClock(),
		Storage: storage{n}, Transport: transport{n}, OnState: n.logState})
	return n, nil
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
	srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
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
	n.drv.Stop()
	n.store.Close()
	n.cancel()
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
	n.log.Printf("%s %s term=%d leader=%s", n.cfg.Name, cur.Role, cur.Term, nameOr(n.names.Name(cur.Lead), "none"))
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return raft.Message{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return raft.Message{}, fmt.Errorf("%s: %s", resp.Status, data)
	}
	return wire.DecodeReply(m, data)
}
