package disk

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSaveThenOpenAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "n1")
	s, found, err := Open(dir)
	if err != nil || found {
		t.Fatalf("a new directory: got found=%v err=%v, want nothing found", found, err)
	}
	steps := []struct {
		term    uint64
		vote    string
		first   uint64
		entries []uint64
	}{
		{1, "n2", 0, nil},
		{1, "n2", 1, []uint64{1, 1}},
		{2, "", 0, nil},
		{3, "n3", 2, []uint64{3}}, // replaces entry 2
	}
	for _, st := range steps {
		if err := s.Save(st.term, st.vote, st.first, st.entries); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	again, found, err := Open(dir)
	if err != nil || !found {
		t.Fatalf("reopen: got found=%v err=%v", found, err)
	}
	got := again.State()
	if got.Term != 3 || got.Vote != "n3" || !slices.Equal(got.Log, []uint64{1, 3}) {
		t.Errorf("got %+v, want term 3, vote n3, log [1 3]", got)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestSaveRefusesAGapInTheLog(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(1, "", 3, []uint64{1}); err == nil {
		t.Error("entries from 3 into an empty log were accepted")
	}
	if s.State().Term != 0 {
		t.Error("a refused save changed the state")
	}
}

func TestACorruptRecordIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{term: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(dir); err == nil {
		t.Error("a corrupt log was loaded")
	}
}

// A crash in the middle of a save leaves the record without its newline:
// the save never returned, so the state is the one before it.
func TestARecordCutShortIsDropped(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(4, "n2", 0, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"term":5,"vo`)
	f.Close()
	s, found, err := Open(dir)
	if err != nil || !found {
		t.Fatalf("got found=%v err=%v", found, err)
	}
	if got := s.State(); got.Term != 4 || got.Vote != "n2" {
		t.Errorf("got %+v, want term 4 and the vote for n2", got)
	}
	if err := s.Save(5, "n3", 0, nil); err != nil { // appends after the dropped bytes, not to them
		t.Fatal(err)
	}
	s.Close()
	s, _, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.State(); got.Term != 5 || got.Vote != "n3" {
		t.Errorf("after another save: got %+v, want term 5 and the vote for n3", got)
	}
}

func TestALongLogIsCompacted(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]uint64, 2000)
	for term := uint64(1); term <= 300; term++ { // about 3 MB of records
		for i := range entries {
			entries[i] = term
		}
		if err := s.Save(term, "n1", 1, entries); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 2*compactAt {
		t.Errorf("the log is %d bytes, want it compacted below %d", st.Size(), 2*compactAt)
	}
	s, _, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := s.State()
	if got.Term != 300 || len(got.Log) != 2000 || got.Log[1999] != 300 {
		t.Errorf("got term %d, %d entries, want term 300 and 2000 entries of term 300", got.Term, len(got.Log))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// failingFile is a temporary file whose write or sync fails, as a full or
// failing disk makes them.
type failingFile struct {
	*os.File
	failWrite, failSync bool
}

var errDisk = errors.New("injected disk failure")

func (f *failingFile) Write(p []byte) (int, error) {
	if f.failWrite {
		return 0, errDisk
	}
	return f.File.Write(p)
}

func (f *failingFile) Sync() error {
	if f.failSync {
		return errDisk
	}
	return f.File.Sync()
}

// TestAFailedCompactionKeepsTheOldLog: when the new log's write or sync
// fails, the compaction returns the error, renames nothing into place, and
// the old log, still open, keeps working and loads as it was.
func TestAFailedCompactionKeepsTheOldLog(t *testing.T) {
	for _, tt := range []struct {
		name                string
		failWrite, failSync bool
	}{{"write", true, false}, {"sync", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			entries := make([]uint64, 2000)
			var term uint64
			for s.size <= compactAt { // grow the log to the size that compacts at the next save
				term++
				if err := s.Save(term, "n1", 1, entries); err != nil {
					t.Fatal(err)
				}
			}
			before, err := os.ReadFile(filepath.Join(dir, FileName))
			if err != nil {
				t.Fatal(err)
			}
			newTemp = func(path string) (tempFile, error) {
				f, err := createBeside(path)
				return &failingFile{File: f, failWrite: tt.failWrite, failSync: tt.failSync}, err
			}
			defer func() { newTemp = func(path string) (tempFile, error) { return createBeside(path) } }()
			if err := s.Save(term+1, "n2", 1, entries); !errors.Is(err, errDisk) {
				t.Fatalf("the compacting save returned %v, want the injected failure", err)
			}
			after, err := os.ReadFile(filepath.Join(dir, FileName))
			if err != nil || !slices.Equal(before, after) {
				t.Fatalf("the log changed (%d bytes before, %d after, %v): want the old log kept", len(before), len(after), err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if got := s.State(); got.Term != term || got.Vote != "n1" {
				t.Errorf("after the failed save: state term %d vote %q, want term %d vote n1: nothing changed", got.Term, got.Vote, term)
			}
			newTemp = func(path string) (tempFile, error) { return createBeside(path) }
			if err := s.Save(term+1, "n2", 1, entries); err != nil {
				t.Fatalf("a save after the failure: %v", err)
			}
			s2, _, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if got := s2.State(); got.Term != term+1 || got.Vote != "n2" {
				t.Errorf("reloaded: term %d vote %q, want term %d vote n2", got.Term, got.Vote, term+1)
			}
		})
	}
}

// TestWriteFileReplacesWholeOrNotAtAll: a failed write leaves the old file
// as it was, and a good one replaces it keeping its mode.
func TestWriteFileReplacesWholeOrNotAtAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	newTemp = func(p string) (tempFile, error) {
		f, err := createBeside(p)
		return &failingFile{File: f, failSync: true}, err
	}
	err := WriteFile(path, []byte("new"))
	newTemp = func(p string) (tempFile, error) { return createBeside(p) }
	if data, _ := os.ReadFile(path); !errors.Is(err, errDisk) || string(data) != "old" {
		t.Fatalf("a failing sync: got %v and %q, want the error and the old file", err, data)
	}
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if data, _ := os.ReadFile(path); string(data) != "new" || st.Mode().Perm() != 0o640 {
		t.Errorf("got %q mode %v, want \"new\" with the old mode 0640", data, st.Mode().Perm())
	}
}

// TestCreateDirWholeOrNotAtAll: a new directory holds every file or does
// not exist; an existing directory that is not empty is left as it was,
// and nothing is left beside it.
func TestCreateDirWholeOrNotAtAll(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "saved")
	files := map[string][]byte{filepath.Join(dir, "a.yaml"): []byte("a"), filepath.Join(dir, "data", "b.csv"): []byte("b")}
	if err := CreateDir(dir, files); err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		if got, err := os.ReadFile(path); err != nil || string(got) != string(want) {
			t.Errorf("%s: %q, %v; want %q", path, got, err, want)
		}
	}
	if err := CreateDir(dir, map[string][]byte{filepath.Join(dir, "c"): []byte("c")}); err == nil {
		t.Error("created over a directory that was there")
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the existing directory changed: %v", err)
	}
	other := filepath.Join(parent, "other")
	if err := CreateDir(other, map[string][]byte{filepath.Join(parent, "elsewhere"): []byte("x")}); err == nil {
		t.Error("wrote a file outside the directory")
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "saved" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the directory: %v, want only saved", names)
	}
}
