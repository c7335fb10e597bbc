package simulated

import (
	"github.com/raftsim/raftsim/internal/trial"
	"slices"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/scenarios"
)

// runYAML runs trial index of the scenario in src and returns its events
// and result.
func runYAML(t *testing.T, src string, index int) ([]trace.Event, trial.Result) {
	t.Helper()
	s, err := scenarios.Parse("test.yaml", []byte(src))
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	p := trial.NewPlan(s)
	return record(NewDriver(p), p.SeedOf(s.Seed, index))
}

// lines returns the trace lines of the kinds given.
func lines(events []trace.Event, kinds ...trace.EventKind) []string {
	var out []string
	for _, e := range events {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, e.Line())
		}
	}
	return out
}

const threeNodes = "cluster: {nodes: 3}\nmeasure: {settle: 100ms}\n"

// TestCheckSteps: a check step asserts the state of the cluster at once
// or within a deadline; one that does not hold fails the trial with the
// step's name.
func TestCheckSteps(t *testing.T) {
	for _, tt := range []struct {
		name, faults string
		fails        string // "" when the trial must pass
	}{
		{"no leader at the start", "  - check: {leader: one}\n",
			"step 1 (line 4): want one leader among connected {n1,n2,n3}, found none"},
		{"a leader within a second", "  - check: {leader: one, within: 1s}\n", ""},
		{"agreement needs the followers to hear", "  - after: leader-exists\n    check: {agree: true, within: 1s}\n", ""},
		{"the isolated leader is not connected", "  - after: leader-exists\n    isolate: {nodes: leader, as: old}\n  - check: {leader: none}\n",
			""}, // among connected, the isolated old leader is not judged
		{"every node, the isolated one too", "  - after: leader-exists\n    isolate: {nodes: leader, as: old}\n" +
			"  - delay: 1s\n    check: {leader: one, among: all}\n", "found 2: "},
		{"the old leader does not lead the rest", "  - after: leader-exists\n    isolate: {nodes: leader, as: old}\n" +
			"  - check: {leader_not: old, leader: one, within: 1s}\n", ""},
		{"the old leader is not the one", "  - after: leader-exists\n    isolate: {nodes: leader, as: old}\n" +
			"  - delay: 1s\n    check: {leader: old}\n", "want old {n"},
		{"two of three cut off: no leader", "  - after: leader-exists\n    isolate: [leader, follower]\n" +
			"  - delay: 1s\n    check: {leader: none}\n", ""},
		{"deadline passes", "  - after: leader-exists\n    isolate: [leader, follower]\n" +
			"  - check: {leader: one, within: 500ms}\n", "found none (within 500ms)"},
		{"no new term without faults", "  - after: leader-exists\n  - delay: 2s\n    check: {term_since: 1}\n", ""},
		{"a rejoining follower bumps the term", "  - after: leader-exists\n    isolate: {nodes: follower, as: f}\n" +
			"  - delay: 1s\n    heal: f\n  - delay: 500ms\n    check: {term_since: 1}\n", "want no term begun since step 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := threeNodes + "faults:\n" + tt.faults
			for i := 0; i < 20; i++ {
				events, res := runYAML(t, src, i)
				switch {
				case tt.fails == "" && res.Failure != nil:
					t.Fatalf("trial %d: %v\n%s", i, res.Failure, strings.Join(lines(events, trace.EvFault, trace.EvNote, trace.EvState), "\n"))
				case tt.fails != "" && (res.Failure == nil || res.Failure.Kind != trial.KindCheck || !strings.Contains(res.Failure.Detail, tt.fails)):
					t.Fatalf("trial %d: failure %v, want a check failing with %q", i, res.Failure, tt.fails)
				}
			}
		})
	}
}

// TestPreVoteKeepsTheTerm: Exercise 2 as a check: a follower cut off for a
// second rejoins; without Pre-Vote it has bumped its term and disrupts the
// cluster, with Pre-Vote no term is begun.
func TestPreVoteKeepsTheTerm(t *testing.T) {
	faults := "faults:\n  - after: leader-exists\n    isolate: {nodes: follower, as: f}\n  - delay: 1s\n    heal: f\n" +
		"  - delay: 1s\n    check: {term_since: 1, leader: one}\n"
	for _, prevote := range []bool{false, true} {
		src := "cluster: {nodes: 5, options: {prevote: " + map[bool]string{false: "false", true: "true"}[prevote] + "}}\n" + faults
		failed := 0
		for i := 0; i < 50; i++ {
			if _, res := runYAML(t, src, i); res.Failure != nil {
				failed++
			}
		}
		if prevote && failed > 0 || !prevote && failed < 45 {
			t.Errorf("prevote %v: the term moved in %d of 50 trials", prevote, failed)
		}
	}
}

