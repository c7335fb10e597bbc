// Package tcpproxy is the fault-injecting network for real etcd members on
// loopback. etcd's peers talk rafthttp: HTTP over long-lived TCP
// connections, whose streams carry messages for as long as they live, so
// the faults are applied to bytes, not to messages. Every member reaches
// member j at the one peer URL the cluster advertises for j; the proxy
// listens once per member ([Listen], [Net.Addr]) and carries each
// connection to j's real peer listener, delaying each direction of each
// link by its latency (in order, as TCP delivers) and holding the bytes of
// a blocked direction until it heals. Which member dialed a connection, and so which link it
// is, the proxy reads from rafthttp's X-Server-From header.
//
// tcpproxy must never listen on anything but 127.0.0.1, never let a byte
// cross a blocked direction of a link, never reorder the bytes of a
// connection, and never pretend to lose or duplicate what TCP would
// retransmit: [Net.Start] refuses links with loss or duplication.
package tcpproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/node/realtime"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Unknown stands, in an [Observer]'s calls, for the dialer of a
// connection that named none of the members.
const Unknown = -1

// Observer hears what the proxy does, per directed link. Its methods are
// called from many goroutines at once, at the moment things happen.
type Observer interface {
	// Accepted: a connection dialed by from to member to was carried, or,
	// when refused, closed at once because the link from → to was blocked.
	// It is called once the connection's first request named its dialer,
	// or later, without refusal, for a connection that was [Unknown] until
	// a later request named it.
	Accepted(from, to int, refused bool)
	// Unknown: the first request of a connection to member to named no
	// member (why says what it said instead). The connection is carried
	// without latency or blocks until one of its requests names its
	// dialer.
	Unknown(to int, why string)
	// Delivered: n bytes crossed from → to, late after the time their
	// latency (counted from the last unblock when a block held them) said:
	// the proxy's timers and scheduling are not punctual. from or to is
	// [Unknown] for the dialer of an unknown connection.
	Delivered(from, to, n int, late time.Duration)
	// Overflow: a connection of the link from → to was closed because the
	// bytes held on its blocked direction from → to exceeded
	// [Config.MaxHeld].
	Overflow(from, to int)
}

// Config sets a network up. Nodes are numbered 0 to N-1.
type Config struct {
	// IDs are the members' IDs, by node, as rafthttp names them in
	// X-Server-From (see [MemberID]).
	IDs []uint64
	// Targets are where the members really listen for peers, by node:
	// host:port of --listen-peer-urls.
	Targets []string
	// Links is the behaviour of each link, Links[from][to], as the
	// simulator's network has it; only the latency is used, and a link
	// with loss or duplication is refused. nil: no latency.
	Links [][]sim.Link
	// Seed seeds the latency draws, one stream per directed link.
	Seed uint64
	// Observer hears what the proxy does; nil: nobody listens.
	Observer Observer
	// MaxHeld bounds the bytes the proxy holds in one direction of one
	// connection (0: [DefaultMaxHeld]). On a link that flows, more makes
	// the proxy stop reading, as TCP's window does; on a blocked one, it
	// closes the connection.
	MaxHeld int
}

// DefaultMaxHeld is [Config.MaxHeld] when it is 0: far more than the
// heartbeats and votes of a partition of minutes, little enough for
// hundreds of connections.
const DefaultMaxHeld = 4 << 20

// Timeouts of the proxy's own waits.
const (
	// firstRequestTimeout bounds the wait for a new connection's first
	// request, which says who dialed; rafthttp sends it at once.
	firstRequestTimeout = 10 * time.Second
	// dialTimeout bounds the dial of a member, on loopback: it answers at
	// once, or refuses. (etcd's own peer dial timeout is 1s plus the
	// election timeout, and bounds the dial to the proxy.)
	dialTimeout = 5 * time.Second
	// closeTimeout bounds how long Close waits for the proxy's goroutines,
	// which end as soon as their connections are closed.
	closeTimeout = 10 * time.Second
)

// Net is the network: [Listen] opens it, [Net.Start] starts it, and
// [Net.Close] closes it.
type Net struct {
	cfg    Config
	n      int
	ids    map[uint64]int // member ID → node
	lns    []net.Listener // by node
	addrs  []string       // by node
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the proxy

	mu      sync.Mutex
	links   []link // by from*n+to
	conns   map[*conn]struct{}
	started bool
	closed  bool
}

// Listen opens a listener on a free loopback port for each of n members,
// so that their addresses, which their member IDs depend on ([MemberID]),
// are known before [Net.Start]. Connections wait until it.
func Listen(n int) (*Net, error) {
	nw := &Net{n: n, lns: make([]net.Listener, n), addrs: make([]string, n), links: make([]link, n*n), conns: make(map[*conn]struct{})}
	for k := range nw.links {
		nw.links[k].changed = make(chan struct{})
	}
	nw.ctx, nw.cancel = context.WithCancel(context.Background())
	for j := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			nw.Close()
			return nil, err
		}
		nw.lns[j], nw.addrs[j] = ln, ln.Addr().String()
	}
	return nw, nil
}

