// Package shrink searches for a smaller trial that fails the same way as a
// failing one: fewer fault steps, fewer nodes, a shorter run. Smaller
// failures are easier to read in a replay. Every candidate runs with the
// failing trial's own seed; since each node, the network and the faults
// draw from their own random streams, removing a step or a node leaves the
// rest of the trial as it was as far as possible.
//
// shrink must never report a reduction that does not fail the same way
// when replayed, and it is bounded: at most MaxAttempts trials.
package shrink

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/scenarios"
)

// Reduction is how a trial was made smaller.
type Reduction struct {
	Skip  []int         // unrolled fault steps left out, 1-based, ascending
	Nodes int           // cluster size, or 0 for unchanged
	Limit time.Duration // the trial's virtual time cap, or 0 for unchanged
}

// Fresh returns a new copy of a failing trial's scenario with the given
// cluster size (0: its own), built as its replay command builds it with
// --nodes (a swarm derives its liveness bound for the size), or an error
// when the size does not fit the scenario.
type Fresh func(nodes int) (*scenarios.Scenario, error)

// Build returns the scenario that r makes of fresh's, validated: fewer
// nodes may leave a fault naming a node that is gone.
func (r Reduction) Build(fresh Fresh) (*scenarios.Scenario, error) {
	s, err := fresh(r.Nodes)
	if err != nil {
		return nil, err
	}
	s.Skip = append([]int(nil), r.Skip...)
	if r.Limit > 0 {
		s.Measure.Limit = r.Limit
	}
	return s, s.Validate()
}

// Args returns the replay flags that apply r.
func (r Reduction) Args() []string {
	var out []string
	if r.Nodes > 0 {
		out = append(out, "--nodes", strconv.Itoa(r.Nodes))
	}
	if len(r.Skip) > 0 {
		parts := make([]string, len(r.Skip))
		for i, k := range r.Skip {
			parts[i] = strconv.Itoa(k)
		}
		out = append(out, "--skip-steps", strings.Join(parts, ","))
	}
	if r.Limit > 0 {
		out = append(out, "--limit", strconv.FormatInt(int64(r.Limit/time.Millisecond), 10)+"ms")
	}
	return out
}

// Describe says how r makes a trial of s smaller.
func (r Reduction) Describe(s *scenarios.Scenario) string {
	var parts []string
	if n := len(r.Skip); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d fault steps left out", n, len(s.Timeline())))
	}
	if r.Nodes > 0 {
		parts = append(parts, fmt.Sprintf("%s instead of %d", scenarios.Count(r.Nodes, "node", "nodes"), s.Cluster.Nodes))
	}
	if r.Limit > 0 {
		parts = append(parts, "run cut at "+trace.FormatTime(r.Limit))
	}
	return strings.Join(parts, ", ")
}

// Empty reports whether r changes nothing.
func (r Reduction) Empty() bool { return len(r.Skip) == 0 && r.Nodes == 0 && r.Limit == 0 }

// MaxAttempts bounds the trials one shrink runs.
const MaxAttempts = 400

// Shrink looks for the smallest reduction of the trial with the given seed
// that still fails with the same kind of failure; fresh builds the
// scenarios it tries. It returns the reduction and the result of the
// reduced trial (the original's when nothing smaller fails the same way).
func Shrink(fresh Fresh, seed uint64, failed trial.Result) (Reduction, trial.Result) {
	kind := failed.Failure.Kind
	best, bestRes := Reduction{}, failed
	attempts := 0
	try := func(r Reduction) bool {
		if attempts >= MaxAttempts {
			return false
		}
		attempts++
		s, err := r.Build(fresh)
		if err != nil {
			return false // e.g. a fault names a node that is gone
		}
		plan := trial.NewPlan(s)
		res := simulated.NewDriver(plan).Run(seed)
		if res.Failure == nil || res.Failure.Kind != kind {
			return false
		}
		best, bestRes = r, res
		return true
	}
	base, err := fresh(0)
	if err != nil {
		return best, bestRes // it built once, for the failing trial
	}
	steps := len(base.Timeline())
	maxTimeout := base.Cluster.ElectionTimeout.Max
	shorten := func() {
		// Run only a little past the failure (expectations checked at the
		// end of a trial need the trial to end, so keep that slack).
		limit := (bestRes.Failure.At + maxTimeout + time.Millisecond - 1) / time.Millisecond * time.Millisecond
		if cur := limitOf(best, base); limit < cur {
			r := best
			r.Limit = limit
			try(r)
		}
	}
	shorten()
	for progress := true; progress && attempts < MaxAttempts; {
		progress = false
		for i := steps; i >= 1; i-- {
			if contains(best.Skip, i) {
				continue
			}
			r := best
			r.Skip = insert(best.Skip, i)
			if try(r) {
				progress = true
			}
		}
		for n := nodesOf(best, base) - 1; n >= 1; n-- {
			r := best
			r.Nodes = n
			if !try(r) {
				break
			}
			progress = true
		}
		shorten()
	}
	return best, bestRes
}

func limitOf(r Reduction, s *scenarios.Scenario) time.Duration {
	if r.Limit > 0 {
		return r.Limit
	}
	return s.Measure.Limit
}

func nodesOf(r Reduction, s *scenarios.Scenario) int {
	if r.Nodes > 0 {
		return r.Nodes
	}
	return s.Cluster.Nodes
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// insert returns a copy of the ascending list xs with x added in place.
func insert(xs []int, x int) []int {
	out := make([]int, 0, len(xs)+1)
	done := false
	for _, y := range xs {
		if !done && x < y {
			out = append(out, x)
			done = true
		}
		out = append(out, y)
	}
	if !done {
		out = append(out, x)
	}
	return out
}
