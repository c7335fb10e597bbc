package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/testkit/golden"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/raft"
)

var (
	failureRe = regexp.MustCompile(`(?m)^  ((?:[a-z-]+) at t=.*)$`)
	hashRe    = regexp.MustCompile(`trace sha256 ([0-9a-f]{64})`)
	replayRe  = regexp.MustCompile(`(?m)^  replay: raftsim (.*)$`)
)

// words splits a replay command as printed (no quoting is needed by the
// commands these tests meet).
func words(cmd string) []string { return strings.Fields(cmd) }

// TestEveryBugIsFound: for every deliberate bug, check finds a failure
// within the stated number of trials, and replaying the reported seed
// reproduces the same failure and the same trace, event for event.
func TestEveryBugIsFound(t *testing.T) {
	for _, d := range bugDemos {
		t.Run(d.bug, func(t *testing.T) {
			args := append(append([]string{"check"}, d.args...), "--bug", d.bug, "--trials", strconv.Itoa(d.within), "--no-shrink")
			code, out, errw := raftsim(args...)
			if code != 1 {
				t.Fatalf("%s: exit %d, want 1 (a failure within %d trials)\n%s%s", d.command(), code, d.within, out, errw)
			}
			failure := failureRe.FindStringSubmatch(out)
			hash := hashRe.FindStringSubmatch(out)
			replay := replayRe.FindStringSubmatch(out)
			if failure == nil || hash == nil || replay == nil {
				t.Fatalf("check output lacks a failure, hash or replay:\n%s", out)
			}
			// The last events of the trace end with the violation.
			i := strings.Index(out, "the last 12 events:\n")
			j := strings.Index(out, "  replay: ")
			if i < 0 || j < i {
				t.Fatalf("check output lacks the trace's last events:\n%s", out)
			}
			tail := strings.Split(strings.TrimSpace(out[i:j]), "\n")
			if len(tail) != 13 || !strings.Contains(tail[12], "cluster violation "+strings.Fields(failure[1])[0]) {
				t.Errorf("the last events do not end with the violation:\n%s", out[i:j])
			}
			for run := 0; run < 2; run++ {
				code, rout, _ := raftsim(append(words(replay[1]), "--quiet")...)
				if code != 1 {
					t.Fatalf("replay exit %d, want 1:\n%s", code, rout)
				}
				if !strings.Contains(rout, "# verdict: FAILED "+failure[1]) {
					t.Errorf("replay verdict differs from %q:\n%s", failure[1], rout)
				}
				if !strings.Contains(rout, "# trace sha256 "+hash[1]) {
					t.Errorf("replay trace hash differs from check's %s:\n%s", hash[1], rout)
				}
			}
		})
	}
}

// TestEveryBugHasADemo: raftsim bugs names, for every deliberate bug, the
// check that finds it.
func TestEveryBugHasADemo(t *testing.T) {
	_, out, _ := raftsim("bugs")
	for _, info := range raft.Bugs {
		if !slices.ContainsFunc(bugDemos, func(d bugDemo) bool { return d.bug == info.Name }) {
			t.Errorf("bug %s has no demo", info.Name)
		}
		if !strings.Contains(out, "--bug "+info.Name) {
			t.Errorf("raftsim bugs does not show the check that finds %s:\n%s", info.Name, out)
		}
	}
}

// TestShrink: the shrunk trial is smaller and fails the same way.
func TestShrink(t *testing.T) {
	code, out, _ := raftsim("check", "crash-restart", "--bug", "vote-not-persisted", "--trials", "1000")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	i := strings.Index(out, "shrunk: ")
	if i < 0 || strings.Contains(out, "shrunk: no smaller trial") {
		t.Fatalf("no shrunk trial:\n%s", out)
	}
	shrunk := out[i:]
	if !strings.Contains(shrunk, "fault steps left out") {
		t.Errorf("30 crash steps and none could go:\n%s", shrunk)
	}
	replay := replayRe.FindStringSubmatch(shrunk)
	if replay == nil || !strings.Contains(replay[1], "--skip-steps") {
		t.Fatalf("shrunk replay command: %v", replay)
	}
	code, rout, _ := raftsim(append(words(replay[1]), "-q")...)
	if code != 1 || !strings.Contains(rout, "# verdict: FAILED vote-once") {
		t.Fatalf("the shrunk replay does not fail the same way (exit %d):\n%s", code, rout)
	}
}

