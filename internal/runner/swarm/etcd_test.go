package swarm

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// TestOnTicks: every drawn scenario, put on etcd's ticks, validates with
// impl: etcd, keeps its draws but the timing, and draws timeouts of
// several lengths.
func TestOnTicks(t *testing.T) {
	mins := map[time.Duration]bool{}
	for i := 0; i < 300; i++ {
		seed := trial.Seed(7, i)
		for _, tick := range []time.Duration{time.Millisecond, 10 * time.Millisecond} {
			s := OnTicks(Scenario(seed), tick)
			s.Cluster.Impl, s.Cluster.Tick = scenarios.ImplEtcd, tick
			if err := s.Validate(); err != nil {
				t.Fatalf("seed %d, tick %v: %v", seed, tick, err)
			}
			drawn := Scenario(seed)
			if s.Cluster.Nodes != drawn.Cluster.Nodes || len(s.Faults) != len(drawn.Faults) || s.Network.Latency != drawn.Network.Latency {
				t.Fatalf("seed %d: OnTicks changed more than the timing", seed)
			}
			mins[s.Cluster.ElectionTimeout.Min] = true
		}
	}
	if len(mins) < 100 {
		t.Errorf("300 draws on ticks gave %d minimum election timeouts", len(mins))
	}
}
