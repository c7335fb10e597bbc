package scenarios

import (
	"slices"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// A Picker resolves selectors against the cluster as it is when a step
// runs. The simulator's fault timeline and raftsim live's both pick nodes
// with it, so that a selector means the same in both.
type Picker struct {
	N         int            // nodes in the cluster
	Leader    int            // the current leader, or -1
	OldLeader int            // the latest removed leader, or -1
	Connected func(int) bool // running and in the main network (selector "connected")
	Bound     *Bindings      // the nodes earlier actions named with as:
	Rand      *sim.Rand      // the current step's draws
}

// Pick resolves sel to node indexes, in increasing order (a named list
// keeps its order). Random choices only consider nodes where ok.
func (p *Picker) Pick(sel Selector, ok func(int) bool) []int {
	var ids []int
	switch sel.Kind {
	case Named:
		ids = append(ids, sel.IDs...)
	case Leader:
		if p.Leader >= 0 {
			ids = []int{p.Leader}
		}
	case OldLeader:
		if p.OldLeader >= 0 {
			ids = []int{p.OldLeader}
		}
	case All:
		for i := range p.N {
			ids = append(ids, i)
		}
	case Connected:
		for i := range p.N {
			if p.Connected(i) {
				ids = append(ids, i)
			}
		}
	case Bound:
		ids = append(ids, p.Bound.Lookup(sel.Name)...)
	case Union:
		for _, item := range sel.Items {
			for _, i := range p.Pick(item, ok) {
				if !slices.Contains(ids, i) {
					ids = append(ids, i)
				}
			}
		}
		slices.Sort(ids)
	case Random, RandomFollower:
		var pool []int
		for i := range p.N {
			if ok(i) && (sel.Kind == Random || i != p.Leader) {
				pool = append(pool, i)
			}
		}
		ids = Choose(pool, sel.Count, p.Rand)
	}
	return ids
}

// PickOnly is Pick for an action that applies to the nodes where ok alone,
// whatever picked them: crash running nodes, restart crashed ones.
func (p *Picker) PickOnly(sel Selector, ok func(int) bool) []int {
	return slices.DeleteFunc(p.Pick(sel, ok), func(i int) bool { return !ok(i) })
}

// Bindings are the nodes that actions named with as:, by name, for later
// steps to refer to.
type Bindings struct{ names []binding }

type binding struct {
	name string
	ids  []int
}

// Bind gives ids the name (as: name); an empty name binds nothing, and a
// name bound again refers to its latest nodes.
func (b *Bindings) Bind(name string, ids []int) {
	if name == "" {
		return
	}
	for k := range b.names {
		if b.names[k].name == name {
			b.names[k].ids = slices.Clone(ids)
			return
		}
	}
	b.names = append(b.names, binding{name, slices.Clone(ids)})
}

// Lookup returns the nodes bound to name (none if it is not bound yet).
func (b *Bindings) Lookup(name string) []int {
	for _, x := range b.names {
		if x.name == name {
			return x.ids
		}
	}
	return nil
}

// Reset forgets every name, keeping the memory for the next trial.
func (b *Bindings) Reset() { b.names = b.names[:0] }

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