// TestSwarmFindsNothingWithoutBugs: 100,000 swarm trials of the correct
// node break no invariant and always converge (10,000 without RAFTSIM_LONG).
func TestSwarmFindsNothingWithoutBugs(t *testing.T) {
	t.Parallel() // CPU-bound: it runs while the live tests wait on their processes
	trials := long.Pick("10000", "100000")
	code, out, errw := raftsim("check", "--swarm", "--trials", trials)
	if code != 0 || !strings.Contains(out, "no failure in "+trials+" trials") {
		t.Fatalf("exit %d:\n%s%s", code, out, errw)
	}
}

// TestSwarmCheckSavesConfiguration: check --swarm saves the failing
// trial's drawn configuration as the file it names, in the current
// directory, and that file run fails the same way; with --out FILE the
// file goes beside FILE. A file of that name with other contents is never
// replaced, and the report says so.
func TestSwarmCheckSavesConfiguration(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	args := []string{"check", "--swarm", "--bug", "peers-majority", "--trials", "500", "--no-shrink"}
	code, out, _ := raftsim(args...)
	if code != 1 || !strings.Contains(out, "the drawn configuration") || !strings.Contains(out, "    cluster:") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	replay := replayRe.FindStringSubmatch(out)
	if replay == nil || !strings.HasPrefix(replay[1], "replay --swarm --seed ") {
		t.Fatalf("replay: %v", replay)
	}
	if code, rout, _ := raftsim(append(words(replay[1]), "-q")...); code != 1 || !strings.Contains(rout, "FAILED election-safety") {
		t.Fatalf("swarm replay: %d\n%s", code, rout)
	}
	saved := regexp.MustCompile(`saved as (swarm-\d+\.yaml), raftsim (run .*) fails the same way:`)
	m := saved.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no saved file and command to run it:\n%s", out)
	}
	var yaml []string
	for _, line := range strings.Split(out[strings.Index(out, m[0]):], "\n")[1:] {
		if !strings.HasPrefix(line, "    ") {
			break
		}
		yaml = append(yaml, strings.TrimPrefix(line, "    "))
	}
	data, err := os.ReadFile(filepath.Join(dir, m[1]))
	if err != nil || string(data) != strings.Join(yaml, "\n")+"\n" {
		t.Fatalf("the saved file (%v):\n%s\nwant what the report shows:\n%s", err, data, strings.Join(yaml, "\n"))
	}
	code, rout, errw := raftsim(words(m[2])...)
	failure := failureRe.FindStringSubmatch(out)
	if code != 1 || failure == nil || !strings.Contains(rout, strings.Fields(failure[1])[0]) || !strings.Contains(rout, "1 trial,") {
		t.Fatalf("the saved configuration: exit %d, want the failure %q in its one trial:\n%s%s", code, failure, rout, errw)
	}
	// Again: the same file is there already, with the same bytes.
	if _, again, _ := raftsim(args...); again != out {
		t.Errorf("a second check, its file already saved, prints otherwise:\n%s\nwant\n%s", again, out)
	}
	// Beside --out; never over a file with other contents.
	sub := filepath.Join(dir, "reports")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(sub, m[1])
	if err := os.WriteFile(other, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	raftsim(append(args, "--out", filepath.Join(sub, "check.txt"))...)
	report, _ := os.ReadFile(filepath.Join(sub, "check.txt"))
	if data, _ := os.ReadFile(other); string(data) != "mine\n" {
		t.Errorf("the file already there was replaced: %q", data)
	}
	if want := "not saved (" + other + ": a file of that name with other contents is there, and raftsim does not replace it)"; !strings.Contains(string(report), want) {
		t.Errorf("report lacks %q:\n%s", want, report)
	}
	os.Remove(other)
	raftsim(append(args, "--out", filepath.Join(sub, "check.txt"))...)
	report, _ = os.ReadFile(filepath.Join(sub, "check.txt"))
	if data, err := os.ReadFile(other); err != nil || !strings.Contains(string(report), "saved as "+other+", raftsim run "+other+" ") || len(data) == 0 {
		t.Errorf("with --out: the file %s (%v), report:\n%s", other, err, report)
	}
}

