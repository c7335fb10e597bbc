package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
)

// runShards runs the command args as n shards into dir, shard k with
// --workers 1 or 2 in turn, and returns the partial results' paths.
func runShards(t *testing.T, dir string, n int, args ...string) []string {
	t.Helper()
	var parts []string
	for k := 1; k <= n; k++ {
		part := filepath.Join(dir, fmt.Sprintf("part-%d.json", k))
		code, out, errw := raftsim(append(args, "--shard", fmt.Sprintf("%d/%d", k, n), "--out", part, "--workers", fmt.Sprint(1+k%2))...)
		if code != 0 || out != "" {
			t.Fatalf("shard %d/%d of %q: exit %d (want 0, whatever its trials found), stdout %q, stderr %s", k, n, args, code, out, errw)
		}
		parts = append(parts, part)
	}
	return parts
}

// output runs args and returns its exit status, its standard output and
// the bytes of the files it wrote (files, then removed).
func output(t *testing.T, files []string, args ...string) (int, string, []string) {
	t.Helper()
	code, out, errw := raftsim(args...)
	if code == exitBadUsage {
		t.Fatalf("raftsim %q: exit 2: %s", args, errw)
	}
	var data []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("raftsim %q: %v", args, err)
		}
		data = append(data, string(b))
		os.Remove(f)
	}
	return code, out, data
}

// TestMergeEqualsUnsharded: four shards of run, sweep (with its plots) and
// check, run at different worker counts and merged, print what the
// unsharded command prints, byte for byte, and exit as it does.
func TestMergeEqualsUnsharded(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // where check --swarm saves the configuration it found
	svg, png := filepath.Join(dir, "cdf.svg"), filepath.Join(dir, "cdf.png")
	for _, tt := range []struct {
		args  []string
		files []string // written by the command, and by the merge
	}{
		{args: []string{"run", "leader-crash", "--trials", "300", "--steady-time", "30m", "--find", "rounds>=2", "--find", "slowest:3", "--find", "needless:2"}},
		{args: []string{"run", "cold-start", "--nodes", "4", "--bug", "peers-majority", "--trials", "300", "--format", "json"}},
		{args: []string{"sweep", "leader-crash", "--election-timeout", "100ms-200ms,150ms-300ms", "--nodes", "3,5", "--trials", "100",
			"--steady-time", "20m", "--plot", svg, "--plot", png}, files: []string{svg, png}},
		{args: []string{"sweep", "cold-start", "--nodes", "4", "--bug", "peers-majority", "--election-timeout", "150-300ms,150-160ms",
			"--trials", "50", "--steady-time", "0", "--format", "csv"}},
		{args: []string{"check", "cold-start", "--nodes", "4", "--bug", "peers-majority", "--trials", "3000"}},
		{args: []string{"check", "leader-crash", "--trials", "300"}},
		{args: []string{"check", "--swarm", "--bug", "vote-unrecorded", "--trials", "2000", "--no-shrink"}},
	} {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			wantCode, want, wantFiles := output(t, tt.files, tt.args...)
			parts := runShards(t, dir, 4, tt.args...)
			code, got, gotFiles := output(t, tt.files, append([]string{"merge"}, parts...)...)
			if code != wantCode {
				t.Errorf("merge exit %d, unsharded exit %d", code, wantCode)
			}
			if got != want {
				t.Errorf("merged:\n%s\nunsharded:\n%s", got, want)
			}
			for i := range wantFiles {
				if gotFiles[i] != wantFiles[i] {
					t.Errorf("the merge's %s differs from the unsharded command's", tt.files[i])
				}
			}
		})
	}
}

// TestShardsAnyWorkers: a shard writes the same partial result at any
// number of workers, and shards of any count merge to the same bytes.
func TestShardsAnyWorkers(t *testing.T) {
	args := []string{"sweep", "leader-crash", "--election-timeout", "100ms-200ms,150ms-300ms", "--trials", "90", "--steady-time", "20m", "--format", "json"}
	_, want, _ := raftsim(args...)
	for _, n := range []int{1, 3, 7} {
		parts := runShards(t, t.TempDir(), n, args...)
		code, got, errw := raftsim(append([]string{"merge"}, parts...)...)
		if code != 0 || got != want {
			t.Errorf("%d shards merged: exit %d, %s\n%s\nwant\n%s", n, code, errw, got, want)
		}
		if n != 3 {
			continue
		}
		for k, part := range parts {
			again := filepath.Join(t.TempDir(), "again.json")
			raftsim(append(args, "--shard", fmt.Sprintf("%d/3", k+1), "--out", again, "--workers", "3")...)
			a, _ := os.ReadFile(part)
			b, _ := os.ReadFile(again)
			if string(a) != string(b) {
				t.Errorf("shard %d/3 differs at --workers 3", k+1)
			}
		}
	}
}

