package live

import (
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// observed returns the observer of a live 3-node cold start whose nodes
// have all booted, and the clock it reads, which the test moves.
func observed(t *testing.T) (*observer, *time.Duration) {
	t.Helper()
	sc, err := scenarios.Builtin("cold-start")
	if err != nil {
		t.Fatal(err)
	}
	sc.Cluster.Nodes = 3
	tr, now, _ := testTrial(t, sc, 1)
	o := tr.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	tr.c.Begin()
	for i := range 3 {
		tr.booted(i)
	}
	return o, now
}

func msg(t raft.MsgType, from, to int, term uint64) *raft.Message {
	return &raft.Message{Type: t, From: raft.ID(from), To: raft.ID(to), Term: term}
}

func grant(from, to int, term uint64) *raft.Message { return msg(raft.MsgVoteResp, from, to, term) }

func wantFailure(t *testing.T, o *observer, kind, detail string, evidence ...string) {
	t.Helper()
	f := o.c.Failure()
	if f == nil {
		t.Fatalf("no failure, want %s: %s", kind, detail)
	}
	if f.Kind != kind || f.Detail != detail {
		t.Errorf("got %s: %s\nwant %s: %s", f.Kind, f.Detail, kind, detail)
	}
	for _, e := range evidence {
		if !strings.Contains(strings.Join(o.evidence, "\n"), e) {
			t.Errorf("the evidence %q lacks %q", o.evidence, e)
		}
	}
}

func TestTwoLeadersInATermOnTheWire(t *testing.T) {
	o, now := observed(t)
	*now = 10 * time.Millisecond
	o.Sent(msg(raft.MsgApp, 0, 1, 3), *now, *now+time.Millisecond, "")
	*now = 20 * time.Millisecond
	o.Sent(msg(raft.MsgApp, 2, 1, 3), *now, *now+time.Millisecond, "")
	wantFailure(t, o, "election-safety", "n1 and n3 both leaders in term 3",
		"t=10.000ms n1->n2 AppendEntries term=3", "t=20.000ms n3->n2 AppendEntries term=3")
}

func TestALeaderInStatusAndAnotherOnTheWire(t *testing.T) {
	o, now := observed(t)
	o.status(1, 0, wire.Status{ID: "n2", State: wire.StateLeader, Term: 2})
	*now = 5 * time.Millisecond
	o.Sent(msg(raft.MsgApp, 0, 2, 2), *now, *now, "")
	wantFailure(t, o, "election-safety", "n2 and n1 both leaders in term 2", "/status of n2: leader term=2")
}

func TestTwoVotesInATerm(t *testing.T) {
	o, _ := observed(t)
	o.Sent(grant(2, 0, 4), 0, 0, "")
	o.Sent(grant(2, 0, 4), 0, 0, "") // a duplicate request's second reply: the same vote
	if f := o.c.Failure(); f != nil {
		t.Fatalf("the same vote twice failed: %v", f)
	}
	o.Sent(grant(2, 1, 4), 0, 0, "")
	wantFailure(t, o, "vote-once", "n3 voted for n1 and then for n2 in term 4",
		"n3->n1 RequestVoteResp term=4 granted", "n3->n2 RequestVoteResp term=4 granted")
}

func TestACandidateVotesForItself(t *testing.T) {
	o, _ := observed(t)
	o.Sent(msg(raft.MsgVote, 1, 0, 2), 0, 0, "") // n2 stands in term 2
	o.Sent(grant(1, 2, 2), 0, 0, "")
	wantFailure(t, o, "vote-once", "n2 voted for n2 and then for n3 in term 2")
}

func TestATermGoingBackInStatus(t *testing.T) {
	o, now := observed(t)
	o.status(0, 0, wire.Status{ID: "n1", State: wire.StateFollower, Term: 5})
	*now = time.Millisecond
	o.status(0, *now, wire.Status{ID: "n1", State: wire.StateFollower, Term: 4})
	wantFailure(t, o, "term-monotonic", "n1 went from term 5 back to 4")
}

func TestAnOldStatusAnswerIsNotATermGoingBack(t *testing.T) {
	o, now := observed(t)
	*now = 10 * time.Millisecond
	o.Sent(msg(raft.MsgVote, 0, 1, 6), *now, *now, "") // n1 is in term 6 from 10ms on
	o.status(0, 5*time.Millisecond, wire.Status{ID: "n1", State: wire.StateFollower, Term: 5})
	if f := o.c.Failure(); f != nil {
		t.Errorf("an answer asked for before the node's message failed: %v", f)
	}
}

// TestTheMeter: a split vote in term 1 (n1 and n2 stand), then n3 wins
// term 2; the measurement counts two rounds and one split vote, and ends at
// n3's first AppendEntries.
func TestTheMeter(t *testing.T) {
	o, now := observed(t)
	*now = 160 * time.Millisecond
	o.Sent(msg(raft.MsgVote, 0, 1, 1), *now, *now, "")
	o.Sent(msg(raft.MsgVote, 1, 0, 1), *now, *now, "")
	*now = 400 * time.Millisecond
	o.Sent(msg(raft.MsgVote, 2, 0, 2), *now, *now, "")
	o.Sent(grant(0, 2, 2), *now, *now, "")
	*now = 420 * time.Millisecond
	o.Sent(msg(raft.MsgApp, 2, 0, 2), *now, *now, "")
	r := o.c.Finish()
	if !r.Measured || r.TimeToLeader != 420*time.Millisecond || r.Rounds != 2 || r.SplitVotes != 1 || r.Messages != 5 {
		t.Errorf("got measured=%v time=%v rounds=%d splits=%d messages=%d, want true 420ms 2 1 5",
			r.Measured, r.TimeToLeader, r.Rounds, r.SplitVotes, r.Messages)
	}
	if r.TermsBumped != 2 {
		t.Errorf("terms bumped: got %d, want 2", r.TermsBumped)
	}
	// n3 is deposed: its refusal of a vote in term 3 shows it in term 3.
	o.Sent(&raft.Message{Type: raft.MsgVoteResp, From: 2, To: 1, Term: 3, Reject: true}, *now, *now, "")
	if r := o.c.Finish(); r.Disruptions != 1 {
		t.Errorf("disruptions: got %d, want 1", r.Disruptions)
	}
	if f := o.c.Failure(); f != nil {
		t.Errorf("an ordinary run failed: %v", f)
	}
}

func TestWorkingLeaderAndMajority(t *testing.T) {
	o, _ := observed(t)
	cl := &o.c.Cluster
	o.Sent(msg(raft.MsgApp, 0, 1, 1), 0, 0, "")
	if got := cl.WorkingLeader(); got != 0 {
		t.Errorf("working leader: got %d, want 0 (n1)", got)
	}
	cl.Topo.Isolate(0)
	o.c.Watch() // the conductor's view recomputes when told the topology changed
	if got := cl.WorkingLeader(); got != -1 {
		t.Errorf("an isolated leader works: got %d", got)
	}
}

func TestCheckRefusesWhatLiveCannotApply(t *testing.T) {
	s, err := scenarios.Builtin("fast-laggard")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(s, Nodes{}); err == nil || !strings.Contains(err.Error(), "drift") {
		t.Errorf("fast-laggard (drift): got %v, want drift refused", err)
	}
	lc, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	lc.Measure.Until = scenarios.UntilCommit
	for _, ns := range []Nodes{{}, {Cmd: "python3 node.py"}, {Etcd: "/usr/bin/etcd"}} {
		if _, err := Check(lc, ns); err == nil || !strings.Contains(err.Error(), "measure.until: commit: live sees") {
			t.Errorf("until: commit, nodes %+v: got %v, want it refused", ns, err)
		}
	}
	for _, name := range []string{"cold-start", "leader-crash", "partition-leader", "rejoin-disrupt", "churn", "flaky-link"} {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(s, Nodes{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSplitVotesByTheirDefinition: hand-made traces of a 3-node cluster
// (election timeout 150ms-300ms) in which candidates stand at the given
// times; a term lost by two candidates within one election timeout (300ms)
// of each other is a split vote, any other lost term is an other lost
// election, and a trial that never elects counts its terms too.
func TestSplitVotesByTheirDefinition(t *testing.T) {
	type stand struct {
		node int
		term uint64
		at   time.Duration
	}
	ms := time.Millisecond
	for _, tt := range []struct {
		name                  string
		stands                []stand
		winner                int // wins the last term stood in, or -1: no leader
		rounds, splits, other int
	}{
		{"together", []stand{{0, 1, 160 * ms}, {1, 1, 170 * ms}, {2, 2, 400 * ms}}, 2, 2, 1, 0},
		{"one timeout apart", []stand{{0, 1, 160 * ms}, {1, 1, 460 * ms}, {2, 2, 700 * ms}}, 2, 2, 1, 0},
		{"further apart", []stand{{0, 1, 160 * ms}, {1, 1, 461 * ms}, {2, 2, 700 * ms}}, 2, 2, 0, 1},
		{"a late third within the second's timeout", []stand{{0, 1, 160 * ms}, {1, 1, 470 * ms}, {2, 1, 760 * ms}, {2, 2, 900 * ms}}, 2, 2, 1, 0},
		{"a late boot in an old term", []stand{{0, 1, 160 * ms}, {0, 2, 400 * ms}, {1, 2, 410 * ms}, {2, 1, 730 * ms}, {0, 3, 800 * ms}}, 0, 3, 1, 1},
		{"never elected", []stand{{0, 1, 160 * ms}, {1, 1, 170 * ms}, {0, 2, 400 * ms}, {1, 2, 405 * ms}, {2, 3, 650 * ms}}, -1, 3, 2, 1},
		{"never elected, alone", []stand{{0, 1, 160 * ms}}, -1, 1, 0, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, now := observed(t)
			var last stand
			for _, s := range tt.stands {
				*now = s.at
				o.Sent(msg(raft.MsgVote, s.node, (s.node+1)%3, s.term), *now, *now, "")
				last = s
			}
			if tt.winner >= 0 {
				*now += 10 * ms
				o.Sent(grant((tt.winner+1)%3, tt.winner, last.term), *now, *now, "")
				o.Sent(msg(raft.MsgApp, tt.winner, (tt.winner+1)%3, last.term), *now, *now, "")
			}
			r := o.c.Finish()
			if r.Measured != (tt.winner >= 0) || r.Rounds != tt.rounds || r.SplitVotes != tt.splits || r.OtherLosses != tt.other {
				t.Errorf("measured %v, %d rounds, %d split votes, %d other lost elections; want %v, %d, %d, %d",
					r.Measured, r.Rounds, r.SplitVotes, r.OtherLosses, tt.winner >= 0, tt.rounds, tt.splits, tt.other)
			}
		})
	}
}

// TestMeasuredFromTheFirstNodeUp: another program's nodes come up at their
// own pace, and the trial begins when all of them answer /status; but the
// first one's election timer runs from its start, so time to leader counts
// from its first answer. Here n1 answers at 300ms, n1 and n2 elect n1 in
// term 1 by 470ms, and n3 answers at 500ms: 170ms, one round (it was
// counted as 0ms, elected before the start, when the measurement began
// with the trial).
func TestMeasuredFromTheFirstNodeUp(t *testing.T) {
	sc, err := scenarios.Builtin("cold-start")
	if err != nil {
		t.Fatal(err)
	}
	sc.Cluster.Nodes = 3
	tr, now, _ := testTrial(t, sc, 1)
	tr.opt.Nodes = Nodes{Cmd: "python3 node.py"}
	o := tr.obs
	if err := tr.boot(); err != nil {
		t.Fatal(err)
	}
	follower := wire.Status{State: wire.StateFollower}
	*now = 300 * time.Millisecond
	tr.answered(0, *now, follower)
	*now = 450 * time.Millisecond
	o.Sent(msg(raft.MsgVote, 0, 1, 1), *now, *now, "")
	*now = 460 * time.Millisecond
	o.Sent(grant(1, 0, 1), *now, *now, "")
	*now = 470 * time.Millisecond
	o.Sent(msg(raft.MsgApp, 0, 1, 1), *now, *now, "")
	tr.answered(1, *now, wire.Status{State: wire.StateFollower, Term: 1})
	if tr.begun {
		t.Fatal("the trial began before n3 answered")
	}
	*now = 500 * time.Millisecond
	tr.answered(2, *now, follower)
	if !tr.begun || tr.spread != 200*time.Millisecond {
		t.Fatalf("begun %v, spread %v: want begun, 200ms from the first answer to the last", tr.begun, tr.spread)
	}
	r := tr.c.Finish()
	if !r.Measured || r.TimeToLeader != 170*time.Millisecond || r.Rounds != 1 {
		t.Errorf("measured %v, time to leader %v, rounds %d: want 170ms from n1's first answer, 1 round", r.Measured, r.TimeToLeader, r.Rounds)
	}
}
