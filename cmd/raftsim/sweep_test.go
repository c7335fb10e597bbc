package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/testkit/long"
	"github.com/raftsim/raftsim/internal/trial"
)

type sweepJSON struct {
	Seed  uint64
	Cells []struct {
		Label       string
		Recommended bool
		Measured    int
		Trials      int
		Params      map[string]any
		Failures    []struct {
			Trial  int
			Seed   uint64
			Replay string
		}
	}
}

// TestSweepCellEqualsRun: a sweep cell reports, statistic for statistic,
// what raftsim run reports for the same parameters.
func TestSweepCellEqualsRun(t *testing.T) {
	code, out, errw := raftsim("sweep", "leader-crash", "--election-timeout", "100ms-200ms,150ms-300ms", "--nodes", "3,5",
		"--trials", "300", "--steady-time", "0", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	var sw struct{ Cells []map[string]any }
	if err := json.Unmarshal([]byte(out), &sw); err != nil {
		t.Fatal(err)
	}
	if len(sw.Cells) != 4 {
		t.Fatalf("%d cells, want 4", len(sw.Cells))
	}
	_, runOut, _ := raftsim("run", "leader-crash", "--election-timeout", "150ms-300ms", "--nodes", "5", "--trials", "300", "--format", "json")
	var run map[string]any
	if err := json.Unmarshal([]byte(runOut), &run); err != nil {
		t.Fatal(err)
	}
	cell := sw.Cells[3] // nodes 5, election-timeout 150ms-300ms: nodes vary slowest
	if cell["label"] != "nodes 5, election-timeout 150ms-300ms" {
		t.Fatalf("cell 3 is %v", cell["label"])
	}
	for _, k := range []string{"trials", "measured", "time_to_leader_ms", "split_vote_probability", "split_vote_ci95",
		"split_votes", "other_lost_elections", "rounds_mean", "rounds", "messages_mean", "events", "failed", "failures", "params"} {
		a, _ := json.Marshal(cell[k])
		b, _ := json.Marshal(run[k])
		if string(a) != string(b) {
			t.Errorf("%s: sweep cell %s, run %s", k, a, b)
		}
	}
}

// TestSweepSharesSeeds: trial k of every cell runs with the same seed, and
// each failure's replay command names its cell's parameters.
func TestSweepSharesSeeds(t *testing.T) {
	code, out, _ := raftsim("sweep", "cold-start", "--nodes", "4,6", "--election-timeout", "150ms-300ms,150ms-200ms",
		"--bug", "peers-majority", "--trials", "3000", "--steady-time", "0", "--format", "json", "--seed", "9")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the bug makes trials fail)", code)
	}
	var sw sweepJSON
	if err := json.Unmarshal([]byte(out), &sw); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, c := range sw.Cells {
		for _, f := range c.Failures {
			failures++
			if f.Seed != trial.Seed(9, f.Trial) {
				t.Errorf("%s: trial %d ran with seed %d, want %d", c.Label, f.Trial, f.Seed, trial.Seed(9, f.Trial))
			}
			nodes := c.Params["nodes"].(float64)
			if !strings.Contains(f.Replay, "--nodes "+map[float64]string{4: "4", 6: "6"}[nodes]) || !strings.Contains(f.Replay, "--bug peers-majority") {
				t.Errorf("replay %q lacks the cell's parameters", f.Replay)
			}
		}
	}
	if failures == 0 {
		t.Fatal("no failures to check")
	}
}

