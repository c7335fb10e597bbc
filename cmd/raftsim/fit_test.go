package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fitData writes measurements of leader-crash with latency uniform
// 2ms-4ms in two ranges to a file and returns its path.
func fitData(t *testing.T, trials string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "times.csv")
	code, _, errw := raftsim("sweep", "leader-crash", "--election-timeout", "150ms-300ms,100ms-200ms", "--latency", "uniform:2ms-4ms",
		"--seed", "2", "--trials", trials, "--steady-time", "0", "--samples", path)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, errw)
	}
	return path
}

// TestFitSameBytes: the same inputs print the same fit, byte for byte, at
// 1 and 2 workers; the JSON has the keys other tools rely on, --out
// writes a scenario raftsim run takes, and --plot draws the fit.
func TestFitSameBytes(t *testing.T) {
	data := fitData(t, "300")
	yaml, svg := filepath.Join(t.TempDir(), "fitted.yaml"), filepath.Join(t.TempDir(), "fit.svg")
	args := []string{"fit", "leader-crash", "--data", data, "--trials", "200", "--bootstrap", "30", "--format", "json"}
	code, one, errw := raftsim(append(args, "--workers", "1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	code, two, errw := raftsim(append(args, "--workers", "2", "--out", yaml, "--plot", svg)...)
	if code != 0 || one != two {
		t.Fatalf("exit %d (%s); 1 worker:\n%s\n2 workers:\n%s", code, errw, one, two)
	}
	// The same rows split into two files, one range each, fit the same.
	text, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(text), "\n")
	parts := [2]string{lines[0], lines[0]}
	for _, l := range lines[1 : len(lines)-1] { // the last is empty
		k := 0
		if strings.HasPrefix(l, "100ms-200ms,") {
			k = 1
		}
		parts[k] += l
	}
	if strings.Count(parts[0], "\n") != 301 || strings.Count(parts[1], "\n") != 301 {
		t.Fatalf("splitting the rows by range: %d and %d lines", strings.Count(parts[0], "\n"), strings.Count(parts[1], "\n"))
	}
	var split []string
	for k, part := range parts {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("part%d.csv", k))
		if err := os.WriteFile(path, []byte(part), 0o644); err != nil {
			t.Fatal(err)
		}
		split = append(split, "--data", path)
	}
	code, joined, errw := raftsim(append(append([]string{"fit", "leader-crash"}, split...), args[4:]...)...)
	if code != 0 || joined != one {
		t.Errorf("--data twice, a range in each: exit %d (%s); got\n%s\nwant\n%s", code, errw, joined, one)
	}
	var r struct {
		Params        map[string]string `json:"params"`
		LatencyMeanMs float64           `json:"latency_mean_ms"`
		Ranges        []struct {
			ElectionTimeout string   `json:"election_timeout"`
			N               int      `json:"n"`
			KS              *float64 `json:"ks"`
			PValue          *float64 `json:"p_value"`
		} `json:"ranges"`
	}
	if err := json.Unmarshal([]byte(one), &r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Params["latency"], "uniform:") || r.LatencyMeanMs < 1 || r.LatencyMeanMs > 6 || len(r.Ranges) != 2 {
		t.Errorf("params %v, latency_mean_ms %g, %d ranges", r.Params, r.LatencyMeanMs, len(r.Ranges))
	}
	for i, want := range []string{"150ms-300ms", "100ms-200ms"} {
		g := r.Ranges[i]
		if g.ElectionTimeout != want || g.N != 300 || g.KS == nil || g.PValue == nil {
			t.Errorf("range %d: %+v", i, g)
		}
	}
	if img, err := os.ReadFile(svg); err != nil || !strings.Contains(string(img), "<svg") || !strings.Contains(string(img), "150ms-300ms fitted") {
		t.Errorf("--plot: %v, %d bytes", err, len(img))
	}
	code, out, errw := raftsim("run", yaml, "--trials", "50")
	if code != 0 || !strings.Contains(out, "latency "+r.Params["latency"]) {
		t.Errorf("run of the fitted scenario: exit %d: %s%s", code, errw, out)
	}
}

// TestFitTargets: published figures fit too, and the table says what was
// minimised and how close each figure came.
func TestFitTargets(t *testing.T) {
	code, out, errw := raftsim("fit", "leader-crash", "--target", "150ms-300ms:p50=170ms", "--target", "150ms-300ms:max=300ms",
		"--trials", "200", "--bootstrap", "20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	for _, want := range []string{"distance minimised: squared log error", "| 150ms-300ms | p50       |     170.0 |", "latency mean"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestFitBadInput: bad input ends with exit status 2 and a message that
// names the file, line and column, or the flag.
func TestFitBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("election_timeout,time_to_leader_ms\n150ms-300ms,12\n150ms-300ms,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := fitData(t, "20")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fit", "leader-crash", "--data", bad}, bad + `:3:13: time_to_leader_ms: "x" is not a time in ms`},
		{[]string{"fit", "leader-crash", "--data", filepath.Join(dir, "none.csv")}, "--data: " + filepath.Join(dir, "none.csv")},
		{[]string{"fit", "leader-crash"}, "give the measurements"},
		{[]string{"fit", "--data", data}, "want the scenario"},
		{[]string{"fit", "leader-crash", "--data", data, "--target", "150ms-300ms:p50=1ms"}, "not both"},
		{[]string{"fit", "leader-crash", "--target", "150ms-300ms:p95=1ms"}, `unknown statistic "p95"`},
		{[]string{"fit", "leader-crash", "--data", data, "--latency", "uniform:1ms-2ms"}, "--latency: the fit estimates it"},
		{[]string{"fit", "leader-crash", "--data", data, "--fit", "disk"}, `--fit: unknown component "disk"`},
		{[]string{"fit", "leader-crash", "--data", data, "--family", "pareto"}, "--family"},
		{[]string{"fit", "leader-crash", "--data", data, "--format", "csv"}, "--format: want table or json"},
		{[]string{"fit", "leader-crash", "--data", data, "--election-timeout", "1ms-2ms"}, "unknown flag: --election-timeout"},
	} {
		code, _, errw := raftsim(c.args...)
		if code != 2 || !strings.Contains(errw, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errw, c.want)
		}
	}
}
