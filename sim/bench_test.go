package sim_test

import (
	"runtime"
	"testing"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/scenarios"
)

// benchScenario runs trials of a built-in scenario on one goroutine and
// reports simulated events per second, trials per second and heap
// allocations per event.
func benchScenario(b *testing.B, name string, o scenarios.Overrides) {
	builtin, err := scenarios.Builtin(name)
	if err != nil {
		b.Fatal(err)
	}
	s, err := o.Apply(builtin)
	if err != nil {
		b.Fatal(err)
	}
	plan := trial.NewPlan(s)
	r := simulated.NewDriver(plan)
	for i := 0; i < 100; i++ { // grow the runner's storage to its steady state
		r.Run(trial.Seed(s.Seed, i))
	}
	var events uint64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := r.Run(trial.Seed(s.Seed, i))
		events += res.Events
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)/sec, "events/s")
	b.ReportMetric(float64(b.N)/sec, "trials/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/trial")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
}

func BenchmarkColdStart(b *testing.B)   { benchScenario(b, "cold-start", scenarios.Overrides{}) }
func BenchmarkLeaderCrash(b *testing.B) { benchScenario(b, "leader-crash", scenarios.Overrides{}) }

// The same trials with every node etcd's raft (--impl etcd).
func BenchmarkColdStartEtcd(b *testing.B)   { benchScenario(b, "cold-start", etcd(b)) }
func BenchmarkLeaderCrashEtcd(b *testing.B) { benchScenario(b, "leader-crash", etcd(b)) }

func etcd(b *testing.B) scenarios.Overrides {
	var o scenarios.Overrides
	if err := o.Set("impl", "etcd"); err != nil {
		b.Fatal(err)
	}
	return o
}
