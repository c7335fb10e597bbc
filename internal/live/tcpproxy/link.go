package tcpproxy

import (
	"time"

	"github.com/raftsim/raftsim/sim"
)

// link is one direction of the link between two members, shared by all
// their connections. Its fields are guarded by Net.mu.
type link struct {
	latency sim.Dist
	// rand draws this link's latencies alone, so that the traffic of one
	// link never shifts the draws of another.
	rand    sim.Rand
	blocked bool
	// unblockedAt is when the link was last unblocked: bytes read before
	// it were held by the block, and count their latency from it.
	unblockedAt time.Time
	// changed is closed, and replaced, whenever the link is blocked or
	// unblocked: it wakes every connection waiting on the link.
	changed chan struct{}
}

func (l *link) block(blocked bool, now time.Time) {
	if l.blocked == blocked {
		return
	}
	l.blocked = blocked
	if !blocked {
		l.unblockedAt = now
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// linkState is what a connection needs to know of a link at one moment.
type linkState struct {
	blocked     bool
	unblockedAt time.Time
	changed     <-chan struct{} // nil for no link: never closes
}

// state returns the state of link k, or, for k < 0 (an unknown dialer),
// that of a link that is never blocked.
func (nw *Net) state(k int) linkState {
	if k < 0 {
		return linkState{}
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	l := &nw.links[k]
	return linkState{l.blocked, l.unblockedAt, l.changed}
}

// draw returns a latency drawn for link k, 0 for no link.
func (nw *Net) draw(k int) time.Duration {
	if k < 0 {
		return 0
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	l := &nw.links[k]
	return l.latency.Sample(&l.rand)
}

// due returns when a chunk read at readAt with latency d, on a link in
// state st, may be delivered, given that the chunk before it was delivered
// at last: TCP never reorders.
func (st *linkState) due(readAt time.Time, d time.Duration, last time.Time) time.Time {
	start := readAt
	if st.unblockedAt.After(start) {
		start = st.unblockedAt // held by a block: its latency counts from the unblock
	}
	due := start.Add(d)
	if due.Before(last) {
		due = last
	}
	return due
}
