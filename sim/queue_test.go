package sim

import (
	"slices"
	"testing"
	"time"
)

// TestEventQueueOrder pushes events in a random order and checks that they
// come out sorted by (time, sequence), ties in scheduling order.
func TestEventQueueOrder(t *testing.T) {
	r := NewRand(1)
	var q quadHeap
	var want []entry
	for i := 0; i < 5000; i++ {
		e := entry{at: time.Duration(r.Intn(50)), key: uint64(i)<<slotBits | uint64(i%7)}
		q.push(e)
		want = append(want, e)
		if r.Intn(3) == 0 { // interleave pops with pushes
			slices.SortStableFunc(want, func(a, b entry) int { return int(a.at - b.at) })
			got := q.pop()
			if got != want[0] {
				t.Fatalf("pop %d: got %+v, want %+v", i, got, want[0])
			}
			want = want[1:]
		}
	}
	slices.SortStableFunc(want, func(a, b entry) int { return int(a.at - b.at) })
	for i, w := range want {
		if got := q.pop(); got != w {
			t.Fatalf("drain %d: got %+v, want %+v", i, got, w)
		}
	}
	if len(q) != 0 {
		t.Fatalf("queue has %d left, want 0", len(q))
	}
}

// TestTimerHeap arms, moves and stops timers at random and checks the top
// against a linear scan.
func TestTimerHeap(t *testing.T) {
	const n = 40
	r := NewRand(2)
	var h timerHeap
	h.reset(n)
	due := make([]time.Duration, n)
	seq := make([]uint64, n)
	armed := make([]bool, n)
	for step := uint64(0); step < 20000; step++ {
		id := int32(r.Intn(n))
		if r.Intn(4) == 0 {
			h.stop(id)
			armed[id] = false
		} else {
			d := time.Duration(r.Intn(100))
			h.set(id, d, step)
			due[id], seq[id], armed[id] = d, step, true
		}
		want := int32(-1)
		for i := int32(0); i < n; i++ {
			if armed[i] && (want < 0 || due[i] < due[want] || due[i] == due[want] && seq[i] < seq[want]) {
				want = i
			}
		}
		if got := h.first(never()); got != want {
			t.Fatalf("step %d: top %d, want %d", step, got, want)
		}
		for i := int32(0); i < n; i++ {
			if h.armed(i) != armed[i] {
				t.Fatalf("step %d: timer %d armed=%v, want %v", step, i, h.armed(i), armed[i])
			}
		}
	}
}
