package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/raftsim/raftsim/internal/testkit/browser"
)

// startBrowser starts headless Chromium for a test and ends it, whatever
// happens, when the test ends. It skips the test only where there is no
// Chromium at all.
func startBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	b, err := browser.Start(1280, 1000)
	if errors.Is(err, browser.ErrNoChromium) {
		t.Skip("no Chromium here, so the pages are not tested in a browser; install Debian's chromium package (.ci/run does)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// jsonlEvent is what the oracle reads of the JSON lines trace: the same
// trial as the page, through a writer the page does not use.
type jsonlEvent struct {
	T    int64  `json:"t_ns"`
	Kind string `json:"kind"`
	Node string `json:"node"`
	Role string `json:"role"`
	Term uint64 `json:"term"`
	Vote string `json:"vote"`
	Idx  uint64 `json:"index"`
}

// expected is what the page must show at one virtual time, worked out from
// the JSON lines trace: who leads in which term, who is down (crashed or
// not yet started), and each node's role, term, vote and commit index.
type expected struct {
	leaders, down string
	roles         []string // "leader 2", "down 1", as the ring's nodes say
	votes         []string
	commits       []uint64
}

func expectAt(events []jsonlEvent, nodes int, t int64) expected {
	role := make([]string, nodes)
	term := make([]uint64, nodes)
	vote := make([]string, nodes)
	commit := make([]uint64, nodes)
	for i := range role {
		role[i], vote[i] = "down", "none"
	}
	for _, e := range events {
		if e.T > t {
			break
		}
		i, err := strconv.Atoi(strings.TrimPrefix(e.Node, "n"))
		if err != nil {
			continue // the cluster
		}
		i--
		switch e.Kind {
		case "start":
			role[i], term[i], commit[i] = e.Role, e.Term, 0 // the commit index is volatile
		case "state":
			if e.Term != term[i] {
				vote[i] = "none"
			}
			role[i], term[i] = e.Role, e.Term
		case "down":
			role[i] = "down"
		case "vote":
			vote[i] = e.Vote
		case "commit":
			commit[i] = e.Idx
		}
	}
	var x expected
	var leaders, down []string
	for i := range nodes {
		name := "n" + strconv.Itoa(i+1)
		if role[i] == "leader" {
			leaders = append(leaders, fmt.Sprintf("%s (term %d)", name, term[i]))
		}
		if role[i] == "down" {
			down = append(down, name)
		}
		x.roles = append(x.roles, fmt.Sprintf("%s %d", role[i], term[i]))
	}
	x.leaders, x.down = orNone(leaders), orNone(down)
	x.votes, x.commits = vote, commit
	return x
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// probeTimes are the virtual times a test moves the slider to: just after
// each election won, crash and fault (the first limit of them), and
// evenly spread over the trial.
func probeTimes(events []jsonlEvent, limit int) []int64 {
	var times []int64
	for _, e := range events {
		if len(times) < limit && (e.Kind == "down" || e.Kind == "fault" || e.Kind == "state" && e.Role == "leader") {
			times = append(times, e.T+1000)
		}
	}
	end := events[len(events)-1].T
	for k := int64(0); k <= 10; k++ {
		times = append(times, end*k/10)
	}
	slices.Sort(times)
	return slices.Compact(times)
}

func readJSONL(t *testing.T, path string) []jsonlEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []jsonlEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e jsonlEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	return events
}

// pageState is what the page shows after the slider moved.
type pageState struct {
	Time, Leaders, Down string
	Roles               []string
}

// moveSlider moves the page's slider to virtual time t as a person's drag
// does (an input event), and reads the status line and the ring.
func moveSlider(t *testing.T, b *browser.Browser, at int64) pageState {
	t.Helper()
	st, err := browser.Eval[pageState](b, fmt.Sprintf(`(() => {
		const slider = document.getElementById('slider');
		slider.value = %d;
		slider.dispatchEvent(new Event('input'));
		const status = document.getElementById('status');
		return {
			Time: status.querySelector('.time').textContent,
			Leaders: status.querySelector('.leaders').textContent,
			Down: status.querySelector('.down').textContent,
			Roles: Array.from(document.querySelectorAll('#nodes .node')).map((g) => g.dataset.role + ' ' + g.dataset.term),
		};
	})()`, at))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func fileURL(path string) string {
	abs, _ := filepath.Abs(path)
	return "file://" + abs
}

// TestHTMLInBrowser loads the pages of a cold start, a leader crash (also
// with Pre-Vote, loss and duplicates), a partition, a 25-node cluster and a
// 50-node one in headless Chromium,
// fails on any console error, moves the slider to times across each trial
// and checks the leaders, their terms, the nodes that are down and every
// node of the ring against the trial's JSON lines trace.
func TestHTMLInBrowser(t *testing.T) {
	b := startBrowser(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		nodes int
		args  []string
	}{
		{"cold-start", 5, []string{"cold-start", "--seed", "11"}},
		{"leader-crash", 5, []string{"leader-crash", "--seed", "4280437358326593"}},
		{"partition", 5, []string{"partition-leader", "--seed", "5"}},
		{"prevote-lossy", 5, []string{"leader-crash", "--seed", "3", "--prevote", "--loss", "0.1", "--duplicate", "0.1"}},
		{"25-nodes", 25, []string{"cold-start", "--nodes", "25", "--seed", "3"}},
		{"50-nodes", 50, []string{"cold-start", "--nodes", "50", "--seed", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, jsonl := filepath.Join(dir, tc.name+".html"), filepath.Join(dir, tc.name+".jsonl")
			args := append([]string{"replay"}, tc.args...)
			if code, _, errw := raftsim(append(args, "--html", page, "--trace", jsonl, "-q")...); code != 0 {
				t.Fatalf("exit %d: %s", code, errw)
			}
			events := readJSONL(t, jsonl)
			if err := b.Do(10*time.Second, chromedp.Navigate(fileURL(page))); err != nil {
				t.Fatal(err)
			}
			ring := tc.nodes <= 40
			for _, at := range probeTimes(events, 20) {
				got, want := moveSlider(t, b, at), expectAt(events, tc.nodes, at)
				if got.Leaders != want.leaders || got.Down != want.down {
					t.Errorf("at %s: leaders %q, down %q; the trace says leaders %q, down %q", got.Time, got.Leaders, got.Down, want.leaders, want.down)
				}
				if ring && !slices.Equal(got.Roles, want.roles) {
					t.Errorf("at %s: the ring shows %q, the trace says %q", got.Time, got.Roles, want.roles)
				}
				if !ring && len(got.Roles) != 0 {
					t.Errorf("%d nodes drawn in a ring of %d nodes, past the limit", len(got.Roles), tc.nodes)
				}
			}
			if !ring {
				note, err := browser.Eval[string](b, `document.getElementById('ring-note').hidden ? '' : document.getElementById('ring-note').textContent`)
				if err != nil || !strings.Contains(note, "lanes only") {
					t.Errorf("no note that the page shows the lanes only: %q %v", note, err)
				}
			}
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}

// sliderAt returns the virtual time the page's slider is at.
func sliderAt(t *testing.T, b *browser.Browser) int64 {
	t.Helper()
	v, err := browser.Eval[string](b, `document.getElementById('slider').value`)
	if err != nil {
		t.Fatal(err)
	}
	at, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// loadTrial writes the page and JSON lines trace of a replay and loads
// the page.
func loadTrial(t *testing.T, b *browser.Browser, args ...string) []jsonlEvent {
	t.Helper()
	dir := t.TempDir()
	page, jsonl := filepath.Join(dir, "page.html"), filepath.Join(dir, "trace.jsonl")
	if code, _, errw := raftsim(append(append([]string{"replay"}, args...), "--html", page, "--trace", jsonl, "-q")...); code > 1 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	if err := b.Do(10*time.Second, chromedp.Navigate(fileURL(page))); err != nil {
		t.Fatal(err)
	}
	return readJSONL(t, jsonl)
}

// TestHTMLControlsInBrowser: the buttons go where the trace says (the
// next event, the next election, the violation), play moves time on, and
// a node's panel shows its role, term, vote and commit index.
func TestHTMLControlsInBrowser(t *testing.T) {
	b := startBrowser(t)
	t.Run("leader-crash", func(t *testing.T) {
		events := loadTrial(t, b, "leader-crash", "--seed", "4280437358326593")
		var elections []int64
		for _, e := range events {
			if e.Kind == "state" && (e.Role == "candidate" || e.Role == "pre-candidate") && !slices.Contains(elections, e.T) {
				elections = append(elections, e.T)
			}
		}
		for i, want := range elections[:2] {
			if err := b.Do(5*time.Second, chromedp.Click("#next-election")); err != nil {
				t.Fatal(err)
			}
			if got := sliderAt(t, b); got != want {
				t.Errorf("election %d: the slider went to %d, the trace has it at %d", i+1, got, want)
			}
		}
		at := sliderAt(t, b)
		if err := b.Do(5*time.Second, chromedp.Click("#next")); err != nil {
			t.Fatal(err)
		}
		next := slices.IndexFunc(events, func(e jsonlEvent) bool { return e.T > at })
		if got := sliderAt(t, b); got != events[next].T {
			t.Errorf("next event: the slider went to %d, want %d", got, events[next].T)
		}
		if err := b.Do(5*time.Second, chromedp.Click("#prev")); err != nil {
			t.Fatal(err)
		}
		if got := sliderAt(t, b); got != at {
			t.Errorf("previous event: the slider went to %d, want %d", got, at)
		}
		// After the new leader is elected: every node's panel.
		leader := slices.IndexFunc(events, func(e jsonlEvent) bool { return e.T > at && e.Role == "leader" })
		probe := events[leader].T + 60_000_000
		moveSlider(t, b, probe)
		want := expectAt(events, 5, probe)
		for i := range 5 {
			name := "n" + strconv.Itoa(i+1)
			if err := b.Do(5*time.Second, chromedp.Click("#node-"+name+" circle.body")); err != nil {
				t.Fatal(err)
			}
			got, err := browser.Eval[[]string](b, `['h2', '[data-field=role]', '[data-field=term]', '[data-field=vote]', '[data-field=commit]']
				.map((s) => document.querySelector('#node-panel ' + s).textContent)`)
			if err != nil {
				t.Fatal(err)
			}
			role, term, _ := strings.Cut(want.roles[i], " ")
			if w := []string{name, role, term, want.votes[i], strconv.FormatUint(want.commits[i], 10)}; !slices.Equal(got, w) {
				t.Errorf("%s's panel shows %q, the trace says %q", name, got, w)
			}
		}
		moveSlider(t, b, 0)
		if err := b.Do(5*time.Second, chromedp.Click("#play"), chromedp.Sleep(300*time.Millisecond), chromedp.Click("#play")); err != nil {
			t.Fatal(err)
		}
		if got := sliderAt(t, b); got <= 0 {
			t.Errorf("after 300ms of play the slider is at %d", got)
		}
		if errs := b.ConsoleErrors(); len(errs) > 0 {
			t.Errorf("console errors: %v", errs)
		}
	})
	t.Run("violation", func(t *testing.T) {
		events := loadTrial(t, b, "cold-start", "--seed", "4395249872773641", "--nodes", "4", "--bug", "peers-majority")
		v := events[len(events)-1]
		if v.Kind != "violation" {
			t.Fatalf("the trial ends with %+v, not a violation", v)
		}
		if err := b.Do(5*time.Second, chromedp.Click("#violation")); err != nil {
			t.Fatal(err)
		}
		got, want := moveSlider(t, b, sliderAt(t, b)), expectAt(events, 4, v.T)
		if got.Leaders != want.leaders || !strings.Contains(got.Time, "ms") {
			t.Errorf("at the violation: leaders %q, the trace says %q", got.Leaders, want.leaders)
		}
		if sliderAt(t, b) != v.T {
			t.Errorf("the violation button went to %d, the violation is at %d", sliderAt(t, b), v.T)
		}
		if errs := b.ConsoleErrors(); len(errs) > 0 {
			t.Errorf("console errors: %v", errs)
		}
	})
}
