package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// TestProgressLines: on a writer that is not a terminal, progress is plain
// lines, at most one per lineEvery of (here, a test's own) clock, saying
// how far the work is and about how long is left; none before lineEvery.
func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	l := newProgressLines(&b, "sweep", 1000, "trials and steady-state runs", now)
	step := func(d time.Duration, done int) { clock = clock.Add(d); l.set(done) }
	step(time.Second, 10)
	step(8*time.Second, 90) // 9s in: too soon
	if b.Len() != 0 {
		t.Fatalf("a line before %v: %q", lineEvery, b.String())
	}
	step(time.Second, 100) // 10s in
	step(time.Second, 110) // too soon after the first
	step(10*time.Second, 250)
	l.grow(2000) // the sweep found more to do
	step(20*time.Second, 400)
	want := "raftsim sweep: 100 of 1000 trials and steady-state runs done (10%) in 10s; about 1m30s left\n" +
		"raftsim sweep: 250 of 1000 trials and steady-state runs done (25%) in 21s; about 1m3s left\n" +
		"raftsim sweep: 400 of 2000 trials and steady-state runs done (20%) in 41s; about 2m44s left\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	l = newProgressLines(&b, "check", 0, "trials", now)
	step(11*time.Second, 5000)
	if got := b.String(); got != "raftsim check: 5000 trials done in 11s\n" {
		t.Errorf("no known total: got %q", got)
	}
}

// TestProgressChoosesLines: a writer that is not a terminal gets lines,
// io.Discard (a shard) nothing.
func TestProgressChoosesLines(t *testing.T) {
	if p := newProgress(&bytes.Buffer{}, "run", 10, "trials"); p.lines == nil || p.bar != nil {
		t.Errorf("a buffer: got bar %v lines %v, want lines", p.bar != nil, p.lines != nil)
	}
	if p := newProgress(io.Discard, "run", 10, "trials"); p.lines != nil || p.bar != nil {
		t.Error("io.Discard: got progress, want none")
	}
	_, _, errw := raftsim("run", "--trials", "20")
	if strings.Contains(errw, "raftsim run:") {
		t.Errorf("a short run printed progress: %q", errw)
	}
}