// TestLeaderExistsTrigger: leader-exists fires at once when a working
// leader exists, where leader-elected waits for an election that never
// comes; a step that never runs is reported, and converge_within, which
// depends on the end of the timeline, fails.
func TestLeaderExistsTrigger(t *testing.T) {
	head := threeNodes + "faults:\n  - after: leader-elected\n    delay: 500ms\n    note: settled\n"
	events, res := runYAML(t, head+"  - after: leader-exists\n    crash: leader\n", 0)
	notes, faults := lines(events, trace.EvNote), lines(events, trace.EvFault)
	if res.Unfinished != "" || len(faults) != 1 {
		t.Fatalf("leader-exists: unfinished %q, faults %q", res.Unfinished, faults)
	}
	settled := notes[slices.IndexFunc(notes, func(l string) bool { return strings.Contains(l, "settled") })]
	if strings.Fields(settled)[0] != strings.Fields(faults[0])[0] {
		t.Errorf("the crash (%s) did not follow the settled leader at once (%s)", faults[0], settled)
	}

	_, res = runYAML(t, head+"  - after: leader-elected\n    crash: leader\n", 0)
	if res.Failure != nil || res.Unfinished != "step 2 (line 7) never ran: waiting for leader-elected" {
		t.Fatalf("leader-elected: unfinished %q, failure %v", res.Unfinished, res.Failure)
	}
	_, res = runYAML(t, head+"  - after: leader-elected\n    crash: leader\nexpect: {converge_within: 1s}\n", 0)
	if res.Failure == nil || res.Failure.Kind != trial.KindLiveness || !strings.Contains(res.Failure.Detail, "never ran: waiting for leader-elected") {
		t.Fatalf("converge_within of a timeline that never finished: failure %v", res.Failure)
	}
	_, res = runYAML(t, head+"  - after: leader-elected\n  - check: {leader: one}\n", 0)
	if res.Failure == nil || res.Failure.Kind != trial.KindCheck || !strings.Contains(res.Failure.Detail, "the check of step 3 (line 8) never ran") {
		t.Fatalf("a check that never ran: failure %v", res.Failure)
	}
}

// TestNamedNodes: nodes an action picked keep the name it gave them: the
// old leader isolated as old is the node heal: old brings back, and a
// follower crashed as f is the node restart: f boots.
func TestNamedNodes(t *testing.T) {
	src := "cluster: {nodes: 5}\nfaults:\n  - after: leader-exists\n    isolate: {nodes: leader, as: old}\n" +
		"  - delay: 1s\n    heal: old\n  - crash: {nodes: follower, as: f}\n  - delay: 100ms\n    restart: f\n"
	for i := 0; i < 20; i++ {
		events, res := runYAML(t, src, i)
		faults := lines(events, trace.EvFault)
		if res.Failure != nil || len(faults) != 4 {
			t.Fatalf("trial %d: %v %q", i, res.Failure, faults)
		}
		isolated := strings.TrimPrefix(strings.SplitN(faults[0], "fault ", 2)[1], "isolate ")
		healed := strings.TrimPrefix(strings.SplitN(faults[1], "fault ", 2)[1], "heal ")
		crashed := strings.TrimPrefix(strings.SplitN(faults[2], "fault ", 2)[1], "crash ")
		restarted := strings.TrimPrefix(strings.SplitN(faults[3], "fault ", 2)[1], "restart ")
		if isolated != healed || crashed != restarted || crashed == "{}" {
			t.Fatalf("trial %d: %q", i, faults)
		}
	}
}

// TestHealOneNodeOrLink: heal: NODE brings one isolated node back, the
// other stays out; heal: {from, to} opens one link.
func TestHealOneNodeOrLink(t *testing.T) {
	src := "cluster: {nodes: 5}\nfaults:\n  - after: leader-exists\n    isolate: [n1, n2]\n  - heal: n1\n" +
		"  - check: {leader_not: n2, leader: one, within: 2s}\n" +
		"  - heal: {from: n2, to: all, both: true}\n  - check: {among: all, leader: one, agree: true, within: 2s}\n"
	for i := 0; i < 20; i++ {
		events, res := runYAML(t, src, i)
		if res.Failure != nil {
			t.Fatalf("trial %d: %v\n%s", i, res.Failure, strings.Join(lines(events, trace.EvFault, trace.EvNote), "\n"))
		}
		if f := lines(events, trace.EvFault); !strings.HasSuffix(f[1], "heal {n1}") || !strings.HasSuffix(f[2], "heal {n2}<->{n1,n2,n3,n4,n5}") {
			t.Fatalf("trial %d: %q", i, f)
		}
	}
	// One way only: n2 hears the others but cannot answer.
	src = "cluster: {nodes: 3}\nfaults:\n  - after: leader-exists\n    isolate: {nodes: follower, as: f}\n" +
		"  - heal: {from: all, to: f}\n  - delay: 1s\n    check: {among: f, agree: true}\n"
	for i := 0; i < 10; i++ {
		if _, res := runYAML(t, src, i); res.Failure != nil {
			t.Fatalf("one-way heal, trial %d: %v", i, res.Failure)
		}
	}
}

