package safety

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

func wantViolation(t *testing.T, v *Violation, inv scenarios.Invariant, detail string) {
	t.Helper()
	switch {
	case v == nil:
		t.Errorf("got no violation, want %v: %s", inv, detail)
	case v.Invariant != inv || v.Detail != detail:
		t.Errorf("got %v: %s\nwant %v: %s", v.Invariant, v.Detail, inv, detail)
	}
}

func wantNone(t *testing.T, v *Violation) {
	t.Helper()
	if v != nil {
		t.Errorf("got %v: %s, want none", v.Invariant, v.Detail)
	}
}

func TestElectionSafety(t *testing.T) {
	var c Checker
	c.Reset(3)
	wantNone(t, c.Led(0, 2))
	wantNone(t, c.Led(0, 2)) // the same leader, seen again
	wantNone(t, c.Led(1, 3))
	wantViolation(t, c.Led(2, 2), scenarios.ElectionSafety, "n1 and n3 both leaders in term 2")
	if got := c.Leader(3); got != 1 {
		t.Errorf("Leader(3): got %d, want 1", got)
	}
	if got := c.Leader(9); got != -1 {
		t.Errorf("Leader(9): got %d, want -1", got)
	}
}

func TestVoteOnce(t *testing.T) {
	var c Checker
	c.Reset(3)
	wantNone(t, c.Voted(0, 1, 0)) // a candidate's vote for itself
	wantNone(t, c.Voted(1, 1, 0))
	wantNone(t, c.Voted(1, 1, 0)) // the same vote, granted again (a retried request)
	wantNone(t, c.Voted(1, 2, 2))
	wantViolation(t, c.Voted(0, 1, 2), scenarios.VoteOnce, "n1 voted for n1 and then for n3 in term 1")
	c.Reset(3)
	wantNone(t, c.Voted(0, 1, 2)) // a new run forgets the old one
}

func TestTermMonotonic(t *testing.T) {
	var c Checker
	wantNone(t, c.TermChanged(1, 3, 3))
	wantNone(t, c.TermChanged(1, 3, 5))
	wantViolation(t, c.TermChanged(1, 5, 4), scenarios.TermMonotonic, "n2 went from term 5 back to 4")
}

type logs [][]uint64

func (l logs) LogTerm(i int, idx uint64) uint64 {
	if idx == 0 || idx > uint64(len(l[i])) {
		return 0
	}
	return l[i][idx-1]
}

func TestLeaderCompleteness(t *testing.T) {
	var c Checker
	c.Reset(3)
	l := logs{{1, 1}, {1, 1}, {1}}
	wantNone(t, c.Committed(0, 1, &raft.State{Term: 1, Commit: 2, LastIndex: 2, LastTerm: 1}, l))
	wantNone(t, c.LeaderComplete(1, &raft.State{Term: 2, LastIndex: 2, LastTerm: 1}, l))
	wantViolation(t, c.LeaderComplete(2, &raft.State{Term: 2, LastIndex: 1, LastTerm: 1}, l), scenarios.LeaderCompleteness,
		"n3 became leader of term 2 without entry 2 (term 1), committed in term 1; its log ends at 1/1")
	l[2] = []uint64{1, 3}
	wantViolation(t, c.Committed(2, 1, &raft.State{Term: 3, Commit: 2, LastIndex: 2, LastTerm: 3}, l), scenarios.LeaderCompleteness,
		"n3 committed entry 2 of term 3, but entry 2 of term 1 was committed before")
	wantViolation(t, c.Overwrote(2, &raft.State{Term: 3, Commit: 2, LastIndex: 2, LastTerm: 3}, l), scenarios.LeaderCompleteness,
		"n3 overwrote its committed entry 2")
	wantNone(t, c.Overwrote(1, &raft.State{Term: 3, Commit: 2, LastIndex: 2, LastTerm: 1}, l))
}

func TestWatch(t *testing.T) {
	var w Watch
	w.Reset(time.Second)
	if _, begun := w.Look(0, true, true); begun {
		t.Error("a stretch began with a working leader")
	}
	due, begun := w.Look(100*time.Millisecond, true, false)
	if !begun || due != 1100*time.Millisecond {
		t.Fatalf("got due %v begun %v, want 1.1s true", due, begun)
	}
	if _, begun := w.Look(200*time.Millisecond, true, false); begun {
		t.Error("a stretch under way began again")
	}
	if _, over := w.Due(900 * time.Millisecond); over {
		t.Error("over before the limit")
	}
	if detail, over := w.Due(1100 * time.Millisecond); !over ||
		detail != "no working leader for 1s while a majority was up and connected (leader_within 1s)" {
		t.Errorf("got %q %v", detail, over)
	}
	w.Look(1200*time.Millisecond, false, false) // the majority is cut off: no stretch
	if _, over := w.Due(5 * time.Second); over {
		t.Error("a stretch counted while no majority was connected")
	}
	w.Reset(0)
	if _, begun := w.Look(0, true, false); begun {
		t.Error("a watch without a limit began a stretch")
	}
}
