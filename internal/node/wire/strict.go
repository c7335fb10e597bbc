package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/raftsim/raftsim/raft"
)

// MaxNumber is the largest term or index the wire carries: 2^53-1, the
// largest integer a JSON number carries exactly. JavaScript reads every
// JSON number as an IEEE 754 double, so the chapter's TypeScript nodes
// cannot tell 2^53 from 2^53+1; a body with a larger number is refused. It
// is [raft.MaxTerm], which raftsim's own node never passes.
const MaxNumber = raft.MaxTerm

// MaxBody is the most bytes of a request or reply body raftsim reads: a
// longer request gets 400. An AppendEntries of a few thousand entries fits
// many times over.
const MaxBody = 1 << 20

// Errors of decoding: what no honest node sends.
var (
	ErrMissing   = errors.New("missing field")
	ErrDuplicate = errors.New("a key twice in one object (a reader would keep one of them, which one depends on the reader)")
	ErrTooLarge  = fmt.Errorf("above %d (2^53-1), the largest integer a JSON number carries exactly", uint64(MaxNumber))
	ErrEntries   = errors.New("entries must be numbered prevLogIndex+1, prevLogIndex+2, ...")
	ErrLogTerm   = errors.New("log terms never decrease along a log, nor pass the sender's term")
)

// DecodeObject decodes body, one JSON object, into v, requiring the fields
// named (present and not null). It refuses a key written twice in any
// object of the body, keys that differ only in case included (Go's reader
// takes them for one), and names the field of a value of the wrong type.
func DecodeObject(body []byte, v any, required ...string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	if err := uniqueKeys(body); err != nil {
		return err
	}
	for _, f := range required {
		if raw, ok := fields[f]; !ok || bytes.Equal(raw, []byte("null")) {
			return fmt.Errorf("%w %q", ErrMissing, f)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return err
		}
		if te.Type.Kind() == reflect.Uint64 {
			if digits, ok := strings.CutPrefix(te.Value, "number "); ok && strings.Trim(digits, "0123456789") == "" {
				return fmt.Errorf("field %q: %s is %w", te.Field, digits, ErrTooLarge) // beyond even 2^64-1
			}
			return fmt.Errorf("field %q: want a whole number from 0 to %d, got %s", te.Field, uint64(MaxNumber), te.Value)
		}
		return fmt.Errorf("field %q: want %v, got %s", te.Field, te.Type, te.Value)
	}
	return nil
}

// uniqueKeys walks the tokens of body, a valid JSON value, and refuses a
// key that folds (as Go's reader compares keys) to one already in its
// object.
func uniqueKeys(body []byte) error {
	// One frame per open object or array; in an object, whether the next
	// token is a key, and the keys so far.
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]string // folded key -> the key as written
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a JSON object: %v", err)
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			top := &stack[n-1]
			if key, isKey := tok.(string); isKey && top.expectKey {
				folded := fold(key)
				if first, dup := top.keys[folded]; dup {
					if first == key {
						return fmt.Errorf("key %q: %w", key, ErrDuplicate)
					}
					return fmt.Errorf("keys %q and %q: %w", first, key, ErrDuplicate)
				}
				if top.keys == nil {
					top.keys = map[string]string{}
				}
				top.keys[folded] = key
				top.expectKey = false
				continue
			}
			top.expectKey = true // a value (or the object's end) follows a key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, expectKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// fold returns key as Go's JSON reader compares keys: ASCII letters in
// upper case, other letters as the smallest rune of their case-folding
// orbit (encoding/json's foldName).
func fold(key string) string {
	out := make([]byte, 0, len(key))
	for _, r := range key {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, byte(r))
			continue
		}
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				r = next
				break
			}
			r = next
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// number is a field of a body and its value.
type number struct {
	field string
	value uint64
}

// bounded refuses a number above MaxNumber.
func bounded(ns ...number) error {
	for _, n := range ns {
		if n.value > MaxNumber {
			return fmt.Errorf("field %q: %d is %w", n.field, n.value, ErrTooLarge)
		}
	}
	return nil
}

// checkRequestVote refuses numbers above MaxNumber, and a candidate whose
// last log term is above the term it stands in.
func checkRequestVote(a *RequestVoteArgs) error {
	if err := bounded(number{"term", a.Term}, number{"lastLogIndex", a.LastLogIndex}, number{"lastLogTerm", a.LastLogTerm}); err != nil {
		return err
	}
	if a.LastLogTerm > a.Term {
		return fmt.Errorf("lastLogTerm %d is above term %d: %w", a.LastLogTerm, a.Term, ErrLogTerm)
	}
	return nil
}

// checkAppendEntries refuses numbers above MaxNumber, entries not numbered
// from prevLogIndex+1 on, and log terms that decrease from prevLogTerm on
// or pass the leader's term: the entries would not make a Raft log.
func checkAppendEntries(a *AppendEntriesArgs) error {
	if err := bounded(number{"term", a.Term}, number{"prevLogIndex", a.PrevLogIndex}, number{"prevLogTerm", a.PrevLogTerm},
		number{"leaderCommit", a.LeaderCommit}); err != nil {
		return err
	}
	if a.PrevLogTerm > a.Term {
		return fmt.Errorf("prevLogTerm %d is above term %d: %w", a.PrevLogTerm, a.Term, ErrLogTerm)
	}
	prevTerm := a.PrevLogTerm
	for k, e := range a.Entries {
		if e.Index > MaxNumber || e.Term > MaxNumber {
			return bounded(number{fmt.Sprintf("entries[%d].index", k), e.Index}, number{fmt.Sprintf("entries[%d].term", k), e.Term})
		}
		if e.Index != a.PrevLogIndex+1+uint64(k) {
			return fmt.Errorf("entries[%d].index is %d: %w", k, e.Index, ErrEntries)
		}
		switch {
		case e.Term < prevTerm:
			return fmt.Errorf("entries[%d].term is %d, below the term %d before it: %w", k, e.Term, prevTerm, ErrLogTerm)
		case e.Term > a.Term:
			return fmt.Errorf("entries[%d].term is %d, above term %d: %w", k, e.Term, a.Term, ErrLogTerm)
		}
		prevTerm = e.Term
	}
	return nil
}