// TestFigure16Shape: the paper's shape: a little randomness (150-151ms,
// 150-155ms) is much slower than more (150-200ms, 150-300ms): a p90 at
// least twice as long and a mean at least 1.5 times (with the network
// fitted to the paper's figures, 150-155ms's median is near the paper's
// 287ms, and its mean below twice 150-300ms's); and none (150-150ms)
// slower still. Every trial must reach the crash it measures
// from, in every range: a range whose first election never ends measures
// nothing.
func TestFigure16Shape(t *testing.T) {
	trials := long.Pick("100", "300")
	code, out, errw := raftsim("sweep", "figure16", "--election-timeout", "150-150ms,150-151ms,150-155ms,150-200ms,150-300ms",
		"--trials", trials, "--steady-time", "0", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	var sw struct {
		Cells []struct {
			Label          string
			Trials         int
			Started        int
			Measured       int
			TimeToLeaderMs struct{ Mean, P50, P90 float64 } `json:"time_to_leader_ms"`
		}
	}
	if err := json.Unmarshal([]byte(out), &sw); err != nil {
		t.Fatal(err)
	}
	c := sw.Cells
	for _, cell := range c {
		if cell.Started != cell.Trials {
			t.Errorf("%s: %d of %d trials reached the crash", cell.Label, cell.Started, cell.Trials)
		}
	}
	for _, slow := range c[1:3] {
		for _, fast := range c[3:5] {
			if slow.TimeToLeaderMs.Mean < 1.5*fast.TimeToLeaderMs.Mean || slow.TimeToLeaderMs.P90 < 2*fast.TimeToLeaderMs.P90 {
				t.Errorf("%s (mean %.0f, p90 %.0f) is not much slower than %s (mean %.0f, p90 %.0f)", slow.Label,
					slow.TimeToLeaderMs.Mean, slow.TimeToLeaderMs.P90, fast.Label, fast.TimeToLeaderMs.Mean, fast.TimeToLeaderMs.P90)
			}
		}
	}
	// 150-150ms: with no randomness but the timers' lateness, the paper's
	// long slow tail: every trial elects, a tenth of them after more than
	// ten seconds, and the mean is far above 150-151ms's.
	if none, little := c[0], c[1]; none.Measured != none.Trials || none.TimeToLeaderMs.P90 < 10000 || none.TimeToLeaderMs.Mean < 2*little.TimeToLeaderMs.Mean {
		t.Errorf("150-150ms: %d of %d trials found a leader, p90 %.0fms, mean %.0fms; want all, over 10s, and over twice 150-151ms's %.0fms",
			none.Measured, none.Trials, none.TimeToLeaderMs.P90, none.TimeToLeaderMs.Mean, little.TimeToLeaderMs.Mean)
	}
	if c[1].TimeToLeaderMs.Mean < c[2].TimeToLeaderMs.Mean {
		t.Errorf("150-151ms (%.0f) is faster than 150-155ms (%.0f)", c[1].TimeToLeaderMs.Mean, c[2].TimeToLeaderMs.Mean)
	}
}

func TestSweepStabilityAndPlots(t *testing.T) {
	dir := t.TempDir()
	svg, png := filepath.Join(dir, "cdf.svg"), filepath.Join(dir, "cdf.png")
	code, out, errw := raftsim("sweep", "leader-crash", "--election-timeout", "50ms-100ms,150ms-300ms", "--trials", "200",
		"--steady-time", "20m", "--plot", svg, "--plot", png)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	for _, want := range []string{"needless/h", "leaderless ms/h", "* recommended: the smallest p99"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// 50-100ms with 50ms heartbeats holds needless elections: not recommended.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "50ms-100ms") && strings.HasSuffix(strings.TrimSpace(line), "* |") {
			t.Errorf("50ms-100ms recommended: %s", line)
		}
	}
	for _, p := range []string{svg, png} {
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("plot %s: %v", p, err)
		}
	}
}

func TestSweepBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--election-timeout", "150ms-300ms,300ms-100ms"}, "--election-timeout: range"},
		{[]string{"sweep", "--nodes", "3,x"}, `--nodes: "x" is not a cluster size`},
		{[]string{"sweep", "--loss", "0,1.5", "--election-timeout", "150-300ms"}, "--loss: probability 1.5"},
		{[]string{"sweep", "--latency", "normal:7ms", "--election-timeout", "150-300ms"}, "--latency:"},
		{[]string{"sweep", "cold-start"}, "nothing to sweep"},
		{[]string{"sweep", "--election-timeout", "150-300ms", "--plot", filepath.Join(dir, "x.gif")}, "--plot: plot"},
		{[]string{"sweep", "minority", "--nodes", "2,5"}, "random:3 picks 3 nodes of 2"},
		{[]string{"sweep", "--election-timeout", "150-300ms", "--steady-time", "soon"}, "--steady-time:"},
		{[]string{"sweep", "--election-timeout", "150-300ms", "--max-needless", "0"}, "--max-needless: want above 0"},
		{[]string{"sweep", "--election-timeout", "150-300ms", "--max-steady-time", "30m"}, "--max-steady-time 30m: below --steady-time 1h"},
		{[]string{"sweep", "--election-timeout", "150-300ms", "--max-steady-time", "long"}, "--max-steady-time:"},
	} {
		out := filepath.Join(dir, "out.txt")
		code, stdout, stderr := raftsim(append(tt.args, "--out", out)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v wrote an output file", tt.args)
		}
	}
}

