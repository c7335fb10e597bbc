package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestFindSplitVote answers Exercise 1's "can you observe a split vote?":
// --find lists trials that held and had one, and each replay command
// shows it.
func TestFindSplitVote(t *testing.T) {
	code, out, errw := raftsim("run", "staggered-start", "--find", "split-vote:3", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	var r struct {
		Found []struct {
			Query   string
			Matched int
			Trials  []struct {
				Seed   uint64
				Replay string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Found) != 1 || r.Found[0].Query != "split-vote:3" || r.Found[0].Matched < 10 || len(r.Found[0].Trials) != 3 {
		t.Fatalf("found %+v", r.Found)
	}
	measured := regexp.MustCompile(`# measured: .* (\d+) split votes`)
	for _, tr := range r.Found[0].Trials {
		code, rout, _ := raftsim(append(words(strings.TrimPrefix(tr.Replay, "raftsim ")), "-q")...)
		m := measured.FindStringSubmatch(rout)
		if code != 0 || m == nil || m[1] == "0" {
			t.Errorf("%s: exit %d, no split vote:\n%s", tr.Replay, code, rout)
		}
	}
}

// TestFindAnyWorkers: what --find lists is the same at any --workers.
func TestFindAnyWorkers(t *testing.T) {
	args := []string{"run", "partition-leader", "--trials", "500", "--find", "slowest:4", "--find", "stale>2015ms",
		"--find", "rounds>=2", "--steady-time", "30m", "--find", "needless"}
	_, want, _ := raftsim(append(args, "--workers", "1")...)
	if !strings.Contains(want, "find slowest:4: 500 of 500 trials found a leader; the 4 slowest:") ||
		!strings.Contains(want, "find needless>=1: none of 3 steady-state runs had needless elections >= 1") {
		t.Fatalf("output:\n%s", want)
	}
	if _, got, _ := raftsim(append(args, "--workers", "8")...); got != want {
		t.Errorf("--workers 8 lists other trials:\n%s\nwant\n%s", got, want)
	}
}

func TestFindBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--find", "splits"}, `--find: unknown kind "splits"`},
		{[]string{"run", "--find", "rounds"}, "--find: \"rounds\": rounds needs a threshold, e.g. rounds>=3"},
		{[]string{"run", "--find", "needless"}, "--find needless>=1: looks at steady-state runs: give --steady-time"},
	} {
		code, stdout, stderr := raftsim(tt.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestReadmeFindSample: the README's answer to Exercise 1 is what raftsim
// prints.
func TestReadmeFindSample(t *testing.T) {
	readme := readmeText(t)
	const cmd = "$ raftsim run staggered-start --find split-vote:3\n"
	start := strings.Index(readme, cmd)
	if start < 0 {
		t.Fatal("README has no sample of --find")
	}
	sample := readme[start+len(cmd):]
	sample = sample[:strings.Index(sample, "```")]
	_, out, _ := raftsim("run", "staggered-start", "--find", "split-vote:3")
	if !strings.HasSuffix(out, sample) {
		t.Errorf("README's sample is not the end of raftsim's output:\n%s", out)
	}
}
