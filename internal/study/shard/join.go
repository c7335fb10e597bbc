package shard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/find"
)

// Merged is the N shards of one command, joined one partial result at a
// time: its command line, and the running totals of what its shards ran,
// to take out cell by cell once every shard is in. It keeps no partial
// result, so a merge needs the memory of one command's aggregates,
// whatever N is.
type Merged struct {
	Command  string
	Flags    []string
	Args     []string
	Scenario *string
	Data     []DataFile // the data files every shard read
	N        int

	version string
	first   *Partial // what identifies the command, and its file
	names   []string // the file of each shard, by K-1; "" when not in yet
	totals  map[cellKind]*runner.Aggregate
	ranges  map[cellKind][]Part // the parts merged into totals, without their aggregates
	hunts   []Hunt
}

type cellKind struct {
	kind Kind
	cell int
}

// NewMerged returns an empty merge of partial results that raftsim
// version wrote.
func NewMerged(version string) *Merged {
	return &Merged{version: version, totals: map[cellKind]*runner.Aggregate{}, ranges: map[cellKind][]Part{}}
}

// Add joins p, read from the file name: it must have been written by the
// merge's raftsim version, be a shard of the same command as the partials
// added before, and not a shard already added. Errors name the files.
func (m *Merged) Add(name string, p *Partial) error {
	if p.Version != m.version {
		return fmt.Errorf("%s was written by raftsim %s, and this is raftsim %s: merge with the raftsim that ran the shards", name, p.Version, m.version)
	}
	if m.first == nil {
		m.first = p
		m.Command, m.Flags, m.Args, m.Scenario, m.Data, m.N = p.Command, p.Flags, p.Args, p.Scenario, p.Data, p.Shard.N
		m.names = make([]string, m.N)
	}
	if d := differ(m.first, p); d != "" {
		return fmt.Errorf("%s and %s are shards of different runs: %s", m.names[m.first.Shard.K-1], name, d)
	}
	k := p.Shard.K
	if had := m.names[k-1]; had != "" {
		return fmt.Errorf("%s and %s are both shard %s", had, name, p.Shard)
	}
	m.names[k-1] = name
	for _, pt := range p.Parts {
		key := cellKind{pt.Kind, pt.Cell}
		if m.totals[key] == nil {
			m.totals[key] = &runner.Aggregate{}
		} else if !sameQueries(m.totals[key].Matches, pt.Aggregate.Matches) {
			return fmt.Errorf("%s: the %s of cell %d answer other --find queries than the shards before", name, pt.Kind, pt.Cell)
		}
		m.totals[key].Merge(pt.Aggregate)
		pt.Aggregate = nil
		m.ranges[key] = append(m.ranges[key], pt)
	}
	if p.Hunt != nil {
		m.hunts = append(m.hunts, *p.Hunt)
	}
	return nil
}

// Complete checks that every shard, 1 to N, was added.
func (m *Merged) Complete() error {
	if m.first == nil {
		return fmt.Errorf("no partial results to merge")
	}
	var missing, have []int
	for k, name := range m.names {
		if name == "" {
			missing = append(missing, k+1)
		} else {
			have = append(have, k+1)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s of %d missing: the partial results given (%s and %d more) are %s",
			shards(missing), m.N, m.names[m.first.Shard.K-1], len(have)-1, shards(have))
	}
	return nil
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
	case !slices.Equal(a.Data, b.Data):
		return fmt.Sprintf("their trials read different data files (%s and %s): a data file changed between shards", dataText(a.Data), dataText(b.Data))
	case a.Shard.N != b.Shard.N:
		return fmt.Sprintf("%d and %d shards", a.Shard.N, b.Shard.N)
	}
	return ""
}

// dataText names data files with the start of their digests.
func dataText(files []DataFile) string {
	if len(files) == 0 {
		return "none"
	}
	var words []string
	for _, f := range files {
		words = append(words, f.Path+" sha256:"+short(f.SHA256))
	}
	return strings.Join(words, ", ")
}

// short is the start of a digest, enough to tell files apart.
func short(sha string) string { return sha[:min(12, len(sha))] }

// CheckData says what differs between files, the data files a merge read,
// and those the shards read: nothing, or a file the shards did not read
// or read with other content.
func (m *Merged) CheckData(files []DataFile) error {
	for _, f := range files {
		i := slices.IndexFunc(m.Data, func(g DataFile) bool { return g.Path == f.Path })
		switch {
		case i < 0:
			return fmt.Errorf("the shards read no data file %s", f.Path)
		case !slices.Contains(m.Data, f):
			return fmt.Errorf("%s has changed since the shards read it (sha256:%s now, sha256:%s then): merge with the data files the shards read",
				f.Path, short(f.SHA256), short(m.Data[i].SHA256))
		}
	}
	return nil
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

// sameQueries reports whether a and b answer the same queries.
func sameQueries(a, b []runner.Matches) bool {
	return slices.EqualFunc(a, b, func(x, y runner.Matches) bool { return x.Query.Text == y.Query.Text && x.Query.Limit == y.Query.Limit })
}

// Aggregate returns the aggregate of the of units of kind of cell, merged
// from the shards' parts, which must have covered them each once, and
// answered queries: its matches get these, the command's own (a partial
// result carries a query's text and limit, not what it looks for).
func (m *Merged) Aggregate(kind Kind, cell, of int, queries []*find.Query) (*runner.Aggregate, error) {
	key := cellKind{kind, cell}
	parts := slices.Clone(m.ranges[key])
	slices.SortFunc(parts, func(a, b Part) int { return a.First - b.First })
	next := 0
	for _, pt := range parts {
		if pt.First != next || pt.Of != of {
			next = -1
			break
		}
		next += pt.Count
	}
	if next != of {
		return nil, fmt.Errorf("the shards' %s of cell %d are not its %d, each once: the partial results do not match the command", kind, cell, of)
	}
	agg := *m.totals[key] // the command may add to the counts of what it gets
	agg.Matches = slices.Clone(agg.Matches)
	if len(agg.Matches) != len(queries) {
		return nil, fmt.Errorf("the shards' %s of cell %d answer %d --find queries, the command %d", kind, cell, len(agg.Matches), len(queries))
	}
	for i, q := range queries {
		if agg.Matches[i].Query.Text != q.Text || agg.Matches[i].Query.Limit != q.Limit {
			return nil, fmt.Errorf("the shards' %s of cell %d answer --find %s, the command --find %s", kind, cell, agg.Matches[i].Query.Text, q.Text)
		}
		agg.Matches[i].Query = q
	}
	return &agg, nil
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
