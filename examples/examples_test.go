// The example nodes, tested live: raftsim runs them as real processes
// through its proxy and judges them with the simulator's checks. Each test
// skips, saying so, when python3 or node is not installed.
package examples_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/live"
	"github.com/raftsim/raftsim/internal/live/conformance"
	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/scenarios"
)

// TestMain runs the tests, then checks that no example node's process is
// left behind.
func TestMain(m *testing.M) {
	// Where the long tests build raftsim: made now, since a test that sets
	// TMPDIR to a directory of its own would see that removed with it.
	dir, err := os.MkdirTemp("", "raftsim-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	built.dir = dir
	code := m.Run()
	os.RemoveAll(built.dir)
	for _, e := range []example{python, nodejs} {
		file, _ := filepath.Abs(e.file)
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), file) {
				fmt.Fprintf(os.Stderr, "process left behind: %s %s\n", p, strings.ReplaceAll(string(data), "\x00", " "))
				code = 1
			}
		}
	}
	os.Exit(code)
}

// example is one example node and the interpreter it needs.
type example struct {
	name, interpreter, file string
}

var (
	python = example{"python", "python3", "server.py"}
	nodejs = example{"node", "node", "node.js"}
)

// command returns the shell command that runs the example with env (a
// RAFT_BUG=..., say) set, or skips t when its interpreter is missing.
func (e example) command(t *testing.T, env string) string {
	t.Helper()
	return strings.TrimSpace(env + " " + e.interpreter + " " + e.path(t))
}

// path returns the example's absolute path, or skips t when its
// interpreter is missing.
func (e example) path(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath(e.interpreter); err != nil {
		t.Skipf("%s is not installed: the %s example node cannot run", e.interpreter, e.name)
	}
	file, err := filepath.Abs(e.file)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// run runs trials of scenario (a built-in name or a testdata file) live
// with cmd as the nodes, and returns what they measured.
func run(t *testing.T, scenario, cmd string, trials int) *runner.Aggregate {
	t.Helper()
	s, err := scenarios.Load(scenario)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", t.TempDir()) // the trials' data directories, checked below
	logs := t.TempDir()
	res, err := live.Run(context.Background(), s, live.Options{Nodes: live.Nodes{Cmd: cmd}, Trials: trials, Seed: s.Seed,
		Logs: logs})
	if err != nil {
		t.Fatalf("%s with %s: %v", scenario, cmd, err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "raftsim-live-*")); len(left) > 0 {
		t.Errorf("data directories left behind: %v", left)
	}
	for _, f := range res.Agg.Failures {
		t.Logf("trial %d: %s: %s", f.Trial, f.Kind, f.Detail)
	}
	for _, n := range res.Notes {
		t.Logf("note: %s", n)
	}
	return &res.Agg
}

// passes checks that every trial of scenario held every check.
func passes(t *testing.T, e example, scenario string, trials int) {
	agg := run(t, scenario, e.command(t, ""), trials)
	if agg.Failed > 0 || agg.Trials != trials {
		t.Errorf("%s, %s: %d of %d trials failed, want none", e.name, scenario, agg.Failed, agg.Trials)
	}
}

// finds checks that raftsim finds bug within trials trials, failing kind.
// Every trial runs, not only those up to the first failure: a trial can
// fail otherwise first (with no-retry on every node, stuck-candidate's two
// connected nodes that split their first vote never elect, and the check
// finds no leader before n2 shows its own bug).
func finds(t *testing.T, e example, bug, scenario, kind string, trials int) {
	agg := run(t, scenario, e.command(t, "RAFT_BUG="+bug), trials)
	for _, f := range agg.Failures {
		if f.Kind == kind {
			return
		}
	}
	t.Errorf("%s with RAFT_BUG=%s, %s: no %s failure in %d trials", e.name, bug, scenario, kind, agg.Trials)
}

// go test finds a bug in each example; RAFTSIM_LONG runs everything, for
// both examples: the correct nodes pass cold-start, leader-crash,
// partition-leader and the bugs' scenarios, each bug is found (no-persist,
// wait-all-votes and the chapter's code as written in tests of their own),
// and the conformance rules hold.

// The halves of split-brain elect their leaders in the same term in about
// half the live trials (nodes that start up apart may need a second round).
func TestNodeFindsPeersMajority(t *testing.T) {
	finds(t, nodejs, "peers-majority", "split-brain", "election-safety", 10)
}

// split-vote isolates every node for two seconds once all are up, so each
// stands alone and loses: a node that never retries fails every trial,
// and one is enough here (the long suite runs three).
func TestPythonFindsNoRetry(t *testing.T) {
	finds(t, python, "no-retry", "split-vote", "liveness", 1)
}

func TestExamplesLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	for _, e := range []example{python, nodejs} {
		t.Run(e.name, func(t *testing.T) {
			for _, sc := range []string{"cold-start", "leader-crash", "partition-leader", "split-brain", "split-vote",
				"stuck-candidate", "vote-after-restart", "frozen-follower"} {
				// Built-in scenarios run 3 trials each: a live trial takes seconds.
				passes(t, e, sc, 3)
			}
			finds(t, e, "peers-majority", "split-brain", "election-safety", 10)
			finds(t, e, "no-retry", "split-vote", "liveness", 3)
			checkConformance(t, e, "", map[string]conformance.Outcome{"refuse a candidate whose log is behind": conformance.Skip})
			checkConformance(t, e, "RAFT_BUG=no-retry", map[string]conformance.Outcome{
				"refuse a candidate whose log is behind": conformance.Skip, "campaign again after a split vote": conformance.Fail})
		})
	}
}