func TestSplitDists(t *testing.T) {
	got := splitDistsText("uniform:5ms-10ms,normal:7ms,2ms,exp:5ms,7ms,lognormal:7ms,2ms,9ms")
	want := "uniform:5ms-10ms normal:7ms,2ms exp:5ms,7ms lognormal:7ms,2ms 9ms"
	if strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
	if ds := splitDistsText("exp:7ms;const:2ms"); len(ds) != 2 {
		t.Errorf("';' did not separate: %v", ds)
	}
}

// issue21Sweep is the sweep of issue 21, whose recommendation changed with
// the seed when a threshold was compared with one hour's count.
var issue21Sweep = []string{"sweep", "leader-crash", "--election-timeout", "100-200ms,150-300ms,200-400ms", "--nodes", "3", "--loss", "0.01"}

type recommendation struct {
	Cells []struct {
		Label            string
		Recommended      bool
		StabilityVerdict string `json:"stability_verdict"`
		Stability        struct {
			Hours                      float64
			NeedlessElectionsPerHour   float64    `json:"needless_elections_per_hour"`
			NeedlessElectionsPerHourCI [2]float64 `json:"needless_elections_per_hour_ci"`
		}
		RecommendationNote string `json:"recommendation_note"`
	}
	Undecided []struct{ Cell, Text string }
}

// recommended returns the labels of the cells a sweep's JSON recommends.
func (r *recommendation) recommended() []string {
	var out []string
	for _, c := range r.Cells {
		if c.Recommended {
			out = append(out, c.Label)
		}
	}
	return out
}

// TestSweepRecommendationSameEverySeed: the sweep of issue 21, at seeds 1
// to 20, recommends the same range, 150ms-300ms: each rate the rule
// compares with --max-needless carries its 95% interval, a range counts
// only when the interval is at or below it, and the range the rule would
// pick gets more steady state until its interval is (seed 6 measured 2
// needless elections in its one hour and recommended 200ms-400ms). The
// seeds run 300 trials per cell (time to leader, which sets the p99 the
// rule ranks by, is cheap; the steady state is not), 1000 with
// RAFTSIM_LONG.
func TestSweepRecommendationSameEverySeed(t *testing.T) {
	t.Parallel() // CPU-bound: it runs while the live tests wait on their processes
	trials := long.Pick("300", "1000")
	for seed := 1; seed <= 20; seed++ {
		code, out, errw := raftsim(append(slices.Clone(issue21Sweep), "--seed", strconv.Itoa(seed), "--trials", trials, "--format", "json")...)
		if code != 0 {
			t.Fatalf("seed %d: exit %d: %s", seed, code, errw)
		}
		var r recommendation
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		want := "nodes 3, loss 0.01, election-timeout 150ms-300ms"
		if got := r.recommended(); len(got) != 1 || got[0] != want {
			t.Errorf("seed %d: recommended %q, undecided %+v; want %q", seed, got, r.Undecided, want)
			continue
		}
		for _, c := range r.Cells {
			ci := c.Stability.NeedlessElectionsPerHourCI
			if c.Recommended && (c.StabilityVerdict != "below" || ci[1] > 1 || c.Stability.Hours < 1) {
				t.Errorf("seed %d: recommended %s: %s, needless %g [%g, %g] over %g hours", seed, c.Label, c.StabilityVerdict,
					c.Stability.NeedlessElectionsPerHour, ci[0], ci[1], c.Stability.Hours)
			}
			if rate := c.Stability.NeedlessElectionsPerHour; !(ci[0] <= rate && rate <= ci[1]) {
				t.Errorf("seed %d: %s: rate %g outside its interval %v", seed, c.Label, rate, ci)
			}
		}
	}
}

