package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
	ErrEntries   = errors.New("entries must be numbered one by one from prevLogIndex+1")
	ErrLogTerm   = errors.New("log terms never decrease along a log, nor pass the sender's term")
)

// DecodeObject decodes body, one JSON object, into v, requiring the fields
// named (present and not null). It refuses a key written twice in any
// object of the body, keys that differ only in case included (Go's reader
// takes them for one), and names the field of a value of the wrong type.
func DecodeObject(body []byte, v any, required ...string) error {
	if !json.Valid(body) {
		var x any
		return fmt.Errorf("not a JSON object: %v", json.Unmarshal(body, &x))
	}
	top, err := scanKeys(body)
	if err != nil {
		return err
	}
	for _, f := range required {
		if !slices.ContainsFunc(top, func(k topKey) bool { return k.name == f && !k.null }) {
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

// topKey is a key of the outermost object, and whether its value is null.
type topKey struct {
	name string
	null bool
}

// keysInline is how many keys of one object are compared one by one
// before a map takes over, so that an object of many keys costs linear
// time and the usual ones allocate nothing.
const keysInline = 16

// scanKeys walks body, valid JSON, and refuses a key that is, to Go's
// reader (bytes.EqualFold), one already written in the same object. It
// returns the keys of the outermost value, which must be an object. It is
// a byte scanner rather than json.Decoder's tokens, which cost a
// thousand-entry AppendEntries 15 ms and 44,000 allocations.
func scanKeys(body []byte) ([]topKey, error) {
	var (
		stack      []keyFrame
		top        []topKey
		pendingTop = -1 // a key of the outermost object whose value comes next
	)
	first := true
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			continue
		}
		if first {
			if c != '{' {
				return nil, errors.New("not a JSON object")
			}
			first = false
		}
		if pendingTop >= 0 {
			top[pendingTop].null = c == 'n'
			pendingTop = -1
		}
		switch c {
		case '{', '[':
			if len(stack) < cap(stack) { // reuse a closed frame's storage
				stack = stack[:len(stack)+1]
				f := &stack[len(stack)-1]
				f.object, f.expectKey, f.keys, f.folded = c == '{', c == '{', f.keys[:0], nil
			} else {
				stack = append(stack, keyFrame{object: c == '{', expectKey: c == '{'})
			}
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			f := &stack[len(stack)-1]
			f.expectKey = f.object
		case '"':
			end := stringEnd(body, i)
			f := &stack[len(stack)-1]
			if f.object && f.expectKey {
				key := body[i+1 : end]
				if bytes.IndexByte(key, '\\') >= 0 {
					var unescaped string
					if err := json.Unmarshal(body[i:end+1], &unescaped); err != nil {
						return nil, fmt.Errorf("not a JSON object: %v", err)
					}
					key = []byte(unescaped)
				}
				if err := f.add(key); err != nil {
					return nil, err
				}
				f.expectKey = false
				if len(stack) == 1 {
					top = append(top, topKey{name: string(key)})
					pendingTop = len(top) - 1
				}
			}
			i = end
		}
	}
	return top, nil
}

// keyFrame is an object or an array open at some point of scanKeys' walk:
// in an object, whether the next string is a key, and the keys so far.
type keyFrame struct {
	object    bool
	expectKey bool
	keys      [][]byte          // the object's keys, unescaped, while they are few
	folded    map[string][]byte // then all of them, by fold
}

// add records key, refusing it if the object has it already.
func (f *keyFrame) add(key []byte) error {
	if f.folded == nil {
		for _, k := range f.keys {
			if bytes.EqualFold(k, key) {
				return duplicate(k, key)
			}
		}
		if len(f.keys) < keysInline {
			f.keys = append(f.keys, key)
			return nil
		}
		f.folded = make(map[string][]byte, 2*keysInline)
		for _, k := range f.keys {
			f.folded[fold(string(k))] = k
		}
	}
	fk := fold(string(key))
	if k, ok := f.folded[fk]; ok {
		return duplicate(k, key)
	}
	f.folded[fk] = key
	return nil
}

func duplicate(first, again []byte) error {
	if bytes.Equal(first, again) {
		return fmt.Errorf("key %q: %w", again, ErrDuplicate)
	}
	return fmt.Errorf("keys %q and %q: %w", first, again, ErrDuplicate)
}

// stringEnd returns the index of the quote that ends the JSON string whose
// opening quote is at body[start].
func stringEnd(body []byte, start int) int {
	for i := start + 1; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++ // the escaped byte
		case '"':
			return i
		}
	}
	return len(body) - 1 // not reached in valid JSON
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
