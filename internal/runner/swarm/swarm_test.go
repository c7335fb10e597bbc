package swarm

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/scenarios"
)

// TestScenarioIsValidAndStable: every drawn scenario validates, is a pure
// function of its seed, and survives being written as YAML and read back:
// the same file again, and the same trial, event for event.
func TestScenarioIsValidAndStable(t *testing.T) {
	kinds := map[scenarios.ActionKind]bool{}
	sizes := map[int]bool{}
	for i := 0; i < 300; i++ {
		seed := trial.Seed(7, i)
		s := Scenario(seed)
		if err := s.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		sizes[s.Cluster.Nodes] = true
		for _, st := range s.Faults {
			for _, a := range st.Actions {
				kinds[a.Kind] = true
			}
		}
		y := s.YAML()
		if !bytes.Equal(y, Scenario(seed).YAML()) {
			t.Fatalf("seed %d: two draws differ", seed)
		}
		back, err := scenarios.Parse("swarm.yaml", y)
		if err != nil {
			t.Fatalf("seed %d: the YAML does not parse: %v\n%s", seed, err, y)
		}
		if again := back.YAML(); !bytes.Equal(again, y) {
			t.Fatalf("seed %d: YAML round trip changed the scenario:\n%s\n---\n%s", seed, y, again)
		}
		if i%10 == 0 {
			// The file has line numbers, which traces show; nothing else may differ.
			a, b := traceText(t, s, seed), lineRef.ReplaceAllString(traceText(t, back, seed), "")
			if a != b {
				t.Fatalf("seed %d: the scenario read back from YAML runs differently", seed)
			}
		}
	}
	if len(sizes) < 6 || len(kinds) < 9 {
		t.Errorf("300 swarm draws met %d cluster sizes and %d fault kinds", len(sizes), len(kinds))
	}
}

var lineRef = regexp.MustCompile(` \(line \d+\)`)

func traceText(t *testing.T, s *scenarios.Scenario, seed uint64) string {
	p := trial.NewPlan(s)
	var b bytes.Buffer
	r := simulated.NewDriver(p)
	tw := trace.NewTextWriter(&b)
	r.SetTracer(tw)
	r.Run(seed)
	tw.Flush()
	return b.String()
}
