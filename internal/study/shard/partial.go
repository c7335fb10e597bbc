package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/find"
)

// FormatVersion is the version of the partial format this raftsim writes
// and reads.
const FormatVersion = 1

// Partial is the result of one shard: what identifies the command it is a
// shard of, and the exact state of what it ran.
type Partial struct {
	Format  int    `json:"raftsim_partial"` // FormatVersion
	Version string `json:"raftsim_version"` // of the raftsim that wrote it
	// Command is run, sweep or check; Flags and Args are its command line
	// as merge gives it back (see the package comment).
	Command string   `json:"command"`
	Flags   []string `json:"flags"`
	Args    []string `json:"args"`
	// Scenario is the text of the scenario file the command read, nil for
	// a built-in scenario.
	Scenario *string `json:"scenario,omitempty"`
	// Data are the data files the shard's trials read (empirical
	// distributions), sorted by path: a merge reads them again and
	// requires the same content.
	Data  []DataFile `json:"data,omitempty"`
	Shard Spec       `json:"shard"`
	// Parts are what a shard of run or sweep ran; Hunt is what a shard of
	// check found.
	Parts []Part `json:"parts,omitempty"`
	Hunt  *Hunt  `json:"hunt,omitempty"`
}

// DataFile is a data file a shard's trials read, by the path the
// command line gives it (relative to the working directory) and the hex
// SHA-256 of its content.
type DataFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// AddData adds files to what p's trials read, keeping p.Data sorted and
// each file once.
func (p *Partial) AddData(files ...DataFile) {
	p.Data = append(p.Data, files...)
	slices.SortFunc(p.Data, compareData)
	p.Data = slices.Compact(p.Data)
}

func compareData(a, b DataFile) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return strings.Compare(a.SHA256, b.SHA256)
}

// Kind says what a part's units are.
type Kind string

// The kinds of units.
const (
	Trials Kind = "trials" // a cell's trials
	Steady Kind = "steady" // a cell's steady-state runs
)

// Part is what a shard ran of a cell's units of one kind: units First to
// First+Count-1 of the cell's Of, and their aggregate.
type Part struct {
	Kind      Kind              `json:"kind"`
	Cell      int               `json:"cell"`
	First     int               `json:"first"`
	Count     int               `json:"count"`
	Of        int               `json:"of"`
	Aggregate *runner.Aggregate `json:"aggregate"`
}

// Hunt is what a shard of check found: how many of its trials ran, and
// the index in the whole hunt of the first that failed, nil when none
// did. A shard stops at its first failure.
type Hunt struct {
	Ran          int  `json:"ran"`
	FirstFailure *int `json:"first_failure"`
}

