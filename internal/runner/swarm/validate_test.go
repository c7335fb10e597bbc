package swarm

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/scenarios"
)

// TestBoundsHold checks the derivation against the simulator: for drawn
// configurations that carry a liveness expectation, the bound derived for
// a much higher level (0.1 here, 0.01 in the long suite, where the rounds
// it counts are fewer and a model too kind would show) is missed far less
// often than that level says, over trials of other seeds. Since the bound
// for Level only adds rounds, each of which elects a leader with
// probability p or more, this is the evidence that the per-round p, the
// round and the warm-up hold. No trial may break an invariant.
func TestBoundsHold(t *testing.T) {
	boundsHold(t, long.Pick(60, 1500), long.Pick(40, 100), long.Pick(0.1, 0.01), Scenario,
		func(s *scenarios.Scenario, level float64) time.Duration { return Converge(s, level).Within })
}

// TestBoundsHoldEtcd: the same for etcd's raft (--impl etcd, 1ms ticks),
// whose bounds [ConvergeEtcd] derives; its trials cost more, so fewer run.
func TestBoundsHoldEtcd(t *testing.T) {
	var o scenarios.Overrides
	if err := o.Set("impl", "etcd"); err != nil {
		t.Fatal(err)
	}
	draw := func(seed uint64) *scenarios.Scenario {
		s, err := Draw(seed, o)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		return s
	}
	boundsHold(t, long.Pick(30, 300), long.Pick(20, 100), long.Pick(0.1, 0.01), draw,
		func(s *scenarios.Scenario, level float64) time.Duration {
			return ConvergeEtcd(s, level, s.Cluster.TickLength()).Within
		})
}

// boundsHold runs trials trials of each of configs drawn configurations
// that carry a liveness expectation, each with its bound for level.
func boundsHold(t *testing.T, configs, trials int, level float64, draw func(uint64) *scenarios.Scenario,
	bound func(*scenarios.Scenario, float64) time.Duration) {
	t.Helper()
	type tally struct{ ran, missed, broke int }
	results := make([]tally, configs)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				seed := trial.Seed(24, i)
				s := draw(seed)
				if s.Expect.ConvergeWithin == 0 {
					continue
				}
				s.Expect.ConvergeWithin = bound(s, level)
				p := trial.NewPlan(s)
				d := simulated.NewDriver(p)
				r := &results[i]
				for k := 0; k < trials; k++ {
					res := d.Run(trial.Seed(seed^0x76616c6964617465, k)) // "validate"
					r.ran++
					switch {
					case res.Failure == nil:
					case res.Failure.Kind == trial.KindLiveness:
						r.missed++
					default:
						r.broke++
						t.Errorf("config seed %d, trial seed %d: %v", seed, trial.Seed(seed^0x76616c6964617465, k), res.Failure)
					}
				}
			}
		}()
	}
	for i := range configs {
		next <- i
	}
	close(next)
	wg.Wait()
	var ran, missed, with int
	for i, r := range results {
		ran += r.ran
		missed += r.missed
		if r.ran > 0 {
			with++
		}
		// One configuration missing its bound as often as the level says
		// would be a model too kind to it: far more than chance allows.
		if float64(r.missed) > level*float64(trials)+3 {
			t.Errorf("config seed %d missed its bound for %g in %d of %d trials", trial.Seed(24, i), level, r.missed, r.ran)
		}
	}
	t.Logf("%d of %d configurations carry a bound; their bounds for %g missed in %d of %d trials", with, configs, level, missed, ran)
	if with < configs*8/10 {
		t.Errorf("only %d of %d configurations carry a liveness expectation", with, configs)
	}
	if float64(missed) > level*float64(ran)/10 {
		t.Errorf("bounds for %g missed in %d of %d trials: not far below the level", level, missed, ran)
	}
}
