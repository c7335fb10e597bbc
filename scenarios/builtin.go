package scenarios

import (
	"embed"
	"fmt"
	"os"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFiles embed.FS

// BuiltinNames lists the built-in scenarios in the order raftsim list shows.
var BuiltinNames = []string{"cold-start", "leader-crash", "staggered-start", "partition-leader", "minority", "churn", "figure16", "lagging-follower", "crash-restart", "fast-laggard", "stale-leader", "rejoin-disrupt", "asymmetric", "flaky-link", "reelection", "many-elections",
	"split-brain", "split-vote", "stuck-candidate", "vote-after-restart", "frozen-follower"}

// Default is the scenario raftsim run runs when given none.
const Default = "cold-start"

// Builtin returns a fresh copy of the built-in scenario name.
func Builtin(name string) (*Scenario, error) {
	data, err := BuiltinYAML(name)
	if err != nil {
		return nil, err
	}
	return Parse(builtinPrefix+name, data)
}

// BuiltinYAML returns the file of the built-in scenario name.
func BuiltinYAML(name string) ([]byte, error) {
	data, err := builtinFiles.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (raftsim list shows them: %s)", name, strings.Join(BuiltinNames, ", "))
	}
	return data, nil
}

// Load returns the scenario arg names: a YAML file when arg ends in .yaml
// or .yml or names an existing file, otherwise a built-in scenario.
func Load(arg string) (*Scenario, error) {
	s, _, err := LoadText(arg)
	return s, err
}

// LoadText is [Load] that also returns the text of the scenario file it
// read, or nil for a built-in scenario (whose text is part of the binary):
// Parse(arg, text) on another machine gives the same scenario.
func LoadText(arg string) (*Scenario, []byte, error) {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || fileExists(arg) {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, nil, &Error{File: arg, Msg: "cannot read the scenario: " + strings.TrimPrefix(err.Error(), "open "+arg+": ")}
		}
		s, err := Parse(arg, data)
		return s, data, err
	}
	s, err := Builtin(arg)
	return s, nil, err
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