// Start checks cfg and carries connections as it says, until Close. The
// caller closes nw whatever Start returns.
func (nw *Net) Start(cfg Config) error {
	n := nw.n
	if len(cfg.IDs) != n || len(cfg.Targets) != n || (cfg.Links != nil && len(cfg.Links) != n) {
		return fmt.Errorf("tcpproxy: %d IDs, %d targets and %d rows of links for %d members", len(cfg.IDs), len(cfg.Targets), len(cfg.Links), n)
	}
	if cfg.MaxHeld < 0 {
		return fmt.Errorf("tcpproxy: MaxHeld %d is negative", cfg.MaxHeld)
	}
	if cfg.MaxHeld == 0 {
		cfg.MaxHeld = DefaultMaxHeld
	}
	if cfg.Observer == nil {
		cfg.Observer = ignore{}
	}
	ids := make(map[uint64]int, n)
	for i, id := range cfg.IDs {
		if j, dup := ids[id]; dup {
			return fmt.Errorf("tcpproxy: %v and %v have the same member ID %x", raft.ID(j), raft.ID(i), id)
		}
		ids[id] = i
	}
	latency := make([]sim.Dist, n*n)
	for from := range n {
		if cfg.Links != nil && len(cfg.Links[from]) != n {
			return fmt.Errorf("tcpproxy: %d links from %v, want %d", len(cfg.Links[from]), raft.ID(from), n)
		}
		for to := range n {
			var l sim.Link
			if cfg.Links != nil {
				l = cfg.Links[from][to]
			}
			if from != to && (l.Loss > 0 || l.Dup > 0) {
				return fmt.Errorf("tcpproxy: link %v->%v has loss %g and duplication %g: a TCP stream cannot lose or duplicate bytes faithfully, set both to 0",
					raft.ID(from), raft.ID(to), l.Loss, l.Dup)
			}
			latency[from*n+to] = l.Latency
		}
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	switch {
	case nw.closed:
		return errors.New("tcpproxy: Start after Close")
	case nw.started:
		return errors.New("tcpproxy: started twice")
	}
	nw.started = true
	nw.cfg, nw.ids = cfg, ids
	for k := range nw.links { // blocks set before Start stay
		nw.links[k].latency = latency[k]
		nw.links[k].rand.Seed(sim.Mix(sim.Mix(cfg.Seed) ^ uint64(k)))
	}
	for j, ln := range nw.lns {
		nw.wg.Add(1)
		go nw.accept(j, ln)
	}
	return nil
}

// Addr returns where the members reach member j: the host:port of the
// peer URL to advertise for j (--initial-advertise-peer-urls and
// --initial-cluster), while j listens at [Config.Targets][j].
func (nw *Net) Addr(j int) string { return nw.addrs[j] }

// Block blocks or unblocks the direction from → to of the link between
// the two members, before or after Start: the bytes from sends to to on every connection are held
// until it is unblocked (to's bytes to from still flow), and connections
// that from dials to to are refused. Bytes held when it is unblocked flow
// in order, each after its latency counted from the unblock.
func (nw *Net) Block(from, to int, blocked bool) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.links[from*nw.n+to].block(blocked, time.Now())
}

// Blocked reports whether the direction from → to is blocked.
func (nw *Net) Blocked(from, to int) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.links[from*nw.n+to].blocked
}

// Close stops every listener, closes every connection and waits for the
// proxy's goroutines, no longer than closeTimeout: an error says some are
// still running.
func (nw *Net) Close() error {
	nw.cancel()
	for _, ln := range nw.lns {
		if ln != nil {
			ln.Close()
		}
	}
	nw.mu.Lock()
	nw.closed = true
	conns := make([]*conn, 0, len(nw.conns))
	for c := range nw.conns {
		conns = append(conns, c)
	}
	nw.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
	done := make(chan struct{})
	go func() {
		nw.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return errors.New("tcpproxy: goroutines still running " + closeTimeout.String() + " after Close")
	}
}

// accept serves the connections to member j until the listener closes.
func (nw *Net) accept(j int, ln net.Listener) {
	defer nw.wg.Done()
	for { // one connection a turn; ends when Close closes ln
		client, err := ln.Accept()
		if err != nil {
			if nw.ctx.Err() != nil {
				return
			}
			// Out of descriptors, most likely: let connections end.
			if !realtime.Sleep(nw.ctx, 10*time.Millisecond) {
				return
			}
			continue
		}
		c := newConn(nw, j, client)
		if !nw.track(c) {
			client.Close()
			return
		}
		nw.wg.Add(1)
		go func() {
			defer nw.wg.Done()
			defer nw.untrack(c)
			c.serve()
		}()
	}
}

func (nw *Net) track(c *conn) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.closed {
		return false
	}
	nw.conns[c] = struct{}{}
	return true
}

func (nw *Net) untrack(c *conn) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	delete(nw.conns, c)
}

// dialer returns the node that rafthttp's X-Server-From header value
// names, and, when it names no member other than to, why not.
func (nw *Net) dialer(to int, header string) (from int, why string) {
	id, err := parseID(header)
	switch i, ok := nw.ids[id]; {
	case header == "":
		return Unknown, "no " + headerFrom + " header"
	case err != nil:
		return Unknown, fmt.Sprintf("%s %q is not a member ID in hexadecimal", headerFrom, header)
	case !ok:
		return Unknown, fmt.Sprintf("%s %s is not a member of the cluster", headerFrom, header)
	case i == to:
		return Unknown, fmt.Sprintf("%s %s names %v, the member it dials", headerFrom, header, raft.ID(i))
	default:
		return i, ""
	}
}

// ignore is the Observer of nobody.
type ignore struct{}

func (ignore) Accepted(int, int, bool)                {}
func (ignore) Unknown(int, string)                    {}
func (ignore) Delivered(int, int, int, time.Duration) {}
func (ignore) Overflow(int, int)                      {}
