package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/live"
	"github.com/raftsim/raftsim/internal/live/conformance"
	"github.com/raftsim/raftsim/internal/live/supervisor"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/scenarios"
)

// beRaftsim makes this test binary run as raftsim: raftsim live starts its
// nodes as "EXE serve ...", and EXE is the test binary while testing.
const beRaftsim = "RAFTSIM_TEST_BE_RAFTSIM"

// TestMain runs the tests, then checks that the live tests left nothing
// behind: no process of this binary's, no data directory in TMPDIR.
func TestMain(m *testing.M) {
	if os.Getenv(beRaftsim) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	tmp, err := os.MkdirTemp("", "raftsim-test-")
	if err != nil {
		panic(err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // another user runs raftsim in it (TestOutputAsOtherUser)
		panic(err)
	}
	os.Setenv("TMPDIR", tmp)  // where raftsim live and cluster make their data directories
	os.Setenv(beRaftsim, "1") // for the processes the tests start
	// The parallel tests are the live ones, which mostly wait on real
	// processes: run four at a time, not one per CPU, unless told.
	flag.Parse()
	if !flagSet("test.parallel") {
		flag.Set("test.parallel", "4")
	}
	before, _ := filepath.Glob("swarm-*.yaml")
	code := m.Run()
	if saved, _ := filepath.Glob("swarm-*.yaml"); len(saved) > len(before) {
		fmt.Fprintf(os.Stderr, "a test ran check --swarm here and saved %v in the source tree: give it t.Chdir(t.TempDir())\n", saved)
		code = 1
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "raftsim-*")); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "data directories left behind: %v\n", left)
		code = 1
	}
	exe, _ := os.Executable()
	for _, p := range processesNaming(exe + " serve") {
		fmt.Fprintf(os.Stderr, "process left behind: %s\n", p)
		code = 1
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

// liveDirs marks a live test parallel and gives it a logs directory.
func liveDirs(t *testing.T) (logs string) {
	t.Parallel()
	return t.TempDir()
}

// flagSet reports whether the command line set the flag name.
func flagSet(name string) (set bool) {
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// processesNaming lists the processes whose command line contains any of
// words.
func processesNaming(words ...string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(data), "\x00", " ")
		for _, w := range words {
			if strings.Contains(cmd, w) {
				out = append(out, filepath.Base(filepath.Dir(p))+": "+cmd)
			}
		}
	}
	return out
}

