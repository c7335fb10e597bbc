package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/raftsim/raftsim/scenarios"
)

// Check is what raftsim check found: no failure in the trials it ran, or
// the first failing trial. Its JSON keys are a contract, like run's.
type Check struct {
	What   string        `json:"hunt"`   // the scenario hunted through, with its bugs
	Ran    int           `json:"trials"` // trials run
	Seed   uint64        `json:"seed"`   // the hunt's scenario seed
	Failed *CheckFailure `json:"failure"`
}

// CheckFailure is the first failing trial of a hunt, with what shows it and
// the commands that replay it.
type CheckFailure struct {
	Trial     int      `json:"trial"`
	Seed      uint64   `json:"seed"`
	Kind      string   `json:"kind"`         // the failure's kind: an invariant, liveness, ...
	Failure   string   `json:"detail"`       // what was violated, when and where
	TraceHash string   `json:"trace_sha256"` // the SHA-256 of its text trace: the same hash, the same trial
	Last      []string `json:"last_events"`  // its last trace lines, ending with the violation
	Replay    string   `json:"replay"`
	// Swarm, under --swarm, is the drawn configuration.
	Swarm *SwarmFile `json:"swarm,omitempty"`
	// Weighed, for a liveness failure, is how often its configuration
	// misses the same expectation over other trials.
	*Weighed
	Shrunk *Shrunk `json:"shrunk,omitempty"` // nil when not shrunk
}

// SwarmFile is a swarm trial's drawn configuration as a scenario file whose
// one trial is the failing one: saved as Name and run, it fails the same
// way.
type SwarmFile struct {
	Name string `json:"file"`
	YAML []byte `json:"-"`
	// Path is where the file was saved and Run the command that runs it;
	// NotSaved, when the file could not be saved, says why.
	Path     string `json:"path"`
	Run      string `json:"run"`
	NotSaved string `json:"not_saved,omitempty"`
	// Bound says how its converge_within was derived, or why it has none.
	Bound string `json:"converge_within_derived"`
}

// MarshalJSON writes the scenario file as text.
func (sf *SwarmFile) MarshalJSON() ([]byte, error) {
	type plain SwarmFile
	return json.Marshal(struct {
		*plain
		YAML string `json:"yaml"`
	}{(*plain)(sf), string(sf.YAML)})
}

// Shrunk is the smallest trial that fails the same way, or says there is
// none smaller (How is "").
type Shrunk struct {
	How     string `json:"how"` // how it is smaller than the trial found
	Failure string `json:"detail"`
	Replay  string `json:"replay"`
}

// Write prints the check's report in format f: text, or JSON.
func (c *Check) Write(w io.Writer, f Format) error {
	if f == JSON {
		return WriteJSON(w, c)
	}
	return c.WriteText(w)
}

// WriteText prints the check's report as text.
func (c *Check) WriteText(w io.Writer) error {
	f := c.Failed
	if f == nil {
		_, err := fmt.Fprintf(w, "check of %s: no failure in %s (seed %d)\n", c.What, scenarios.Count(c.Ran, "trial", "trials"), c.Seed)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "check of %s: trial %d (seed %d) failed, after %s:\n", c.What, f.Trial, f.Seed, scenarios.Count(c.Ran, "trial", "trials"))
	fmt.Fprintf(&b, "  %s\n", f.Failure)
	if f.Weighed != nil {
		fmt.Fprintf(&b, "  %s\n", f.Weighed.Sentence())
	}
	fmt.Fprintf(&b, "  trace sha256 %s\n", f.TraceHash)
	fmt.Fprintf(&b, "  the last %s:\n", scenarios.Count(len(f.Last), "event", "events"))
	for _, line := range f.Last {
		fmt.Fprintf(&b, "    %s\n", line)
	}
	fmt.Fprintf(&b, "  replay: %s\n", f.Replay)
	if sf := f.Swarm; sf != nil {
		fmt.Fprintf(&b, "  converge_within %s\n", sf.Bound)
		fmt.Fprintf(&b, "  the drawn configuration, as a scenario file whose one trial is this one (trial_seeds: [%d]);\n", f.Seed)
		if sf.NotSaved == "" {
			fmt.Fprintf(&b, "  saved as %s, %s fails the same way:\n", sf.Path, sf.Run)
		} else {
			fmt.Fprintf(&b, "  not saved (%s); saved under another name and run with raftsim run, it fails the same way:\n", sf.NotSaved)
		}
		for _, line := range strings.Split(strings.TrimRight(string(sf.YAML), "\n"), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	switch s := f.Shrunk; {
	case s == nil:
	case s.How == "":
		b.WriteString("shrunk: no smaller trial fails the same way\n")
	default:
		fmt.Fprintf(&b, "shrunk: %s\n  %s\n  replay: %s\n", s.How, s.Failure, s.Replay)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
