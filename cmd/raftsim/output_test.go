package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputFollowsSymlinks: a symlink is followed, its target replaced
// with its mode kept, and the link left a link; a dangling link gets its
// target created.
func TestOutputFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target.json"), filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.json", link); err != nil {
		t.Fatal(err)
	}
	code, _, errw := raftsim("run", "--trials", "20", "--format", "json", "--out", link)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v", err)
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v, want -rw-------", st.Mode())
	}
	if data, _ := os.ReadFile(target); !strings.HasPrefix(string(data), "{") {
		t.Errorf("target holds %q", data)
	}

	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink("new.json", dangling); err != nil {
		t.Fatal(err)
	}
	if code, _, errw := raftsim("run", "--trials", "20", "--out", dangling); code != 0 {
		t.Fatalf("dangling link: exit %d: %s", code, errw)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "new.json")); err != nil || !strings.HasPrefix(string(data), "scenario cold-start") {
		t.Errorf("the dangling link's target: %q, %v", data, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// TestOutputNeverReplacesOtherFiles: a directory is refused; - and
// /dev/stdout are standard output; two outputs on standard output are
// refused.
func TestOutputNeverReplacesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	if code, _, errw := raftsim("run", "--trials", "20", "--out", dir); code != 2 || !strings.Contains(errw, "--out "+dir+": is a directory") {
		t.Errorf("--out DIR: exit %d, stderr %q", code, errw)
	}
	_, want, _ := raftsim("run", "--trials", "20")
	for _, path := range []string{"-", "/dev/stdout"} {
		code, out, errw := raftsim("run", "--trials", "20", "--out", path)
		if code != 0 || out != want || errw != "" {
			t.Errorf("--out %s: exit %d, stderr %q, stdout differs: %v", path, code, errw, out != want)
		}
	}
	code, out, errw := raftsim("sweep", "--election-timeout", "150-300ms", "--trials", "20", "--steady-time", "0", "--plot", "-")
	if code != 2 || out != "" || !strings.Contains(errw, "both go to standard output") {
		t.Errorf("--plot - beside the table: exit %d, stderr %q", code, errw)
	}
	code, out, errw = raftsim("replay", "cold-start", "--seed", "3", "--svg", "-")
	if code != 0 || !strings.HasPrefix(out, "<svg") || !strings.Contains(errw, "# verdict: ok") {
		t.Errorf("replay --svg -: exit %d, stdout %.40q, stderr %.80q; want the SVG on stdout, the timeline on stderr", code, out, errw)
	}
}

// TestOutputCheckedFirst: an output that cannot be written is reported
// before anything else is done, naming the flag and the path the user
// gave, never a temporary file.
func TestOutputCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "no-such-scenario", "--out", filepath.Join(dir, "no", "r.json")}, "--out " + filepath.Join(dir, "no", "r.json") + ": the directory"},
		{[]string{"run", "no-such-scenario", "--out", filepath.Join(notDir, "r.json")}, "--out " + filepath.Join(notDir, "r.json") + ": not a directory"},
		{[]string{"sweep", "no-such-scenario", "--election-timeout", "150-300ms", "--plot", filepath.Join(dir, "no", "p.svg")}, "--plot " + filepath.Join(dir, "no", "p.svg")},
		{[]string{"replay", "no-such-scenario", "--seed", "1", "--trace", dir}, "--trace " + dir + ": is a directory"},
	} {
		code, _, errw := raftsim(tt.args...)
		if code != 2 || !strings.Contains(errw, tt.want) || strings.Contains(errw, ".tmp") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errw, tt.want)
		}
	}
}

// TestSummaryWithOut: with --out, one line on stderr still says what ran,
// how many trials failed and where the output went.
func TestSummaryWithOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	code, out, errw := raftsim("run", "cold-start", "--nodes", "4", "--bug", "peers-majority", "--trials", "2000", "--format", "json", "--out", path)
	want := "raftsim run cold-start: 2000 trials, 53 FAILED (listed with their replay commands in " + path + "); wrote json to " + path + "\n"
	if code != 1 || out != "" || errw != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errw, want)
	}
	table, plot := filepath.Join(dir, "s.txt"), filepath.Join(dir, "p.svg")
	code, _, errw = raftsim("sweep", "--election-timeout", "150-300ms,200-400ms", "--trials", "50", "--steady-time", "0", "--out", table, "--plot", plot)
	want = "raftsim sweep cold-start: 2 cells of 50 trials, none failed; wrote table to " + table + ", plot to " + plot + "\n"
	if code != 0 || errw != want {
		t.Errorf("sweep: exit %d, stderr %q; want %q", code, errw, want)
	}
}