// TestLiveLeaderCrash runs raftsim's own nodes as processes: three elect a
// leader; kill -9 of the leader; a new leader in a later term; the killed
// node, restarted with its data, rejoins as a follower of the new leader;
// no observation shows two leaders in a term or two votes by a node in a
// term (the run would fail).
func TestLiveLeaderCrash(t *testing.T) {
	logs := liveDirs(t)
	begin := time.Now()
	csvPath := filepath.Join(logs, "times.csv")
	code, out, errw := raftsim("live", "testdata/live/leader-crash.yaml", "--sim-trials", "0", "--format", "json",
		"--logs", logs, "--timelines", "--samples", csvPath)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errw, out)
	}
	var r struct {
		Trials, Measured, Failed int
		Failures                 []any
		TimeToLeaderMs           struct {
			Mean  float64
			P50CI []*float64 `json:"p50_ci"`
		} `json:"time_to_leader_ms"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Trials != 1 || r.Measured != 1 || r.Failed != 0 {
		t.Errorf("got %d trials, %d measured, %d failed: want 1, 1, 0\n%s", r.Trials, r.Measured, r.Failed, out)
	}
	if ci := r.TimeToLeaderMs.P50CI; len(ci) != 2 || ci[0] != nil || ci[1] != nil {
		t.Errorf("p50_ci %v: one trial bounds no median, want [null, null]", ci)
	}
	// --samples writes the measured time, in the format raftsim fit reads.
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := samples.Read(csvPath, bytes.NewReader(data))
	if err != nil || len(groups) != 1 || len(groups[0].Times) != 1 ||
		math.Abs(float64(groups[0].Times[0])/1e6-r.TimeToLeaderMs.Mean) > 0.001 {
		t.Errorf("--samples: got %+v (%v), want the one trial's time to leader, %.3f ms:\n%s", groups, err, r.TimeToLeaderMs.Mean, data)
	}
	for trial := range r.Trials {
		data, err := os.ReadFile(filepath.Join(logs, "trial-"+string(rune('0'+trial))+".timeline"))
		if err != nil {
			t.Fatal(err)
		}
		checkCrashTimeline(t, string(data))
	}
	t.Logf("a live trial in %v", time.Since(begin).Round(time.Millisecond))
}

// checkCrashTimeline checks one trial's timeline: the leader killed, a new
// leader of a later term, the old one restarted and answering a new
// leader's AppendEntries with success (the first new leader's, or, when
// the restarted node campaigned first, as on a busy machine it may, a later
// one's).
func checkCrashTimeline(t *testing.T, timeline string) {
	t.Helper()
	crash := regexp.MustCompile(`cluster fault crash \{(n\d)\}`).FindStringSubmatchIndex(timeline)
	if crash == nil {
		t.Fatalf("no crash in the timeline:\n%s", timeline)
	}
	old := timeline[crash[2]:crash[3]]
	after := timeline[crash[1]:]
	lead := regexp.MustCompile(`(n\d) state leader term=(\d+)`).FindStringSubmatch(after)
	if lead == nil || lead[1] == old {
		t.Fatalf("no new leader after %s was killed:\n%s", old, timeline)
	}
	restart := strings.Index(after, old+" start follower")
	if restart < 0 {
		t.Fatalf("%s was not restarted:\n%s", old, timeline)
	}
	for _, l := range regexp.MustCompile(`(n\d) state leader term=(\d+)`).FindAllStringSubmatch(after, -1) {
		joined := regexp.MustCompile(old + `->` + l[1] + ` send AppendEntriesResp term=` + l[2] + ` match=`)
		if l[1] != old && joined.MatchString(after[restart:]) {
			return
		}
	}
	t.Errorf("the restarted %s never accepted a new leader's AppendEntries (the first, %s of term %s, or a later one's):\n%s", old, lead[1], lead[2], timeline)
}

// TestLiveFindsTwoLeadersInATerm: the checks judge what they see on the
// wire and in /status; with the peers-majority bug on four nodes split
// 2|2, both halves elect a leader, and a run fails with election-safety,
// showing the RPCs and the timeline. (The example nodes' tests find it in
// go test's short suite.)
func TestLiveFindsTwoLeadersInATerm(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "testdata/live/split-brain.yaml", "--bug", "peers-majority", "--sim-trials", "0", "--logs", logs)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a failed trial): %s\n%s", code, errw, out)
	}
	for _, want := range []string{"election-safety", "both leaders in term", "shown by: ", "(on the wire)", "timeline: " + logs,
		"its last ", "cluster violation election-safety: "} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// TestAKilledNodeDoesNotVoteTwice: a raftsim serve process that granted
// its vote in term 5, killed with kill -9 and restarted on its data
// directory, refuses another candidate in term 5.
func TestAKilledNodeDoesNotVoteTwice(t *testing.T) {
	logs := liveDirs(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := live.NewCluster(live.ClusterConfig{
		Nodes: live.Nodes{Exe: exe, ServeArgs: []string{"--election-timeout", "1m-2m"}}, // no election while the test runs
		Size:  3, Data: t.TempDir(), Logs: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	boot := func() {
		if err := c.Start(0, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
	}
	vote := func(candidate string) string {
		resp, err := http.Post("http://"+c.Addr(0)+wire.PathRequestVote, "application/json",
			strings.NewReader(`{"term":5,"candidateId":"`+candidate+`","lastLogIndex":0,"lastLogTerm":0}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(body))
	}
	boot()
	if got := vote("n2"); got != `{"term":5,"voteGranted":true}` {
		t.Fatalf("n2 asked first: got %s", got)
	}
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	boot()
	if got := vote("n3"); got != `{"term":5,"voteGranted":false}` {
		t.Errorf("after kill -9 and a restart, n3 asked in the same term: got %s, want the vote refused", got)
	}
}

// TestClusterWalkthrough does the chapter's walkthrough through raftsim
// cluster's console: a leader is elected, killed with kill -9, another is
// elected, the old one restarts as a follower, and an isolated leader is
// replaced; every process is gone afterwards.
func TestClusterWalkthrough(t *testing.T) {
	in, feed := io.Pipe()
	stdin = in // not parallel: stdin is the package's
	defer func() { stdin = os.Stdin }()
	var out syncBuffer
	done := make(chan int)
	go func() { done <- Main([]string{"cluster", "--port", "0", "--latency", "1ms"}, &out, &out) }()
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if ok(out.String()) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %s within 10s:\n%s", what, out.String())
	}
	leaderLine := regexp.MustCompile(`(n\d) leader term=(\d+)`)
	waitFor("leader", leaderLine.MatchString)
	m := leaderLine.FindStringSubmatch(out.String())
	first, firstTerm := m[1], atoi(m[2])
	io.WriteString(feed, "kill "+first+"\n")
	waitFor("new leader", func(s string) bool {
		for _, m := range leaderLine.FindAllStringSubmatch(s, -1) {
			if m[1] != first && atoi(m[2]) > firstTerm {
				return true
			}
		}
		return false
	})
	io.WriteString(feed, "status\n") // a node the cluster killed is down, not a node that does not answer
	waitFor("the killed node's status", func(s string) bool { return strings.Contains(s, first+": down: killed (kill -9)") })
	io.WriteString(feed, "restart "+first+"\n")
	waitFor("restart", func(s string) bool { return strings.Contains(s, "restarted "+first) })
	io.WriteString(feed, "restart "+first+"\n") // it runs: nothing is done, and the console says so
	waitFor("a refused restart", func(s string) bool { return strings.Contains(s, "cannot restart "+first+": ") })
	waitFor("the old leader following", func(s string) bool {
		after := s[strings.Index(s, "killed "+first):]
		return regexp.MustCompile(first + ` follower term=\d+ leader=n\d`).MatchString(after)
	})
	leaders := leaderLine.FindAllStringSubmatch(out.String(), -1)
	second, term := leaders[len(leaders)-1][1], leaders[len(leaders)-1][2]
	io.WriteString(feed, "isolate "+second+"\n")
	waitFor("a leader after the isolated "+second, func(s string) bool {
		for _, m := range leaderLine.FindAllStringSubmatch(s, -1) {
			if m[1] != second && atoi(m[2]) > atoi(term) {
				return true
			}
		}
		return false
	})
	io.WriteString(feed, "heal\nstatus\nquit\n")
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d:\n%s", code, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("quit did not stop the cluster:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "curl http://127.0.0.1:") {
		t.Errorf("no curl commands printed:\n%s", out.String())
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// syncBuffer is a bytes.Buffer safe for the nodes' output goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestConformanceFindsAVoteGrantedTwice: raftsim's own node with the bug
// that forgets its vote fails "one vote per term" and "keep its term and
// vote across a restart" (it forgets the vote before any crash), and passes
// the rest.
func TestConformanceFindsAVoteGrantedTwice(t *testing.T) {
	logs := liveDirs(t)
	// A longer election timeout than the default keeps the timing rules
	// clear of a busy machine's scheduling delays.
	code, out, errw := raftsim("live", "--conformance", "--bug", "vote-unrecorded", "--election-timeout", "300ms-600ms", "--logs", logs)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s\n%s", code, errw, out)
	}
	for _, want := range []string{
		"FAIL  one vote per term: granted n3 a vote in term 10 after granting n2 one",
		"n3->n1 RequestVote term=10 log=0/0 (sent by raftsim) answered RequestVoteResp term=10 granted",
		"PASS  refuse a stale term", "PASS  campaign again after a split vote",
		"8 of 10 rules passed, 2 failed, 0 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// TestANodeThatDoesNotStart is reported with the end of its output.
func TestANodeThatDoesNotStart(t *testing.T) {
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "--cmd", "echo cannot bind $PORT >&2; exit 3", "--nodes", "3", "--trials", "1", "--logs", logs)
	if code == 0 || out != "" {
		t.Fatalf("exit %d with output %q, want a failure and no report", code, out)
	}
	for _, want := range []string{"node n", "exited (exit status 3) before answering /status", "cannot bind"} {
		if !strings.Contains(errw, want) {
			t.Errorf("the error lacks %q:\n%s", want, errw)
		}
	}
}

// TestLiveBadInput: bad flags and scenarios live mode cannot run end in a
// message naming what is wrong, exit status 2, and no output file.
func TestLiveBadInput(t *testing.T) {
	dir := t.TempDir()
	out, logs := filepath.Join(dir, "out.json"), filepath.Join(dir, "logs")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"live", "--sim-trials", "-5"}, "--sim-trials"},
		{[]string{"live", "--plot", "cdf.txt"}, "--plot"},
		{[]string{"live", "--nodes", "16"}, "cluster.nodes: 16 processes"},
		{[]string{"live", "fast-laggard"}, "drift: live mode cannot change how fast a process's clock runs"},
		{[]string{"live", "testdata/live/initial-term.yaml", "--cmd", "python3 x.py"}, "cluster.term and cluster.logs"},
		{[]string{"live", "--latency", "uniform:9ms-1ms"}, "--latency"},
		{[]string{"serve", "--listen", "127.0.0.1:0"}, "--id (or NODE_ID)"},
		{[]string{"serve", "--id", "n1", "--listen", "127.0.0.1:0", "--peer", "n2=nowhere"}, "--peer: peer \"n2=nowhere\""},
		{[]string{"serve", "--id", "n1", "--listen", "127.0.0.1:0", "--peer", "n1=127.0.0.1:1"}, "node name \"n1\" twice"},
		{[]string{"cluster", "--port", "70000"}, "--port"},
	} {
		args := tc.args
		if args[0] == "live" {
			args = append(args, "--out", out, "--logs", logs)
		}
		code, stdout, errw := raftsim(args...)
		if code != 2 || !strings.Contains(errw, tc.want) || stdout != "" {
			t.Errorf("%v: got exit %d, stderr %q, stdout %q; want 2 and a message with %q", tc.args, code, errw, stdout, tc.want)
		}
		for _, f := range []string{out, logs} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%v: made %s", tc.args, f)
			}
		}
	}
}

// TestLiveBuiltinsLong runs every built-in scenario live mode accepts, with
// raftsim's own nodes: they run unchanged, and hold.
func TestLiveBuiltinsLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	for _, name := range scenarios.BuiltinNames {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := live.Check(s, live.Nodes{}); err != nil {
			t.Logf("%s: refused: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) {
			logs := liveDirs(t)
			code, out, errw := raftsim("live", name, "--trials", "2", "--sim-trials", "0", "--logs", logs)
			if code != 0 {
				t.Errorf("exit %d: %s\n%s", code, errw, out)
			}
		})
	}
}

// TestLiveChecks: check steps, names (as: old), heal of one node and
// after: leader-exists run live as in the simulator. The old leader of an
// isolated minority still believes it leads a second later unless
// CheckQuorum makes it step down: the check fails, naming its step and
// what it found, and holds with --check-quorum.
func TestLiveChecks(t *testing.T) {
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "testdata/live/stale-leader-check.yaml", "--sim-trials", "0", "--format", "json", "--logs", logs)
	if code != 1 {
		t.Fatalf("without CheckQuorum: exit %d, want 1: %s\n%s", code, errw, out)
	}
	var r struct {
		Failures []struct{ Kind, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(r.Failures) != 1 || r.Failures[0].Kind != "check" ||
		!regexp.MustCompile(`^step 2 \(line 15\): want no leader among old \{n\d\}, found 1: n\d \(term \d+\)$`).MatchString(r.Failures[0].Detail) {
		t.Errorf("without CheckQuorum: want the check of step 2 to fail, got %+v", r.Failures)
	}
	code, out, errw = raftsim("live", "testdata/live/stale-leader-check.yaml", "--check-quorum", "--sim-trials", "0", "--logs", logs)
	if code != 0 || !strings.Contains(out, "the checks of 2 steps") {
		t.Errorf("with CheckQuorum: exit %d, want 0 and the checks held: %s\n%s", code, errw, out)
	}
}

// TestLiveTakesTheTrialSeedsOfThePlan: live's trials are the plan's, as
// run's are: a scenario's trial_seeds name them, and a trial draws the
// same random node and delay live as raftsim replay of its seed does.
func TestLiveTakesTheTrialSeedsOfThePlan(t *testing.T) {
	logs := liveDirs(t)
	const file = "testdata/live/seeded.yaml"
	if code, out, errw := raftsim("live", file, "--sim-trials", "0", "--logs", logs, "--timelines"); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errw, out)
	}
	crash := regexp.MustCompile(`fault crash \{n\d\} restart_after=\S+`)
	for trial, seed := range []string{"4242", "77"} {
		data, err := os.ReadFile(filepath.Join(logs, fmt.Sprintf("trial-%d.timeline", trial)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "(seed "+seed+")") {
			t.Errorf("trial %d: its timeline does not name seed %s:\n%s", trial, seed, firstLine(string(data)))
		}
		_, replayed, _ := raftsim("replay", file, "--seed", seed, "--kind", "fault")
		want, got := crash.FindString(replayed), crash.FindString(string(data))
		if want == "" || got != want {
			t.Errorf("trial %d (seed %s): live applied %q, the simulator %q", trial, seed, got, want)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestConformancePortsOnABusyMachine starts conformance's node and its
// stand-ins 20 times in a row while two goroutines keep the CPUs busy: no
// run loses its port ("address already in use") between picking it and
// the node listening on it.
func TestConformancePortsOnABusyMachine(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := liveDirs(t)  // which pauses the test until the serial tests end: spin after it, not before
	var stop atomic.Bool // two goroutines spin until the test ends: a busy machine
	defer stop.Store(true)
	for range 2 {
		go func() {
			for !stop.Load() {
			}
		}()
	}
	nodes := live.Nodes{Exe: exe, ServeArgs: []string{"--election-timeout", "300ms-600ms", "--heartbeat", "100ms"}}
	for k := range long.Pick(5, 20) {
		res, err := conformance.Run(context.Background(), conformance.Options{Nodes: nodes, Logs: logs, Only: []string{"one vote per term"},
			ElectionMin: 300 * time.Millisecond, ElectionMax: 600 * time.Millisecond, Heartbeat: 100 * time.Millisecond})
		if err != nil {
			t.Fatalf("run %d: %v", k, err)
		}
		if len(res) != 1 || res[0].Outcome != conformance.Pass {
			t.Fatalf("run %d: %+v", k, res)
		}
	}
}

// TestAKillDuringStartUpIsACrash runs crash-restart live with nodes that
// take half a second to start (a sleep before raftsim serve): the
// scenario kills restarted nodes again before they first answer, and
// those are crashes like any other, not nodes that failed to start. The
// trial begins once every node is up.
func TestAKillDuringStartUpIsACrash(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := liveDirs(t)
	slow := fmt.Sprintf(`sleep 0.5; exec %s serve --data "$DATA_DIR" --election-timeout 150ms-300ms --heartbeat 50ms`, exe)
	code, out, errw := raftsim("live", "crash-restart", "--cmd", slow, "--trials", "1", "--sim-trials", "0", "--logs", logs, "--timelines")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errw, out)
	}
	data, err := os.ReadFile(filepath.Join(logs, "trial-0.timeline"))
	if err != nil {
		t.Fatal(err)
	}
	started := map[string]float64{} // by node: when it last started
	line := regexp.MustCompile(`^t=(-?[\d.]+)ms (n\d) (start|down)\b`)
	killedStarting := 0
	for _, l := range strings.Split(string(data), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		if m[3] == "start" {
			started[m[2]] = at
		} else if since, ok := started[m[2]]; ok && at-since < 500 {
			killedStarting++ // down before its process could have answered
		}
	}
	if killedStarting == 0 {
		t.Errorf("no node was killed during its start-up: the test did not test it\n%s", data)
	}
	t.Logf("%d kills during start-up", killedStarting)
}

// badNode returns the command that runs testdata/nodes/bad_node.py in
// mode, or skips t without python3.
func badNode(t *testing.T, mode string) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	script, err := filepath.Abs("testdata/nodes/bad_node.py")
	if err != nil {
		t.Fatal(err)
	}
	return "BAD_MODE=" + mode + " exec python3 " + script + " " + mode // the mode names the processes, for the check that none is left
}

// harnessFault runs one cold-start trial of three nodes of cmd and checks
// that raftsim ends with the exit status want and says each of words on
// its standard error or output, leaving no process of marker behind.
func harnessFault(t *testing.T, cmd, marker string, want int, words ...string) {
	t.Helper()
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "cold-start", "--nodes", "3", "--trials", "1", "--sim-trials", "0", "--cmd", cmd, "--logs", logs)
	if code != want {
		t.Errorf("exit %d, want %d: %s\n%s", code, want, errw, out)
	}
	for _, w := range words {
		if !strings.Contains(errw+out, w) {
			t.Errorf("the report lacks %q:\n%s\n%s", w, errw, out)
		}
	}
	if strings.Contains(errw, "within 10s") && !slices.Contains(words, "within 10s") {
		t.Errorf("reported as the start timeout, not the cause: %s", errw)
	}
	if left := processesNaming(marker); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

// TestANodeThatAnswersHTML: a node that answers /status with a web page is
// named, with what it answered, once its answers have been wrong for a
// second: not as a node that did not answer within the start timeout.
func TestANodeThatAnswersHTML(t *testing.T) {
	harnessFault(t, badNode(t, "html"), "bad_node.py html", 2, "answers GET http://127.0.0.1:", "not as the contract says", "<html>")
}

// TestANodeThatIgnoresSIGTERM is stopped with SIGKILL after the grace
// period, and the report says so; the trial itself is unaffected.
func TestANodeThatIgnoresSIGTERM(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stubborn := fmt.Sprintf(`trap '' TERM; %s serve --data "$DATA_DIR" --election-timeout 150ms-300ms & while :; do sleep 1; done`, exe)
	harnessFault(t, stubborn, "while :; do sleep", 0, "did not exit within 1s of SIGTERM at the end of a trial and was killed (kill -9)")
}

// TestHarnessFaultsLong: a node that never answers, one that listens on
// the wrong port, one that answers RPCs 10s late, and one that floods its
// output each end in a clear report naming the node and the cause, with
// nothing left behind. They take the start timeout or a whole trial.
func TestHarnessFaultsLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	t.Run("silent", func(t *testing.T) {
		harnessFault(t, badNode(t, "silent"), "bad_node.py silent", 2, "did not answer GET http://127.0.0.1:", "within 10s")
	})
	t.Run("wrong-port", func(t *testing.T) {
		// raftsim cannot tell a node on the wrong port from a slow one until
		// the start timeout, so the report is that timeout with its cause.
		harnessFault(t, badNode(t, "wrong-port"), "bad_node.py wrong-port", 2, "within 10s", "nothing listens there: the node must listen on 127.0.0.1:$PORT")
	})
	t.Run("slow-rpc", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		// n1 is raftsim's node, which campaigns; n2 and n3 answer its RPCs 10s late.
		cmd := fmt.Sprintf(`if [ "$NODE_ID" = n1 ]; then exec %s serve --data "$DATA_DIR"; fi; %s`, exe, badNode(t, "slow-rpc"))
		harnessFault(t, cmd, "bad_node.py slow-rpc", 1, "n2, running and started up, left", "in the proxy's time (2s): they were lost")
	})
	t.Run("flood", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		logs := liveDirs(t)
		flood := fmt.Sprintf(`%s serve --data "$DATA_DIR" --election-timeout 150ms-300ms & exec yes flooding-stdout`, exe)
		code, out, errw := raftsim("live", "cold-start", "--nodes", "3", "--trials", "1", "--sim-trials", "0", "--cmd", flood, "--logs", logs)
		if code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, errw, out)
		}
		st, err := os.Stat(filepath.Join(logs, "n1.log"))
		if err != nil || st.Size() > supervisor.MaxLog+64<<10 {
			t.Errorf("n1.log: %v, %d bytes: want it capped at %d", err, st.Size(), supervisor.MaxLog)
		}
		if left := processesNaming("flooding-stdout"); len(left) > 0 {
			t.Errorf("processes left behind: %v", left)
		}
	})
}

