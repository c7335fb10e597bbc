package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeEmpirical runs shards whose trials read data files and merges
// them: the merge prints what the unsharded run prints, and refuses when a
// file changed in between, or shards read different data.
func TestMergeEmpirical(t *testing.T) {
	dir := dataDir(t)
	for _, args := range [][]string{
		{"run", "exp/s.yaml", "--trials", "300"},
		{"sweep", "leader-crash", "--trials", "100", "--persist", "empirical:fsync.csv", "--latency", "empirical:rtt.csv;mix:0.5*1ms+0.5*empirical:rtt.csv", "--election-timeout", "150ms-300ms,300ms-600ms"},
		// The scenario's own sweep: lists read files beside it; its cells'
		// replay commands name them from the working directory.
		{"sweep", "exp/s.yaml", "--trials", "100"},
		{"check", "leader-crash", "--trials", "100", "--persist", "empirical:fsync.csv"},
	} {
		want, wantOut, _ := output(t, nil, args...)
		parts := runShards(t, t.TempDir(), 3, args...)
		code, out, errw := raftsim(append([]string{"merge"}, parts...)...)
		if code != want || out != wantOut {
			t.Errorf("merge of %q: exit %d, want %d; stderr %s; output\n%s\nwant\n%s", args, code, want, errw, out, wantOut)
		}
	}
	parts := runShards(t, t.TempDir(), 2, "run", "exp/s.yaml", "--trials", "100")
	data, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `{"path":"fsync.csv","sha256":"`) || !strings.Contains(string(data), `{"path":"rtt.csv","sha256":"`) {
		t.Errorf("the partial result does not list the data files:\n%.400s", data)
	}
	if err := os.WriteFile(filepath.Join(dir, "rtt.csv"), []byte("rtt_ms\n9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errw := raftsim(append([]string{"merge"}, parts...)...)
	if code != exitBadUsage || !strings.Contains(errw, "merge: rtt.csv has changed since the shards read it") {
		t.Errorf("merge after a data file changed: exit %d, stderr %s", code, errw)
	}
	changed := runShards(t, t.TempDir(), 2, "run", "exp/s.yaml", "--trials", "100")
	code, _, errw = raftsim("merge", parts[0], changed[1])
	if code != exitBadUsage || !strings.Contains(errw, "their trials read different data files") {
		t.Errorf("merge of shards that read different data: exit %d, stderr %s", code, errw)
	}
}