// TestMixedPartitionGroups: a partition group may mix selectors; a node an
// earlier group took is not taken again.
func TestMixedPartitionGroups(t *testing.T) {
	src := "cluster: {nodes: 5}\nfaults:\n  - after: leader-exists\n    partition: [[leader, n2], [n3, leader]]\n"
	for i := 0; i < 20; i++ {
		events, _ := runYAML(t, src, i)
		f := lines(events, trace.EvFault)[0]
		groups := strings.Fields(strings.SplitN(f, "partition ", 2)[1])
		all := strings.Join(groups, "")
		if len(groups) != 3 || !strings.Contains(groups[0], "n2") || strings.Count(all, "n1")+strings.Count(all, "n2")+
			strings.Count(all, "n3")+strings.Count(all, "n4")+strings.Count(all, "n5") != 5 {
			t.Fatalf("trial %d: %s: want the leader with n2, then n3 (unless it leads), then the rest, each node once", i, f)
		}
	}
}

// TestRestartBootsCrashedNodesOnly: restart of all, of the leader or of a
// named running node boots no running node.
func TestRestartBootsCrashedNodesOnly(t *testing.T) {
	for _, sel := range []string{"all", "leader", "n1", "[n1, leader]"} {
		src := threeNodes + "faults:\n  - after: leader-elected\n    delay: 500ms\n    crash: n2\n  - restart: " + sel + "\n"
		events, _ := runYAML(t, src, 0)
		starts := lines(events, trace.EvStart)
		restart := lines(events, trace.EvFault)[1]
		wantN2 := sel == "all"
		if len(starts) != 3+map[bool]int{false: 0, true: 1}[wantN2] ||
			wantN2 != strings.HasSuffix(restart, "restart {n2}") || !wantN2 && !strings.HasSuffix(restart, "restart {}") {
			t.Errorf("restart: %s: %q, then %d boots", sel, restart, len(starts))
		}
	}
}

// TestHeartbeatIsTheCurrentLeaders: after: heartbeat waits for the
// current leader's heartbeat, not a cut-off old leader's.
func TestHeartbeatIsTheCurrentLeaders(t *testing.T) {
	src := "cluster: {nodes: 5}\nfaults:\n  - after: leader-elected\n    delay: 500ms\n    isolate: leader\n" +
		"  - after: leader-elected\n  - after: heartbeat\n    crash: leader\n"
	for i := 0; i < 20; i++ {
		events, _ := runYAML(t, src, i)
		var lastBeat string
		for _, e := range events {
			if e.Kind == trace.EvTimeout && e.Timer.String() == "heartbeat" {
				lastBeat = e.Line()
			}
			if e.Kind == trace.EvFault && strings.Contains(e.Text, "crash") {
				crashed := strings.Trim(strings.TrimPrefix(e.Text, "crash "), "{}")
				if !strings.Contains(lastBeat, " "+crashed+" ") {
					t.Fatalf("trial %d: %s came after %s", i, e.Line(), lastBeat)
				}
				break
			}
		}
	}
}

// TestWriteReachesReachableFollowers: a write lists, and holds for, only
// followers its leader can reach.
func TestWriteReachesReachableFollowers(t *testing.T) {
	src := "cluster: {nodes: 5}\nfaults:\n  - after: leader-elected\n    delay: 500ms\n    isolate: follower\n  - write: 1\n"
	for i := 0; i < 20; i++ {
		events, _ := runYAML(t, src, i)
		f := lines(events, trace.EvFault)
		away := strings.SplitN(f[0], "isolate ", 2)[1]
		reached := strings.SplitN(f[1], "reaching ", 2)[1]
		if strings.Contains(reached, strings.Trim(away, "{}")) || strings.Count(reached, "n") != 3 {
			t.Fatalf("trial %d: %s, then %s: want the three followers it can reach", i, f[0], f[1])
		}
	}
}