// RAFT_BUG=chapter, the chapter's code as written, is found too: its
// candidates never retry a split vote.
func TestExamplesFindTheChapter(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	for _, e := range []example{python, nodejs} {
		t.Run(e.name, func(t *testing.T) {
			finds(t, e, "chapter", "split-vote", "liveness", 3)
		})
	}
}

// An unknown RAFT_BUG name stops the node at once, naming the valid ones;
// names go comma-separated.
func TestExamplesRefuseAnUnknownBug(t *testing.T) {
	for _, e := range []example{python, nodejs} {
		t.Run(e.name, func(t *testing.T) {
			file := e.path(t)
			cmd := exec.Command(e.interpreter, file)
			cmd.Env = append(os.Environ(), "NODE_ID=n1", "PORT=1", "DATA_DIR="+t.TempDir(), "RAFT_BUG=no-retry, no-such-bug")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("RAFT_BUG=no-retry, no-such-bug: got %v (%s), want exit status 2", err, out)
			}
			for _, want := range []string{"no-such-bug", "peers-majority", "no-retry", "candidate-stays", "no-persist", "wait-all-votes", "chapter"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("RAFT_BUG=no-retry, no-such-bug: got %q, want it to name %s", out, want)
				}
			}
		})
	}
}

// The examples answer on a reused connection in well under a millisecond
// of their own: answering in two writes (headers, then body) with Nagle's
// algorithm on, the Python node took about 44 ms a reply, waiting for the
// client's delayed ACK. The bound leaves room for a busy machine.
func TestExamplesAnswerAtOnce(t *testing.T) {
	const requests, bound = 40, 15 * time.Millisecond
	for _, e := range []example{python, nodejs} {
		t.Run(e.name, func(t *testing.T) {
			addr := startOne(t, e)
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			took := make([]time.Duration, 0, requests)
			for range requests {
				start := time.Now()
				resp, err := client.Get("http://" + addr + "/status")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			if p50 := took[len(took)/2]; p50 > bound {
				t.Errorf("%s: %d GET /status on one connection: p50 %v, want at most %v", e.name, requests, p50, bound)
			}
		})
	}
}

// startOne starts one example node, with peers that do not answer and an
// election timeout it never reaches, and returns its address once it
// answers /status; the test's end kills it.
func startOne(t *testing.T, e example) string {
	t.Helper()
	file := e.path(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	var out strings.Builder
	cmd := exec.Command(e.interpreter, file)
	cmd.Env = append(os.Environ(), "NODE_ID=n1", "PORT="+port, "PEERS=n2=127.0.0.1:1,n3=127.0.0.1:2", "DATA_DIR="+t.TempDir(),
		"ELECTION_TIMEOUT_MIN_MS=600000", "ELECTION_TIMEOUT_MAX_MS=600001")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("%s exited before answering /status: %s", e.name, out.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/status")
		if err != nil {
			continue
		}
		var s struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err == nil && s.ID == "n1" {
			return addr
		}
	}
	t.Fatalf("%s did not answer /status on %s within 10s", e.name, addr)
	return ""
}

// built is the raftsim binary the long tests run the README's commands
// with, built once, in dir (TestMain's).
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// raftsim runs the raftsim binary (built from ../cmd/raftsim) with args,
// in a temporary directory (where live writes its node logs), and returns
// its exit status and output.
func raftsim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	built.once.Do(func() {
		built.path = filepath.Join(built.dir, "raftsim")
		if out, err := exec.Command("go", "build", "-o", built.path, "../cmd/raftsim").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ../cmd/raftsim: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	var out, errw strings.Builder
	cmd := exec.Command(built.path, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = t.TempDir(), &out, &errw
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errw.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, out.String(), errw.String()
}

// checkConformance runs the README's conformance command on the example
// with env: every rule must pass but those listed in other, which must
// come out as listed, and the exit status is 1 when a rule fails, 0
// otherwise.
func checkConformance(t *testing.T, e example, env string, other map[string]conformance.Outcome) {
	t.Helper()
	// The README's command for interpreted nodes: a longer election timeout
	// keeps the timing rules clear of a busy machine's delays.
	code, out, errw := raftsim(t, "live", "--cmd", e.command(t, env), "--conformance", "--election-timeout", "300ms-600ms", "--format", "json")
	var r struct{ Rules []conformance.Result }
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Rules) == 0 {
		t.Fatalf("%s %s: exit %d, %v:\n%s%s", e.name, env, code, err, out, errw)
	}
	wantCode := 0
	for _, r := range r.Rules {
		want := conformance.Pass
		if o, ok := other[r.Rule]; ok {
			want = o
		}
		if r.Outcome != want {
			t.Errorf("%s %s: %q: got %s (%s), want %s", e.name, env, r.Rule, r.Outcome, r.Why, want)
		}
		if r.Outcome == conformance.Fail {
			wantCode = 1
		}
	}
	if code != wantCode {
		t.Errorf("%s %s: conformance exit %d, want %d", e.name, env, code, wantCode)
	}
}

// chapterBug is a row of the README's table of the chapter's bugs ("Test
// your own node"): the RAFT_BUG that switches it on in the examples, the
// conformance rule that fails, and the built-in live scenario that finds
// it, with the bugs it needs beside (liveWith, ",no-retry") and the check
// it fails.
type chapterBug struct {
	bug, rule, scenario, liveWith, kind string
}

// readmeChapterBugs reads the README's table of the chapter's bugs, so
// that the tests run what it documents.
func readmeChapterBugs(t *testing.T) []chapterBug {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "| the chapter's code | `RAFT_BUG` |")
	if !ok {
		t.Fatal("README.md has no table of the chapter's bugs")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	ticked := regexp.MustCompile("`([^`]+)`")
	bold := regexp.MustCompile(`\*\*([^*]+)\*\*`)
	var bugs []chapterBug
	for _, line := range strings.Split(table, "\n")[2:] { // the header's rest, and its rule
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			t.Fatalf("README.md: a row of the chapter's bugs without 4 cells: %q", line)
		}
		rule, _, _ := strings.Cut(cells[2], " (")
		live := ticked.FindAllStringSubmatch(cells[3], -1)
		kind := bold.FindStringSubmatch(cells[3])
		if len(live) == 0 || kind == nil {
			t.Fatalf("README.md: no scenario or check in %q", cells[3])
		}
		b := chapterBug{bug: strings.Trim(cells[1], "`"), rule: rule, scenario: live[0][1], kind: kind[1]}
		for _, with := range live[1:] { // "(with `no-retry`)"
			b.liveWith += "," + with[1]
		}
		bugs = append(bugs, b)
	}
	if len(bugs) != 5 {
		t.Fatalf("README.md's table has %d of the chapter's 5 bugs", len(bugs))
	}
	return bugs
}

// TestEachChapterBugIsFound: each of the chapter's bugs, switched on in
// each example node (alone, but for the live scenario's companions the
// README names), is caught by the README's commands: the conformance
// command fails its rule (and only its own: the others pass, the log rule
// is skipped), and raftsim live of its scenario fails the check the table
// names; each exits 1. The correct nodes pass both (TestExamplesLong).
func TestEachChapterBugIsFound(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	for _, e := range []example{python, nodejs} {
		for _, b := range readmeChapterBugs(t) {
			t.Run(e.name+"/"+b.bug, func(t *testing.T) {
				checkConformance(t, e, "RAFT_BUG="+b.bug, map[string]conformance.Outcome{
					"refuse a candidate whose log is behind": conformance.Skip, b.rule: conformance.Fail})
				cmd := e.command(t, "RAFT_BUG="+b.bug+b.liveWith)
				code, out, errw := raftsim(t, "live", b.scenario, "--cmd", cmd, "--trials", "3")
				if code != 1 || !strings.Contains(out, "FAILED in ") || !strings.Contains(out, ": "+b.kind+" at t=") {
					t.Errorf("raftsim live %s --cmd '%s' --trials 3: exit %d, want 1 and a %s failure:\n%s%s", b.scenario, cmd, code, b.kind, out, errw)
				}
			})
		}
	}
}
