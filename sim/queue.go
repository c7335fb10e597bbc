package sim

import (
	"slices"
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

// eventQueue holds the pending events and gives them back earliest first.
//
// A trial usually has only a handful pending (about 6 in leader-crash), and
// for so few a slice kept sorted latest-first beats a heap: pop takes the
// last entry without comparing anything, and push shifts the later entries
// up in one short loop, where a heap pays several unpredictable comparisons
// on every pop. A sorted slice costs linear time per push, though, and a
// large cluster can have thousands of messages in flight, so past sortedMax
// entries the queue becomes a 4-ary heap, and it is sorted again once it has
// drained to sortedMin. Both limits come from measuring the two side by side.
type eventQueue struct {
	e    []entry
	heap bool // e is a quadHeap; otherwise it is sorted latest-first
}

const (
	sortedMax = 64
	sortedMin = 32
)

func (q *eventQueue) reset() { q.e, q.heap = q.e[:0], false }

// len returns the number of pending entries.
func (q *eventQueue) len() int { return len(q.e) }

// first returns the earliest entry. The queue must not be empty.
func (q *eventQueue) first() *entry {
	if q.heap {
		return &q.e[0]
	}
	return &q.e[len(q.e)-1]
}

func (q *eventQueue) push(e entry) {
	if !q.heap && len(q.e) == sortedMax {
		// Reversed, the sorted slice runs earliest-first, which is a heap.
		slices.Reverse(q.e)
		q.heap = true
	}
	if q.heap {
		(*quadHeap)(&q.e).push(e)
		return
	}
	s := append(q.e, e)
	i := len(s) - 1
	for i > 0 && s[i-1].before(&e) {
		s[i] = s[i-1]
		i--
	}
	s[i] = e
	q.e = s
}

// pop removes and returns the earliest entry. The queue must not be empty.
func (q *eventQueue) pop() entry {
	if q.heap {
		return q.popHeap()
	}
	n := len(q.e) - 1
	e := q.e[n]
	q.e = q.e[:n]
	return e
}

// popHeap is pop while the queue is a heap; it sorts the queue again once
// it is short.
func (q *eventQueue) popHeap() entry {
	e := (*quadHeap)(&q.e).pop()
	if len(q.e) == sortedMin {
		slices.SortFunc(q.e, laterFirst)
		q.heap = false
	}
	return e
}

// laterFirst orders entries latest first.
func laterFirst(a, b entry) int {
	switch {
	case b.before(&a):
		return -1
	case a.before(&b):
		return 1
	}
	return 0
}

// quadHeap is a 4-ary min-heap of entries. Four children per node make the
// heap half as deep as a binary one, and the sift loops move a hole instead
// of swapping, so each level costs one copy.
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

// timerHeap is an indexed min-heap of timers: each timer has a fixed id and
// knows its place in the heap, so re-arming or stopping one never leaves a
// stale event behind. Updates are lazy where that is safe: the heap is
// ordered by each timer's key, a lower bound of its true (due, seq); moving
// a timer later (the common case: a follower's election timer reset by each
// heartbeat) or stopping it only records the truth, and top repairs the
// root when it finds it stale.
type timerHeap struct {
	due  []time.Duration // by timer id: when it fires
	seq  []uint64        // by timer id: scheduling sequence, for ties
	key  []time.Duration // by timer id: the due time the heap is ordered by (<= due)
	kseq []uint64        // by timer id: the sequence the heap is ordered by
	on   []bool          // by timer id: armed
	pos  []int32         // by timer id: index in heap, or -1
	heap []int32         // timer ids
}

func (t *timerHeap) reset(n int) {
	// Only on and pos need clearing: due and seq are read only while a
	// timer is armed, key and kseq only while it is in the heap, and each is
	// written first. Clearing small slices costs a call each, on every trial.
	t.due = setLen(t.due, n)
	t.seq = setLen(t.seq, n)
	t.key = setLen(t.key, n)
	t.kseq = setLen(t.kseq, n)
	t.on = resize(t.on, n)
	t.pos = setLen(t.pos, n)
	for i := range t.pos {
		t.pos[i] = -1
	}
	t.heap = t.heap[:0]
}

func (t *timerHeap) less(a, b int32) bool {
	return t.key[a] < t.key[b] || t.key[a] == t.key[b] && t.kseq[a] < t.kseq[b]
}

func (t *timerHeap) armed(id int32) bool { return t.on[id] }

// set arms timer id for (due, seq), moving it if it is already armed.
func (t *timerHeap) set(id int32, due time.Duration, seq uint64) {
	t.due[id], t.seq[id], t.on[id] = due, seq, true
	i := t.pos[id]
	if i >= 0 && (due > t.key[id] || due == t.key[id] && seq > t.kseq[id]) {
		return // later than its key: the heap stays valid
	}
	t.key[id], t.kseq[id] = due, seq
	if i < 0 {
		i = int32(len(t.heap))
		t.heap = append(t.heap, id)
		t.pos[id] = i
	}
	t.up(i)
}

// stop disarms timer id; stopping a stopped timer does nothing. The timer
// leaves the heap when it reaches the top.
func (t *timerHeap) stop(id int32) { t.on[id] = false }

// first returns the earliest armed timer due before (at, seq), or -1; when
// bounded is false, the earliest of all. On its way it drops stopped timers
// and re-keys moved ones that reach the root, but only those that could
// come first: keys are lower bounds of due times, so a root keyed after the
// bound proves that every timer is.
func (t *timerHeap) first(at time.Duration, seq uint64, bounded bool) int32 {
	for len(t.heap) > 0 {
		id := t.heap[0]
		if bounded && (at < t.key[id] || at == t.key[id] && seq < t.kseq[id]) {
			return -1
		}
		switch {
		case !t.on[id]:
			t.removeRoot()
		case t.key[id] != t.due[id] || t.kseq[id] != t.seq[id]:
			t.key[id], t.kseq[id] = t.due[id], t.seq[id]
			t.down(0)
		default:
			return id
		}
	}
	return -1
}

// pop removes the timer top returned last and disarms it.
func (t *timerHeap) pop(id int32) {
	t.on[id] = false
	t.removeRoot()
}

func (t *timerHeap) removeRoot() {
	t.pos[t.heap[0]] = -1
	n := int32(len(t.heap)) - 1
	if n > 0 {
		t.heap[0] = t.heap[n]
		t.pos[t.heap[0]] = 0
	}
	t.heap = t.heap[:n]
	if n > 1 {
		t.down(0)
	}
}

func (t *timerHeap) swap(i, j int32) {
	h := t.heap
	h[i], h[j] = h[j], h[i]
	t.pos[h[i]] = i
	t.pos[h[j]] = j
}

func (t *timerHeap) up(i int32) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(t.heap[i], t.heap[p]) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *timerHeap) down(i int32) {
	n := int32(len(t.heap))
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && t.less(t.heap[c+1], t.heap[c]) {
			c++
		}
		if !t.less(t.heap[c], t.heap[i]) {
			return
		}
		t.swap(i, c)
		i = c
	}
}

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
