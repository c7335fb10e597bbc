package samples

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/scenarios"
)

// TestRoundTrip: what Writer writes, Read reads back as the same groups,
// every nanosecond kept; trials that never began have no row.
func TestRoundTrip(t *testing.T) {
	s, err := scenarios.Builtin("figure16")
	if err != nil {
		t.Fatal(err)
	}
	cols, texts := Columns(s, []string{"election-timeout", "loss"}, []string{"150ms-300ms", "0.01"})
	if want := []string{"election_timeout", "nodes", "heartbeat", "loss"}; !reflect.DeepEqual(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	if want := []string{"150ms-300ms", "5", "50%", "0.01"}; !reflect.DeepEqual(texts, want) {
		t.Fatalf("values %v, want %v", texts, want)
	}
	a := Trials{{Started: true, Leader: true, Time: 191039123 * time.Nanosecond}, {}, {Started: true}, {Started: true, Leader: true, Time: 7}}
	b := Trials{{Started: true, Leader: true, Time: 3 * time.Second}}
	var buf bytes.Buffer
	w := NewWriter(&buf, cols)
	if err := w.Write(texts, a); err != nil {
		t.Fatal(err)
	}
	texts[0] = "12ms-24ms"
	if err := w.Write(texts, b); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `election_timeout,nodes,heartbeat,loss,trial,time_to_leader_ms
150ms-300ms,5,50%,0.01,0,191.039123
150ms-300ms,5,50%,0.01,2,
150ms-300ms,5,50%,0.01,3,0.000007
12ms-24ms,5,50%,0.01,0,3000
`
	if buf.String() != want {
		t.Fatalf("wrote\n%s\nwant\n%s", buf.String(), want)
	}
	groups, err := Read("x.csv", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	g := groups[0]
	if g.Conditions.Label() != "election_timeout 150ms-300ms, nodes 5, heartbeat 50%, loss 0.01" || g.Line != 2 || g.Rows() != 3 || g.NoLeader != 1 ||
		!reflect.DeepEqual(g.Times, []time.Duration{191039123, 7}) {
		t.Errorf("group 0: %+v (label %q)", g, g.Conditions.Label())
	}
	if g := groups[1]; g.Conditions.Text("election-timeout") != "12ms-24ms" || g.Line != 5 || !reflect.DeepEqual(g.Times, []time.Duration{3 * time.Second}) {
		t.Errorf("group 1: %+v", g)
	}
}

// TestGroupsByCanonicalConditions: rows group by their conditions as the
// flags read them (150-300ms is 150ms-300ms); an empty optional cell is
// the scenario's own value, a group of its own.
func TestGroupsByCanonicalConditions(t *testing.T) {
	in := "# measured on our cluster\ntime_to_leader_ms, election_timeout ,nodes\n200,150-300ms,\n210,150ms-300ms,\n220,150ms-300ms,3\n"
	groups, err := Read("x.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s:%d", g.Conditions.Label(), len(g.Times)))
	}
	if want := []string{"150ms-300ms:2", "election_timeout 150ms-300ms, nodes 3:1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

// TestJoin: groups of the same conditions from several files become one,
// whatever their files' column order; the others keep their order.
func TestJoin(t *testing.T) {
	read := func(name, text string) []Group {
		gs, err := Read(name, strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return gs
	}
	a := read("a.csv", "election_timeout,nodes,time_to_leader_ms\n150ms-300ms,3,200\n150ms-300ms,3,\n")
	b := read("b.csv", "nodes,time_to_leader_ms,election_timeout\n3,100,100ms-200ms\n3,210,150ms-300ms\n")
	var got []string
	for _, g := range Join(a, b) {
		got = append(got, fmt.Sprintf("%s:%v+%d", g.Conditions.Label(), g.Times, g.NoLeader))
	}
	want := []string{"election_timeout 150ms-300ms, nodes 3:[200ms 210ms]+1", "nodes 3, election_timeout 100ms-200ms:[100ms]+0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("joined %q, want %q", got, want)
	}
	if len(a[0].Times) != 1 {
		t.Errorf("Join changed its input: %v", a[0].Times)
	}
}

// TestReadErrors: every problem names the file, line and column.
func TestReadErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "f.csv:1:1: empty file"},
		{"election_timeout\n150-300ms\n", "f.csv:1:1: no column time_to_leader_ms"},
		{"time_to_leader_ms\n5\n", "f.csv:1:1: no column election_timeout"},
		{"election_timeout,latency,time_to_leader_ms\n", `f.csv:1:18: unknown column "latency"`},
		{"election_timeout,time_to_leader_ms,election_timeout\n", `f.csv:1:36: column "election_timeout" appears twice`},
		{"election_timeout,time_to_leader_ms\n", "f.csv:1:1: no rows"},
		{"election_timeout,time_to_leader_ms\n150ms-300ms,12\n300ms-150ms,12\n", "f.csv:3:1: election_timeout: range \"300ms-150ms\": minimum is above maximum"},
		{"election_timeout,time_to_leader_ms\n150ms-300ms,12\n150ms-300ms,-1\n", `f.csv:3:13: time_to_leader_ms: "-1" is not a time in ms`},
		{"election_timeout,time_to_leader_ms\n150ms-300ms,NaN\n", `f.csv:2:13: time_to_leader_ms: "NaN"`},
		{"election_timeout,time_to_leader_ms\n,12\n", "f.csv:2:1: election_timeout: empty"},
		{"election_timeout,time_to_leader_ms,nodes\n150ms-300ms,12,0\n", "f.csv:2:16: nodes: 0 is outside"},
		{"election_timeout,time_to_leader_ms,trial\n150ms-300ms,12,x\n", `f.csv:2:16: trial: "x" is not a trial index`},
		{"election_timeout,time_to_leader_ms\n150ms-300ms,12,9\n", "f.csv:2:1: wrong number of fields"},
		{"election_timeout,time_to_leader_ms\n\"150ms-300ms,12\n", "f.csv:2:17: extraneous or missing \" in quoted-field"},
	} {
		_, err := Read("f.csv", strings.NewReader(c.in))
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s...", c.in, err, c.want)
		}
	}
}

// FuzzRead: no input makes Read panic; what it accepts has groups of at
// least one row each, with conditions the flags accept, and reads the
// same twice.
func FuzzRead(f *testing.F) {
	f.Add("election_timeout,nodes,heartbeat,trial,time_to_leader_ms\n150ms-300ms,5,50ms,0,191.5\n150ms-300ms,5,50ms,1,\n")
	f.Add("time_to_leader_ms,election_timeout,loss\n1e3,12-24ms,0.5\n\"2\",\"12-24ms\",\n")
	f.Add("election_timeout,time_to_leader_ms\n150ms,\"1\"\"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		groups, err := Read("f.csv", strings.NewReader(in))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a samples.Error", err, err)
			}
			return
		}
		for _, g := range groups {
			if g.Rows() == 0 || g.Conditions.Text("election-timeout") == "" {
				t.Fatalf("group %+v", g)
			}
			var o scenarios.Overrides
			for _, c := range g.Conditions {
				if err := o.Set(c.Flag, c.Text); err != nil || o.Text(c.Flag) != c.Text {
					t.Fatalf("condition %v is not canonical: %v", c, err)
				}
			}
		}
		again, _ := Read("f.csv", strings.NewReader(in))
		if !reflect.DeepEqual(groups, again) {
			t.Fatal("read twice, differently")
		}
	})
}
