package sim

import (
	"math"
	"time"
)

// eventKind says what a queued record does when it comes due.
type eventKind uint8

const (
	evDeliver eventKind = iota // deliver the record's message from node from to node
	evCall                     // hand call id ref to the driver
	evResume                   // end the pause of node
	evTimer                    // fire timer ref of node, if it came due while paused
)

// record is what a queued event carries; records live in a slab and the
// queue holds only their time and a packed (sequence, slot) key.
type record[M any] struct {
	kind eventKind
	node int32
	from int32
	ref  int32
	msg  M
}

// entry is one element of the event queue: 16 bytes. Entries are ordered by
// (at, key), and key is seq<<slotBits | slot, so ties in time fall to the
// order in which events were scheduled, never to anything else.
type entry struct {
	at  time.Duration
	key uint64
}

// slotBits bounds the records in flight at once (16M) and leaves 40 bits of
// scheduling sequence, a trillion events per trial.
const (
	slotBits = 24
	slotMask = 1<<slotBits - 1
)

func (e *entry) before(f *entry) bool {
	return e.at < f.at || e.at == f.at && e.key < f.key
}

// quadHeap is the event queue: a 4-ary min-heap of entries. Four children
// per node make the heap half as deep as a binary one, and the sift loops
// move a hole instead of swapping, so each level costs one copy.
type quadHeap []entry

func (q *quadHeap) push(e entry) {
	h := append(*q, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
	*q = h
}

// pop removes and returns the earliest entry. The heap must not be empty.
func (q *quadHeap) pop() entry {
	h := *q
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for j, end := c+1, min(c+4, n); j < end; j++ {
			if h[j].before(&h[m]) {
				m = j
			}
		}
		if !h[m].before(&last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	if n > 0 {
		h[i] = last
	}
	*q = h
	return top
}

// never is an entry that comes after every event: the bound for timers
// when the queue is empty.
func never() entry { return entry{at: math.MaxInt64, key: math.MaxUint64} }

// timerHeap is an indexed min-heap of timers: each timer has a fixed id and
// knows its place in the heap, so re-arming or stopping one never leaves a
// stale event behind. Updates are lazy where that is safe: the heap is
// ordered by each timer's key, a lower bound of its true (due, seq); moving
// a timer later (the common case: a follower's election timer reset by each
// heartbeat) or stopping it only records the truth, and first repairs the
// root when it finds it stale.
//
// The keys are entries, like the event queue's, with the timer's id in
// place of a slot, and they sit in the heap itself: sifting compares
// neighbours in one array, and the earliest timer compares with the queue's
// first event directly. Timers and events draw their sequence numbers from
// one counter, so no two keys tie.
type timerHeap struct {
	timers []timer // by id
	heap   []entry // keys; key is seq<<slotBits | id
}

// timer is the truth about one timer, which its key in the heap may lag.
type timer struct {
	due time.Duration // when it fires
	seq uint64        // scheduling sequence, for ties
	pos int32         // index of its key in heap, or -1
	on  bool          // armed
}

func (t *timerHeap) reset(n int) {
	if n > slotMask+1 {
		panic("sim: more than 16M timers")
	}
	t.timers = setLen(t.timers, n)
	for i := range t.timers {
		t.timers[i].pos, t.timers[i].on = -1, false
	}
	t.heap = t.heap[:0]
}

func (t *timerHeap) armed(id int32) bool { return t.timers[id].on }

// dueAt returns when timer id fires; it must be armed.
func (t *timerHeap) dueAt(id int32) time.Duration { return t.timers[id].due }

// set arms timer id for (due, seq), moving it if it is already armed.
func (t *timerHeap) set(id int32, due time.Duration, seq uint64) {
	tm := &t.timers[id]
	tm.due, tm.seq, tm.on = due, seq, true
	k := entry{at: due, key: seq<<slotBits | uint64(id)}
	i := tm.pos
	switch {
	case i < 0:
		i = int32(len(t.heap))
		t.heap = append(t.heap, k)
	case t.heap[i].before(&k):
		return // later than its key: the heap stays valid
	default:
		t.heap[i] = k
	}
	t.up(i)
}

// stop disarms timer id; stopping a stopped timer does nothing. The timer
// leaves the heap when it reaches the top.
func (t *timerHeap) stop(id int32) { t.timers[id].on = false }

// first returns the earliest armed timer if it comes before the event
// bound, or -1. On its way it drops stopped timers and re-keys moved ones
// that reach the root, but only those that could come first: keys are
// lower bounds of due times, so a root keyed after the bound proves that
// every timer is.
func (t *timerHeap) first(bound entry) int32 {
	for len(t.heap) > 0 {
		root := &t.heap[0]
		if bound.before(root) {
			return -1
		}
		id := int32(root.key & slotMask)
		tm := &t.timers[id]
		switch {
		case !tm.on:
			t.removeRoot()
		case root.at != tm.due || root.key>>slotBits != tm.seq:
			root.at, root.key = tm.due, tm.seq<<slotBits|uint64(id)
			t.down(0)
		default:
			return id
		}
	}
	return -1
}

// pop removes the timer first returned last and disarms it.
func (t *timerHeap) pop(id int32) {
	t.timers[id].on = false
	t.removeRoot()
}

func (t *timerHeap) removeRoot() {
	h := t.heap
	t.timers[h[0].key&slotMask].pos = -1
	n := len(h) - 1
	t.heap = h[:n]
	if n > 0 {
		h[0] = h[n]
		t.down(0)
	}
}

// up and down move a hole rather than swapping, and note where each key
// they move lands.
func (t *timerHeap) up(i int32) {
	h := t.heap
	k := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !k.before(&h[p]) {
			break
		}
		h[i] = h[p]
		t.placed(i)
		i = p
	}
	h[i] = k
	t.placed(i)
}

func (t *timerHeap) down(i int32) {
	h := t.heap
	n := int32(len(h))
	k := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].before(&h[c]) {
			c++
		}
		if !h[c].before(&k) {
			break
		}
		h[i] = h[c]
		t.placed(i)
		i = c
	}
	h[i] = k
	t.placed(i)
}

// placed records that the key at heap index i is there.
func (t *timerHeap) placed(i int32) { t.timers[t.heap[i].key&slotMask].pos = i }

// setLen returns s with length n, reusing its storage when it is big
// enough; the elements it reuses keep their values.
func setLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// resize returns s with length n and every element zero, reusing its storage
// when it is big enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
