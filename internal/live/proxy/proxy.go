// Package proxy is raftsim live's fault-injecting network: an HTTP proxy on
// every directed link of a cluster on loopback. Node i reaches node j at
// the address of link i→j, which carries each request to j after the
// link's latency, unless the link loses it or a partition or cut blocks
// it, and carries j's reply back to i the same way over j→i. A duplicated
// request reaches j twice; the second reply goes nowhere. A lost message
// is a connection closed without a reply, at the time it would have
// arrived. The proxy tells an [Observer] every request and reply it
// carries, read as raft messages (package wire), and what became of each.
//
// proxy must never listen on anything but 127.0.0.1, never let a message
// cross a link that is blocked when it is sent or when it arrives, and
// never hold a message longer than its latency plus the receiver's time to
// answer (bounded by Config.Timeout).
package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/node/realtime"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Drop reasons, as traces print them.
const (
	DropLoss      = "loss"
	DropPartition = "partition"
	DropCrashed   = "crashed" // the receiver did not answer: down, or too slow
	DropDuplicate = "duplicate"
	DropOverload  = "overload"  // more than maxInFlight messages on the link
	DropHeld      = "discarded" // held back by SetHold
)

// Observer hears what the proxy carries. Its methods are called from many
// goroutines at once, at the moment things happen; at is the proxy's clock
// ([Config.Now]).
type Observer interface {
	// Sent: m left its sender. arrive is when it will reach its receiver,
	// or, when dropped is not "", when it was dropped (at once, or on
	// arrival).
	Sent(m *raft.Message, at time.Duration, arrive time.Duration, dropped string)
	// Delivered: m was handed to its receiver, late after the time its
	// latency said (the proxy's timers and scheduling are not punctual).
	Delivered(m *raft.Message, at, late time.Duration)
	// Answered: the receiver of req answered it with reply, took after the
	// proxy handed req over (the node's handling and two loopback hops).
	Answered(req, reply *raft.Message, took time.Duration)
	// Dropped: m was dropped in flight, or on arrival, for reason.
	Dropped(m *raft.Message, at time.Duration, reason string)
	// Unreadable: a request or reply on the link from → to did not follow
	// the API (wire); it was carried as it was, unobserved.
	Unreadable(from, to int, at time.Duration, what string, err error)
}

// Config sets a network up.
type Config struct {
	Names   wire.Names // the nodes, by index
	Targets []string   // by node: the host:port it really listens on
	// Links is the behaviour of each link, Links[from][to], as the
	// simulator's network has it.
	Links [][]sim.Link
	FIFO  bool
	Seed  uint64 // the loss, duplication and latency draws
	// Now is the clock observations are stamped with.
	Now      func() time.Duration
	Observer Observer
	// Timeout bounds how long the proxy waits for a node's reply.
	Timeout time.Duration
}

// maxInFlight bounds the messages in flight on one link.
const maxInFlight = 64

// Net is the running network.
type Net struct {
	cfg     Config
	n       int
	servers []*http.Server // by link from*n+to
	addrs   []string
	client  *http.Client
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the servers

	mu      sync.Mutex
	blocked []bool     // by link
	links   []sim.Link // by link
	rand    sim.Rand
	arrival []time.Duration // by link: the last arrival, for FIFO
	slots   []int           // by link: messages in flight
	hold    func(m *raft.Message) bool
}

// Start listens on a free loopback port for each directed link.
func Start(cfg Config) (*Net, error) {
	n := len(cfg.Names)
	if len(cfg.Targets) != n || len(cfg.Links) != n {
		return nil, fmt.Errorf("proxy: %d names, %d targets and %d rows of links", n, len(cfg.Targets), len(cfg.Links))
	}
	nw := &Net{cfg: cfg, n: n, blocked: make([]bool, n*n), links: make([]sim.Link, n*n), arrival: make([]time.Duration, n*n),
		slots: make([]int, n*n), servers: make([]*http.Server, n*n), addrs: make([]string, n*n)}
	for from := range n {
		for to := range n {
			nw.links[from*n+to] = cfg.Links[from][to]
		}
	}
	nw.rand.Seed(cfg.Seed)
	nw.ctx, nw.cancel = context.WithCancel(context.Background())
	nw.client = &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second, DisableCompression: true}}
	quiet := log.New(io.Discard, "", 0)
	for from := range n {
		for to := range n {
			if from == to {
				continue
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				nw.Close()
				return nil, err
			}
			k := from*n + to
			nw.addrs[k] = ln.Addr().String()
			srv := &http.Server{Handler: &link{nw, from, to}, ReadHeaderTimeout: 5 * time.Second, ErrorLog: quiet}
			nw.servers[k] = srv
			nw.wg.Add(1)
			go func() {
				defer nw.wg.Done()
				srv.Serve(ln)
			}()
		}
	}
	return nw, nil
}

