// Package fuzzing runs a package's Go fuzz targets for a while, as the long
// suites do: plain go test only replays their seed corpus (f.Add and
// testdata/fuzz), and only "go test -fuzz" mutates it, one target at a
// time, in a process of its own. A failing input is written where go test
// keeps it, under testdata/fuzz/, and every later go test replays it.
//
// fuzzing is for tests only: nothing that ships may import it.
package fuzzing

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Run fuzzes target, a FuzzX function of the package in the test's working
// directory (go test runs a package's tests in its directory), for d, with
// one worker (the suites share the machine), and fails t with the end of
// go test's output if the fuzzer finds a failing input or cannot run. The
// whole run, building included, is bounded by d plus limit.
func Run(t *testing.T, target string, d, limit time.Duration) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to fuzz %s with: %v", target, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "test", "-run", "^$", "-fuzz", "^"+target+"$",
		"-fuzztime", d.String(), "-parallel", "1", ".")
	setProcessGroup(cmd) // so that the end of ctx ends go test's fuzzing workers too
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started := time.Now()
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("fuzzing %s did not end within %v:\n%s", target, d+limit, tail(out.String(), 40))
	}
	if err != nil && deadlineRace(out.String()) {
		t.Logf("fuzzing %s ended in Go's -fuzztime race (go.dev/issue/75804, fixed in Go 1.27), not a failing input: %s",
			target, lastLine(out.String(), "fuzz: elapsed"))
		return
	}
	if err != nil {
		t.Fatalf("fuzzing %s: %v\n%s", target, err, tail(out.String(), 40))
	}
	t.Logf("fuzzed %s for %v (%v in all): %s", target, d, time.Since(started).Round(time.Second), lastLine(out.String(), "fuzz: elapsed"))
}

// deadlineRace reports whether go test -fuzz's output out is the
// coordinator's race at the end of -fuzztime, not a finding: before Go 1.27
// the deadline can reach the coordinator before its workers' context is
// cancelled, and the run fails with a bare "context deadline exceeded"
// (go.dev/issue/75804), more often on a busy machine. A finding always
// writes its input and says where; a crash of the fuzzing process says
// panic.
func deadlineRace(out string) bool {
	return strings.Contains(out, "context deadline exceeded") &&
		!strings.Contains(out, "Failing input written to") && !strings.Contains(out, "panic:")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lastLine returns the last line of s that starts with prefix, or "".
func lastLine(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], prefix) {
			return lines[i]
		}
	}
	return ""
}
