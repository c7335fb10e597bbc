package scenarios

import (
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// ApplyNetwork applies a network action (partition, isolate, heal, cut) to
// t, picking its nodes with p, and returns the trace text that says what
// it did. running says which nodes are up: isolate picks only among them.
// The simulator and raftsim live both apply network actions with it, so a
// partition splits the same nodes the same way in both.
func (p *Picker) ApplyNetwork(a *Action, t *sim.Topology, running func(int) bool) string {
	all := func(int) bool { return true }
	switch a.Kind {
	case Partition:
		taken := make([]bool, p.N)
		var groups [][]int
		var parts []string
		for _, g := range a.Groups {
			ids := p.PickOnly(g, func(i int) bool { return !taken[i] })
			for _, i := range ids {
				taken[i] = true
			}
			groups = append(groups, ids)
			parts = append(parts, NodeSet(ids))
		}
		var rest []int
		for i := range taken {
			if !taken[i] {
				rest = append(rest, i)
			}
		}
		if len(rest) > 0 {
			parts = append(parts, NodeSet(rest))
		}
		t.Partition(groups)
		return "partition " + strings.Join(parts, " ")
	case Isolate:
		ids := p.Pick(a.Nodes, running)
		p.Bound.Bind(a.As, ids)
		for _, i := range ids {
			t.Isolate(i)
		}
		return "isolate " + NodeSet(ids)
	case Cut:
		from, to := p.Pick(a.From, all), p.Pick(a.To, all)
		eachLink(from, to, false, t.Cut)
		return "cut " + NodeSet(from) + "->" + NodeSet(to)
	case Heal:
		switch {
		case a.Nodes.Text != "":
			ids := p.Pick(a.Nodes, all)
			for _, i := range ids {
				t.HealNode(i)
			}
			return "heal " + NodeSet(ids)
		case a.From.Text != "":
			from, to := p.Pick(a.From, all), p.Pick(a.To, all)
			eachLink(from, to, a.Both, t.HealLink)
			arrow := "->"
			if a.Both {
				arrow = "<->"
			}
			return "heal " + NodeSet(from) + arrow + NodeSet(to)
		}
		t.Heal()
		return "heal"
	}
	panic("scenarios: ApplyNetwork given " + a.Kind.String())
}

// eachLink calls do for every link from a node of from to another of to,
// and back when both.
func eachLink(from, to []int, both bool, do func(from, to int)) {
	for _, x := range from {
		for _, y := range to {
			if x != y {
				do(x, y)
				if both {
					do(y, x)
				}
			}
		}
	}
}
