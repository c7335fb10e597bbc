package trial

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Cluster is what a trial knows of its nodes and network, in either world:
// each node's role, term and leader as it last showed them (the simulator
// fills the whole [raft.State] from the node's Readys; live fills role,
// term and leader from the wire and /status), whether it has booted, is
// crashed or paused, and which links are blocked. The [Conductor] that owns
// it changes it as the world reports what happened. Nothing in it comes
// from reading a node, and the majority is counted from the cluster size.
type Cluster struct {
	State   []raft.State  // as each node last showed itself
	Topo    *sim.Topology // which links are blocked
	booted  []bool
	crashed []bool // down: not yet booted, or crashed and not restarted
	paused  []bool

	majority  int  // ⌊N/2⌋+1 of the whole cluster
	topoDirty bool // nodes went up or down, or the network changed, since connected was computed
	connected bool // some majority of running nodes can all exchange messages
	seen      []bool
	stack     []int
	groupSize []int
}

// reset starts the view of n nodes, none booted, over topo.
func (c *Cluster) reset(n int, topo *sim.Topology) {
	c.State = setLen(c.State, n)
	c.Topo = topo
	c.booted = setLen(c.booted, n)
	c.crashed = setLen(c.crashed, n)
	c.paused = setLen(c.paused, n)
	for i := range n {
		c.booted[i], c.crashed[i], c.paused[i] = false, true, false
	}
	c.majority = raft.Majority(n)
	c.topoDirty = true
}

// N returns the number of nodes.
func (c *Cluster) N() int { return len(c.State) }

// Majority returns ⌊N/2⌋+1.
func (c *Cluster) Majority() int { return c.majority }

// Booted reports whether node i has ever booted.
func (c *Cluster) Booted(i int) bool { return c.booted[i] }

// Crashed reports whether node i is down: not booted yet, or crashed.
func (c *Cluster) Crashed(i int) bool { return c.crashed[i] }

// Paused reports whether node i is frozen.
func (c *Cluster) Paused(i int) bool { return c.paused[i] }

// Running reports whether node i runs: booted, not crashed, not paused.
func (c *Cluster) Running(i int) bool { return !c.crashed[i] && !c.paused[i] }

// Up reports whether node i has booted and is not crashed (paused or not):
// a check judges the nodes that are up.
func (c *Cluster) Up(i int) bool { return c.booted[i] && !c.crashed[i] }

// Connected reports whether node i is up and in the main network: the
// selector "connected".
func (c *Cluster) Connected(i int) bool { return c.Up(i) && c.Topo.Main(i) }

// Linked reports whether i and j can exchange messages both ways.
func (c *Cluster) Linked(i, j int) bool { return !c.Topo.Blocked(i, j) && !c.Topo.Blocked(j, i) }

// Leads reports whether node i says it leads and is not down.
func (c *Cluster) Leads(i int) bool { return c.State[i].Role == raft.Leader && !c.crashed[i] }

// CurrentLeader returns the live leader of the highest term, or -1.
func (c *Cluster) CurrentLeader() int {
	best := -1
	for i := range c.State {
		if c.Leads(i) && (best < 0 || c.State[i].Term > c.State[best].Term) {
			best = i
		}
	}
	return best
}

// reach counts the running nodes that i can exchange messages with, itself
// included.
func (c *Cluster) reach(i int) int {
	n := 0
	for j := range c.State {
		if j == i || c.Running(j) && c.Linked(i, j) {
			n++
		}
	}
	return n
}

// Removed reports whether leader can no longer lead: it is down, paused, no
// longer leader, or cut off from a majority.
func (c *Cluster) Removed(leader int) bool {
	return c.crashed[leader] || c.paused[leader] || c.State[leader].Role != raft.Leader || c.reach(leader) < c.majority
}

// WorkingLeader returns a running leader that reaches a majority of running
// nodes, none of which has a higher term, or -1.
func (c *Cluster) WorkingLeader() int {
	for i := range c.State {
		if c.State[i].Role != raft.Leader || !c.Running(i) {
			continue
		}
		n := 0
		ok := true
		for j := range c.State {
			if j == i || c.Running(j) && c.Linked(i, j) {
				n++
				if c.State[j].Term > c.State[i].Term {
					ok = false
				}
			}
		}
		if ok && n >= c.majority {
			return i
		}
	}
	return -1
}

// MaxTerm returns the highest term any node has shown.
func (c *Cluster) MaxTerm() uint64 {
	var t uint64
	for i := range c.State {
		t = max(t, c.State[i].Term)
	}
	return t
}

// MajorityConnected reports whether some majority of booted, running nodes
// can all exchange messages, judged by their connected component. It is
// recomputed only when the topology or a node changed.
func (c *Cluster) MajorityConnected() bool {
	if c.topoDirty {
		c.topoDirty = false
		c.connected = c.findMajority()
	}
	return c.connected
}

func (c *Cluster) findMajority() bool {
	up := func(i int) bool { return c.booted[i] && c.Running(i) }
	if c.Topo.GroupsOnly() {
		// Partitions alone: a group is a component.
		c.groupSize = c.groupSize[:0]
		for i := range c.State {
			if !up(i) {
				continue
			}
			g := int(c.Topo.Group(i))
			for len(c.groupSize) <= g {
				c.groupSize = append(c.groupSize, 0)
			}
			c.groupSize[g]++
			if c.groupSize[g] >= c.majority {
				return true
			}
		}
		return false
	}
	c.seen = setLen(c.seen, c.N())
	clear(c.seen)
	for start := range c.State {
		if c.seen[start] || !up(start) {
			continue
		}
		size := 0
		stack := append(c.stack[:0], start)
		c.seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			for j := range c.State {
				if !c.seen[j] && up(j) && c.Linked(i, j) {
					c.seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		c.stack = stack
		if size >= c.majority {
			return true
		}
	}
	return false
}

// setLen returns s with length n, reusing its storage when it is big
// enough; the elements it reuses keep their values.
func setLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
