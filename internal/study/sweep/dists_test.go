package sweep

import (
	"os"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
)

// TestKeyEmpiricalLatency checks that cells that differ only in election
// timeout share their group when the latency is read from a file or is a
// mixture: each cell reads its own copy of the distribution.
func TestKeyEmpiricalLatency(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("rtt.csv", []byte("rtt_ms\n1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	axes := []Axis{{"latency", []string{"empirical:rtt.csv", "mix:0.9*1ms+0.1*empirical:rtt.csv"}}, {"election-timeout", []string{"150ms-300ms", "300ms-600ms"}}}
	sw, err := New(s, scenarios.Overrides{}, axes)
	if err != nil {
		t.Fatal(err)
	}
	k := func(i int) Key { return sw.Cells[i].Key() }
	if k(0) != k(1) || k(2) != k(3) || k(0) == k(2) {
		t.Errorf("got keys %v, %v, %v, %v; want the first two alike, the last two alike, and the two pairs apart", k(0), k(1), k(2), k(3))
	}
}
