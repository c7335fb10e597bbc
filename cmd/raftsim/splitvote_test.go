package main

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// TestSplitVoteRateAgreesWithTheAnalysis: the split-vote rate, by its
// definition, against the case the randomized-timeout analysis (Ongaro's
// thesis, chapter 9) solves exactly. Two nodes booting together with
// timeouts uniform over a range of width w and a constant one-way latency
// d: the vote splits when the second timer fires before the first node's
// RequestVote arrives, d after the first; the gap between the two draws
// exceeds d with probability (1-d/w)², so a trial sees a split vote with
// probability 1-(1-d/w)² (the later rounds cannot undo it). Each rate is
// within four standard errors of 20,000 trials.
func TestSplitVoteRateAgreesWithTheAnalysis(t *testing.T) {
	const trials = 20000
	for _, tt := range []struct{ latency, width float64 }{{10, 100}, {10, 50}, {20, 50}, {10, 20}} {
		args := []string{"run", "cold-start", "--nodes", "2", "--latency", fmt.Sprintf("%gms", tt.latency),
			"--election-timeout", fmt.Sprintf("150ms-%gms", 150+tt.width), "--trials", fmt.Sprint(trials), "--config-trials", "0", "--format", "json"}
		code, out, errw := raftsim(args...)
		var r struct {
			SplitVoteProbability float64 `json:"split_vote_probability"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || code > 1 { // narrow ranges miss leader_within at times
			t.Fatalf("%v: exit %d, %v: %s", args, code, err, errw)
		}
		want := 1 - math.Pow(1-tt.latency/tt.width, 2)
		if se := math.Sqrt(want * (1 - want) / trials); math.Abs(r.SplitVoteProbability-want) > 4*se {
			t.Errorf("latency %gms, width %gms: split votes in %.4f of trials, want %.4f ± %.4f", tt.latency, tt.width, r.SplitVoteProbability, want, 4*se)
		}
	}
}
