package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var pageData = regexp.MustCompile(`<script id="trial" type="application/json">(.*)</script>`)

// readPage returns a page's bytes and its data.
func readPage(t *testing.T, path string) ([]byte, map[string]any) {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := pageData.FindSubmatch(page)
	if m == nil {
		t.Fatalf("%s holds no page data", path)
	}
	var data map[string]any
	if err := json.Unmarshal(m[1], &data); err != nil {
		t.Fatal(err)
	}
	return page, data
}

// TestReplayHTML: every form of replay writes a page (a failure's replay
// command, swarm trials, steady-state runs, skipped steps, filters); the
// page lists exactly the lines the replay prints, shows the command that
// wrote it, and is the same bytes every time.
func TestReplayHTML(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		args     []string
		exit     int
		maxBytes int
	}{
		{"leader-crash", []string{"leader-crash", "--seed", "4280437358326593"}, 0, 300_000},
		{"failure", []string{"cold-start", "--seed", "4395249872773641", "--nodes", "4", "--bug", "peers-majority"}, 1, 300_000},
		{"swarm", []string{"--swarm", "--seed", "991"}, 0, 2_000_000},
		{"steady", []string{"leader-crash", "--seed", "7", "--steady-time", "5s"}, 0, 2_000_000},
		{"skip-steps", []string{"partition-leader", "--seed", "5", "--skip-steps", "2"}, 0, 1_000_000},
		{"filters", []string{"partition-leader", "--seed", "5", "--node", "n1", "--from", "500ms", "--to", "3s", "--kind", "state,fault,recv"}, 0, 1_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".html")
			args := append(append([]string{"replay"}, tc.args...), "--html", path)
			code, out, errw := raftsim(args...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d: %s", code, tc.exit, errw)
			}
			page, data := readPage(t, path)
			if len(page) > tc.maxBytes {
				t.Errorf("the page weighs %d bytes, over %d", len(page), tc.maxBytes)
			}
			var lines []any
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.HasPrefix(l, "#") {
					lines = append(lines, l)
				}
			}
			if got := data["lines"].([]any); len(got) != len(lines) || len(got) > 0 && got[0] != lines[0] {
				t.Errorf("the page lists %d events, the replay prints %d", len(got), len(lines))
			}
			if cmd := "raftsim " + strings.Join(args, " "); !bytes.Contains(page, []byte("<code id=\"command\">"+cmd+"</code>")) {
				t.Errorf("the page does not show %q", cmd)
			}
			if code, _, _ := raftsim(append(args[:len(args)-1], path+".again")...); code != tc.exit {
				t.Fatalf("second run: exit %d", code)
			}
			again, _ := readPage(t, path+".again")
			if !bytes.Equal(page, bytes.ReplaceAll(again, []byte(path+".again"), []byte(path))) { // the command names the file
				t.Error("the same replay wrote two different pages")
			}
		})
	}
}

// TestReplayHTMLFilterRange: --from and --to are the page's slider range.
func TestReplayHTMLFilterRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.html")
	if code, _, errw := raftsim("replay", "partition-leader", "--seed", "5", "--from", "500ms", "--to", "3s", "--html", path, "-q"); code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	_, data := readPage(t, path)
	if data["start"] != 5e8 || data["end"] != 3e9 {
		t.Errorf("slider range %v-%v, want 500ms-3s in ns", data["start"], data["end"])
	}
}

func TestReplayHTMLBadPath(t *testing.T) {
	code, out, errw := raftsim("replay", "leader-crash", "--seed", "1", "--html", "/no/such/dir/p.html")
	if code != 2 || out != "" || !strings.Contains(errw, "--html") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, a message naming --html", code, out, errw)
	}
}
