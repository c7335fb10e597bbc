package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestSweepHeaderNamesWhatVaries: the header shows what every cell shares
// and names what varies, not the first cell's values.
func TestSweepHeaderNamesWhatVaries(t *testing.T) {
	_, out, _ := raftsim("sweep", "leader-crash", "--nodes", "3,5", "--election-timeout", "100-200ms,150-300ms", "--heartbeat", "50ms,33%",
		"--trials", "20", "--steady-time", "0")
	want := "cluster: latency uniform:5ms-10ms, loss 0; per row: nodes, election timeout, heartbeat\n"
	if !strings.Contains(out, want) {
		t.Errorf("sweep header lacks %q:\n%s", want, out)
	}
}

// TestDescriptionMarksOverrides: a description written for the scenario
// is marked as such when flags change what it describes.
func TestDescriptionMarksOverrides(t *testing.T) {
	_, out, _ := raftsim("run", "--nodes", "3", "--trials", "20")
	want := "  Five nodes boot together with empty logs; time until the first leader.\n" +
		"  (the scenario's own description; the command line sets --nodes 3)\ncluster: 3 nodes,"
	if !strings.Contains(out, want) {
		t.Errorf("run --nodes 3:\n%s\nwant it to contain\n%s", out, want)
	}
	_, out, _ = raftsim("sweep", "leader-crash", "--nodes", "3,5", "--election-timeout", "150-300ms", "--prevote", "--trials", "20", "--steady-time", "0")
	want = "  (the scenario's own description; the command line sets --prevote=true --election-timeout 150ms-300ms; each row sets nodes)\n"
	if !strings.Contains(out, want) {
		t.Errorf("sweep:\n%s\nwant it to contain %q", out, want)
	}
	if _, out, _ = raftsim("run", "--trials", "20"); strings.Contains(out, "own description") {
		t.Errorf("nothing overridden, yet:\n%s", out)
	}
}

// TestLinksShown: per-link overrides are part of the cluster's description.
func TestLinksShown(t *testing.T) {
	_, out, _ := raftsim("run", "flaky-link", "--trials", "20")
	if !strings.Contains(out, "loss 0, link n1<->n2 loss 0.33\n") {
		t.Errorf("flaky-link's lossy link is not shown:\n%s", out)
	}
	_, out, _ = raftsim("run", "flaky-link", "--trials", "20", "--format", "json")
	var r struct{ Params struct{ Links []string } }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Params.Links) != 1 || r.Params.Links[0] != "n1<->n2 loss 0.33" {
		t.Errorf("JSON params.links = %q", r.Params.Links)
	}
}

// TestSweepMeanOfElected: a row whose trials did not all find a leader says
// how many its time to leader covers.
func TestSweepMeanOfElected(t *testing.T) {
	// With timers on the dot, 150-150ms splits the votes of many trials forever.
	_, out, _ := raftsim("sweep", "figure16", "--election-timeout", "150-150ms,150-300ms", "--trials", "100", "--steady-time", "0", "--timer-jitter", "0")
	row := regexp.MustCompile(`(?m)^\| 150ms-150ms +\| 100 \((\d+) no leader\) +\| +[0-9.]+ \((\d+) elected\) \|`).FindStringSubmatch(out)
	if row == nil || row[1] == "0" {
		t.Fatalf("the 150ms-150ms row does not say how many trials its mean covers:\n%s", out)
	}
	if !strings.Contains(out, "(N elected): the time to leader covers only the N trials that found a leader") {
		t.Errorf("no footnote for (N elected):\n%s", out)
	}
	if strings.Contains(regexp.MustCompile(`(?m)^\| 150ms-300ms .*$`).FindString(out), "elected") {
		t.Errorf("150ms-300ms, where every trial elected, is marked")
	}
}