// Addr returns where node from reaches node to.
func (nw *Net) Addr(from, to int) string { return nw.addrs[from*nw.n+to] }

// Block blocks or unblocks the one-way link from → to.
func (nw *Net) Block(from, to int, blocked bool) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.blocked[from*nw.n+to] = blocked
}

// Blocked reports whether the link from → to is blocked.
func (nw *Net) Blocked(from, to int) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.blocked[from*nw.n+to]
}

// SetLoss sets the loss probability of every link.
func (nw *Net) SetLoss(p float64) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	for k := range nw.links {
		nw.links[k].Loss = p
	}
}

// SetHold makes the network discard, when sent, every request for which
// hold returns true; nil discards none. (A write that reaches only some
// followers holds back the AppendEntries carrying it to the others.)
func (nw *Net) SetHold(hold func(m *raft.Message) bool) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.hold = hold
}

func (nw *Net) held(msgs []raft.Message) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	for k := range msgs {
		if nw.hold != nil && nw.hold(&msgs[k]) {
			return true
		}
	}
	return false
}

// Close stops every listener and ends every message in flight.
func (nw *Net) Close() {
	nw.cancel()
	for _, srv := range nw.servers {
		if srv != nil {
			srv.Close()
		}
	}
	nw.wg.Wait()
	nw.client.CloseIdleConnections()
}

// fate decides what happens to a message sent now on the link from → to:
// when it arrives, or why it is dropped. It takes a slot of the link's
// messages in flight, which release gives back, unless it is dropped at
// once.
func (nw *Net) fate(from, to int, now time.Duration) (arrive time.Duration, dup time.Duration, dropped string) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	k := from*nw.n + to
	l := &nw.links[k]
	lost := nw.rand.Chance(l.Loss)
	dupe := nw.rand.Chance(l.Dup)
	arrive = now + l.Latency.Sample(&nw.rand)
	if dupe {
		dup = now + l.Latency.Sample(&nw.rand)
	}
	switch {
	case nw.blocked[k]:
		return now, 0, DropPartition
	case nw.slots[k] >= maxInFlight:
		return now, 0, DropOverload
	}
	nw.slots[k]++
	if nw.cfg.FIFO {
		arrive = max(arrive, nw.arrival[k])
		nw.arrival[k] = arrive
	}
	if lost {
		return arrive, 0, DropLoss // it is dropped when it would have arrived
	}
	return arrive, dup, ""
}

func (nw *Net) release(from, to int) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	nw.slots[from*nw.n+to]--
}

// wait sleeps until the proxy's clock reads at; it reports false when the
// network closes first.
func (nw *Net) wait(at time.Duration) bool { return realtime.Sleep(nw.ctx, at-nw.cfg.Now()) }

// link is the proxy of the link from → to.
type link struct {
	nw       *Net
	from, to int
}

// ServeHTTP carries one request from → to and its reply back.
func (l *link) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nw := l.nw
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		hangUp(w)
		return
	}
	now := nw.cfg.Now()
	t, isRPC := wire.RequestType(r.URL.Path)
	var msgs []raft.Message
	if isRPC && r.Method == http.MethodPost {
		req, err := wire.DecodeRequest(t, body)
		switch {
		case err != nil:
			nw.cfg.Observer.Unreadable(l.from, l.to, now, "request "+r.URL.Path, err)
		case req.Sender != nw.cfg.Names[l.from]:
			nw.cfg.Observer.Unreadable(l.from, l.to, now, "request "+r.URL.Path,
				fmt.Errorf("names its sender %q, but came from %s", req.Sender, nw.cfg.Names[l.from]))
		default:
			msgs = req.Msgs
			for k := range msgs {
				msgs[k].From, msgs[k].To = raft.ID(l.from), raft.ID(l.to)
			}
		}
	}
	arrive, dup, dropped := nw.fate(l.from, l.to, now)
	if dropped == "" && nw.held(msgs) {
		nw.release(l.from, l.to)
		arrive, dup, dropped = now, 0, DropHeld
	}
	for k := range msgs {
		nw.cfg.Observer.Sent(&msgs[k], now, arrive, dropped)
	}
	if dropped == DropPartition || dropped == DropOverload || dropped == DropHeld {
		hangUp(w)
		return
	}
	defer nw.release(l.from, l.to)
	if dup > 0 {
		go l.duplicate(r, body, msgs, dup)
	}
	status, reply, delivered, ok := l.forward(r, body, msgs, arrive, dropped)
	if !ok {
		hangUp(w)
		return
	}
	l.answer(w, r, status, reply, msgs, delivered)
}