// TestReplayGolden compares whole replay timelines of fixed seeds with the
// files in testdata/; go test ./cmd/raftsim -update rewrites them.
func TestReplayGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"leader-crash", []string{"replay", "leader-crash", "--seed", "8268644569772574"}},
		{"partition-filtered", []string{"replay", "partition-leader", "--seed", "5", "--node", "n1", "--from", "1000ms", "--to", "3300ms", "--kind", "state,fault,timeout,recv"}},
		{"peers-majority", []string{"replay", "cold-start", "--seed", "4395249872773641", "--nodes", "4", "--bug", "peers-majority"}},
	} {
		_, got, errw := raftsim(tt.args...)
		if errw != "" {
			t.Fatalf("%s: stderr %s", tt.name, errw)
		}
		path := filepath.Join("testdata", "replay-"+tt.name+".txt")
		golden.Check(t, path, got)
		if _, again, _ := raftsim(tt.args...); again != got {
			t.Errorf("%s: two replays differ", tt.name)
		}
	}
}

func TestReplayFilters(t *testing.T) {
	_, out, _ := raftsim("replay", "partition-leader", "--seed", "5", "--node", "n2", "--from", "1s", "--to", "2s", "--kind", "recv,send")
	lines := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "t=") {
			continue
		}
		lines++
		f := strings.Fields(line)
		ms, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(f[0], "t="), "ms"), 64)
		if ms < 1000 || ms > 2000 || !strings.Contains(f[1], "n2") || (f[2] != "recv" && f[2] != "send") {
			t.Fatalf("line outside the filter: %s", line)
		}
	}
	if lines < 20 {
		t.Errorf("only %d lines", lines)
	}
}

