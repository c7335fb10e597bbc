package shard

import (
	"fmt"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		text string
		env  map[string]string
		want Spec
		err  string // a part of the error, when there is one
	}{
		{text: "1/1", want: Spec{1, 1}},
		{text: "3/4", want: Spec{3, 4}},
		{text: "auto/4", env: map[string]string{EnvKubernetes: "0"}, want: Spec{1, 4}},
		{text: "auto/4", env: map[string]string{EnvKubernetes: "3", EnvSlurm: "1", EnvSlurmMin: "1"}, want: Spec{4, 4}},
		{text: "auto/4", env: map[string]string{EnvSlurm: "7", EnvSlurmMin: "5"}, want: Spec{3, 4}},
		{text: "auto/4", env: map[string]string{EnvSlurm: "1", EnvSlurmMin: "1", EnvSlurmCount: "4"}, want: Spec{1, 4}},
		{text: "auto/4", env: map[string]string{EnvSlurm: "40", EnvSlurmMin: "10", EnvSlurmStep: "10"}, want: Spec{4, 4}},

		{text: "0/4", err: "want K from 1 to 4"},
		{text: "5/4", err: "want K from 1 to 4"},
		{text: "x/4", err: "want K from 1 to 4"},
		{text: "4", err: "want K/N"},
		{text: "1/0", err: "want K/N"},
		{text: "1/100001", err: "N at most 100000"},
		{text: "auto/4", err: "neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (a Slurm job array) is set"},
		{text: "auto/4", env: map[string]string{EnvKubernetes: "4"}, err: "this shard 5, but there are 4 shards"},
		{text: "auto/4", env: map[string]string{EnvKubernetes: "-1"}, err: `JOB_COMPLETION_INDEX="-1"`},
		{text: "auto/4", env: map[string]string{EnvSlurm: "2"}, err: "SLURM_ARRAY_TASK_MIN, the array's smallest task ID, is not"},
		{text: "auto/4", env: map[string]string{EnvSlurm: "1", EnvSlurmMin: "1", EnvSlurmCount: "8"}, err: "SLURM_ARRAY_TASK_COUNT=8 tasks, but there are 4 shards"},
		{text: "auto/4", env: map[string]string{EnvSlurm: "15", EnvSlurmMin: "10", EnvSlurmStep: "10"}, err: "not in the array 10, 20, 30"},
		{text: "auto/4", env: map[string]string{EnvSlurm: "x", EnvSlurmMin: "1"}, err: `SLURM_ARRAY_TASK_ID="x"`},
	} {
		got, err := Parse(tt.text, env(tt.env))
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Parse(%q) with %v = %v, %v; want %v", tt.text, tt.env, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Parse(%q) with %v: got error %v, want one saying %q", tt.text, tt.env, err, tt.err)
		}
	}
}

// TestSlicesCoverEachUnitOnce: the N shards' slices of a cell are its
// units, each once, in nearly equal shares.
func TestSlicesCoverEachUnitOnce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 100} {
		for _, total := range []int{0, 1, 5, 6, 1000, 1 << 62} {
			for _, cell := range []int{0, 1, 9, 1 << 40} {
				seen := map[int]int{} // first unit of each slice: its end
				for k := 1; k <= n; k++ {
					lo, hi := Spec{k, n}.Slice(cell, total)
					if hi < lo || hi-lo > total/n+1 || hi-lo < total/n {
						t.Fatalf("shard %d/%d of %d units: %d to %d, not a fair share", k, n, total, lo, hi)
					}
					if hi > lo {
						seen[lo] = hi
					}
				}
				at := 0
				for range seen {
					hi, ok := seen[at]
					if !ok {
						t.Fatalf("%d shards, %d units, cell %d: no slice starts at %d", n, total, cell, at)
					}
					at = hi
				}
				if at != total {
					t.Fatalf("%d shards, %d units, cell %d: slices end at %d", n, total, cell, at)
				}
			}
		}
	}
}

// TestSlicesTurnWithTheCell: cells of fewer units than shards give them to
// different shards, so many cells spread over all.
func TestSlicesTurnWithTheCell(t *testing.T) {
	const n, cells, runs = 100, 1000, 6
	per := make([]int, n+1)
	for c := 0; c < cells; c++ {
		for k := 1; k <= n; k++ {
			lo, hi := Spec{k, n}.Slice(c, runs)
			per[k] += hi - lo
		}
	}
	for k := 1; k <= n; k++ {
		if per[k] != cells*runs/n {
			t.Fatalf("shard %d runs %d steady-state runs, want %d", k, per[k], cells*runs/n)
		}
	}
}

func TestTrialsDealtOut(t *testing.T) {
	for _, n := range []int{1, 3, 4} {
		for _, total := range []int{0, 1, 10, 11, 12} {
			seen := make([]int, total)
			for k := 1; k <= n; k++ {
				s := Spec{k, n}
				for j := 0; j < s.Trials(total); j++ {
					seen[s.Trial(j)]++
				}
			}
			for i, c := range seen {
				if c != 1 {
					t.Errorf("%d shards of %d trials ran trial %d %d times, want once", n, total, i, c)
				}
			}
		}
	}
}

func ExampleSpec_Slice() {
	for k := 1; k <= 4; k++ {
		s := Spec{K: k, N: 4}
		lo0, hi0 := s.Slice(0, 10)
		lo1, hi1 := s.Slice(1, 10)
		fmt.Printf("shard %s: cell 0 trials %d-%d, cell 1 trials %d-%d\n", s, lo0, hi0-1, lo1, hi1-1)
	}
	// Output:
	// shard 1/4: cell 0 trials 0-1, cell 1 trials 2-4
	// shard 2/4: cell 0 trials 2-4, cell 1 trials 5-6
	// shard 3/4: cell 0 trials 5-6, cell 1 trials 7-9
	// shard 4/4: cell 0 trials 7-9, cell 1 trials 0-1
}
