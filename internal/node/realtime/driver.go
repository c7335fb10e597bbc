// Package realtime drives a [raft.Node] in real time: timers on a clock
// that runs by itself, a store that makes term, vote and log durable
// before anything that depends on them leaves, and a transport that carries
// messages to the other nodes. It keeps the node's contract with its
// drivers (raft/example_test.go): one input at a time, then the node's
// Ready carried out in order — persist, arm timers, send.
//
// Requests from other nodes come in through [Driver.Handle], which returns
// the reply to send back on the same connection, as the course's HTTP API
// wants; replies to the node's own requests come in through
// [Driver.Receive].
//
// realtime must never decide anything about Raft (the node does), never
// send a message before the write it depends on has returned, and never
// hold its lock while waiting on the network.
package realtime

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
)

// Clock is the time the driver reads and its timers.
type Clock interface {
	// Now returns the time since the clock's origin.
	Now() time.Duration
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper stops a timer that [Clock.AfterFunc] armed.
type Stopper interface {
	Stop() bool
}

// Storage makes a node's persistent state durable.
type Storage interface {
	// Save writes term and vote, and the log entries from first on (none
	// when first is 0), and returns once they are on stable storage.
	Save(term uint64, vote raft.ID, first uint64, entries []uint64) error
}

// Transport carries messages to other nodes.
type Transport interface {
	// Send sends m to m.To. It must not block: the driver calls it under
	// its lock.
	Send(m raft.Message)
}

// Config is what a driver needs.
type Config struct {
	Node raft.Config
	Rand raft.Rand
	// Machine, when set, is the node to drive instead of raftsim's own
	// (raft.New(Node, Rand)): etcd's, for raftsim serve --impl etcd.
	Machine   raft.Machine
	Clock     Clock
	Storage   Storage
	Transport Transport
	// OnState, if set, hears each new state the node reports, under the
	// driver's lock: it must not call the driver.
	OnState func(prev, cur raft.State)
	// OnCampaignRefused, if set, hears that the election timer fired but the
	// node did not campaign, its term being raft.MaxTerm (st is its state),
	// under the driver's lock: it must not call the driver.
	OnCampaignRefused func(st raft.State)
}

// ErrStopped says the driver has stopped: [Driver.Stop] was called, or a
// write to storage failed and the node may no longer speak.
var ErrStopped = errors.New("realtime: the node has stopped")

// Driver runs one node. Its methods are safe for concurrent use: they take
// turns.
type Driver struct {
	cfg Config

	mu    sync.Mutex
	node  raft.Machine
	state raft.State
	// reported is state, for State to read without the lock: a request
	// that waits for the disk holds the lock, and /status must not wait
	// behind it.
	reported atomic.Pointer[raft.State]
	timers   [raft.NumTimers]Stopper
	gen      [raft.NumTimers]uint64 // bumped on every arm and stop: a timer of an older generation does nothing
	stopped  bool
	err      error // the storage error that stopped the node
}

// New returns a driver of a node that has not booted.
func New(cfg Config) *Driver {
	node := cfg.Machine
	if node == nil {
		node = raft.New(cfg.Node, cfg.Rand)
	}
	d := &Driver{cfg: cfg, node: node}
	d.setState(d.node.State())
	return d
}

// setState records st as the node's state, under the lock.
func (d *Driver) setState(st raft.State) {
	d.state = st
	d.reported.Store(&st)
}

// Boot restores the node's persistent state and starts it: restart says
// the state comes from an earlier run (a restart after a crash) rather than
// a first boot.
func (d *Driver) Boot(term uint64, vote raft.ID, log []uint64, restart bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.node.Restore(term, vote, log)
	d.setState(d.node.State())
	now := d.cfg.Clock.Now()
	if restart {
		d.node.Restart(now)
	} else {
		d.node.Start(now)
	}
	_, err := d.carryOut(nil)
	return err
}

// Handle hands the node a request from another node — one message, or an
// AppendEntries split into several, handled in order — and returns the
// reply to send back. A node that leaves a request unanswered (leader
// stickiness ignores some votes) answers with a refusal at its own term,
// which the requester ignores as stale.
func (d *Driver) Handle(reqs []raft.Message) (raft.Message, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var reply raft.Message
	for k := range reqs {
		if d.stopped {
			return reply, d.stoppedErr()
		}
		req := &reqs[k]
		d.node.Step(d.cfg.Clock.Now(), req)
		r, err := d.carryOut(req)
		if err != nil {
			return reply, err
		}
		if r == nil {
			st := d.node.State()
			r = &raft.Message{Type: wire.ReplyType(req.Type), From: req.To, To: req.From, Term: st.Term, Reject: true, Index: st.LastIndex}
		}
		reply = *r
		if reply.Reject {
			break // a later piece cannot succeed where this one failed
		}
	}
	return reply, nil
}

// Receive hands the node the reply to one of its requests.
func (d *Driver) Receive(m raft.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return d.stoppedErr()
	}
	d.node.Step(d.cfg.Clock.Now(), &m)
	_, err := d.carryOut(nil)
	return err
}