// forward carries the request to its receiver at arrive and returns the
// receiver's answer and when the request was handed over; ok is false
// when the request never got an answer.
func (l *link) forward(r *http.Request, body []byte, msgs []raft.Message, arrive time.Duration, dropped string) (status int, reply []byte, delivered time.Duration, ok bool) {
	nw := l.nw
	if !nw.wait(arrive) {
		return 0, nil, 0, false
	}
	now := nw.cfg.Now()
	if dropped == "" && nw.Blocked(l.from, l.to) {
		dropped = DropPartition // cut while in flight
	}
	if dropped != "" {
		l.dropped(msgs, now, dropped)
		return 0, nil, 0, false
	}
	for k := range msgs {
		nw.cfg.Observer.Delivered(&msgs[k], now, now-arrive)
	}
	status, reply, err := l.call(r, body)
	if err != nil {
		l.dropped(msgs, nw.cfg.Now(), DropCrashed)
		return 0, nil, 0, false
	}
	return status, reply, now, true
}

// answer carries the receiver's answer back over to → from; the request
// was delivered at delivered.
func (l *link) answer(w http.ResponseWriter, r *http.Request, status int, body []byte, msgs []raft.Message, delivered time.Duration) {
	nw := l.nw
	now := nw.cfg.Now()
	var reply []raft.Message
	if len(msgs) > 0 {
		switch m, err := wire.DecodeReply(&msgs[len(msgs)-1], body); {
		case status != http.StatusOK:
			nw.cfg.Observer.Unreadable(l.to, l.from, now, "reply to "+r.URL.Path, fmt.Errorf("status %d, not 200: %s", status, bytes.TrimSpace(body)))
		case err != nil:
			nw.cfg.Observer.Unreadable(l.to, l.from, now, "reply to "+r.URL.Path, err)
		default:
			reply = []raft.Message{m}
			nw.cfg.Observer.Answered(&msgs[len(msgs)-1], &m, now-delivered)
		}
	}
	arrive, _, dropped := nw.fate(l.to, l.from, now)
	for k := range reply {
		nw.cfg.Observer.Sent(&reply[k], now, arrive, dropped)
	}
	if dropped == DropPartition || dropped == DropOverload {
		hangUp(w)
		return
	}
	defer nw.release(l.to, l.from)
	if !nw.wait(arrive) {
		hangUp(w)
		return
	}
	now = nw.cfg.Now()
	if dropped == "" && nw.Blocked(l.to, l.from) {
		dropped = DropPartition
	}
	if dropped != "" {
		l.dropped(reply, now, dropped)
		hangUp(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
	for k := range reply {
		nw.cfg.Observer.Delivered(&reply[k], now, now-arrive)
	}
}

// duplicate delivers a second copy of the request at arrive; its reply
// goes nowhere.
func (l *link) duplicate(r *http.Request, body []byte, msgs []raft.Message, arrive time.Duration) {
	status, reply, _, ok := l.forward(r, body, msgs, arrive, "")
	if !ok || status != http.StatusOK || len(msgs) == 0 {
		return
	}
	if m, err := wire.DecodeReply(&msgs[len(msgs)-1], reply); err == nil {
		now := l.nw.cfg.Now()
		l.nw.cfg.Observer.Sent(&m, now, now, DropDuplicate)
	}
}

func (l *link) dropped(msgs []raft.Message, at time.Duration, reason string) {
	for k := range msgs {
		l.nw.cfg.Observer.Dropped(&msgs[k], at, reason)
	}
}

// call sends the request to its receiver and returns the answer.
func (l *link) call(r *http.Request, body []byte) (int, []byte, error) {
	nw := l.nw
	url := "http://" + nw.cfg.Targets[l.to] + r.URL.RequestURI()
	req, err := http.NewRequestWithContext(nw.ctx, r.Method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := nw.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}

// hangUp closes the connection without an answer: to the sender, a lost
// message.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection
}
