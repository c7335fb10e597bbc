package sim

// Topology is which links between n nodes are blocked: partitions into
// groups, and one-way link overrides. Group 0 is the main network; a
// partition or an isolation moves nodes out of it. On top of the groups, a
// one-way link can be cut (blocked even within a group) or bridged (open
// even across groups, as when one link of a partition is healed). The
// simulated network enforces it on every message; raftsim live's proxy
// enforces the same rules on real links.
type Topology struct {
	n         int
	group     []int32  // partition group of each node; 0 is the main network
	cut       []uint64 // n*n bits: the one-way link from→to is blocked
	bridge    []uint64 // n*n bits: the one-way link from→to is open across groups
	hasCut    bool     // whether any bit of cut is set
	hasBridge bool     // whether any bit of bridge is set
	split     bool     // whether anything may be blocked; if not, nothing is
}

// NewTopology returns the topology of n nodes with nothing blocked.
func NewTopology(n int) *Topology {
	t := new(Topology)
	t.reset(n)
	return t
}

func (t *Topology) reset(n int) {
	t.n = n
	t.group = resize(t.group, n)
	t.cut = resize(t.cut, (n*n+63)/64)
	t.bridge = resize(t.bridge, (n*n+63)/64)
	t.hasCut, t.hasBridge, t.split = false, false, false
}

// Partition splits the nodes into the given groups; nodes in no group
// stay in the main network together (when every node is in a group, the
// largest group, the first of equals, is the main network). Messages cross
// no group boundary, in either direction, including messages already in
// flight. Cuts are kept; bridges of an earlier partition are not.
func (t *Topology) Partition(groups [][]int) {
	t.split = true
	clear(t.group)
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
		if listed == t.n && g == main {
			id = 0
		}
		for _, i := range members {
			t.group[i] = id
		}
	}
	t.clearBridges()
}

// Isolate puts node id in a group of its own, leaving the others as they are.
func (t *Topology) Isolate(id int) {
	var top int32
	for _, g := range t.group {
		top = max(top, g)
	}
	t.group[id] = top + 1
	t.split = true
	if t.hasBridge {
		t.clearLinksOf(t.bridge, id)
	}
}

// Cut blocks the one-way link from → to.
func (t *Topology) Cut(from, to int) {
	setBit(t.cut, from*t.n+to)
	t.hasCut, t.split = true, true
}

// Heal removes every partition, cut and bridge.
func (t *Topology) Heal() {
	t.split = false
	clear(t.group)
	if t.hasCut {
		clear(t.cut)
		t.hasCut = false
	}
	t.clearBridges()
}

// HealNode brings node id back into the main network and removes the cuts
// of its links, in both directions.
func (t *Topology) HealNode(id int) {
	t.group[id] = 0
	if t.hasCut {
		t.clearLinksOf(t.cut, id)
	}
}

// HealLink opens the one-way link from → to: it removes a cut, and bridges
// the groups of its ends when they differ.
func (t *Topology) HealLink(from, to int) {
	b := from*t.n + to
	t.cut[b/64] &^= 1 << (b % 64)
	if t.group[from] != t.group[to] {
		setBit(t.bridge, b)
		t.hasBridge = true
	}
}

func (t *Topology) clearBridges() {
	if t.hasBridge {
		clear(t.bridge)
		t.hasBridge = false
	}
}

// clearLinksOf clears the bits of every link to and from node id.
func (t *Topology) clearLinksOf(bits []uint64, id int) {
	for j := range t.n {
		for _, b := range [2]int{id*t.n + j, j*t.n + id} {
			bits[b/64] &^= 1 << (b % 64)
		}
	}
}

func setBit(bits []uint64, b int) { bits[b/64] |= 1 << (b % 64) }

func bit(bits []uint64, b int) bool { return bits[b/64]&(1<<(b%64)) != 0 }

// Blocked reports whether a message from → to is stopped by a partition or
// a cut.
func (t *Topology) Blocked(from, to int) bool {
	if !t.split {
		return false // the usual case, checked for every message twice
	}
	b := from*t.n + to
	if t.hasCut && bit(t.cut, b) {
		return true
	}
	return t.group[from] != t.group[to] && !(t.hasBridge && bit(t.bridge, b))
}

// Main reports whether node id is in the main network: no partition or
// isolation has taken it out.
func (t *Topology) Main(id int) bool { return t.group[id] == 0 }

// Group returns the partition group of node id; nodes in the same group
// can reach each other unless a cut says otherwise.
func (t *Topology) Group(id int) int32 { return t.group[id] }

// GroupsOnly reports whether the groups alone decide what is blocked: no
// cut or bridge is in place.
func (t *Topology) GroupsOnly() bool { return !t.hasCut && !t.hasBridge }

// Healed reports whether nothing is blocked.
func (t *Topology) Healed() bool {
	if t.hasCut {
		return false
	}
	for _, g := range t.group {
		if g != t.group[0] {
			return false
		}
	}
	return true
}
