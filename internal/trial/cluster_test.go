package trial

import (
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// cluster returns the view of n booted, running followers in term 1.
func cluster(n int) *Cluster {
	var c Cluster
	c.reset(n, sim.NewTopology(n))
	for i := range n {
		c.booted[i], c.crashed[i] = true, false
		c.State[i] = raft.State{Term: 1, Lead: raft.None}
	}
	return &c
}

func TestWorkingLeaderAndMajority(t *testing.T) {
	c := cluster(3)
	c.State[0].Role = raft.Leader
	if got := c.WorkingLeader(); got != 0 {
		t.Errorf("working leader: got %d, want 0 (n1)", got)
	}
	c.Topo.Isolate(0)
	c.topoDirty = true
	if got := c.WorkingLeader(); got != -1 {
		t.Errorf("an isolated leader works: got %d", got)
	}
	if !c.Removed(0) {
		t.Error("an isolated leader is not removed")
	}
	if !c.MajorityConnected() {
		t.Error("n2 and n3 together are a majority")
	}
	c.crashed[1], c.topoDirty = true, true
	if c.MajorityConnected() {
		t.Error("n3 alone is no majority")
	}
	c.Topo.Heal()
	c.topoDirty = true
	if got := c.WorkingLeader(); got != 0 {
		t.Errorf("healed, n1 reaches n3: got %d, want 0", got)
	}
	c.State[2].Term = 2 // n3 has moved on to a higher term: n1 does not work
	if got := c.WorkingLeader(); got != -1 {
		t.Errorf("a leader below a reachable node's term works: got %d", got)
	}
}

func TestMajorityAcrossCutsAndGroups(t *testing.T) {
	for _, tt := range []struct {
		name  string
		shape func(*sim.Topology)
		want  bool
	}{
		{"one network", func(*sim.Topology) {}, true},
		{"2 of 5 split off", func(t *sim.Topology) { t.Partition([][]int{{0, 1}}) }, true},
		{"three groups", func(t *sim.Topology) { t.Partition([][]int{{0, 1}, {2, 3}}) }, false},
		{"a cut both ways between halves", func(t *sim.Topology) {
			for _, a := range []int{0, 1} {
				for _, b := range []int{2, 3, 4} {
					t.Cut(a, b)
					t.Cut(b, a)
				}
			}
		}, true},
		{"one-way cuts break the majority's links", func(t *sim.Topology) {
			for _, a := range []int{0, 1, 2, 3, 4} {
				for _, b := range []int{0, 1, 2, 3, 4} {
					if a != b && (a+b)%2 == 1 {
						t.Cut(a, b)
					}
				}
			}
		}, true}, // 0, 2, 4 still exchange messages both ways
	} {
		c := cluster(5)
		tt.shape(c.Topo)
		if got := c.MajorityConnected(); got != tt.want {
			t.Errorf("%s: majority connected %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCurrentLeaderIsTheHighestTerms(t *testing.T) {
	c := cluster(3)
	c.State[0] = raft.State{Role: raft.Leader, Term: 2}
	c.State[2] = raft.State{Role: raft.Leader, Term: 3}
	if got := c.CurrentLeader(); got != 2 {
		t.Errorf("got %d, want 2 (n3, term 3)", got)
	}
	c.crashed[2] = true
	if got := c.CurrentLeader(); got != 0 {
		t.Errorf("n3 crashed: got %d, want 0", got)
	}
	if got := c.MaxTerm(); got != 3 {
		t.Errorf("max term: got %d, want 3 (a crashed node's term counts)", got)
	}
}
