// Package disk keeps a Raft node's persistent state — currentTerm,
// votedFor and the terms of its log entries — in a file of its data
// directory, made durable with fsync before a save returns: a node that
// saves before it answers can be killed with kill -9 at any moment and,
// restarted, never contradicts what it said.
//
// disk must never return from a save before the data and the directory
// entry are on stable storage, and never leaves a half-written file where
// a load would find it.
package disk

import (
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

// FileName is the state's file in a data directory.
const FileName = "raft-state.json"

// Store is a node's state on disk. It is not safe for concurrent use.
type Store struct {
	dir   string
	state State
}

// Open opens the store in dir, creating dir if needed, and loads what it
// holds. found says whether there was a saved state (a restart) or not (a
// first boot).
func Open(dir string) (s *Store, found bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	s = &Store{dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := json.Unmarshal(data, &s.state); err != nil {
		return nil, false, fmt.Errorf("%s: %v", filepath.Join(dir, FileName), err)
	}
	return s, true, nil
}

// State returns the state the store holds.
func (s *Store) State() State { return s.state }

// Save makes term, vote and the log durable. The log changes from entry
// first on: entries replace whatever it held from there (first is 0 when
// no entry changed).
func (s *Store) Save(term uint64, vote string, first uint64, entries []uint64) error {
	next := s.state
	next.Term, next.Vote = term, vote
	if first > 0 {
		if first-1 > uint64(len(next.Log)) {
			return fmt.Errorf("disk: entries from %d, but the log ends at %d", first, len(next.Log))
		}
		next.Log = append(next.Log[:first-1:first-1], entries...)
	}
	data, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	if err := writeDurably(s.dir, FileName, data); err != nil {
		return err
	}
	s.state = next
	return nil
}

// writeDurably replaces dir/name with data: it writes a temporary file,
// syncs it, renames it into place and syncs the directory, so that after a
// crash the file holds either the old data or the new, whole.
func writeDurably(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // nothing left after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
