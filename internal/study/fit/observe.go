package fit

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/scenarios"
)

// Group is what was observed under one set of conditions (an election
// timeout range, and perhaps a cluster size, heartbeat or loss): the
// times to leader of its trials, or published figures about them.
type Group struct {
	Label      string
	Conditions samples.Conditions // scenario flags and their values
	// Times are the measured times to leader in ms, sorted, with +Inf for
	// each trial that found no leader within its limit: such a trial counts
	// as longer than every measured one, in the data and in the simulation
	// alike (right-censored).
	Times   []float64
	Targets []Target
}

// MinRows is the fewest rows a group of samples may have.
const MinRows = 10

// GroupsOf returns the groups of the samples read from a file.
func GroupsOf(gs []samples.Group) []Group {
	out := make([]Group, len(gs))
	for i := range gs {
		g := &gs[i]
		times := make([]float64, 0, g.Rows())
		for _, t := range g.Times {
			times = append(times, float64(t)/1e6)
		}
		for range g.NoLeader {
			times = append(times, math.Inf(1))
		}
		slices.Sort(times)
		out[i] = Group{Label: g.Conditions.Label(), Conditions: g.Conditions, Times: times}
	}
	return out
}

// Stat is a statistic of the times to leader of the trials that found a
// leader, as raftsim run prints it.
type Stat uint8

// The statistics a target may give.
const (
	Mean Stat = iota
	P50
	P90
	P99
	Max
)

var statNames = [...]string{Mean: "mean", P50: "p50", P90: "p90", P99: "p99", Max: "max"}

func (s Stat) String() string { return statNames[s] }

// Target is a published figure: a statistic of the time to leader of the
// trials of one election timeout range.
type Target struct {
	Range string // canonical, as --election-timeout prints it
	Stat  Stat
	Value float64 // ms, above 0
}

func (t Target) String() string {
	return t.Range + ":" + t.Stat.String() + "=" + scenarios.FormatDuration(msDuration(t.Value))
}

// ParseTarget reads RANGE:STAT=VALUE, such as 150ms-155ms:p50=287ms.
func ParseTarget(s string) (Target, error) {
	rng, rest, ok1 := strings.Cut(s, ":")
	stat, value, ok2 := strings.Cut(rest, "=")
	if !ok1 || !ok2 {
		return Target{}, fmt.Errorf("%q: want RANGE:STAT=VALUE, such as 150ms-155ms:p50=287ms", s)
	}
	r, err := scenarios.ParseRange(rng)
	if err != nil {
		return Target{}, fmt.Errorf("%q: %v", s, err)
	}
	t := Target{Range: r.String()}
	if t.Stat = Stat(slices.Index(statNames[:], strings.TrimSpace(stat))); t.Stat > Max {
		return Target{}, fmt.Errorf("%q: unknown statistic %q (want mean, p50, p90, p99 or max)", s, stat)
	}
	d, err := scenarios.ParseDuration(value)
	if err != nil || d <= 0 {
		return Target{}, fmt.Errorf("%q: want a time above 0 after =, such as 287ms", s)
	}
	t.Value = float64(d) / 1e6
	return t, nil
}

// TargetGroups returns the groups of targets, one per range in the order
// the ranges first appear. A statistic given twice for one range is an
// error.
func TargetGroups(ts []Target) ([]Group, error) {
	var out []Group
	for _, t := range ts {
		i := slices.IndexFunc(out, func(g Group) bool { return g.Label == t.Range })
		if i < 0 {
			i = len(out)
			out = append(out, Group{Label: t.Range, Conditions: samples.Conditions{{Flag: "election-timeout", Text: t.Range}}})
		}
		g := &out[i]
		if slices.ContainsFunc(g.Targets, func(u Target) bool { return u.Stat == t.Stat }) {
			return nil, fmt.Errorf("%s: %s given twice", t.Range, t.Stat)
		}
		g.Targets = append(g.Targets, t)
	}
	return out, nil
}
