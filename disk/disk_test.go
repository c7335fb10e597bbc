package disk

import (
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

func TestACorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{term: 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(dir); err == nil {
		t.Error("a corrupt state file was loaded")
	}
}
