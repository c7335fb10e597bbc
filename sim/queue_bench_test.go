package sim

import (
	"testing"
	"time"
)

// bareEvent is a typical discrete-event record: time, scheduling sequence,
// and what to do. The yardstick never reads what to do, but copies it with
// every push and pop as a simulator does: the fields are named, since the
// compiler need not copy blank ones (with blank fields the loop ran 21%
// faster, and the yardstick measured less than a record's worth of work).
type bareEvent struct {
	at   time.Duration
	seq  uint64
	ref  int32 //lint:ignore U1000 copied, never read: see above
	node int32 //lint:ignore U1000 copied, never read
	from int32 //lint:ignore U1000 copied, never read
	kind uint8 //lint:ignore U1000 copied, never read
}

func (e *bareEvent) before(f *bareEvent) bool {
	return e.at < f.at || e.at == f.at && e.seq < f.seq
}

// binaryHeap is a textbook binary min-heap of events: the yardstick that
// BenchmarkBareHeap runs. It is kept apart from the simulator's own queue so
// that improving the queue never moves the yardstick.
type binaryHeap []bareEvent

func (q *binaryHeap) push(e bareEvent) {
	h := append(*q, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *binaryHeap) pop() bareEvent {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].before(&h[c]) {
			c++
		}
		if !h[c].before(&h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*q = h
	return top
}

// pendingEvents is the mean number of pending events (messages and calls in
// the queue plus armed timers) seen at each pop in leader-crash trials:
// about 6 and 5.
const pendingEvents = 11

// BenchmarkBareHeap is the yardstick for the simulator's speed: a bare
// binary-heap loop that pops the earliest event and pushes one a random
// latency later, holding as many events as a leader-crash trial has
// pending. It does nothing else, so no simulation of events can beat it by
// much; compare BenchmarkColdStart and BenchmarkLeaderCrash's events/s
// with its events/s.
func BenchmarkBareHeap(b *testing.B) {
	var q binaryHeap
	x := uint64(88172645463325252)
	next := func() time.Duration { // xorshift: cheaper than any real latency draw
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return time.Duration(x % uint64(10*time.Millisecond))
	}
	var seq uint64
	for i := 0; i < pendingEvents; i++ {
		q.push(bareEvent{at: next(), seq: seq})
		seq++
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := q.pop()
		e.at += next()
		e.seq = seq
		seq++
		q.push(e)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
