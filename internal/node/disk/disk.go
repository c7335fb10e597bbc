// Package disk keeps a Raft node's persistent state — currentTerm,
// votedFor and the terms of its log entries — in a write-ahead log in its
// data directory, made durable with fsync before a save returns: a node
// that saves before it answers can be killed with kill -9 at any moment
// and, restarted, never contradicts what it said.
//
// Each save appends one line (a JSON record) to the log and syncs the file:
// one fsync, where rewriting a file and renaming it into place takes two
// (the file's and the directory's) and costs three times as long. A record
// cut short by a crash is the last line, without its newline; loading drops
// it. When the log grows past a bound it is compacted into one record,
// written to a new file that is renamed into place.
//
// disk must never return from a save before the record is on stable
// storage, and never loads a state that no save returned from.
package disk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// State is what a node keeps across a crash.
type State struct {
	Term uint64   `json:"term"`
	Vote string   `json:"vote"` // the name of the node it voted for in Term, or ""
	Log  []uint64 `json:"log"`  // the terms of entries 1, 2, ...
}

// FileName is the write-ahead log in a data directory.
const FileName = "raft.wal"

// compactAt is the size past which the log is compacted.
const compactAt = 1 << 20

// record is one line of the log: term and vote, and the log's entries from
// First on replaced by Entries (First 0: the entries are unchanged).
type record struct {
	Term    uint64   `json:"term"`
	Vote    string   `json:"vote,omitempty"`
	First   uint64   `json:"first,omitempty"`
	Entries []uint64 `json:"entries,omitempty"`
}

// Store is a node's state on disk. It is not safe for concurrent use.
type Store struct {
	dir   string
	f     *os.File
	size  int64
	state State
}

// Open opens the store in dir, creating dir and the log if needed, and
// loads what it holds. found says whether a state was saved before (a
// restart) or not (a first boot).
func Open(dir string) (s *Store, found bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	path := filepath.Join(dir, FileName)
	s = &Store{dir: dir}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := s.create(); err != nil {
			return nil, false, err
		}
		return s, false, nil
	case err != nil:
		return nil, false, err
	}
	whole := bytes.LastIndexByte(data, '\n') + 1 // what follows is a record cut short by a crash
	for k, line := range bytes.Split(data[:whole], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, false, fmt.Errorf("%s: line %d: %v", path, k+1, err)
		}
		if s.state, err = apply(s.state, &r); err != nil {
			return nil, false, fmt.Errorf("%s: line %d: %v", path, k+1, err)
		}
	}
	if s.f, err = os.OpenFile(path, os.O_WRONLY, 0o644); err != nil {
		return nil, false, err
	}
	if int64(whole) < int64(len(data)) {
		if err := s.f.Truncate(int64(whole)); err != nil {
			s.f.Close()
			return nil, false, err
		}
	}
	if _, err := s.f.Seek(int64(whole), 0); err != nil {
		s.f.Close()
		return nil, false, err
	}
	s.size = int64(whole)
	return s, whole > 0, nil
}

// create makes an empty log, durably: the file and its directory entry.
func (s *Store) create() error {
	f, err := os.OpenFile(filepath.Join(s.dir, FileName), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.f, s.size = f, 0
	return nil
}

// apply returns st with record r applied.
func apply(st State, r *record) (State, error) {
	st.Term, st.Vote = r.Term, r.Vote
	if r.First > 0 {
		if r.First-1 > uint64(len(st.Log)) {
			return st, fmt.Errorf("entries from %d, but the log ends at %d", r.First, len(st.Log))
		}
		st.Log = append(st.Log[:r.First-1:r.First-1], r.Entries...)
	}
	return st, nil
}

// State returns the state the store holds.
func (s *Store) State() State { return s.state }

// Save makes term, vote and the log durable. The log changes from entry
// first on: entries replace whatever it held from there (first is 0 when
// no entry changed).
func (s *Store) Save(term uint64, vote string, first uint64, entries []uint64) error {
	r := record{Term: term, Vote: vote, First: first, Entries: entries}
	next, err := apply(s.state, &r)
	if err != nil {
		return fmt.Errorf("disk: %v", err)
	}
	if s.size > compactAt {
		return s.compact(next)
	}
	if err := s.append(&r); err != nil {
		return err
	}
	s.state = next
	return nil
}

// append writes r as one line and syncs the file.
func (s *Store) append(r *record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if _, err := s.f.Write(line); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.size += int64(len(line))
	return nil
}

// compact replaces the log with one record of st, whole or not at all
// ([WriteFile]): a crash leaves the old log or the new one. On an error
// the old log stays, open, and nothing changed.
func (s *Store) compact(st State) error {
	line, err := json.Marshal(&record{Term: st.Term, Vote: st.Vote, First: 1, Entries: st.Log})
	if err != nil {
		return err
	}
	line = append(line, '\n')
	path := filepath.Join(s.dir, FileName)
	if err := WriteFile(path, line); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.f.Close()
		s.f, s.state = nil, st // the new log holds st; with no file to append to, every later save fails
		return err
	}
	s.f.Close()
	s.f, s.size, s.state = f, int64(len(line)), st
	return nil
}

// Close closes the log.
func (s *Store) Close() error { return s.f.Close() }
