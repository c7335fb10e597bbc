package find

import (
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct{ in, text, err string }{
		{"split-vote", "split-vote", ""},
		{"slowest:5", "slowest:5", ""},
		{"rounds>=3", "rounds>=3", ""},
		{"rounds>2:4", "rounds>2:4", ""},
		{"stale>1.5s", "stale>1500ms", ""},
		{"needless", "needless>=1", ""},
		{"leaderless>=250ms", "leaderless>=250ms", ""},
		{"split", "", `unknown kind "split"`},
		{"rounds", "", "rounds needs a threshold, e.g. rounds>=3"},
		{"stale", "", "stale needs a threshold, e.g. stale>500ms"},
		{"split-vote>=2", "", "split-vote takes no threshold"},
		{"rounds<3", "", "want KIND>=X or KIND>X"},
		{"rounds>=x", "", `"x" is not a whole number`},
		{"stale>soon", "", `"soon" is not a duration`},
		{"slowest:0", "", "want :N with N from 1 to 1000"},
	} {
		q, err := Parse(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: got error %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.err == "" && q.Text != tt.text:
			t.Errorf("%s: text %q, want %q", tt.in, q.Text, tt.text)
		}
	}
}

func TestMatch(t *testing.T) {
	measured := trial.Result{Started: true, Measured: true, TimeToLeader: 300 * time.Millisecond, Rounds: 3, SplitVotes: 2}
	stale := trial.Result{Started: true, Measured: true, Rounds: 1, HasStale: true, StaleLeader: 600 * time.Millisecond}
	failed := measured
	failed.Failure = &trial.Failure{Kind: "liveness"}
	steady := trial.Result{SteadyTime: time.Hour, Elections: 2, Leaderless: 40 * time.Millisecond}
	for _, tt := range []struct {
		query string
		r     trial.Result
		ok    bool
		score float64
	}{
		{"split-vote", measured, true, 2},
		{"split-vote", stale, false, 0},
		{"split-vote", failed, false, 0}, // failures are listed anyway
		{"rounds>=3", measured, true, 3},
		{"rounds>3", measured, false, 0},
		{"slowest", measured, true, 300},
		{"stale>500ms", stale, true, 600},
		{"stale>600ms", stale, false, 0},
		{"needless>=2", steady, true, 2},
		{"needless", measured, false, 0}, // a trial, not a steady-state run
		{"leaderless>30ms", steady, true, 40},
		{"no-leader", trial.Result{Started: true}, true, 0},
	} {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		score, ok := q.Match(&tt.r)
		if ok != tt.ok || ok && score != tt.score {
			t.Errorf("%s: got %v %g, want %v %g", tt.query, ok, score, tt.ok, tt.score)
		}
	}
}
