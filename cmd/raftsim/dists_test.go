package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// heavyFsync is a WAL fsync histogram with issue 25's tail: 0.1% of writes
// at 1-4s.
const heavyFsync = "le,count\n0.001,0\n0.002,9000\n0.004,9990\n1.024,9990\n2.048,9995\n4.096,10000\n+Inf,10000\n"

// dataDir makes a directory with data files and a scenario that reads
// them, and makes it the working directory.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{
		"fsync.csv": heavyFsync,
		"rtt.csv":   "rtt_ms\n0.5\n0.7\n2\n",
		"exp/s.yaml": "cluster:\n  nodes: 3\n  persist: empirical:../fsync.csv\nnetwork:\n  latency: \"mix:0.99*empirical:../rtt.csv+0.01*uniform:50ms-100ms\"\nfaults:\n  - after: leader-elected\n    crash: leader\nmeasure:\n  from: fault\ntrials: 200\n" +
			"sweep:\n  latency: [\"empirical:../rtt.csv\", \"mix:0.5*1ms+0.5*empirical:sub/rtt.csv\"]\n  election_timeout: [150ms-300ms, 300ms-600ms]\n",
		"exp/sub/rtt.csv": "rtt_ms\n3\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

var replayLine = regexp.MustCompile(`replay: (raftsim replay .*)`)

// shellWords splits a replay command as a shell would, for the quoting
// commandLine does here (single quotes around a word).
func shellWords(line string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`'[^']*'|\S+`).FindAllString(line, -1) {
		out = append(out, strings.Trim(m, "'"))
	}
	return out
}

// TestEmpiricalReplay runs trials whose disk and network are read from
// data files, from a flag and from a scenario file, and checks that the
// replay commands found trials print name the files as written and
// replay the same trials.
func TestEmpiricalReplay(t *testing.T) {
	dataDir(t)
	for _, args := range [][]string{
		{"run", "leader-crash", "--trials", "200", "--persist", "empirical:fsync.csv", "--latency", "mix:0.9*1ms+0.1*empirical:rtt.csv"},
		{"run", "exp/s.yaml"},
	} {
		code, out, errw := raftsim(append(args, "--find", "slowest:2")...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errw)
		}
		_, again, _ := raftsim(append(args, "--find", "slowest:2", "--workers", "1")...)
		if again != out {
			t.Errorf("%q: the output differs at another --workers", args)
		}
		found := replayLine.FindAllStringSubmatch(out, -1)
		times := regexp.MustCompile(`time to leader (\S+),`).FindAllStringSubmatch(out, -1)
		if len(found) != 2 || len(times) < 2 {
			t.Fatalf("%q: no replay commands in\n%s", args, out)
		}
		if args[1] == "leader-crash" && !strings.Contains(found[0][1], "--latency 'mix:0.9*const:1ms+0.1*empirical:rtt.csv' --persist empirical:fsync.csv") {
			t.Errorf("replay command %q does not name the data files as written", found[0][1])
		}
		for i, f := range found {
			w := shellWords(f[1])
			code, rout, rerr := raftsim(w[1:]...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", f[1], code, rerr)
			}
			m := regexp.MustCompile(`# measured: time to leader (\S+),`).FindStringSubmatch(rout)
			if m == nil {
				t.Fatalf("%s: no time to leader in\n%s", f[1], rout)
			}
			d, err := time.ParseDuration(m[1])
			if want := times[len(times)-2+i][1]; err != nil || fmt.Sprintf("%.1fms", float64(d)/1e6) != want {
				t.Errorf("%s: the replay measures a time to leader of %s, want %s", f[1], m[1], want)
			}
		}
	}
}

func TestSplitMixtures(t *testing.T) {
	got := splitDistsText("mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s; exp:5ms,7ms;mix:1*empirical:a.csv")
	want := []string{"mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s", "exp:5ms,7ms", "mix:1*empirical:a.csv"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestEmpiricalBadInput: a data file that is missing or wrong stops the
// command with exit 2 and an error naming the flag, or the scenario's
// file, line and field, and the data file's line and column.
func TestEmpiricalBadInput(t *testing.T) {
	dir := dataDir(t)
	if err := os.WriteFile(filepath.Join(dir, "exp", "bad.csv"), []byte("fsync_ms\n1\n-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "exp", "bad.yaml"), []byte("cluster:\n  nodes: 3\n  persist: empirical:bad.csv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--persist", "empirical:missing.csv"}, "raftsim: --persist: missing.csv: no such file or directory\n"},
		{[]string{"run", "--latency", "mix:0.5*1ms+0.4*empirical:rtt.csv"}, "raftsim: --latency: mix: the weights add up to 0.9, want 1 (within 1e-06)\n"},
		{[]string{"run", "exp/bad.yaml"}, "raftsim: exp/bad.yaml:3: cluster.persist: " + filepath.Join("exp", "bad.csv") + ":3: fsync_ms: -2 is not a duration of 0 or more\n"},
	} {
		code, out, errw := raftsim(tt.args...)
		if code != exitBadUsage || out != "" || errw != tt.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errw, tt.want)
		}
	}
}
