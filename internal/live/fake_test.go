package live

import (
	"fmt"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// fakeProcesses records what a live trial does to its processes and its
// proxy, one line an action, stamped with the trial's clock.
type fakeProcesses struct {
	now func() time.Duration
	log []string
}

func (f *fakeProcesses) add(format string, args ...any) {
	f.log = append(f.log, fmt.Sprintf("t=%v ", f.now())+fmt.Sprintf(format, args...))
}

func (f *fakeProcesses) Start(i int, _ time.Time) error { f.add("start %v", raft.ID(i)); return nil }
func (f *fakeProcesses) Kill(i int) error               { f.add("kill %v", raft.ID(i)); return nil }
func (f *fakeProcesses) Pause(i int) error              { f.add("stop %v", raft.ID(i)); return nil }
func (f *fakeProcesses) Resume(i int) error             { f.add("continue %v", raft.ID(i)); return nil }
func (f *fakeProcesses) SetLoss(p float64)              { f.add("loss %g", p) }
func (f *fakeProcesses) Propose(leader, entries int) (int, error) {
	f.add("propose %d at %v", entries, raft.ID(leader))
	return 200, nil
}

func (f *fakeProcesses) Block(from, to int, blocked bool) {
	if blocked {
		f.add("block %v->%v", raft.ID(from), raft.ID(to))
	}
}

func (f *fakeProcesses) SetHold(hold func(*raft.Message) bool) {
	if hold == nil {
		f.add("hold none")
		return
	}
	f.add("hold")
}

// testTrial returns a live trial of sc with the given seed, on a clock the
// test moves and fake processes, not started: its queue of work is run by
// drain.
func testTrial(t *testing.T, sc *scenarios.Scenario, seed uint64) (*trialRun, *time.Duration, *fakeProcesses) {
	t.Helper()
	now := new(time.Duration)
	fake := &fakeProcesses{now: func() time.Duration { return *now }}
	tr := &trialRun{sc: sc, opt: &Options{}, seeds: trial.Seeds(seed), notes: &noteSet{},
		errs: make(chan error, 1), kick: make(chan struct{}, 1), work: make(chan func() error, 64),
		spawned: make([]time.Duration, sc.Cluster.Nodes), launched: make([]time.Duration, sc.Cluster.Nodes),
		badSince: make([]time.Duration, sc.Cluster.Nodes), procs: fake}
	tr.clock = func() time.Duration { return *now }
	tr.setup(trial.NewPlan(sc), seed)
	return tr, now, fake
}

// drain carries out the trial's queued work at once, as its queue would.
func (t *trialRun) drain(tb testing.TB) {
	for {
		select {
		case f := <-t.work:
			if err := f(); err != nil {
				tb.Fatal(err)
			}
		default:
			return
		}
	}
}
