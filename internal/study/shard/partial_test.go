package shard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/find"
	"github.com/raftsim/raftsim/internal/trial"
)

// result makes up the result of trial i: every field varies with i, and
// every seventh trial fails.
func result(i int) *trial.Result {
	r := &trial.Result{Seed: uint64(i) * 7919, Started: i%5 != 0, Events: uint64(100 + i), TermsBumped: i % 3, Disruptions: i % 2}
	if r.Started && i%11 != 0 {
		r.Measured, r.TimeToLeader, r.Rounds, r.Messages, r.SplitVotes = true, time.Duration(150e6+i*i*1e3), 1+i%2, 10+i%4, i%2
	}
	if i%4 == 0 {
		r.HasStale, r.StaleLeader = true, time.Duration(i)*time.Millisecond
	}
	if i%7 == 0 {
		r.Failure = &trial.Failure{Kind: "election-safety", Detail: fmt.Sprintf("trial %d", i), At: time.Duration(i), Event: uint64(i)}
	}
	if i%13 == 0 {
		r.Unfinished = "a step waited for a leader"
	}
	return r
}

// aggregate folds the made-up results of trials first to first+count-1.
func aggregate(first, count int) *runner.Aggregate {
	a := &runner.Aggregate{}
	for i := first; i < first+count; i++ {
		a.Add(i, result(i))
	}
	return a
}

// partials returns the partials of a two-cell command of trials trials per
// cell cut into n shards.
func partials(n, trials int) []*Partial {
	text := "name: x\n"
	var out []*Partial
	for k := 1; k <= n; k++ {
		p := &Partial{Format: FormatVersion, Version: "v1", Command: "sweep", Flags: []string{"--nodes=3,5"}, Args: []string{"x.yaml"},
			Scenario: &text, Shard: Spec{k, n}}
		for cell := 0; cell < 2; cell++ {
			if lo, hi := p.Shard.Slice(cell, trials); hi > lo {
				p.Parts = append(p.Parts, Part{Kind: Trials, Cell: cell, First: lo, Count: hi - lo, Of: trials, Aggregate: aggregate(lo, hi-lo)})
			}
		}
		out = append(out, p)
	}
	return out
}

func write(t *testing.T, p *Partial) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// join merges parts as if read from the files part-1.json, part-2.json, ...
func join(parts []*Partial, version string) (*Merged, error) {
	m := NewMerged(version)
	for i, p := range parts {
		if err := m.Add(fmt.Sprintf("part-%d.json", i+1), p); err != nil {
			return nil, err
		}
	}
	return m, m.Complete()
}

// readBack writes parts, reads them back and joins them.
func readBack(t *testing.T, parts []*Partial) *Merged {
	t.Helper()
	var read []*Partial
	for _, p := range parts {
		p, err := Read(bytes.NewReader(write(t, p)))
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, p)
	}
	m, err := join(read, "v1")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestShardsMergeToWhole: partials written, read back and joined give each
