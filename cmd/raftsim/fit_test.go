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
	t.Parallel() // CPU-bound: it runs while the live tests wait on their processes
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
	code, out, errw := raftsim("fit", "leader-crash", "--target", "150ms-300ms:p50=176ms", "--target", "150ms-300ms:p90=224ms",
		"--trials", "200", "--bootstrap", "20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	for _, want := range []string{"distance minimised: squared log error", "| 150ms-300ms | p50       |     176.0 |", "latency mean",
		"consistent with the published figures at the 5% level"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A median of 170ms and a maximum of 300ms no latency gives at once.
	code, out, errw = raftsim("fit", "leader-crash", "--target", "150ms-300ms:p50=170ms", "--target", "150ms-300ms:max=300ms",
		"--trials", "200", "--bootstrap", "20")
	if code != 1 || !strings.Contains(out, "NOT CONSISTENT with the published figures") || !strings.Contains(errw, "raftsim fit: nothing fits:") ||
		!strings.Contains(errw, "150ms-300ms p50: 170.0ms, the model's") {
		t.Errorf("figures the model cannot meet: exit %d, want 1 and why:\n%s%s", code, out, errw)
	}
}

// TestFitNothingFits: times no 150-300ms cluster can produce (5-9ms) end
// in exit status 1, a message that says the best model is not consistent
// with them and why, the estimate on the search bound named, and no --out
// file.
func TestFitNothingFits(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "fast.csv")
	rows := "election_timeout,time_to_leader_ms\n"
	for i := range 100 {
		rows += fmt.Sprintf("150ms-300ms,%.2f\n", 5+4*float64(i)/100)
	}
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := filepath.Join(dir, "fitted.yaml")
	code, out, errw := raftsim("fit", "leader-crash", "--data", data, "--trials", "100", "--bootstrap", "0", "--out", yaml)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out, errw)
	}
	for _, want := range []string{"raftsim fit: nothing fits: the best model (--latency ", "not consistent with the data at the 5% level: 150ms-300ms: KS 1.000, p-value 0.000",
		"--out " + yaml + " not written"} {
		if !strings.Contains(errw, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errw)
		}
	}
	for _, want := range []string{"on a search bound: latency mean at the search's smallest", "NOT CONSISTENT with the data"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(yaml); err == nil {
		t.Error("--out was written for a fit that fits nothing")
	}
}

// TestFitOutNamesItsSource: the scenario fit --out writes says what it was
// fitted to: the command in a comment, and the description.
func TestFitOutNamesItsSource(t *testing.T) {
	data := fitData(t, "100")
	yaml := filepath.Join(t.TempDir(), "fitted.yaml")
	if code, _, errw := raftsim("fit", "leader-crash", "--data", data, "--trials", "100", "--bootstrap", "0", "--out", yaml); code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	text, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Fitted by: raftsim fit leader-crash --data " + data, "# to: " + data + " (200 measured trials in 2 ranges)",
		"description: \"leader-crash with its network fitted by raftsim fit to " + data + " (200 measured trials in 2 ranges): --latency uniform:"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the fitted scenario lacks %q:\n%s", want, text)
		}
	}
	if code, out, errw := raftsim("run", yaml, "--trials", "10"); code != 0 || !strings.Contains(out, "fitted by raftsim fit to "+data) {
		t.Errorf("run of the fitted scenario: exit %d:\n%s%s", code, out, errw)
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
