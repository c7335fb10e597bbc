package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/testkit/fuzzing"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/raft"
)

func TestScanKeys(t *testing.T) {
	var many strings.Builder
	many.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	for _, tc := range []struct {
		name, body string
		err        string // part of the error; "" for none
		top        string // the outermost keys, null ones starred
	}{
		{"plain", `{"term":1,"candidateId":"n1"}`, "", "term candidateId"},
		{"null and spaces", "{ \"term\" :\tnull ,\n\"x\": [null]}", "", "term* x"},
		{"strings that look like JSON", `{"a":"}{\"a\":1,","b":"\\","c":"\"a\""}`, "", "a b c"},
		{"the same key in sibling objects", `{"e":[{"a":1},{"a":2}],"f":{"a":{"a":3}}}`, "", "e f"},
		{"a key twice", `{"a":1,"b":2,"a":3}`, `key "a"`, ""},
		{"a key twice, folded", `{"leaderId":1,"LEADERID":2}`, `keys "leaderId" and "LEADERID"`, ""},
		{"a key twice, escaped", `{"term":1,"\u0074erm":2}`, `key "term"`, ""},
		{"a key twice, Kelvin", `{"k":1,"\u212a":2}`, "keys \"k\" and \"\u212a\"", ""},
		{"a key twice, deep", `{"a":[[{"b":{"c":1,"c":2}}]]}`, `key "c"`, ""},
		{"many keys, the last twice", many.String() + `"k7":0}`, `key "k7"`, ""},
		{"many keys, the last twice, folded", many.String() + `"K39":0}`, `keys "k39" and "K39"`, ""},
		{"an array", `[{"a":1}]`, "not a JSON object", ""},
		{"a string", `"{}"`, "not a JSON object", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top, err := scanKeys([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range top {
				if k.null {
					k.name += "*"
				}
				got = append(got, k.name)
			}
			if strings.Join(got, " ") != tc.top {
				t.Errorf("outermost keys: got %q, want %q", strings.Join(got, " "), tc.top)
			}
		})
	}
}

// FuzzScanKeys: on any valid JSON, scanKeys finds a key twice exactly when
// a walk of encoding/json's tokens does, comparing keys as Go's reader
// does.
func FuzzScanKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"A":2}`, `{"a":[{"b":1},{"b":2}]}`, `{"x":"\"}"}`, `{"\u00e9":1,"\u00c9":2}`, `{"s":1,"\u017f":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			return
		}
		_, err := scanKeys(body)
		want := tokenDuplicate(t, body)
		if (err != nil) != want {
			t.Errorf("%s: scanKeys says %v; a key twice: %v", body, err, want)
		}
		if err != nil && !errors.Is(err, ErrDuplicate) {
			t.Errorf("%s: got %v, want ErrDuplicate", body, err)
		}
	})
}

// tokenDuplicate is scanKeys' verdict the slow way: json.Decoder's tokens,
// keys compared with bytes.EqualFold.
func tokenDuplicate(t *testing.T, body []byte) bool {
	type frame struct {
		object, expectKey bool
		keys              []string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			f := stack[n-1]
			if key, isKey := tok.(string); isKey && f.expectKey {
				for _, k := range f.keys {
					if bytes.EqualFold([]byte(k), []byte(key)) {
						return true
					}
				}
				f.keys, f.expectKey = append(f.keys, key), false
				continue
			}
			f.expectKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// BenchmarkDecodeLongAppend: the cost of reading an AppendEntries of a
// thousand entries, which a node pays for every one it is sent.
func BenchmarkDecodeLongAppend(b *testing.B) {
	var s strings.Builder
	s.WriteString(`{"term":5,"leaderId":"n2","prevLogIndex":0,"prevLogTerm":0,"leaderCommit":0,"entries":[`)
	for i := 1; i <= 1000; i++ {
		if i > 1 {
			s.WriteByte(',')
		}
		fmt.Fprintf(&s, `{"index":%d,"term":5,"command":null}`, i)
	}
	s.WriteString("]}")
	body := []byte(s.String())
	for b.Loop() {
		if _, err := DecodeRequest(raft.MsgApp, body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFuzzLong fuzzes scanKeys against the token walk for a while, in the
// long suites (internal/testkit/long).
func TestFuzzLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("fuzzing runs in the long suites (RAFTSIM_LONG=1); go test replays the seed corpus")
	}
	fuzzing.Run(t, "FuzzScanKeys", 10*time.Second, 3*time.Minute)
}
