package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// raftsim runs the command in-process and returns its exit status and output.
func raftsim(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	code = Main(args, &out, &errw)
	return code, out.String(), errw.String()
}

func TestRunDefault(t *testing.T) {
	code, out, errw := raftsim("run")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errw)
	}
	for _, want := range []string{"scenario cold-start: 1000 trials, seed 1", "time to leader (ms)", "split vote in", "held in every trial"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestRunJSONContract checks every key that later tools rely on.
func TestRunJSONContract(t *testing.T) {
	code, out, errw := raftsim("run", "leader-crash", "--trials", "300", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r["scenario"] != "leader-crash" || r["seed"] != 1.0 || r["trials"] != 300.0 {
		t.Errorf("scenario/seed/trials: %v %v %v", r["scenario"], r["seed"], r["trials"])
	}
	p := r["params"].(map[string]any)
	if p["nodes"] != 5.0 || p["heartbeat_ms"] != 50.0 {
		t.Errorf("params: %v", p)
	}
	if et := p["election_timeout_ms"].([]any); len(et) != 2 || et[0] != 150.0 || et[1] != 300.0 {
		t.Errorf("election_timeout_ms: %v", p["election_timeout_ms"])
	}
	ttl := r["time_to_leader_ms"].(map[string]any)
	for _, k := range []string{"mean", "stddev", "p50", "p90", "p99", "max"} {
		v, ok := ttl[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("time_to_leader_ms.%s = %v", k, ttl[k])
		}
	}
	if ttl["p50"].(float64) > ttl["p99"].(float64) || ttl["p99"].(float64) > ttl["max"].(float64) {
		t.Errorf("quantiles out of order: %v", ttl)
	}
	for _, k := range []string{"p50", "p90", "p99"} {
		ci, _ := ttl[k+"_ci"].([]any)
		if len(ci) != 2 {
			t.Errorf("time_to_leader_ms.%s_ci = %v", k, ttl[k+"_ci"])
			continue
		}
		lo, _ := ci[0].(float64)
		if hi, ok := ci[1].(float64); lo <= 0 || !(lo <= ttl[k].(float64)) || ok && hi < ttl[k].(float64) || !ok && ci[1] != nil {
			t.Errorf("time_to_leader_ms.%s %v: interval %v does not hold it", k, ttl[k], ci)
		}
	}
	if _, ok := p["start"]; ok {
		t.Errorf("params.start %v in a scenario that sets none", p["start"])
	}
	_, out, _ = raftsim("run", "cold-start", "--trials", "1", "--start", "uniform:0-10ms", "--format", "json")
	var started struct{ Params struct{ Start []string } }
	if err := json.Unmarshal([]byte(out), &started); err != nil || !slices.Equal(started.Params.Start, []string{"uniform:0s-10ms"}) {
		t.Errorf("--start uniform:0-10ms: params.start %q (%v), want [uniform:0s-10ms]", started.Params.Start, err)
	}
	if _, ok := r["split_vote_probability"].(float64); !ok {
		t.Errorf("split_vote_probability: %v", r["split_vote_probability"])
	}
	if ci := r["split_vote_ci95"].([]any); len(ci) != 2 || ci[0].(float64) > ci[1].(float64) {
		t.Errorf("split_vote_ci95: %v", r["split_vote_ci95"])
	}
	for _, k := range []string{"rounds_mean", "messages_mean"} {
		if v, ok := r[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v", k, r[k])
		}
	}
	if f, ok := r["failures"].([]any); !ok || len(f) != 0 {
		t.Errorf("failures = %v, want []", r["failures"])
	}
}

// TestSameBytesAnyWorkers: the same scenario and seed print the same bytes
// at any --workers, and when run again.
func TestSameBytesAnyWorkers(t *testing.T) {
	for _, format := range []string{"table", "json", "csv"} {
		_, want, _ := raftsim("run", "partition-leader", "--trials", "500", "--workers", "1", "--format", format)
		for _, w := range []string{"8", "2", "1"} {
			_, got, _ := raftsim("run", "partition-leader", "--trials", "500", "--workers", w, "--format", format)
			if got != want {
				t.Fatalf("%s output at --workers %s differs from --workers 1", format, w)
			}
		}
	}
}

func TestRunCSV(t *testing.T) {
	_, out, _ := raftsim("run", "--trials", "100", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 || len(rows[0]) != len(rows[1]) || rows[0][0] != "scenario" || rows[1][0] != "cold-start" {
		t.Fatalf("csv: %v %v", rows, err)
	}
}

func TestRunOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	code, out, _ := raftsim("run", "--trials", "100", "--format", "json", "--out", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := raftsim("run", "--trials", "100", "--format", "json")
	if string(data) != want {
		t.Error("--out file differs from stdout")
	}
}

func TestOverridesAndFailures(t *testing.T) {
	// With the majority counted over the peers, 4 nodes elect 2 leaders in
	// one term now and then: exit 1, and each failure has a replay command
	// that repeats the overrides.
	code, out, _ := raftsim("run", "cold-start", "--nodes", "4", "--bug", "peers-majority", "--trials", "2000", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var r struct {
		Failures []struct {
			Trial  int
			Seed   uint64
			Kind   string
			Replay string
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) == 0 {
		t.Fatal("no failures listed")
	}
	f := r.Failures[0]
	if f.Kind != "election-safety" || !strings.HasPrefix(f.Replay, "raftsim replay cold-start --seed ") ||
		!strings.Contains(f.Replay, "--nodes 4") || !strings.Contains(f.Replay, "--bug peers-majority") {
		t.Errorf("failure %+v", f)
	}
}

func TestList(t *testing.T) {
	code, out, _ := raftsim("list")
	if code != 0 {
		t.Fatal(code)
	}
	for _, name := range []string{"cold-start", "leader-crash", "staggered-start", "partition-leader", "minority", "churn"} {
		if !strings.Contains(out, name+" ") {
			t.Errorf("list lacks %s", name)
		}
	}
	if code, out, _ := raftsim("list", "--show", "minority"); code != 0 || !strings.Contains(out, "no_leader: true") {
		t.Errorf("list --show: %d %s", code, out)
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := raftsim("--help")
	if code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "Examples:") {
		t.Fatalf("--help: %d\n%s", code, out)
	}
	for _, c := range commands() {
		for _, help := range []string{"--help", "-h"} {
			code, out, errw := raftsim(c.name, help)
			if code != 0 || strings.Count(out, "Usage:") != 1 || errw != "" {
				t.Errorf("%s %s: exit %d, %d helps on stdout, stderr %q; want the help once, on stdout", c.name, help, code, strings.Count(out, "Usage:"), errw)
			}
		}
	}
	code, out, _ = raftsim("run", "--help")
	if code != 0 {
		t.Fatal(code)
	}
	for _, flag := range []string{"--seed", "--trials", "--workers", "--format", "--out", "--nodes", "--election-timeout",
		"--heartbeat", "--latency", "--loss", "Examples:"} {
		if !strings.Contains(out, flag) {
			t.Errorf("run --help lacks %s", flag)
		}
	}
}

// TestBadInput: bad input exits 2 with a message that locates the problem,
// and writes no output file.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\ncluster:\n  nodes: 3\n  heartbeat: fast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("cluster:\n  nodes: 3\nnetwork:\n  lose: 0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ghost := filepath.Join(dir, "ghost.yaml")
	if err := os.WriteFile(ghost, []byte("cluster:\n  nodes: 3\nfaults:\n  - crash: n9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", bad}, bad + ":4: cluster.heartbeat: "},
		{[]string{"run", unknown}, unknown + ":4: network.lose: unknown key"},
		{[]string{"run", ghost}, ghost + ":4: faults[0].crash: node n9 does not exist"},
		{[]string{"run", "leader-crash", "--nodes", "2", "--election-timeout", "300ms-150ms"}, "--election-timeout: range"},
		{[]string{"run", "--latency", "gauss:1ms"}, "--latency: unknown distribution"},
		{[]string{"run", "--loss", "2"}, "--loss: probability 2 is outside [0, 1]"},
		{[]string{"run", "--format", "xml"}, "--format: unknown format"},
		{[]string{"run", "--nodes", "0"}, "--nodes: 0 is outside"},
		{[]string{"run", "--trials", "0"}, "--trials: 0 is outside"},
		{[]string{"run", "--seed", "-1"}, "--seed: want a seed"},
		{[]string{"run", "--bug", "typo"}, "--bug: unknown bug"},
		{[]string{"run", "--frobnicate"}, "unknown flag: --frobnicate"},
		{[]string{"run", "no-such-scenario"}, `no built-in scenario "no-such-scenario"`},
		{[]string{"run", "a", "b"}, "want one scenario"},
		{[]string{"run", filepath.Join(dir, "missing.yaml")}, "missing.yaml: cannot read the scenario"},
		{[]string{"run", "--out", filepath.Join(dir, "no", "dir", "r.json")}, "does not exist"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run", "minority", "--nodes", "2"}, "raftsim: --nodes 2: faults[0].crash: random:3 picks 3 nodes of 2 (in the built-in scenario minority, line 13 of raftsim list --show minority)"},
	}
	for i, tt := range tests {
		out := filepath.Join(dir, fmt.Sprintf("out%d.txt", i))
		args := tt.args
		if args[0] == "run" && !slices.Contains(args, "--out") {
			args = append(args, "--out", out)
		}
		code, stdout, stderr := raftsim(args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", tt.args, code, stderr)
			continue
		}
		if !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: stderr %q lacks %q", tt.args, stderr, tt.want)
		}
		if stdout != "" {
			t.Errorf("%v: wrote to stdout: %q", tt.args, stdout)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote an output file", tt.args)
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: panicked: %s", tt.args, stderr)
		}
	}
}

// TestReadmeSample: the output the README shows is what raftsim prints.
func TestReadmeSample(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "```\nscenario cold-start")
	if start < 0 {
		t.Fatal("README has no sample of raftsim run")
	}
	sample := readme[start+4:]
	sample = sample[:strings.Index(sample, "```")]
	_, out, _ := raftsim("run")
	if out != sample {
		t.Errorf("README's sample differs from raftsim run's output:\n%s", out)
	}
}

// TestDocumentedScenariosRun: every YAML example in README.md and
// scenarios/README.md parses, validates and runs with every expectation
// held: the first file a new user copies works.
func TestDocumentedScenariosRun(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for _, doc := range []string{"../../README.md", "../../scenarios/README.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
			n++
			path := filepath.Join(dir, fmt.Sprintf("example%d.yaml", n))
			if err := os.WriteFile(path, []byte(block[1]), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, errw := raftsim("run", path, "--trials", "20"); code != 0 {
				t.Errorf("%s, example %d: exit %d:\n%s%s%s", doc, n, code, block[1], out, errw)
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d YAML examples, want at least 3", n)
	}
}
