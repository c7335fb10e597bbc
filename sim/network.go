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
// partitions into groups, and one-way link overrides. Group 0 is the main
// network; a partition or an isolation moves nodes out of it. On top of the
// groups, a one-way link can be cut (blocked even within a group) or
// bridged (open even across groups, as when one link of a partition is
// healed). Its random draws come from its own streams, so they never shift
// the nodes' own draws.
type Network struct {
	n         int
	def       Link
	links     []Link  // per-link overrides
	linkOf    []int32 // n*n: 1 + index into links, 0 for the default; nil when there are none
	fifo      bool
	arrival   []time.Duration // n*n: last scheduled arrival per link, when FIFO
	group     []int32         // partition group of each node; 0 is the main network
	cut       []uint64        // n*n bits: the one-way link from→to is blocked
	bridge    []uint64        // n*n bits: the one-way link from→to is open across groups
	hasCut    bool            // whether any bit of cut is set
	hasBridge bool            // whether any bit of bridge is set
	split     bool            // whether anything may be blocked; if not, nothing is
	rng       Rand            // loss, duplication and latency: the same three draws for every message sent
	dupRng    Rand            // the second copy's latency, so that duplicates never shift rng
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
	nw.bridge = resize(nw.bridge, (n*n+63)/64)
	nw.hasCut, nw.hasBridge, nw.split = false, false, false
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

// Partition splits the nodes into the given groups; nodes in no group
// stay in the main network together (when every node is in a group, the
// largest group, the first of equals, is the main network). Messages cross
// no group boundary, in either direction, including messages already in
// flight. Cuts are kept; bridges of an earlier partition are not.
func (nw *Network) Partition(groups [][]int) {
	nw.split = true
	clear(nw.group)
	main := -1 // the listed group that is the main network, if every node is listed
	listed := 0
	for g, members := range groups {
		listed += len(members)
		if main < 0 || len(members) > len(groups[main]) {
			main = g
		}
	}
	for g, members := range groups {
		id := int32(g + 1)
		if listed == nw.n && g == main {
			id = 0
		}
		for _, i := range members {
			nw.group[i] = id
		}
	}
	nw.clearBridges()
}

// Isolate puts node id in a group of its own, leaving the others as they are.
func (nw *Network) Isolate(id int) {
	var top int32
	for _, g := range nw.group {
		top = max(top, g)
	}
	nw.group[id] = top + 1
	nw.split = true
	if nw.hasBridge {
		nw.clearLinksOf(nw.bridge, id)
	}
}

// Cut blocks the one-way link from → to.
func (nw *Network) Cut(from, to int) {
	setBit(nw.cut, from*nw.n+to)
	nw.hasCut, nw.split = true, true
}

// Heal removes every partition, cut and bridge.
func (nw *Network) Heal() {
	nw.split = false
	clear(nw.group)
	if nw.hasCut {
		clear(nw.cut)
		nw.hasCut = false
	}
	nw.clearBridges()
}

// HealNode brings node id back into the main network and removes the cuts
// of its links, in both directions.
func (nw *Network) HealNode(id int) {
	nw.group[id] = 0
	if nw.hasCut {
		nw.clearLinksOf(nw.cut, id)
	}
}

// HealLink opens the one-way link from → to: it removes a cut, and bridges
// the groups of its ends when they differ.
func (nw *Network) HealLink(from, to int) {
	b := from*nw.n + to
	nw.cut[b/64] &^= 1 << (b % 64)
	if nw.group[from] != nw.group[to] {
		setBit(nw.bridge, b)
		nw.hasBridge = true
	}
}

func (nw *Network) clearBridges() {
	if nw.hasBridge {
		clear(nw.bridge)
		nw.hasBridge = false
	}
}

// clearLinksOf clears the bits of every link to and from node id.
func (nw *Network) clearLinksOf(bits []uint64, id int) {
	for j := range nw.n {
		for _, b := range [2]int{id*nw.n + j, j*nw.n + id} {
			bits[b/64] &^= 1 << (b % 64)
		}
	}
}

func setBit(bits []uint64, b int) { bits[b/64] |= 1 << (b % 64) }

func bit(bits []uint64, b int) bool { return bits[b/64]&(1<<(b%64)) != 0 }

// Blocked reports whether a message from → to is stopped by a partition or
// a cut.
func (nw *Network) Blocked(from, to int) bool {
	if !nw.split {
		return false // the usual case, checked for every message twice
	}
	b := from*nw.n + to
	if nw.hasCut && bit(nw.cut, b) {
		return true
	}
	return nw.group[from] != nw.group[to] && !(nw.hasBridge && bit(nw.bridge, b))
}

// Main reports whether node id is in the main network: no partition or
// isolation has taken it out.
func (nw *Network) Main(id int) bool { return nw.group[id] == 0 }

// Group returns the partition group of node id; nodes in the same group
// can reach each other unless a cut says otherwise.
func (nw *Network) Group(id int) int32 { return nw.group[id] }

// GroupsOnly reports whether the groups alone decide what is blocked: no
// cut or bridge is in place.
func (nw *Network) GroupsOnly() bool { return !nw.hasCut && !nw.hasBridge }

// Healed reports whether nothing is blocked.
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
