package scenarios

import (
	"slices"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// Pick resolves sel to node indexes, in increasing order, in a cluster of
// n nodes whose current leader is leader and whose latest removed leader
// is oldLeader (-1 for none). Random choices draw from r and only consider
// nodes where ok. The simulator's fault timeline and raftsim live's both
// pick nodes with it.
func (sel Selector) Pick(n, leader, oldLeader int, ok func(int) bool, r *sim.Rand) []int {
	var ids []int
	switch sel.Kind {
	case Named:
		ids = append(ids, sel.IDs...)
	case Leader:
		if leader >= 0 {
			ids = []int{leader}
		}
	case OldLeader:
		if oldLeader >= 0 {
			ids = []int{oldLeader}
		}
	case All:
		for i := range n {
			ids = append(ids, i)
		}
	case Random, RandomFollower:
		var pool []int
		for i := range n {
			if ok(i) && (sel.Kind == Random || i != leader) {
				pool = append(pool, i)
			}
		}
		ids = Choose(pool, sel.Count, r)
	}
	return ids
}

// Choose returns k distinct members of pool (all of it if smaller), drawn
// from r, in increasing order.
func Choose(pool []int, k int, r *sim.Rand) []int {
	pool = slices.Clone(pool)
	k = min(k, len(pool))
	for i := range k { // a partial Fisher–Yates shuffle
		j := i + r.Intn(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	out := pool[:k]
	slices.Sort(out)
	return out
}

// NodeSet formats node indexes as traces print a set of nodes: {n1,n3}.
func NodeSet(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = NodeName(id)
	}
	return "{" + strings.Join(parts, ",") + "}"
}