// cell the aggregate of all its trials, in whatever order the files come.
func TestShardsMergeToWhole(t *testing.T) {
	const trials = 300
	parts := partials(4, trials)
	m := readBack(t, []*Partial{parts[2], parts[0], parts[3], parts[1]})
	for cell := 0; cell < 2; cell++ {
		got, err := m.Aggregate(Trials, cell, trials, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(aggregate(0, trials))
		if !bytes.Equal(a, b) {
			t.Errorf("cell %d merged:\n%s\nwant\n%s", cell, a, b)
		}
	}
	if _, err := m.Aggregate(Trials, 0, trials+1, nil); err == nil {
		t.Error("cell 0 as 301 trials: no error")
	}
	if _, err := m.Aggregate(Steady, 0, 6, nil); err == nil {
		t.Error("steady-state runs no shard ran: no error")
	}
	overlap := partials(2, 30)
	overlap[1].Parts[0].First, overlap[1].Parts[0].Count = 10, 20 // trials 10-29, where shard 1 ran 0-14
	overlap[1].Parts[0].Aggregate = aggregate(10, 20)
	if m, err := join(overlap, "v1"); err != nil {
		t.Fatal(err)
	} else if _, err := m.Aggregate(Trials, overlap[1].Parts[0].Cell, 30, nil); err == nil {
		t.Error("parts that overlap: no error")
	}
}

func TestJoinRefuses(t *testing.T) {
	other := func(edit func(p *Partial)) []*Partial {
		parts := partials(3, 30)
		edit(parts[2])
		return parts
	}
	for _, tt := range []struct {
		name  string
		parts []*Partial
		want  string
	}{
		{"missing", partials(3, 30)[:2], "shard 3 of 3 missing: the partial results given (part-1.json and 1 more) are shards 1-2"},
		{"missing some", append(partials(9, 30)[1:4], partials(9, 30)[6]), "shards 1, 5-6 and 8-9 of 9 missing: the partial results given (part-1.json and 3 more) are shards 2-4 and 7"},
		{"duplicate", append(partials(3, 30), partials(3, 30)[1]), "part-2.json and part-4.json are both shard 2/3"},
		{"version", other(func(p *Partial) { p.Version = "v2" }), "part-3.json was written by raftsim v2, and this is raftsim v1"},
		{"command", other(func(p *Partial) { p.Command = "run" }), "part-1.json and part-3.json are shards of different runs: raftsim sweep and raftsim run"},
		{"flags", other(func(p *Partial) { p.Flags = []string{"--nodes=3,7"} }), `flags ["--nodes=3,5"] and ["--nodes=3,7"]`},
		{"args", other(func(p *Partial) { p.Args = []string{"y.yaml"} }), `arguments ["x.yaml"] and ["y.yaml"]`},
		{"scenario", other(func(p *Partial) { p.Scenario = nil }), "the scenario file's text differs"},
		{"n", other(func(p *Partial) { p.Shard = Spec{3, 4} }), "3 and 4 shards"},
	} {
		_, err := join(tt.parts, "v1")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := join(nil, "v1"); err == nil {
		t.Error("nothing to join: no error")
	}
}

func TestHunt(t *testing.T) {
	hunt := func(k, n, ran int, failed bool) *Partial {
		h := &Hunt{Ran: ran}
		if failed {
			f := Spec{k, n}.Trial(ran - 1)
			h.FirstFailure = &f
		}
		return &Partial{Format: FormatVersion, Version: "v1", Command: "check", Shard: Spec{k, n}, Hunt: h}
	}
	for _, tt := range []struct {
		parts      []*Partial
		first, ran int
	}{
		{[]*Partial{hunt(1, 2, 50, false), hunt(2, 2, 50, false)}, -1, 100},
		{[]*Partial{hunt(1, 2, 7, true), hunt(2, 2, 3, true)}, 5, 6}, // trials 12 and 5: the first is 5
		{[]*Partial{hunt(1, 3, 50, false), hunt(2, 3, 4, true), hunt(3, 3, 50, false)}, 10, 11},
	} {
		for _, p := range tt.parts {
			if _, err := Read(bytes.NewReader(write(t, p))); err != nil {
				t.Fatal(err)
			}
		}
		m, err := join(tt.parts, "v1")
		if err != nil {
			t.Fatal(err)
		}
		if first, ran, err := m.Hunt(); err != nil || first != tt.first || ran != tt.ran {
			t.Errorf("got first failure %d after %d trials (%v), want %d after %d", first, ran, err, tt.first, tt.ran)
		}
	}
}

// withFind gives every part of parts the matches of q.
func withFind(q *find.Query, parts []*Partial) []*Partial {
	for _, p := range parts {
		for i := range p.Parts {
			pt := &p.Parts[i]
			a := &runner.Aggregate{Matches: []runner.Matches{{Query: q}}}
			for j := pt.First; j < pt.First+pt.Count; j++ {
				a.Add(j, result(j))
			}
			pt.Aggregate = a
		}
	}
	return parts
}

// TestFindQueries: a part's --find matches merge like the rest, and come
// back with the command's own queries; a damaged or different query is
// refused.
func TestFindQueries(t *testing.T) {
	slowest, err := find.Parse("slowest:3")
	if err != nil {
		t.Fatal(err)
	}
	m := readBack(t, withFind(slowest, partials(2, 40)))
	agg, err := m.Aggregate(Trials, 1, 40, []*find.Query{slowest})
	if err != nil || len(agg.Matches) != 1 || agg.Matches[0].Query != slowest || len(agg.Matches[0].Top) != 3 {
		t.Fatalf("got %+v, %v; want the 3 slowest with the command's query", agg, err)
	}
	if _, err := m.Aggregate(Trials, 1, 40, nil); err == nil {
		t.Error("a command without the shards' query: no error")
	}

	other, _ := find.Parse("slowest:4")
	mixed := append(withFind(slowest, partials(2, 40))[:1], withFind(other, partials(2, 40))[1])
	if _, err := join(mixed, "v1"); err == nil || !strings.Contains(err.Error(), "other --find queries") {
		t.Errorf("shards of other queries: got %v", err)
	}
	broken := string(write(t, withFind(slowest, partials(2, 40))[0]))
	for _, tt := range []struct{ from, to, want string }{
		{`"Query":{"Text":"slowest:3","Limit":3}`, `"Query":null`, "no query"},
		{`"Limit":3`, `"Limit":0`, "a limit out of range"},
		{`"Count":13`, `"Count":2`, "more than 2"},
	} {
		if !strings.Contains(broken, tt.from) {
			t.Fatalf("no %s in %s", tt.from, broken)
		}
		if _, err := Read(strings.NewReader(strings.Replace(broken, tt.from, tt.to, 1))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error saying %q", tt.to, err, tt.want)
		}
	}
}

// TestReadRefusesDamage: what no shard writes is an error saying what is
// wrong.
func TestReadRefusesDamage(t *testing.T) {
	good := string(write(t, partials(2, 10)[0]))
	for _, tt := range []struct{ edit, want string }{
		{`{"hello": 1}`, "not a partial result of raftsim"},
		{`[]`, "not a partial result of raftsim"},
		{strings.Replace(good, `"raftsim_partial":1`, `"raftsim_partial":2`, 1), "format 2; this raftsim reads format 1"},
		{strings.Replace(good, `"command":"sweep"`, `"command":"sweep","extra":1`, 1), `unknown field "extra"`},
		{strings.Replace(good, `"command":"sweep"`, `"command":""`, 1), "no command"},
		{strings.Replace(good, `"k":1`, `"k":3`, 1), "shard 3/2"},
		{strings.Replace(good, `"kind":"trials"`, `"kind":"laps"`, 1), `kind "laps"`},
		{strings.Replace(good, `"first":0`, `"first":-1`, 1), "units -1 to"},
		{strings.Replace(good, `"of":10`, `"of":4`, 1), "units 0 to 4 of 4"},
		{strings.Replace(good, `"Trials":5`, `"Trials":6`, 1), "6 trials"},
		{strings.Replace(good, `"Trial":0`, `"Trial":7`, 1), "failures: trial 7, outside the part"},
		{good + good, "more than one JSON value"},
	} {
		if tt.edit == good {
			t.Fatalf("the edit for %q changed nothing", tt.want)
		}
		_, err := Read(strings.NewReader(tt.edit))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want an error saying %q", err, tt.want)
		}
	}
}

// FuzzRead: any input either is refused or reads as a partial that writes
// back to what reads as the same partial, and never panics.
func FuzzRead(f *testing.F) {
	slowest, _ := find.Parse("slowest:2")
	for _, p := range append(partials(3, 20), withFind(slowest, partials(2, 10))...) {
		var b bytes.Buffer
		p.Write(&b)
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"raftsim_partial":1,"raftsim_version":"v1","command":"check","flags":[],"args":[],"shard":{"k":2,"n":3},"hunt":{"ran":2,"first_failure":4}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := p.Write(&b); err != nil {
			t.Fatal(err)
		}
		again, err := Read(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("%s: written back, does not read: %v", b.Bytes(), err)
		}
		var c bytes.Buffer
		again.Write(&c)
		if !bytes.Equal(b.Bytes(), c.Bytes()) {
			t.Fatalf("written twice:\n%s\n%s", b.Bytes(), c.Bytes())
		}
	})
}

// TestVersion: a test binary's version does not pin its code, so the
// executable's hash is part of it.
func TestVersion(t *testing.T) {
	v := Version()
	if !strings.HasPrefix(v, "(devel) sha256:") || len(v) != len("(devel) sha256:")+12 || v != Version() {
		t.Errorf("Version() = %q, want (devel) and the executable's hash, the same every time", v)
	}
}
