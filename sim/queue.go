package sim

import "time"

// eventKind says what a queued event does when it comes due.
type eventKind uint8

const (
	evDeliver eventKind = iota // deliver message slot ref from node from to node
	evCall                     // hand call id ref to the driver
	evResume                   // end the pause of node
	evTimer                    // fire timer ref of node, if it came due while paused
)

// event is one entry of the queue. Events are ordered by (at, seq): seq is
// the order in which they were scheduled, so ties never depend on anything
// but the order of the caller's own calls.
type event struct {
	at   time.Duration
	seq  uint64
	ref  int32
	node int32
	from int32
	kind eventKind
}

func (e *event) before(f *event) bool {
	return e.at < f.at || e.at == f.at && e.seq < f.seq
}

// eventQueue is a binary min-heap of events, stored by value so that pushing
// and popping allocate nothing once the slice has grown.
type eventQueue []event

func (q *eventQueue) push(e event) {
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

// pop removes and returns the earliest event. The queue must not be empty.
func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	if n > 0 {
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n && h[c+1].before(&h[c]) {
				c++
			}
			if !h[c].before(&last) {
				break
			}
			h[i] = h[c]
			i = c
		}
		h[i] = last
	}
	*q = h
	return top
}

// timerHeap is an indexed min-heap of timers: each timer has a fixed id and
// knows its place in the heap, so that re-arming or stopping one is a fix-up
// in place rather than a new event plus a stale one left behind.
type timerHeap struct {
	due  []time.Duration // by timer id
	seq  []uint64        // by timer id
	pos  []int32         // by timer id: index in heap, or -1 when stopped
	heap []int32         // timer ids
}

func (t *timerHeap) reset(n int) {
	t.due = resize(t.due, n)
	t.seq = resize(t.seq, n)
	t.pos = resize(t.pos, n)
	for i := range t.pos {
		t.pos[i] = -1
	}
	t.heap = t.heap[:0]
}

func (t *timerHeap) less(a, b int32) bool {
	return t.due[a] < t.due[b] || t.due[a] == t.due[b] && t.seq[a] < t.seq[b]
}

func (t *timerHeap) armed(id int32) bool { return t.pos[id] >= 0 }

// set arms timer id for (due, seq), moving it if it is already armed.
func (t *timerHeap) set(id int32, due time.Duration, seq uint64) {
	t.due[id], t.seq[id] = due, seq
	i := t.pos[id]
	if i < 0 {
		i = int32(len(t.heap))
		t.heap = append(t.heap, id)
		t.pos[id] = i
		t.up(i)
		return
	}
	if !t.down(i) {
		t.up(i)
	}
}

// stop disarms timer id; stopping a stopped timer does nothing.
func (t *timerHeap) stop(id int32) {
	i := t.pos[id]
	if i < 0 {
		return
	}
	n := int32(len(t.heap)) - 1
	if i != n {
		t.swap(i, n)
	}
	t.heap = t.heap[:n]
	t.pos[id] = -1
	if i != n {
		if !t.down(i) {
			t.up(i)
		}
	}
}

// top returns the earliest armed timer, or -1.
func (t *timerHeap) top() int32 {
	if len(t.heap) == 0 {
		return -1
	}
	return t.heap[0]
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

// down sifts i towards the leaves and reports whether it moved.
func (t *timerHeap) down(i int32) bool {
	start := i
	n := int32(len(t.heap))
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && t.less(t.heap[c+1], t.heap[c]) {
			c++
		}
		if !t.less(t.heap[c], t.heap[i]) {
			break
		}
		t.swap(i, c)
		i = c
	}
	return i > start
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
