package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows how far a long command is, on stderr: a bar when stderr
// is a terminal, else a plain line now and then (a log file, a CI job, a
// pipe), at most one every lineEvery and none at all for work that ends
// sooner. It reads the wall clock, which decides only when a line is
// printed, never a result.
type progress struct {
	bar   *progressbar.ProgressBar
	lines *progressLines
}

// lineEvery is the least time between two progress lines.
const lineEvery = 10 * time.Second

// newProgress shows the progress of command (run, sweep, ...) through
// total units, named in the plural by what ("trials"), on errw; total 0
// means the end is not known (check --for).
func newProgress(errw io.Writer, command string, total int, what string) *progress {
	if errw == io.Discard {
		return &progress{}
	}
	if !isTerminal(errw) {
		return &progress{lines: newProgressLines(errw, command, total, what, time.Now)}
	}
	if total <= 0 {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(errw),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
	)}
}

// set reports that done units are finished; safe from any goroutine.
func (p *progress) set(done int) {
	switch {
	case p.bar != nil:
		p.bar.Set(done)
	case p.lines != nil:
		p.lines.set(done)
	}
}

// grow says that the work now has total units (a sweep that runs more
// steady state for cells it cannot yet judge).
func (p *progress) grow(total int) {
	switch {
	case p.bar != nil:
		p.bar.ChangeMax(total)
	case p.lines != nil:
		p.lines.grow(total)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// progressLines writes progress as plain lines:
//
//	raftsim sweep: 6400 of 200060 trials and steady-state runs done (3%) in 10s; about 5m13s left
type progressLines struct {
	w             io.Writer
	command, what string
	now           func() time.Time

	mu          sync.Mutex
	total       int
	begin, last time.Time
}

func newProgressLines(w io.Writer, command string, total int, what string, now func() time.Time) *progressLines {
	t := now()
	return &progressLines{w: w, command: command, what: what, now: now, total: total, begin: t, last: t}
}

func (l *progressLines) grow(total int) {
	l.mu.Lock()
	l.total = total
	l.mu.Unlock()
}

func (l *progressLines) set(done int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	if t.Sub(l.last) < lineEvery {
		return
	}
	l.last = t
	took := t.Sub(l.begin)
	if l.total <= 0 {
		fmt.Fprintf(l.w, "raftsim %s: %d %s done in %s\n", l.command, done, l.what, took.Round(time.Second))
		return
	}
	left := ""
	if done > 0 && done < l.total {
		rest := time.Duration(float64(took) * float64(l.total-done) / float64(done))
		left = "; about " + rest.Round(time.Second).String() + " left"
	}
	fmt.Fprintf(l.w, "raftsim %s: %d of %d %s done (%d%%) in %s%s\n", l.command, done, l.total, l.what,
		int(100*float64(done)/float64(l.total)), took.Round(time.Second), left)
}

// unitsDone names what the progress of run and sweep counts: trials, and
// steady-state runs when there are any.
func unitsDone(steadyRuns int) string {
	if steadyRuns > 0 {
		return "trials and steady-state runs"
	}
	return "trials"
}
