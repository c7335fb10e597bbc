package shard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/runner"
)

// Merged is the N shards of one command, joined: its command line, and
// what its shards ran, to take out cell by cell.
type Merged struct {
	Command  string
	Flags    []string
	Args     []string
	Scenario *string
	N        int
	parts    map[cellKind][]Part
	hunts    []Hunt
}

type cellKind struct {
	kind Kind
	cell int
}

// Join checks that parts, read from the files names, are the shards 1 to N
// of one command, each once, and were written by raftsim version, and
// joins them. Errors name the files.
func Join(names []string, parts []*Partial, version string) (*Merged, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("no partial results to merge")
	}
	for i, p := range parts {
		if p.Version != version {
			return nil, fmt.Errorf("%s was written by raftsim %s, and this is raftsim %s: merge with the raftsim that ran the shards",
				names[i], p.Version, version)
		}
	}
	first := parts[0]
	for i, p := range parts[1:] {
		if d := differ(first, p); d != "" {
			return nil, fmt.Errorf("%s and %s are shards of different runs: %s", names[0], names[i+1], d)
		}
	}
	n := first.Shard.N
	from := make([]int, n+1) // the file of each shard, +1; 0 for none
	for i, p := range parts {
		k := p.Shard.K
		if j := from[k] - 1; j >= 0 {
			return nil, fmt.Errorf("%s and %s are both shard %s", names[j], names[i], p.Shard)
		}
		from[k] = i + 1
	}
	var missing, have []int
	for k := 1; k <= n; k++ {
		if from[k] == 0 {
			missing = append(missing, k)
		} else {
			have = append(have, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s of %d missing: the partial results given (%s and %d more) are %s",
			shards(missing), n, names[0], len(parts)-1, shards(have))
	}
	m := &Merged{Command: first.Command, Flags: first.Flags, Args: first.Args, Scenario: first.Scenario, N: n, parts: map[cellKind][]Part{}}
	for _, p := range parts {
		for _, pt := range p.Parts {
			k := cellKind{pt.Kind, pt.Cell}
			m.parts[k] = append(m.parts[k], pt)
		}
		if p.Hunt != nil {
			m.hunts = append(m.hunts, *p.Hunt)
		}
	}
	return m, nil
}

// differ says how two partials' commands differ, or "" when they are
// shards of one.
func differ(a, b *Partial) string {
	switch {
	case a.Command != b.Command:
		return fmt.Sprintf("raftsim %s and raftsim %s", a.Command, b.Command)
	case !slices.Equal(a.Args, b.Args):
		return fmt.Sprintf("arguments %q and %q", a.Args, b.Args)
	case !slices.Equal(a.Flags, b.Flags):
		return fmt.Sprintf("flags %q and %q", a.Flags, b.Flags)
	case (a.Scenario == nil) != (b.Scenario == nil) || a.Scenario != nil && *a.Scenario != *b.Scenario:
		return "the scenario file's text differs"
	case a.Shard.N != b.Shard.N:
		return fmt.Sprintf("%d and %d shards", a.Shard.N, b.Shard.N)
	}
	return ""
}

// shards names shards by increasing numbers, in ranges: "shard 2",
// "shards 1-3, 5 and 7-8".
func shards(ks []int) string {
	var words []string
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		w := strconv.Itoa(ks[i])
		if j > i {
			w += "-" + strconv.Itoa(ks[j])
		}
		words = append(words, w)
		i = j + 1
	}
	if len(ks) == 1 {
		return "shard " + words[0]
	}
	if len(words) == 1 {
		return "shards " + words[0]
	}
	return "shards " + strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// Aggregate returns the aggregate of the of units of kind of cell, merged
// from the shards' parts, which must cover them each once.
func (m *Merged) Aggregate(kind Kind, cell, of int) (*runner.Aggregate, error) {
	parts := slices.Clone(m.parts[cellKind{kind, cell}])
	slices.SortFunc(parts, func(a, b Part) int { return a.First - b.First })
	total := &runner.Aggregate{}
	next := 0
	for _, pt := range parts {
		if pt.First != next || pt.Of != of {
			break
		}
		total.Merge(pt.Aggregate)
		next += pt.Count
	}
	if next != of {
		return nil, fmt.Errorf("the shards' %s of cell %d are not its %d, each once: the partial results do not match the command", kind, cell, of)
	}
	return total, nil
}

// Hunt returns what the shards of check found: the index of the first
// failing trial of the whole hunt (-1 when none failed), and how many
// trials the whole hunt ran up to it. When every shard ran all its trials
// or up to its first failure (check --trials), that is what one process
// would have found and counted.
func (m *Merged) Hunt() (first, ran int, err error) {
	if len(m.hunts) != m.N {
		return 0, 0, fmt.Errorf("%d of the %d partial results hold a hunt: the partial results do not match the command", len(m.hunts), m.N)
	}
	first = -1
	for _, h := range m.hunts {
		ran += h.Ran
		if f := h.FirstFailure; f != nil && (first < 0 || *f < first) {
			first = *f
		}
	}
	if first >= 0 {
		ran = first + 1
	}
	return first, ran, nil
}