// TestSweepUndecided: with no more steady state allowed than the hour
// every cell gets, one hour cannot show a rate below 1 per hour unless it
// holds no needless election, so the group may stay open: no range is
// recommended, "?" marks the range the rule would pick, and a line says
// what would decide it. Given room, the same sweep decides.
func TestSweepUndecided(t *testing.T) {
	args := append(slices.Clone(issue21Sweep), "--seed", "6", "--trials", "300")
	code, out, errw := raftsim(append(args, "--max-steady-time", "1h")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	for _, want := range []string{"| ?   |", "? nodes 3, loss 0.01, election-timeout 150ms-300ms: no recommendation in its group: the data cannot decide: 150ms-300ms has the smallest p99",
		"straddle --max-needless 1; about", "of steady state would decide it if the rate stays near 2.00 per hour"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "| *   |") {
		t.Errorf("a range was recommended:\n%s", out)
	}
	_, out, _ = raftsim(append(args, "--format", "json")...)
	var r recommendation
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if got := r.recommended(); len(got) != 1 || !strings.HasSuffix(got[0], "150ms-300ms") || len(r.Undecided) != 0 {
		t.Errorf("with room for more steady state: recommended %q, undecided %+v", got, r.Undecided)
	}
}

// TestSweepMoreSteadyStateMerges: shards of a sweep whose cells need more
// steady state merge to the unsharded output, byte for byte: the shards
// run the hour every cell gets, and the merge runs the rest, as the
// unsharded sweep does, and says so on stderr.
func TestSweepMoreSteadyStateMerges(t *testing.T) {
	args := append(slices.Clone(issue21Sweep), "--seed", "6", "--trials", "100")
	_, want, _ := raftsim(args...)
	parts := runShards(t, t.TempDir(), 3, args...)
	code, got, errw := raftsim(append([]string{"merge"}, parts...)...)
	if code != 0 || got != want {
		t.Errorf("merged: exit %d, %s\n%s\nwant\n%s", code, errw, got, want)
	}
	if !strings.Contains(errw, "raftsim merge: ran ") || !strings.Contains(errw, "more here, for cells the shards' steady state could not judge") {
		t.Errorf("the merge ran steady state without saying so: %q", errw)
	}
	if !strings.Contains(want, "more steady state where the interval held --max-needless") {
		t.Errorf("no cell ran longer, so this test shows nothing:\n%s", want)
	}
}

// TestSweepWarnedRecommendation: sweep figure16 recommends 12ms-24ms,
// which draws the ten-round-trips warning; the recommendation says how
// the two relate, and names the best range that draws no warning.
func TestSweepWarnedRecommendation(t *testing.T) {
	for _, steady := range []string{"1h", "0"} {
		_, out, errw := raftsim("sweep", "figure16", "--trials", "300", "--steady-time", steady, "--format", "json")
		var r recommendation
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s", err, errw)
		}
		if got := r.recommended(); len(got) != 1 || got[0] != "election-timeout 12ms-24ms" {
			t.Fatalf("--steady-time %s: recommended %q, want 12ms-24ms", steady, got)
		}
		want := []string{"within --max-needless", "the best that does not is "}
		if steady == "0" {
			want = []string{"stability was not measured (--steady-time 0): measure it", "the best that does not is "}
		}
		for _, c := range r.Cells {
			if !c.Recommended {
				if c.RecommendationNote != "" {
					t.Errorf("%s: a note, though not recommended", c.Label)
				}
				continue
			}
			for _, w := range append(want, "below 10 round trips") {
				if !strings.Contains(c.RecommendationNote, w) {
					t.Errorf("--steady-time %s: note lacks %q: %s", steady, w, c.RecommendationNote)
				}
			}
		}
	}
}
