package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSamplesWorkersDoNotMatter: --samples writes the same bytes at 1 and
// 2 workers, one row per trial in trial order, for run and sweep.
func TestSamplesWorkersDoNotMatter(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		rows int
	}{
		{"run", []string{"run", "leader-crash", "--trials", "300"}, 300},
		{"sweep", []string{"sweep", "leader-crash", "--election-timeout", "100-200ms,150-300ms", "--trials", "150", "--steady-time", "0"}, 300},
	} {
		var files [2]string
		for i, w := range []string{"1", "2"} {
			path := filepath.Join(dir, c.name+w+".csv")
			if code, _, errw := raftsim(append(c.args, "--workers", w, "--samples", path)...); code != 0 {
				t.Fatalf("%s: exit %d: %s", c.name, code, errw)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files[i] = string(data)
		}
		if files[0] != files[1] {
			t.Errorf("%s: --samples differs between 1 and 2 workers", c.name)
		}
		lines := strings.Split(strings.TrimSpace(files[0]), "\n")
		if lines[0] != "election_timeout,nodes,heartbeat,trial,time_to_leader_ms" || len(lines) != c.rows+1 {
			t.Errorf("%s: header %q and %d rows, want %d rows", c.name, lines[0], len(lines)-1, c.rows)
		}
		if want := "100ms-200ms,5,50ms,0,"; c.name == "sweep" && !strings.HasPrefix(lines[1], want) {
			t.Errorf("sweep: first row %q, want %s...", lines[1], want)
		}
	}
}