// TestTraceFiles checks the structure of the JSON lines, Chrome and SVG
// outputs.
func TestTraceFiles(t *testing.T) {
	dir := t.TempDir()
	jsonl, chrome, svg := filepath.Join(dir, "t.jsonl"), filepath.Join(dir, "t.json"), filepath.Join(dir, "t.svg")
	code, out, errw := raftsim("replay", "partition-leader", "--seed", "5", "--trace", jsonl, "--chrome-trace", chrome, "--svg", svg, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errw)
	}

	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var lastSeq, lastT float64 = -1, -1
	kinds := map[string]int{}
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		seq, tns := e["seq"].(float64), e["t_ns"].(float64)
		if seq <= lastSeq || tns < lastT || e["line"] == nil || e["node"] == nil {
			t.Fatalf("event out of order or incomplete: %s", sc.Text())
		}
		lastSeq, lastT = seq, tns
		kinds[e["kind"].(string)]++
		if e["kind"] == "send" {
			m := e["msg"].(map[string]any)
			if m["type"] == nil || m["term"] == nil || e["peer"] == nil {
				t.Fatalf("send without message fields: %s", sc.Text())
			}
		}
	}
	for _, k := range []string{"start", "timeout", "state", "vote", "send", "recv", "drop", "fault"} {
		if kinds[k] == 0 {
			t.Errorf("no %s events in the JSON lines", k)
		}
	}

	data, err := os.ReadFile(chrome)
	if err != nil {
		t.Fatal(err)
	}
	var ct struct {
		TraceEvents []struct {
			Name string
			Ph   string
			Ts   float64
			Dur  *float64
			Tid  int
			ID   int
			Args map[string]any
		}
		DisplayTimeUnit string
	}
	if err := json.Unmarshal(data, &ct); err != nil {
		t.Fatalf("chrome trace: %v", err)
	}
	threads, slices, instants := map[int]bool{}, 0, 0
	flows := map[int]string{}
	for _, e := range ct.TraceEvents {
		switch e.Ph {
		case "M":
			if e.Name == "thread_name" {
				threads[e.Tid] = true
			}
		case "X":
			if e.Dur == nil || *e.Dur < 0 || e.Tid < 1 {
				t.Fatalf("bad slice %+v", e)
			}
			slices++
		case "s", "f":
			flows[e.ID] += e.Ph
		case "i":
			instants++
		}
	}
	for tid := 0; tid <= 5; tid++ {
		if !threads[tid] {
			t.Errorf("no track named for tid %d", tid)
		}
	}
	for id, ph := range flows {
		if ph != "sf" {
			t.Fatalf("flow %d has %q, want a start and a finish", id, ph)
		}
	}
	if slices < 6 || len(flows) < 50 || instants < 2 || ct.DisplayTimeUnit != "ms" {
		t.Errorf("chrome trace: %d slices, %d flows, %d instants, unit %q", slices, len(flows), instants, ct.DisplayTimeUnit)
	}

	img, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(string(img)))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not XML: %v", err)
		}
	}
	for _, want := range []string{">n1<", ">n5<", "isolate {n1}", "heal", "leader term", "marker-end"} {
		if !strings.Contains(string(img), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestReplayAndCheckBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "cold-start"}, "replay needs --seed"},
		{[]string{"replay", "cold-start", "--seed", "x"}, "--seed: want a seed"},
		{[]string{"replay", "cold-start", "--seed", "1", "--kind", "chatter"}, `--kind: unknown kind "chatter"`},
		{[]string{"replay", "cold-start", "--seed", "1", "--node", "leader"}, "--node: want node names"},
		{[]string{"replay", "cold-start", "--seed", "1", "--from", "soon"}, "--from:"},
		{[]string{"replay", "--swarm", "cold-start", "--seed", "1"}, "give no scenario"},
		{[]string{"replay", "cold-start", "--seed", "1", "--skip-steps", "0"}, "--skip-steps:"},
		{[]string{"replay", "cold-start", "--seed", "1", "--node", "n9"}, "--node n9: cold-start has 5 nodes, n1 to n5"},
		{[]string{"replay", "--swarm", "--seed", "1", "--nodes", "3", "--node", "n4"}, "--node n4: swarm has 3 nodes"},
		{[]string{"replay", "cold-start", "--seed", "1", "--from", "3s", "--to", "1s"}, "--from 3s is after --to 1s"},
		{[]string{"replay", "cold-start", "--seed", "1", "--skip-steps", "1"}, "--skip-steps 1: cold-start has no fault steps"},
		{[]string{"replay", "churn", "--seed", "1", "--skip-steps", "2,22"}, "--skip-steps 22: churn has 21 fault steps (1-21, repeats unrolled)"},
		{[]string{"check", "--trials", "5", "--for", "1s"}, "not both"},
		{[]string{"check", "--swarm", "leader-crash"}, "give no scenario"},
		{[]string{"check", "cold-start", "--bug", "typo"}, "--bug: unknown bug"},
	} {
		code, stdout, stderr := raftsim(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2 and %q", tt.args, code, stderr, stdout, tt.want)
		}
	}
}

// TestReplaySteady: a steady-state run replays from its seed and the
// sweep's --steady-time.
func TestReplaySteady(t *testing.T) {
	code, out, errw := raftsim("replay", "flaky-link", "--seed", "12", "--steady-time", "20m", "-q")
	if code != 0 || !strings.HasPrefix(out, "# raftsim replay flaky-link --seed 12 --steady-time 20m:") ||
		!strings.Contains(out, "# verdict: ok: election-safety, vote-once, term-monotonic, leader-completeness, candidate-steps-down\n") ||
		!strings.Contains(out, "# measured: steady state for 600s:") {
		t.Fatalf("exit %d:\n%s%s", code, out, errw)
	}
}
