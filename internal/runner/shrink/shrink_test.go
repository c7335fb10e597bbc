package shrink

import (
	"slices"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

func TestReductionArgs(t *testing.T) {
	r := Reduction{Skip: []int{2, 5}, Nodes: 3, Limit: 2500 * time.Millisecond}
	want := []string{"--nodes", "3", "--skip-steps", "2,5", "--limit", "2500ms"}
	if got := r.Args(); !slices.Equal(got, want) {
		t.Errorf("Args() = %v, want %v", got, want)
	}
	if !(Reduction{}).Empty() || r.Empty() {
		t.Error("Empty is wrong")
	}
	if got := insert([]int{1, 4, 9}, 5); !slices.Equal(got, []int{1, 4, 5, 9}) {
		t.Errorf("insert: %v", got)
	}
}

// TestShrinkKeepsTheFailure shrinks a real failure: the result fails the
// same way and is no bigger than the original.
func TestShrinkKeepsTheFailure(t *testing.T) {
	fresh := func(nodes int) (*scenarios.Scenario, error) {
		s, err := scenarios.Builtin("crash-restart")
		if err != nil {
			t.Fatal(err)
		}
		s.Cluster.Bugs = raft.BugVoteNotPersisted
		if nodes > 0 {
			s.Cluster.Nodes = nodes
		}
		return s, nil
	}
	s, _ := fresh(0)
	plan := trial.NewPlan(s)
	r := simulated.NewDriver(plan)
	var seed uint64
	var failed trial.Result
	for i := 0; ; i++ {
		seed = trial.Seed(1, i)
		if failed = r.Run(seed); failed.Failure != nil {
			break
		}
	}
	red, res := Shrink(fresh, seed, failed)
	if red.Empty() || res.Failure == nil || res.Failure.Kind != failed.Failure.Kind {
		t.Fatalf("shrink gave %+v with %v", red, res.Failure)
	}
	s, err := red.Build(fresh)
	if err != nil {
		t.Fatal(err)
	}
	p := trial.NewPlan(s)
	again := simulated.NewDriver(p).Run(seed)
	if again.Failure == nil || *again.Failure != *res.Failure {
		t.Fatalf("the shrunk trial does not reproduce: %v vs %v", again.Failure, res.Failure)
	}
	if orig, _ := fresh(0); len(s.Timeline()) >= len(orig.Timeline()) && red.Nodes == 0 && red.Limit == 0 {
		t.Error("nothing got smaller")
	}
}
