package sim

import (
	"time"

	"github.com/raftsim/raftsim/rng"
)

// Link is how one direction of a link between two nodes behaves.
type Link struct {
	Latency Dist    // one-way latency of each message
	Loss    float64 // probability that a message is lost
	Dup     float64 // probability that a message is delivered twice
}

// DropReason says why a message was not delivered.
type DropReason uint8

// Reasons a message is dropped.
const (
	NotDropped  DropReason = iota
	Lost                   // the link's loss probability
	Partitioned            // a partition or cut link, when sent or while in flight
	Crashed                // the receiver was down when it arrived
	Discarded              // the driver discarded it (a scripted drop)
)

var dropNames = [...]string{NotDropped: "none", Lost: "loss", Partitioned: "partition", Crashed: "crashed", Discarded: "discarded"}

func (r DropReason) String() string { return dropNames[r] }

// Network is the simulated network between n nodes: per-link behaviour,
// partitions into groups, and one-way cuts. Its random draws come from its
// own stream, so they never shift the nodes' own draws.
type Network struct {
	n       int
	def     Link
	links   []Link  // per-link overrides
	linkOf  []int32 // n*n: 1 + index into links, 0 for the default; nil when there are none
	fifo    bool
	arrival []time.Duration // n*n: last scheduled arrival per link, when FIFO
	group   []int32         // partition group of each node; all equal when healed
	cut     []uint64        // n*n bits: one-way cut from→to
	hasCut  bool            // whether any bit of cut is set
	split   bool            // whether a partition or cut may be in place; if not, nothing is blocked
	rng     Rand            // loss, duplication and latency: the same three draws for every message sent
	dupRng  Rand            // the second copy's latency, so that duplicates never shift rng
}

func (nw *Network) reset(n int, seed uint64) {
	nw.n = n
	nw.def = Link{}
	nw.links = nw.links[:0]
	nw.linkOf = nil
	nw.fifo = false
	nw.arrival = nw.arrival[:0]
	nw.group = resize(nw.group, n)
	nw.cut = resize(nw.cut, (n*n+63)/64)
	nw.hasCut, nw.split = false, false
	nw.rng.Seed(seed)
	nw.dupRng.Seed(rng.Mix(seed ^ 0x6475706c69636174)) // "duplicat"
}

// SetDefault sets the behaviour of every link without an override.
func (nw *Network) SetDefault(l Link) { nw.def = l }

// SetLink overrides the behaviour of the link from → to.
func (nw *Network) SetLink(from, to int, l Link) {
	if nw.linkOf == nil {
		nw.linkOf = make([]int32, nw.n*nw.n)
	}
	nw.links = append(nw.links, l)
	nw.linkOf[from*nw.n+to] = int32(len(nw.links))
}

// Link returns the behaviour of the link from → to.
func (nw *Network) Link(from, to int) *Link {
	if nw.linkOf != nil {
		if i := nw.linkOf[from*nw.n+to]; i > 0 {
			return &nw.links[i-1]
		}
	}
	return &nw.def
}

// SetLoss sets the loss probability of every link, overrides included.
func (nw *Network) SetLoss(p float64) {
	nw.def.Loss = p
	for i := range nw.links {
		nw.links[i].Loss = p
	}
}

// SetFIFO makes every link deliver in the order it was sent (like TCP):
// a message never overtakes an earlier one on the same link.
func (nw *Network) SetFIFO(on bool) {
	nw.fifo = on
	if on {
		nw.arrival = resize(nw.arrival, nw.n*nw.n)
	}
}

// Partition splits the nodes into the given groups; nodes in no group form
// one more group together. Messages cross no group boundary, in either
// direction, including messages already in flight. Cuts are kept.
func (nw *Network) Partition(groups [][]int) {
	nw.split = true
	clear(nw.group)
	for g, members := range groups {
		for _, id := range members {
			nw.group[id] = int32(g + 1)
		}
	}
}

// Isolate puts node id in a group of its own, leaving the others as they are.
func (nw *Network) Isolate(id int) {
	var top int32
	for _, g := range nw.group {
		top = max(top, g)
	}
	nw.group[id] = top + 1
	nw.split = true
}

// Cut blocks the one-way link from → to.
func (nw *Network) Cut(from, to int) {
	b := from*nw.n + to
	nw.cut[b/64] |= 1 << (b % 64)
	nw.hasCut, nw.split = true, true
}

// Heal removes every partition and cut.
func (nw *Network) Heal() {
	nw.split = false
	clear(nw.group)
	if nw.hasCut {
		clear(nw.cut)
		nw.hasCut = false
	}
}

// Blocked reports whether a message from → to is stopped by a partition or
// a cut.
func (nw *Network) Blocked(from, to int) bool {
	if !nw.split {
		return false // the usual case, checked for every message twice
	}
	if nw.group[from] != nw.group[to] {
		return true
	}
	if nw.hasCut {
		b := from*nw.n + to
		return nw.cut[b/64]&(1<<(b%64)) != 0
	}
	return false
}

// Group returns the partition group of node id; nodes in the same group
// can reach each other unless a cut says otherwise.
func (nw *Network) Group(id int) int32 { return nw.group[id] }

// HasCuts reports whether any one-way cut is in place.
func (nw *Network) HasCuts() bool { return nw.hasCut }

// Healed reports whether no partition or cut is in place.
func (nw *Network) Healed() bool {
	if nw.hasCut {
		return false
	}
	for _, g := range nw.group {
		if g != nw.group[0] {
			return false
		}
	}
	return true
}
