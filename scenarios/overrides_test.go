package scenarios

import (
	"strings"
	"testing"
)

// TestOverrideErrorsNameTheFlag: a scenario made invalid by overrides is
// reported under the flag that made it so; a built-in is named as such,
// never by a path inside the source tree.
func TestOverrideErrorsNameTheFlag(t *testing.T) {
	minority, err := Builtin("minority")
	if err != nil {
		t.Fatal(err)
	}
	file, err := Parse("my.yaml", []byte("faults:\n  - crash: n5\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		s     *Scenario
		flags [][2]string
		want  string
	}{
		{minority, [][2]string{{"nodes", "2"}, {"heartbeat", "20ms"}, {"prevote", "true"}},
			"--nodes 2: faults[0].crash: random:3 picks 3 nodes of 2 (in the built-in scenario minority, line 13 of raftsim list --show minority)"},
		{file, [][2]string{{"nodes", "3"}},
			"--nodes 3: my.yaml:2: faults[0].crash: node n5 does not exist (the cluster has 3 nodes)"},
	} {
		var o Overrides
		for _, f := range tt.flags {
			if err := o.Set(f[0], f[1]); err != nil {
				t.Fatal(err)
			}
		}
		_, err := o.Apply(tt.s)
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "scenarios/builtin") {
			t.Errorf("%v names a path inside the source tree", err)
		}
	}
}

// TestStartOverride: --start gives every node the one distribution its
// start is drawn from, in place of the scenario's (one per node included).
func TestStartOverride(t *testing.T) {
	s, err := Parse("my.yaml", []byte("cluster: {nodes: 3, start: [0ms, 1s, uniform:0ms-2s]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var o Overrides
	if err := o.Set("start", "uniform:0ms-50ms"); err != nil {
		t.Fatal(err)
	}
	got, err := o.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cluster.Start) != 1 || FormatDist(got.Cluster.Start[0]) != "uniform:0s-50ms" || len(s.Cluster.Start) != 3 {
		t.Errorf("start %v (the scenario's now %v), want uniform:0s-50ms for every node and the scenario unchanged", got.Cluster.Start, s.Cluster.Start)
	}
	if err := o.Set("start", "soon"); err == nil || !strings.Contains(err.Error(), "neither a duration nor a distribution") {
		t.Errorf("--start soon: %v", err)
	}
}
