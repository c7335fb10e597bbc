package scenarios

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// referenceRow is one row of a table of the format reference.
type referenceRow struct {
	key  string
	def  string // "" when the table has no default column
	rest string // the row's other cells
	line int
}

var backticked = regexp.MustCompile("`([^`]+)`")

// readReference returns the keys that the tables of README.md list, by
// section: the path of the mapping ("" for the top level, "cluster",
// "network.links", ...), or "actions". A section is named by the first
// backticked word of the heading above the table; a key written as
// steady.duration names its own.
func readReference(t *testing.T) map[string][]referenceRow {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]referenceRow{}
	section, defCol := "", -1
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			section = ""
			if m := backticked.FindStringSubmatch(line); m != nil {
				section = m[1]
			} else if strings.Contains(line, "Actions") {
				section = "actions"
			}
		case strings.HasPrefix(line, "| key |"), strings.HasPrefix(line, "| action |"):
			defCol = slices.Index(cells(line), "default")
		case strings.HasPrefix(line, "| ---"):
		case strings.HasPrefix(line, "| "):
			c := cells(line)
			for _, m := range backticked.FindAllStringSubmatch(c[0], -1) {
				r := referenceRow{key: m[1], rest: strings.Join(c[1:], " | "), line: i + 1}
				sec := section
				if dot := strings.LastIndex(r.key, "."); dot >= 0 {
					sec, r.key = r.key[:dot], r.key[dot+1:]
				}
				if defCol > 0 {
					r.def = strings.ReplaceAll(c[defCol], "`", "")
				}
				out[sec] = append(out[sec], r)
			}
		}
	}
	return out
}

func cells(line string) []string {
	c := strings.Split(strings.Trim(line, "| "), " | ")
	for i := range c {
		c[i] = strings.TrimSpace(c[i])
	}
	return c
}

// table is the keys of one mapping as the decoder knows them.
type table struct {
	names, defs []string
}

func tableOf[T any](ks keys[T]) table {
	var t table
	for _, k := range ks {
		t.names = append(t.names, k.name)
		t.defs = append(t.defs, k.def)
	}
	return t
}

// TestReferenceKeys checks README.md against the decoder's tables: every
// key the decoder accepts is in the reference's table for its mapping, with
// the same default, and every key the reference lists is accepted.
func TestReferenceKeys(t *testing.T) {
	code := map[string]table{
		"":                tableOf(scenarioKeys),
		"cluster":         tableOf(clusterKeys),
		"cluster.options": tableOf(optionKeys),
		"network":         tableOf(networkKeys),
		"network.links":   tableOf(linkKeys),
		"faults":          tableOf(timelineKeys),
		"actions":         {names: actionNames[:]},
		"check":           tableOf(actionForms[Check].keys),
		"measure":         tableOf(measureKeys),
		"expect":          tableOf(expectKeys),
		"steady":          tableOf(steadyKeys),
		"sweep":           tableOf(sweepKeys),
	}
	ref := readReference(t)
	for sec, rows := range ref {
		tab, ok := code[sec]
		if !ok {
			t.Errorf("README.md:%d: a table of %q, which is no mapping of the format", rows[0].line, sec)
			continue
		}
		for _, r := range rows {
			i := slices.Index(tab.names, r.key)
			switch {
			case i < 0:
				t.Errorf("README.md:%d: %s lists key %q, which the decoder does not accept (it accepts %s)",
					r.line, where(sec), r.key, strings.Join(tab.names, ", "))
			case r.def != "" && r.def != tab.defs[i]:
				t.Errorf("README.md:%d: %s.%s: default %q, want the decoder's %q", r.line, where(sec), r.key, r.def, tab.defs[i])
			}
		}
	}
	for sec, tab := range code {
		for _, name := range tab.names {
			if !slices.ContainsFunc(ref[sec], func(r referenceRow) bool { return r.key == name }) {
				t.Errorf("README.md: the table of %s lacks key %q, which the decoder accepts", where(sec), name)
			}
		}
	}
	// An action's keys are shown in its form: {nodes: SEL, for: DIST}.
	for _, r := range ref["actions"] {
		kind := ActionKind(slices.Index(actionNames[:], r.key))
		if int(kind) >= len(actionNames) {
			continue // reported above
		}
		for _, k := range actionForms[kind].keys {
			if !strings.Contains(r.rest, k.name+":") {
				t.Errorf("README.md:%d: the form of %s does not show its key %q", r.line, r.key, k.name)
			}
		}
	}
}

func where(section string) string {
	if section == "" {
		return "the top level"
	}
	return section
}

// TestReferenceErrors checks that the example errors of README.md are
// exactly what raftsim prints for such files.
func TestReferenceErrors(t *testing.T) {
	tests := []string{
		"name: my\ncluster:\n  nodez: 3\n",
		"name: my\ncluster:\n  nodes: 5\nnetwork:\n  latency: 7ms\n  loss: 1.5\n",
		"name: my\ncluster:\n  nodes: 5\nnetwork:\n  latency: 7ms\nfaults:\n  - after: leader-elected\n" +
			"    delay: 1s\n    crash: leader\n  - at: 10s\n    after: leader-elected\n    delay: 2s\n" +
			"    note: a node that is not there\n    crash: n7\n",
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, src := range tests {
		s, err := Parse("my.yaml", []byte(src))
		if err == nil {
			err = s.Validate()
		}
		if err == nil {
			t.Fatalf("%q: no error", src)
		}
		if !slices.Contains(lines, err.Error()) {
			t.Errorf("README.md does not show the error raftsim prints: want the line\n%s", err)
		}
	}
}
