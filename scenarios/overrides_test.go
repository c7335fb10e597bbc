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