// TestMergeCarriesTheScenario: a merge needs no scenario file: the
// partial results carry its text, as the shards read it.
func TestMergeCarriesTheScenario(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.yaml")
	text, err := scenarios.BuiltinYAML("partition-leader")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", file, "--trials", "200", "--prevote"}
	_, want, _ := raftsim(args...)
	parts := runShards(t, dir, 2, args...)
	if err := os.WriteFile(file, []byte("name: changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, got, errw := raftsim(append([]string{"merge"}, parts...)...); got != want {
		t.Errorf("merged after the file changed: %s\n%s\nwant\n%s", errw, got, want)
	}
}

// TestMergeRefuses: a missing shard, a shard given twice, a shard of
// another run or another raftsim version, and what is no partial result
// are errors (exit 2) naming the files.
func TestMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "leader-crash", "--trials", "40"}
	parts := runShards(t, dir, 4, args...)
	other := filepath.Join(dir, "other.json")
	raftsim(append(args, "--seed", "2", "--shard", "4/4", "--out", other)...)
	copied := filepath.Join(dir, "copy.json")
	data, _ := os.ReadFile(parts[2])
	os.WriteFile(copied, data, 0o644)
	version := filepath.Join(dir, "version.json")
	os.WriteFile(version, []byte(strings.Replace(string(data), `"raftsim_version":"`, `"raftsim_version":"v9.9.9 `, 1)), 0o644)
	report := filepath.Join(dir, "report.txt")
	raftsim(append(args, "--out", report)...)

	for _, tt := range []struct {
		files []string
		want  string
	}{
		{parts[:3], "merge: shard 4 of 4 missing: the partial results given (" + parts[0] + " and 2 more) are shards 1-3"},
		{append(parts[:4:4], copied), parts[2] + " and " + copied + " are both shard 3/4"},
		{append(parts[:3:3], other), parts[0] + " and " + other + ` are shards of different runs: flags ["--trials=40"] and ["--trials=40" "--seed=2"]`},
		{append(parts[:2:2], version, parts[3]), version + " was written by raftsim v9.9.9 "},
		{append(parts[:3:3], report), "merge: " + report + ": not a partial result of raftsim"},
		{[]string{filepath.Join(dir, "none.json")}, "none.json: no such file"},
		{nil, "merge: give the partial results of every shard"},
	} {
		code, out, errw := raftsim(append([]string{"merge"}, tt.files...)...)
		if code != exitBadUsage || out != "" || !strings.Contains(errw, tt.want) {
			t.Errorf("merge %q: exit %d, stdout %q, stderr %q; want exit 2 and an error saying %q", tt.files, code, out, errw, tt.want)
		}
	}
}

// TestShardFlag: auto/N takes K from a Kubernetes Indexed Job's or a Slurm
// array's environment; bad values are errors naming the flag.
func TestShardFlag(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "cold-start", "--trials", "50"}
	want := runShards(t, dir, 3, args...)
	wantData, _ := os.ReadFile(want[1])
	for _, env := range []map[string]string{
		{"JOB_COMPLETION_INDEX": "1"},
		{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"},
	} {
		for _, name := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"} {
			t.Setenv(name, env[name])
		}
		got := filepath.Join(dir, "auto.json")
		if code, _, errw := raftsim(append(args, "--shard", "auto/3", "--out", got)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", env, code, errw)
		}
		if data, _ := os.ReadFile(got); string(data) != string(wantData) {
			t.Errorf("%v: auto/3 is not shard 2/3", env)
		}
	}
	t.Setenv("JOB_COMPLETION_INDEX", "")
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	for _, tt := range []struct{ shard, want string }{
		{"5/4", `--shard "5/4": want K from 1 to 4`},
		{"1/0", `--shard "1/0": want K/N`},
		{"auto/4", "--shard auto/4: neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (a Slurm job array) is set"},
	} {
		for _, cmd := range []string{"run", "sweep", "check"} {
			code, _, errw := raftsim(cmd, "--shard", tt.shard, "--election-timeout", "150-300ms")
			if code != exitBadUsage || !strings.Contains(errw, tt.want) {
				t.Errorf("%s --shard %s: exit %d, %q; want exit 2 and %q", cmd, tt.shard, code, errw, tt.want)
			}
		}
	}
	for _, cmd := range []string{"run", "sweep"} {
		samples := filepath.Join(dir, "samples.csv")
		code, _, errw := raftsim(cmd, "--shard", "1/2", "--samples", samples, "--election-timeout", "150-300ms")
		if code != exitBadUsage || !strings.Contains(errw, "--samples with --shard") {
			t.Errorf("%s --shard 1/2 --samples: exit %d, %q; want exit 2 and an error naming both", cmd, code, errw)
		}
	}
}