// Propose makes the node, if it leads, append count entries and send them.
func (d *Driver) Propose(count int) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return false, d.stoppedErr()
	}
	ok := d.node.Propose(d.cfg.Clock.Now(), count)
	_, err := d.carryOut(nil)
	return ok, err
}

// State returns the node's state as its last Ready reported it, once what
// the state depends on is durable. It does not wait for the node to finish
// what it is doing (a write to disk, a long AppendEntries).
func (d *Driver) State() raft.State {
	return *d.reported.Load()
}

// Stop stops the node's timers; it handles nothing more.
func (d *Driver) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stop(nil)
}

// Err returns the storage error that stopped the node, or nil.
func (d *Driver) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func (d *Driver) stop(err error) {
	d.stopped = true
	if d.err == nil {
		d.err = err
	}
	for t := range d.timers {
		d.disarm(raft.Timer(t))
	}
}

func (d *Driver) stoppedErr() error {
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrStopped, d.err)
	}
	return ErrStopped
}

// carryOut does what the node's Ready asks, in the contract's order: it
// writes term, vote and entries when MustSync says so, then arms and stops
// timers, then sends the messages. When req is a request being handled,
// the reply to it is returned instead of sent. A failed write stops the
// node before anything leaves.
func (d *Driver) carryOut(req *raft.Message) (*raft.Message, error) {
	rd := d.node.Ready()
	if rd.MustSync {
		if err := d.cfg.Storage.Save(rd.State.Term, rd.State.Vote, rd.FirstIndex, rd.Entries); err != nil {
			d.stop(err)
			return nil, d.stoppedErr()
		}
	}
	for _, ts := range rd.Timers {
		if ts.Armed {
			d.arm(ts.Timer, ts.Due)
		} else {
			d.disarm(ts.Timer)
		}
	}
	if rd.StateChanged {
		prev := d.state
		d.setState(rd.State)
		if d.cfg.OnState != nil {
			d.cfg.OnState(prev, rd.State)
		}
	}
	if rd.CampaignRefused && d.cfg.OnCampaignRefused != nil {
		d.cfg.OnCampaignRefused(rd.State)
	}
	var reply *raft.Message
	for k := range rd.Messages {
		m := &rd.Messages[k]
		if req != nil && reply == nil && m.To == req.From && m.IsResponse() { // etcd answers a course heartbeat with its own HeartbeatResp
			r := *m
			reply = &r
			continue
		}
		d.cfg.Transport.Send(*m)
	}
	return reply, nil
}

// arm arms timer t to fire when the node's clock reads due.
func (d *Driver) arm(t raft.Timer, due time.Duration) {
	d.disarm(t)
	g := d.gen[t]
	d.timers[t] = d.cfg.Clock.AfterFunc(max(0, due-d.cfg.Clock.Now()), func() { d.fire(t, g) })
}

func (d *Driver) disarm(t raft.Timer) {
	d.gen[t]++
	if d.timers[t] != nil {
		d.timers[t].Stop()
		d.timers[t] = nil
	}
}

// fire is timer t of generation g firing. A timer re-armed or stopped
// after it was armed may still fire (its goroutine raced the Stop): it is
// of an older generation and does nothing.
func (d *Driver) fire(t raft.Timer, g uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || d.gen[t] != g {
		return
	}
	d.timers[t] = nil
	d.node.Tick(d.cfg.Clock.Now(), t)
	d.carryOut(nil) // a failed write has stopped the node; nobody to tell but Err
}

// WallClock returns the real clock, from now on.
func WallClock() Clock { return wallClock{start: time.Now()} }

type wallClock struct{ start time.Time }

func (c wallClock) Now() time.Duration { return time.Since(c.start) }

func (c wallClock) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }
