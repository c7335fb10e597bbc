package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// metricsData is where package metrics keeps its captured and hand-made
// expositions.
const metricsData = "../../internal/study/metrics/testdata/"

// captureArgs are --metrics flags for the capture of three etcd 3.4.23
// members, each file at the time scrapes.json says it was taken.
func captureArgs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(metricsData + "etcd-3.4.23/scrapes.json")
	if err != nil {
		t.Fatal(err)
	}
	var scrapes []struct{ File, At string }
	if err := json.Unmarshal(data, &scrapes); err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, s := range scrapes {
		args = append(args, "--metrics", metricsData+"etcd-3.4.23/"+s.File+"@"+s.At)
	}
	return args
}

// handmadeArgs are --metrics flags for the hand-made cluster kind, taken
// at one time (their process start gives the window).
func handmadeArgs(kind string) []string {
	var args []string
	for _, n := range []string{"n1", "n2", "n3"} {
		args = append(args, "--metrics", metricsData+"handmade/"+kind+"-"+n+".prom@2026-12-07T12:00:00Z")
	}
	return args
}

// quickTune keeps tune's tests short: a small grid, enough trials to bound
// a p99, an hour of steady state, and a goal an hour or two can show.
var quickTune = []string{"--heartbeat-interval", "100ms", "--election-timeout", "500ms,5s", "--trials", "500",
	"--steady-time", "1h", "--failover-p99", "20s", "--max-leader-changes-per-day", "24"}

type tuneJSON struct {
	Recommended *struct {
		HeartbeatMs       int64   `json:"heartbeat_ms"`
		ElectionTimeoutMs int64   `json:"election_timeout_ms"`
		FailoverP99Ms     float64 `json:"failover_p99_ms"`
		Replay            string
	}
	EtcdFlags string `json:"etcd_flags"`
	Current   struct {
		HeartbeatMs, ElectionTimeoutMs int64 `json:"-"`
		From                           string
	}
	Settings []struct {
		Meets bool
	}
	Observed *struct {
		Explains bool
		Text     string
	}
	Notes []string
}

func tuneRun(t *testing.T, args ...string) (string, tuneJSON) {
	t.Helper()
	code, out, errw := raftsim(append([]string{"tune"}, args...)...)
	if code != 0 {
		t.Fatalf("tune %q: exit %d: %s", args, code, errw)
	}
	var r tuneJSON
	if slices.Contains(args, "json") {
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
	}
	return out, r
}

// TestTuneTheCapture: the metrics of three real etcd members (captured by
// package metrics' TestCaptureEtcd) give a recommendation and the flags to
// set it; the current setting comes from /debug/vars; the leader change the
// capture made (it killed the leader) is not explained by the model, and
// the restart is named. The same at any --workers.
func TestTuneTheCapture(t *testing.T) {
	t.Parallel() // CPU-bound: it runs while the live tests wait on their processes
	args := append(captureArgs(t), append(quickTune, "--vars", metricsData+"etcd-3.4.23/n1-2.vars.json")...)
	text, _ := tuneRun(t, append(args, "--workers", "1")...)
	again, _ := tuneRun(t, append(args, "--workers", "3")...)
	if text != again {
		t.Errorf("--workers 1 and 3 differ:\n%s\n%s", text, again)
	}
	for _, want := range []string{"tune: etcd 3.4.23, 3 members scraped", "on every member: etcd --heartbeat-interval=100 --election-timeout=",
		"current: heartbeat 100ms, election timeout 1000ms (the command line in", "observed: the model does not explain what the cluster does",
		"restarted in between"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// TestTuneHeavyFsyncTail: a disk whose fsyncs take 1-4 s 0.1% of the time
// stalls the leader's heartbeats; tune recommends a longer election
// timeout for it than for the same cluster without the tail.
func TestTuneHeavyFsyncTail(t *testing.T) {
	t.Parallel() // CPU-bound: it runs while the live tests wait on their processes
	_, steady := tuneRun(t, append(handmadeArgs("steady"), append(quickTune, "--format", "json")...)...)
	_, heavy := tuneRun(t, append(handmadeArgs("heavy-fsync-tail"), append(quickTune, "--format", "json")...)...)
	if steady.Recommended == nil || heavy.Recommended == nil {
		t.Fatalf("no recommendation: steady %+v, heavy %+v", steady, heavy)
	}
	if s, h := steady.Recommended.ElectionTimeoutMs, heavy.Recommended.ElectionTimeoutMs; h <= s {
		t.Errorf("the heavy tail's election timeout %dms is not longer than the steady disk's %dms", h, s)
	}
	// With the default goals (p99 within 3s, a leader change a day at
	// most) the heavy tail cannot have both, and tune says which comes
	// nearest.
	out, _ := tuneRun(t, append(handmadeArgs("heavy-fsync-tail"), "--heartbeat-interval", "100ms", "--election-timeout", "1s,5s", "--trials", "500", "--steady-time", "1h", "--max-steady-time", "1h")...)
	if !strings.Contains(out, "no recommendation: no setting is shown to meet both goals") {
		t.Errorf("the heavy tail at the default goals:\n%s", out)
	}
}

// TestTuneSaveReplays: --save writes the scenario and its data files;
// the recommended setting's replay command runs its trials again and
// measures the same p99.
func TestTuneSaveReplays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tuned")
	_, r := tuneRun(t, append(handmadeArgs("steady"), append(quickTune, "--save", dir, "--format", "json")...)...)
	for _, f := range []string{"etcd.yaml", "fsync.csv", "latency.csv", "latency-n1-n2.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--save: %v", err)
		}
	}
	if r.Recommended == nil || !strings.HasPrefix(r.Recommended.Replay, "raftsim run "+dir) || !strings.HasPrefix(r.EtcdFlags, "--heartbeat-interval=100 --election-timeout=") {
		t.Fatalf("no recommendation, or no replay command: %+v", r)
	}
	words := strings.Fields(r.Recommended.Replay)[1:]
	code, out, errw := raftsim(append(words, "--format", "json")...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", r.Recommended.Replay, code, errw)
	}
	var run struct {
		TimeToLeader struct{ P99 float64 } `json:"time_to_leader_ms"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	if run.TimeToLeader.P99 != r.Recommended.FailoverP99Ms {
		t.Errorf("the replay's p99 %g, tune's %g", run.TimeToLeader.P99, r.Recommended.FailoverP99Ms)
	}
	if code, _, errw := raftsim(append([]string{"tune"}, append(handmadeArgs("steady"), "--save", dir)...)...); code != exitBadUsage || !strings.Contains(errw, "it exists") {
		t.Errorf("--save into a directory that exists: exit %d, %s", code, errw)
	}
}

// TestTuneRefuses: bad input exits 2 naming the flag and the file.
func TestTuneRefuses(t *testing.T) {
	notMetrics := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notMetrics, []byte("hello\n"), 0o644)
	steady := handmadeArgs("steady")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "--metrics: give each member's metrics"},
		{[]string{"--metrics", "no-such.prom"}, "no-such.prom"},
		{[]string{"--metrics", notMetrics}, notMetrics},
		{[]string{"--metrics", metricsData + "handmade/steady-n1.prom@yesterday"}, "not RFC 3339"},
		{append(slices.Clone(steady), "--failover-p99", "0s"), "--failover-p99"},
		{append(slices.Clone(steady), "--max-leader-changes-per-day", "0"), "--max-leader-changes-per-day"},
		{append(slices.Clone(steady), "--heartbeat-interval", "fast"), "--heartbeat-interval \"fast\""},
		{append(slices.Clone(steady), "--heartbeat-interval", "1s", "--election-timeout", "2s"), "no pair etcd accepts"},
		{append(slices.Clone(steady), "--pre-vote", "maybe"), "--pre-vote"},
		{append(slices.Clone(steady), "--members", "0", "--steady-time", "0"), "--steady-time"},
		{append(slices.Clone(steady), "--current-election-timeout", "200ms"), "the current setting"},
		{append(slices.Clone(steady), "leader-crash"), "tune takes no scenario"},
	} {
		code, out, errw := raftsim(append([]string{"tune"}, tt.args...)...)
		if code != exitBadUsage || out != "" || !strings.Contains(errw, tt.want) {
			t.Errorf("tune %q: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tt.args, code, out, errw, tt.want)
		}
	}
}
