package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// readmeText returns README.md.
func readmeText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readmeBlock returns the code block of README.md that follows after.
func readmeBlock(t *testing.T, after string) string {
	t.Helper()
	readme := readmeText(t)
	i := strings.Index(readme, after)
	if i < 0 {
		t.Fatalf("README has no %q", after)
	}
	rest := readme[i:]
	start := strings.Index(rest, "```\n") + 4
	return rest[start : start+strings.Index(rest[start:], "```")]
}

// TestReadmeCSVColumns: the CSV columns the README lists are the ones run
// and sweep write, in order.
func TestReadmeCSVColumns(t *testing.T) {
	var want []string
	for _, c := range strings.Split(readmeBlock(t, "CSV (`--format csv`) is a header"), ",") {
		want = append(want, strings.TrimSpace(c))
	}
	header := func(args ...string) []string {
		_, out, _ := raftsim(args...)
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%v: %v %v", args, rows, err)
		}
		for _, r := range rows[1:] {
			if len(r) != len(rows[0]) {
				t.Errorf("%v: a row of %d columns under a header of %d", args, len(r), len(rows[0]))
			}
		}
		return rows[0]
	}
	if got := header("run", "--trials", "20", "--format", "csv"); !slices.Equal(got, want) {
		t.Errorf("run's CSV columns:\n%v\nthe README's:\n%v", got, want)
	}
	at := slices.Index(want, "leaderless_ms_per_hour") + 1
	sweepWant := append(slices.Insert(slices.Clone(want), at, "group", "recommended"), "stability_verdict")
	if got := header("sweep", "--election-timeout", "150-300ms,200-400ms", "--trials", "20", "--steady-time", "0", "--format", "csv"); !slices.Equal(got, sweepWant) {
		t.Errorf("sweep's CSV columns:\n%v\nwant:\n%v", got, sweepWant)
	}
}

// TestReadmeJSONKeys: the JSON keys the README lists, at the top level and
// in params, are the keys run writes (with every optional key present).
func TestReadmeJSONKeys(t *testing.T) {
	block := readmeBlock(t, "JSON (`--format json`) has these keys")
	// Drop what lists and nested objects hold, keeping params' keys apart.
	params := block[strings.Index(block, "params: {")+len("params: {"):]
	params = params[:strings.Index(params, "}")]
	params = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(params, "")
	top := block
	for {
		flat := regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`).ReplaceAllString(top, "")
		if flat == top {
			break
		}
		top = flat
	}
	keys := func(list string) []string {
		var out []string
		for _, k := range strings.Split(list, ",") {
			if k = strings.TrimSuffix(strings.TrimSpace(k), ":"); k != "" {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	wantTop, wantParams := keys(top), keys(params)

	gotTop, gotParams := map[string]bool{}, map[string]bool{}
	for _, args := range [][]string{
		{"run", "partition-leader", "--trials", "30", "--steady-time", "20m", "--find", "slowest:1", "--election-timeout", "50-100ms",
			"--persist", "1ms", "--timer-jitter", "1ms", "--processing", "1ms", "--start", "uniform:0-10ms", "--bug", "ignore-reply-term"},
		{"run", "flaky-link", "--trials", "30", "--impl", "etcd"},
	} {
		_, out, errw := raftsim(append(args, "--format", "json")...)
		var r map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %v %s", args, err, errw)
		}
		var p map[string]json.RawMessage
		if err := json.Unmarshal(r["params"], &p); err != nil {
			t.Fatal(err)
		}
		for k := range r {
			gotTop[k] = true
		}
		for k := range p {
			gotParams[k] = true
		}
	}
	sorted := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if got := sorted(gotTop); !slices.Equal(got, wantTop) {
		t.Errorf("run's JSON keys:\n%v\nthe README's:\n%v", got, wantTop)
	}
	if got := sorted(gotParams); !slices.Equal(got, wantParams) {
		t.Errorf("run's params keys:\n%v\nthe README's:\n%v", got, wantParams)
	}
}

// TestReadmeCheckJSONKeys: the keys of check's JSON failure that the README
// lists are the ones a weighed, shrunk swarm failure carries.
func TestReadmeCheckJSONKeys(t *testing.T) {
	block := readmeBlock(t, "`check --format json` writes")
	for {
		flat := regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`).ReplaceAllString(block, "")
		if flat == block {
			break
		}
		block = flat
	}
	var want []string
	for _, k := range strings.Split(block, ",") {
		if k = strings.TrimSuffix(strings.TrimSpace(k), ":"); k != "" {
			want = append(want, k)
		}
	}
	sort.Strings(want)
	t.Chdir(t.TempDir()) // where check --swarm saves the configuration it found
	_, out, errw := raftsim("check", "--swarm", "--bug", "no-retry", "--trials", "500", "--config-trials", "10", "--format", "json")
	var r struct {
		Failure map[string]json.RawMessage `json:"failure"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, errw)
	}
	var got []string
	for k := range r.Failure {
		got = append(got, k)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("check's JSON failure keys:\n%v\nthe README's:\n%v", got, want)
	}
}
