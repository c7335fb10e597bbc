package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTimingWarnings: a heartbeat at or above the minimum election timeout
// and a timeout below ten round trips are warned about on stderr; a sweep
// names the cells once per warning.
func TestTimingWarnings(t *testing.T) {
	if _, _, errw := raftsim("run", "--trials", "10"); errw != "" {
		t.Errorf("the default scenario: stderr %q, want nothing", errw)
	}
	_, _, errw := raftsim("run", "--trials", "10", "--election-timeout", "50ms-100ms")
	for _, want := range []string{
		"raftsim: warning: the heartbeat (50ms) is at or above the minimum election timeout (50ms)",
		"raftsim: warning: the minimum election timeout (50ms) is below 10 round trips (150ms; a round trip is twice the slowest link's mean one-way latency, 7.5ms)",
	} {
		if !strings.Contains(errw, want) {
			t.Errorf("stderr %q lacks %q", errw, want)
		}
	}
	_, _, errw = raftsim("sweep", "leader-crash", "--nodes", "3", "--election-timeout", "50-100ms,150-300ms", "--heartbeat", "50ms,33%",
		"--trials", "10", "--steady-time", "0")
	want := "raftsim: warning: the heartbeat is at or above the minimum election timeout in 1 of 4 cells: nodes 3, heartbeat 50ms, election-timeout 50ms-100ms\n" +
		"raftsim: warning: the minimum election timeout is below ten round trips (etcd's rule of thumb) in 2 of 4 cells: " +
		"nodes 3, heartbeat 50ms, election-timeout 50ms-100ms; nodes 3, heartbeat 33%, election-timeout 50ms-100ms\n"
	if errw != want {
		t.Errorf("sweep: stderr\n%s\nwant\n%s", errw, want)
	}
}

// TestWarningsInJSON: the warnings are in the JSON too, for tools.
func TestWarningsInJSON(t *testing.T) {
	var r struct{ Warnings []string }
	_, out, _ := raftsim("run", "--trials", "10", "--election-timeout", "50ms-100ms", "--format", "json")
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 2 || !strings.HasPrefix(r.Warnings[0], "the heartbeat (50ms) is at or above") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// TestNoWidthWarning: a range of no width (one value, as etcd's
// --election-timeout takes it) is warned about, saying what it means here
// and how to write etcd's [T, 2T); a sweep names the cells.
func TestNoWidthWarning(t *testing.T) {
	var r struct{ Warnings []string }
	_, out, errw := raftsim("run", "--trials", "10", "--election-timeout", "150ms", "--format", "json")
	want := "the election timeout range 150ms-150ms has no width: every node times out after exactly 150ms"
	if !strings.Contains(errw, "raftsim: warning: "+want) || !strings.Contains(errw, "not etcd's [T, 2T): for that, write 150ms-300ms") {
		t.Errorf("stderr %q lacks the warning", errw)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], want) {
		t.Errorf("warnings %q", r.Warnings)
	}
	_, _, errw = raftsim("sweep", "leader-crash", "--election-timeout", "150-150ms,150-300ms", "--trials", "10", "--steady-time", "0")
	if !strings.Contains(errw, "raftsim: warning: the election timeout range has no width in 1 of 2 cells: election-timeout 150ms-150ms\n") {
		t.Errorf("sweep: stderr %q", errw)
	}
}
