package sim

import (
	"time"
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

// Network is the simulated network between n nodes: per-link behaviour
// over a [Topology] of partitions and cuts. Its random draws come from its
// own streams, so they never shift the nodes' own draws.
type Network struct {
	Topology
	def     Link
	links   []Link  // per-link overrides
	linkOf  []int32 // n*n: 1 + index into links, 0 for the default; nil when there are none
	fifo    bool
	arrival []time.Duration // n*n: last scheduled arrival per link, when FIFO
	rng     Rand            // loss, duplication and latency: the same three draws for every message sent
	dupRng  Rand            // the second copy's latency, so that duplicates never shift rng
}

func (nw *Network) reset(n int, seed uint64) {
	nw.def = Link{}
	nw.links = nw.links[:0]
	nw.linkOf = nil
	nw.fifo = false
	nw.arrival = nw.arrival[:0]
	nw.Topology.reset(n)
	nw.rng.Seed(seed)
	nw.dupRng.Seed(Mix(seed ^ 0x6475706c69636174)) // "duplicat"
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
