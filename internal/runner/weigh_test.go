package runner

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/runner/swarm"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
)

// issueSeed is the swarm trial of issue 24, whose configuration misses the
// 2941ms converge_within it was drawn with in 7.5% of trials.
const issueSeed = 1265974503891640

// TestWeighIssueConfiguration weighs the failure of issue 24 against its
// configuration: a slow configuration, its rate near the 7.5% measured over
// 200,000 seeds, the same at any number of workers, from seeds derived
// from the failing one.
func TestWeighIssueConfiguration(t *testing.T) {
	s := swarm.Scenario(issueSeed)
	s.Expect.ConvergeWithin = 2941 * time.Millisecond // the bound it had
	s.TrialSeeds = []uint64{issueSeed}
	p := trial.NewPlan(s)
	failed := simulated.NewDriver(p).Run(issueSeed)
	if Expectation(failed.Failure) != "converge_within" {
		t.Fatalf("the trial of issue 24 gave %v, want a converge_within failure", failed.Failure)
	}
	w, err := Weigh(s, issueSeed, failed.Failure, Options{Trials: 1000, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := w.Missed.Wilson95()
	if w.Missed.Trials != 1000 || w.Expectation != "converge_within" || lo > 0.075 || hi < 0.075 {
		t.Errorf("weighed %d of %d (%.3f-%.3f) for %s, want 1000 trials, an interval about 0.075, converge_within",
			w.Missed.Hits, w.Missed.Trials, lo, hi, w.Expectation)
	}
	for _, workers := range []int{2, 5} {
		if again, _ := Weigh(s, issueSeed, failed.Failure, Options{Trials: 1000, Workers: workers}); again != w {
			t.Errorf("%d workers weighed %+v, 1 worker %+v", workers, again, w)
		}
	}
	// Other seeds, not the listed one again and again.
	if other, _ := Weigh(s, issueSeed+1, failed.Failure, Options{Trials: 1000, Workers: 2}); other == w {
		t.Errorf("weighing from another failing seed gave the same count %+v: are the seeds derived from it?", w)
	}
	if _, err := Weigh(s, issueSeed, &trial.Failure{Kind: "vote-once"}, Options{Trials: 10}); err == nil {
		t.Error("a safety failure was weighed")
	}
}

func TestExpectation(t *testing.T) {
	for _, tt := range []struct {
		f    *trial.Failure
		want string
	}{
		{nil, ""},
		{&trial.Failure{Kind: "vote-once", Detail: "n1 voted twice"}, ""},
		{&trial.Failure{Kind: trial.KindLiveness, Detail: "no working leader within 2941ms of the last fault (converge_within)"}, "converge_within"},
		{&trial.Failure{Kind: trial.KindLiveness, Detail: "converge_within was never put to the test: ..."}, "converge_within"},
		{&trial.Failure{Kind: trial.KindLiveness, Detail: "no working leader for 5s while a majority was up and connected (leader_within 5s)"}, "leader_within"},
		{&trial.Failure{Kind: trial.KindLiveness, Detail: "no leader within the trial's 10s after the origin"}, "leader_within"},
		{&trial.Failure{Kind: trial.KindCheck, Detail: "step 3 (line 18): want one leader among connected {n1,n2,n3}, found none (within 3s)"}, "the check of step 3 (line 18)"},
		{&trial.Failure{Kind: trial.KindCheck, Detail: "step old (line 6): want no leader among old {n3}, found 1: n3 (term 1)"}, "the check of step old (line 6)"},
		{&trial.Failure{Kind: trial.KindCheck, Detail: "the check of step 4 (line 20) never ran: the trial ended first"}, "the check of step 4 (line 20)"},
		{&trial.Failure{Kind: trial.KindUnexpectedLeader, Detail: "n1 became leader of term 2, but no leader was expected"}, ""},
	} {
		if got := Expectation(tt.f); got != tt.want {
			t.Errorf("Expectation(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}
