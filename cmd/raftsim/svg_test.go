package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSVGWindow: with --from/--to, every lane drawn starts at the
// window's left edge with its node's state there, and the axis spans the
// window; --node draws that node's lane only.
func TestSVGWindow(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args  []string
		lanes []string
	}{
		{[]string{"--from", "600ms", "--to", "2900ms"}, []string{"n1", "n2", "n3", "n4", "n5"}},
		{[]string{"--node", "n1", "--from", "600ms", "--to", "2900ms", "--kind", "state,fault"}, []string{"n1"}},
	} {
		svg := filepath.Join(dir, "w.svg")
		args := append([]string{"replay", "partition-leader", "--seed", "5", "-q", "--svg", svg}, tt.args...)
		if code, _, errw := raftsim(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errw)
		}
		data, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		img := string(data)
		for _, n := range tt.lanes {
			// The first state bar of each lane starts at the left edge (x=56).
			first := regexp.MustCompile(`<rect x="([0-9.]+)" [^>]*><title>` + n + ` `).FindStringSubmatch(img)
			if first == nil || first[1] != "56.00" {
				t.Errorf("%v: lane %s starts at %v, want the window's start (x=56.00)", tt.args, n, first)
			}
		}
		if got := strings.Count(img, `font-size="13" font-weight="bold"`); got != len(tt.lanes) {
			t.Errorf("%v: %d lanes, want %d", tt.args, got, len(tt.lanes))
		}
		ticks := regexp.MustCompile(`text-anchor="middle">([0-9.]+)ms<`).FindAllStringSubmatch(img, -1)
		if len(ticks) < 3 {
			t.Fatalf("%v: ticks %v", tt.args, ticks)
		}
		lo, _ := strconv.ParseFloat(ticks[0][1], 64)
		hi, _ := strconv.ParseFloat(ticks[len(ticks)-1][1], 64)
		if lo < 600 || lo > 1100 || hi > 2900 || hi < 2400 {
			t.Errorf("%v: the axis runs %gms-%gms, want the window 600ms-2900ms", tt.args, lo, hi)
		}
	}
}

// TestSVGLargeCluster: a 400-node trial draws a readable picture of a few
// dozen lanes and says so, not a file of several megabytes.
func TestSVGLargeCluster(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "big.svg")
	if code, _, errw := raftsim("replay", "cold-start", "--seed", "1", "--nodes", "400", "-q", "--svg", svg); code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 1<<20 || !strings.Contains(string(data), "40 of 400 nodes drawn") {
		t.Errorf("%d bytes; note present: %v", len(data), strings.Contains(string(data), "40 of 400 nodes drawn"))
	}
}