// TestLiveEtcdLong runs three real etcd members (Debian's etcd-server):
// they elect a leader, it is killed with kill -9, the others elect a new
// one, and the old one, restarted with its data directory, follows it;
// nothing is left behind.
func TestLiveEtcdLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	if _, err := exec.LookPath("etcd"); err != nil {
		t.Skip("etcd is not installed (Debian: apt-get install etcd-server): real etcd members cannot run")
	}
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "testdata/live/etcd-leader-crash.yaml", "--etcd", "--sim-trials", "300", "--logs", logs, "--timelines", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errw, out)
	}
	var rep struct {
		Simulated struct{ Trials int }
		KS        *float64 `json:"ks_distance"`
		Notes     []string
		Overheads *struct {
			Answer struct{ N int } `json:"answer_ms"`
			Late   struct{ N int } `json:"late_ms"`
		}
		WithOverheads *struct{} `json:"with_overheads"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Simulated.Trials != 300 || rep.KS == nil || len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "simulated: etcd's raft (--impl etcd) as the members run it") {
		t.Errorf("the simulation beside etcd: %d trials, ks_distance %v, notes %q; want 300 of etcd's raft", rep.Simulated.Trials, rep.KS, rep.Notes)
	}
	// The TCP proxy sees bytes, not RPCs: how late it delivered them, and
	// no answers, so no model of the overheads to simulate.
	if rep.Overheads == nil || rep.Overheads.Late.N == 0 || rep.Overheads.Answer.N != 0 || rep.WithOverheads != nil {
		t.Errorf("overheads %+v, with_overheads %v: want the lateness alone, and no simulation with it", rep.Overheads, rep.WithOverheads)
	}
	data, err := os.ReadFile(filepath.Join(logs, "trial-0.timeline"))
	if err != nil {
		t.Fatal(err)
	}
	timeline := string(data)
	crash := regexp.MustCompile(`cluster fault crash \{(n\d)\}`).FindStringSubmatchIndex(timeline)
	if crash == nil {
		t.Fatalf("no crash:\n%s", timeline)
	}
	old, after := timeline[crash[2]:crash[3]], timeline[crash[1]:]
	lead := regexp.MustCompile(`(n\d) state leader term=\d+`).FindStringSubmatch(after)
	if lead == nil || lead[1] == old {
		t.Fatalf("no new leader after %s was killed:\n%s", old, timeline)
	}
	if !strings.Contains(after, old+" start") || !strings.Contains(after, "check holds: one leader, every node follows the same leader") {
		t.Errorf("%s was not restarted, or did not follow the new leader:\n%s", old, timeline)
	}
	if left := processesNaming("etcd --name"); len(left) > 0 {
		t.Errorf("etcd members left behind: %v", left)
	}
}

// TestHeartbeatOnlyNode: a correct node that leaves out what the contract
// lets it (no /raft/append-entries, only the chapter's /raft/heartbeat; no
// log, answering entries with success and matchIndex 0; /propose refused
// with 400) passes conformance, which falls back to /raft/heartbeat and
// says so and skips the log rule; live says its writes were refused.
func TestHeartbeatOnlyNode(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the long suite: RAFTSIM_LONG=1 runs it")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	script, err := filepath.Abs("testdata/nodes/heartbeat_node.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := "python3 " + script
	logs := liveDirs(t)
	code, out, errw := raftsim("live", "--cmd", cmd, "--conformance", "--election-timeout", "300ms-600ms", "--logs", logs)
	if code != 0 {
		t.Errorf("conformance: exit %d, want 0:\n%s%s", code, out, errw)
	}
	for _, want := range []string{
		"answers AppendEntries only at /raft/heartbeat",
		"SKIP  refuse a candidate whose log is behind: it answered the entry n2 sent with success and matchIndex 0",
		"PASS  reset the election timer on a heartbeat",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("conformance does not say %q:\n%s", want, out)
		}
	}
	code, out, errw = raftsim("live", "lagging-follower", "--cmd", cmd, "--trials", "1", "--sim-trials", "100", "--logs", logs)
	if code != 0 || !strings.Contains(out, "POST /propose answered 400 Bad Request, not 200: those writes were not made") {
		t.Errorf("live lagging-follower: exit %d, want 0 and a note of the refused writes:\n%s%s", code, out, errw)
	}
}