// Write writes p as one line of JSON.
func (p *Partial) Write(w io.Writer) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// Read reads a partial that [Partial.Write] wrote, strictly: an unknown
// key, another format version or a state no shard could have written (a
// part outside its cell, counts that do not add up) is an error.
func Read(r io.Reader) (*Partial, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Partial
	err = dec.Decode(&p)
	if err == nil && dec.Decode(&json.RawMessage{}) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	if err != nil || p.Format != FormatVersion {
		// Another format's keys may be unknown here: say what it is.
		var head struct {
			Format *int `json:"raftsim_partial"`
		}
		switch json.NewDecoder(bytes.NewReader(data)).Decode(&head); {
		case head.Format == nil:
			return nil, errors.New("not a partial result of raftsim (a JSON object with the key raftsim_partial, as run, sweep and check write with --shard)")
		case *head.Format != FormatVersion:
			return nil, fmt.Errorf("a partial result in format %d; this raftsim reads format %d: merge with the raftsim that wrote it", *head.Format, FormatVersion)
		}
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// check refuses what no shard writes.
func (p *Partial) check() error {
	s := p.Shard
	if s.N < 1 || s.N > MaxShards || s.K < 1 || s.K > s.N {
		return fmt.Errorf("shard %s: want K from 1 to N, N from 1 to %d", s, MaxShards)
	}
	if p.Command == "" {
		return errors.New("no command")
	}
	if !slices.IsSortedFunc(p.Data, compareData) {
		return errors.New("data files out of order")
	}
	type key struct {
		kind Kind
		cell int
	}
	seen := map[key]bool{}
	for _, pt := range p.Parts {
		what := fmt.Sprintf("part %s of cell %d", pt.Kind, pt.Cell)
		switch {
		case pt.Kind != Trials && pt.Kind != Steady:
			return fmt.Errorf("part of kind %q: want %s or %s", pt.Kind, Trials, Steady)
		case pt.Cell < 0:
			return fmt.Errorf("%s: want cells from 0", what)
		case seen[key{pt.Kind, pt.Cell}]:
			return fmt.Errorf("%s: twice", what)
		case pt.First < 0 || pt.Count < 1 || pt.Of < pt.Count || pt.First > pt.Of-pt.Count:
			return fmt.Errorf("%s: units %d to %d of %d", what, pt.First, pt.First+pt.Count-1, pt.Of)
		case pt.Aggregate == nil:
			return fmt.Errorf("%s: no aggregate", what)
		}
		seen[key{pt.Kind, pt.Cell}] = true
		if err := checkAggregate(pt.Aggregate, pt.First, pt.Count); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
	}
	if h := p.Hunt; h != nil {
		if h.Ran < 0 {
			return fmt.Errorf("hunt: ran %d trials", h.Ran)
		}
		if f := h.FirstFailure; f != nil && (h.Ran < 1 || *f != s.Trial(h.Ran-1)) {
			return fmt.Errorf("hunt: the first failure, trial %d, is not the last of the %d trials shard %s ran", *f, h.Ran, s)
		}
	}
	return nil
}

// checkAggregate refuses an aggregate that units first to first+count-1
// cannot have made.
func checkAggregate(a *runner.Aggregate, first, count int) error {
	if a.Trials != count || a.Started > a.Trials || a.Measured > a.Trials || a.Failed > a.Trials || a.Unfinished > a.Trials {
		return fmt.Errorf("%d trials (%d started, %d measured, %d failed, %d unfinished) in a part of %d", a.Trials, a.Started, a.Measured, a.Failed, a.Unfinished, count)
	}
	if a.Started < 0 || a.Measured < 0 || a.Failed < 0 || a.Unfinished < 0 {
		return errors.New("a negative count")
	}
	for _, m := range a.Matches {
		if m.Query == nil || m.Query.Limit < 1 || m.Query.Limit > find.MaxLimit {
			return errors.New("matches of a --find query: no query, or a limit out of range")
		}
		if err := checkListed("matches of --find "+m.Query.Text, sortedTrials(m.Top), min(m.Count, m.Query.Limit), first, count); err != nil {
			return err
		}
	}
	failed := trialsOf(a.Failures, func(f runner.TrialFailure) int { return f.Trial })
	unfinished := trialsOf(a.UnfinishedTrials, func(u runner.TrialNote) int { return u.Trial })
	if err := checkListed("failures", failed, min(a.Failed, runner.MaxListedFailures), first, count); err != nil {
		return err
	}
	return checkListed("unfinished trials", unfinished, min(a.Unfinished, runner.MaxListedFailures), first, count)
}

// trialsOf returns the trial of each of xs.
func trialsOf[T any](xs []T, trial func(T) int) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = trial(x)
	}
	return out
}

// sortedTrials returns the trials of matches in increasing order (a query
// lists them by score).
func sortedTrials(top []runner.Match) []int {
	trials := trialsOf(top, func(m runner.Match) int { return m.Trial })
	slices.Sort(trials)
	return trials
}

// checkListed refuses trials listed as what that are more than most, out
// of order, or outside the part.
func checkListed(what string, trials []int, most, first, count int) error {
	if len(trials) > most || !slices.IsSorted(trials) {
		return fmt.Errorf("%d %s listed, more than %d, or out of order", len(trials), what, most)
	}
	for _, t := range trials {
		if t < first || t >= first+count {
			return fmt.Errorf("%s: trial %d, outside the part", what, t)
		}
	}
	return nil
}
