package etcdnode

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

const ms = time.Millisecond

// ticks are the ticks of a 150ms-300ms cluster with a 50ms heartbeat, at
// 1ms a tick.
var ticks = scenarios.EtcdConfig{Tick: ms, ElectionTick: 150, HeartbeatTick: 50}

// fixed is a Rand that always draws v (modulo n).
type fixed struct{ v int64 }

func (f *fixed) Int63n(n int64) int64 { return f.v % n }

func config(id, size int, o raft.Options) raft.Config {
	return raft.Config{ID: raft.ID(id), Size: size, ElectionMin: 150 * ms, ElectionMax: 300 * ms, Heartbeat: 50 * ms, Options: o}
}

// timer returns the setting of timer t in rd, and whether rd moved it.
func timer(rd *raft.Ready, t raft.Timer) (raft.TimerSetting, bool) {
	for _, ts := range rd.Timers {
		if ts.Timer == t {
			return ts, true
		}
	}
	return raft.TimerSetting{}, false
}

// sent returns the messages of rd of type t.
func sent(rd *raft.Ready, t raft.MsgType) []raft.Message {
	var out []raft.Message
	for _, m := range rd.Messages {
		if m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

// TestCampaignsAtTheSeededTick: whatever etcd draws from its own source,
// a follower campaigns exactly at the tick the node's Rand drew, anywhere
// in [ElectionTick, 2·ElectionTick), measured from its boot on the grid.
func TestCampaignsAtTheSeededTick(t *testing.T) {
	for _, draw := range []int64{0, 1, 37, 75, 148, 149} {
		for rep := range 5 { // etcd draws anew each time: the outcome must not change
			boot := 3*ms + 400*time.Microsecond // between two ticks of nobody's grid but its own
			n := New(config(0, 3, raft.Options{}), ticks, &fixed{draw})
			n.Start(boot)
			rd := n.Ready()
			ts, ok := timer(rd, raft.ElectionTimer)
			want := boot + time.Duration(150+draw)*ms
			if !ok || !ts.Armed || ts.Due != want {
				t.Fatalf("draw %d (run %d): election timer %+v (set %v), want armed at %v", draw, rep, ts, ok, want)
			}
			n.Tick(want, raft.ElectionTimer)
			rd = n.Ready()
			if rd.State.Role != raft.Candidate || rd.State.Term != 1 || rd.State.Vote != 0 || !rd.MustSync {
				t.Fatalf("draw %d: after the timeout, state %+v mustSync %v, want a candidate of term 1 voting for itself", draw, rd.State, rd.MustSync)
			}
			if votes := sent(rd, raft.MsgVote); len(votes) != 2 || votes[0].Term != 1 {
				t.Fatalf("draw %d: sent %v, want RequestVote of term 1 to both peers", draw, rd.Messages)
			}
			// A candidate's new timeout is drawn again, from its campaign's tick.
			ts, _ = timer(rd, raft.ElectionTimer)
			if again := want + time.Duration(150+draw)*ms; !ts.Armed || ts.Due != again {
				t.Fatalf("draw %d: candidate's timer %+v, want armed at %v", draw, ts, again)
			}
		}
	}
}

// TestTimeoutKeptAcrossHeartbeats: etcd draws its timeout when its state
// changes, not when a heartbeat resets the count: a follower's timer runs
// out the same number of ticks after each heartbeat, counted from the
// tick the heartbeat fell in.
func TestTimeoutKeptAcrossHeartbeats(t *testing.T) {
	r := &fixed{20}
	n := New(config(1, 3, raft.Options{}), ticks, r)
	n.Start(0)
	n.Ready()
	at := 10*ms + 700*time.Microsecond
	n.Step(at, &raft.Message{Type: raft.MsgHeartbeat, From: 0, To: 1, Term: 1})
	rd := n.Ready()
	if rd.State.Term != 1 || rd.State.Lead != 0 || rd.State.Role != raft.Follower {
		t.Fatalf("after a heartbeat of term 1 from n1: %+v", rd.State)
	}
	if len(sent(rd, raft.MsgHeartbeatResp)) != 1 {
		t.Fatalf("sent %v, want a HeartbeatResp", rd.Messages)
	}
	ts, _ := timer(rd, raft.ElectionTimer)
	if want := (10 + 170) * ms; ts.Due != want { // a new term: a new draw (20 again), from tick 10
		t.Fatalf("timer after the first heartbeat due %v, want %v", ts.Due, want)
	}
	r.v = 99 // a draw now would show
	for k := range 5 {
		at := time.Duration(60+50*k)*ms + 300*time.Microsecond
		n.Step(at, &raft.Message{Type: raft.MsgHeartbeat, From: 0, To: 1, Term: 1})
		rd := n.Ready()
		ts, _ := timer(rd, raft.ElectionTimer)
		if want := time.Duration(60+50*k+170) * ms; ts.Due != want {
			t.Fatalf("heartbeat %d at %v: timer due %v, want %v (the same 170 ticks from tick %d)", k, at, ts.Due, want, 60+50*k)
		}
	}
}

// elect makes node 0 of a three-node cluster leader of term 1 at 150ms
// (its draw), with both votes, and returns it with the Ready of its win.
func elect(t *testing.T, o raft.Options) (*Node, *raft.Ready) {
	t.Helper()
	n := New(config(0, 3, o), ticks, &fixed{0})
	n.Start(0)
	n.Ready()
	n.Tick(150*ms, raft.ElectionTimer)
	n.Ready()
	if o.PreVote {
		n.Step(151*ms, &raft.Message{Type: raft.MsgPreVoteResp, From: 1, To: 0, Term: 1})
		n.Ready()
	}
	n.Step(152*ms, &raft.Message{Type: raft.MsgVoteResp, From: 1, To: 0, Term: 1})
	rd := n.Ready()
	if rd.State.Role != raft.Leader || rd.State.Term != 1 {
		t.Fatalf("node 0 after a granted vote: %+v, want leader of term 1", rd.State)
	}
	return n, rd
}

// TestLeaderTicks: a leader's heartbeat timer falls every HeartbeatTick
// ticks from the tick it was elected in, and with CheckQuorum its election
// timer every ElectionTick; a leader nobody answered steps down at its
// first check.
func TestLeaderTicks(t *testing.T) {
	n, rd := elect(t, raft.Options{CheckQuorum: true})
	if app := sent(rd, raft.MsgApp); len(app) != 2 || app[0].NEntries != 1 {
		t.Fatalf("a new leader sent %v, want AppendEntries with its no-op entry to both", rd.Messages)
	}
	hb, _ := timer(rd, raft.HeartbeatTimer)
	cq, _ := timer(rd, raft.ElectionTimer)
	if hb.Due != 202*ms || cq.Due != 302*ms {
		t.Fatalf("leader elected at 152ms: heartbeat timer %v, check-quorum timer %v; want 202ms, 302ms", hb, cq)
	}
	n.Tick(202*ms, raft.HeartbeatTimer)
	rd = n.Ready()
	if beats := sent(rd, raft.MsgHeartbeat); len(beats) != 2 {
		t.Fatalf("heartbeat timer sent %v, want two heartbeats", rd.Messages)
	}
	if hb, _ := timer(rd, raft.HeartbeatTimer); hb.Due != 252*ms {
		t.Fatalf("next heartbeat %v, want 252ms", hb)
	}
	n.Tick(252*ms, raft.HeartbeatTimer)
	n.Ready()
	n.Tick(302*ms, raft.ElectionTimer) // heard from nobody: step down
	rd = n.Ready()
	if rd.State.Role != raft.Follower || rd.State.Term != 1 {
		t.Fatalf("after a quorum check with no answers: %+v, want follower of term 1", rd.State)
	}
	if hb, _ := timer(rd, raft.HeartbeatTimer); hb.Armed {
		t.Fatalf("a follower's heartbeat timer is armed: %v", hb)
	}
	if el, _ := timer(rd, raft.ElectionTimer); !el.Armed || el.Due != 452*ms {
		t.Fatalf("follower's election timer %v, want armed at 452ms (its draw of 150 ticks from 302)", el)
	}
}

// TestLease: with CheckQuorum, a follower that heard from its leader
// fewer than ElectionTick ticks ago ignores a vote request of a higher
// term; once ElectionTick ticks have passed on the grid — though etcd's
// own count, never ticked, says 0 — it grants it, as etcd ticked every tick
// would.
func TestLease(t *testing.T) {
	for _, c := range []struct {
		after time.Duration
		grant bool
	}{{149 * ms, false}, {150 * ms, true}, {170 * ms, true}} {
		n := New(config(1, 3, raft.Options{CheckQuorum: true}), ticks, &fixed{100})
		n.Start(0)
		n.Ready()
		n.Step(5*ms, &raft.Message{Type: raft.MsgHeartbeat, From: 0, To: 1, Term: 1})
		n.Ready()
		n.Step(5*ms+c.after, &raft.Message{Type: raft.MsgVote, From: 2, To: 1, Term: 2})
		rd := n.Ready()
		granted := false
		for _, m := range sent(rd, raft.MsgVoteResp) {
			granted = !m.Reject
		}
		if granted != c.grant || (rd.State.Term == 2) != c.grant {
			t.Errorf("vote request %v after the heartbeat: granted %v, term %d; want granted %v", c.after, granted, rd.State.Term, c.grant)
		}
	}
}

// TestRestartKeepsTermVoteAndLog: a crash loses nothing written: after
// Restart the node has the term, vote and entries its Readys wrote, and
// refuses a second candidate in the same term.
func TestRestartKeepsTermVoteAndLog(t *testing.T) {
	n := New(config(1, 3, raft.Options{}), ticks, &fixed{0})
	n.Start(0)
	n.Ready()
	n.Step(1*ms, &raft.Message{Type: raft.MsgVote, From: 0, To: 1, Term: 1})
	if rd := n.Ready(); rd.State.Vote != 0 || !rd.MustSync {
		t.Fatalf("after n1's request: %+v mustSync %v, want a vote for n1 to be written", rd.State, rd.MustSync)
	}
	app := raft.Message{Type: raft.MsgApp, From: 0, To: 1, Term: 1, NEntries: 2, Entries: [raft.MaxEntries]uint64{1, 1}}
	n.Step(2*ms, &app)
	if rd := n.Ready(); rd.FirstIndex != 1 || len(rd.Entries) != 2 {
		t.Fatalf("after two entries: wrote from %d %v", rd.FirstIndex, rd.Entries)
	}
	// The crash: the driver stops calling; the restart builds etcd again.
	n.Restart(500 * ms)
	rd := n.Ready()
	st := rd.State
	if st.Term != 1 || st.Vote != 0 || st.LastIndex != 2 || st.LastTerm != 1 || st.Role != raft.Follower || st.Lead != raft.None {
		t.Fatalf("after the restart: %+v, want a follower of term 1 that voted for n1, with 2 entries", st)
	}
	if ts, _ := timer(rd, raft.ElectionTimer); ts.Due != 650*ms {
		t.Fatalf("after the restart the election timer is %v, want 650ms (from the new boot)", ts)
	}
	n.Step(501*ms, &raft.Message{Type: raft.MsgVote, From: 2, To: 1, Term: 1, LogTerm: 1, Index: 2})
	rd = n.Ready()
	if r := sent(rd, raft.MsgVoteResp); len(r) != 1 || !r[0].Reject || rd.State.Vote != 0 {
		t.Fatalf("n3 asked in term 1 after the restart: sent %v, vote %v; want a refusal", rd.Messages, rd.State.Vote)
	}
	if n.LogTerm(2) != 1 || n.LogTerm(3) != 0 {
		t.Fatalf("storage holds terms %d, %d at 2, 3", n.LogTerm(2), n.LogTerm(3))
	}
}

// TestRestore: a node can start from a scenario's term and log, which are
// durable already.
func TestRestore(t *testing.T) {
	n := New(config(2, 3, raft.Options{}), ticks, &fixed{0})
	n.Restore(3, raft.None, []uint64{1, 2, 2})
	n.Start(0)
	rd := n.Ready()
	if rd.MustSync || rd.Entries != nil || rd.State.Term != 3 || rd.State.LastIndex != 3 || rd.State.LastTerm != 2 {
		t.Fatalf("restored node: %+v mustSync %v entries %v", rd.State, rd.MustSync, rd.Entries)
	}
	n.Tick(150*ms, raft.ElectionTimer)
	rd = n.Ready()
	if v := sent(rd, raft.MsgVote); len(v) != 2 || v[0].Term != 4 || v[0].LogTerm != 2 || v[0].Index != 3 {
		t.Fatalf("restored node campaigns with %v, want term 4, log 2/3", rd.Messages)
	}
}

// TestMessagesRoundTrip: every message etcd's node exchanges reads back
// as it was written, through etcd's form and back.
func TestMessagesRoundTrip(t *testing.T) {
	n := New(config(0, 3, raft.Options{}), ticks, &fixed{0})
	n.Restore(1, raft.None, []uint64{1, 1, 1})
	for _, m := range []raft.Message{
		{Type: raft.MsgVote, From: 1, To: 0, Term: 4, LogTerm: 3, Index: 9},
		{Type: raft.MsgPreVote, From: 1, To: 0, Term: 4, LogTerm: 3, Index: 9},
		{Type: raft.MsgVoteResp, From: 1, To: 0, Term: 4, Reject: true},
		{Type: raft.MsgPreVoteResp, From: 2, To: 0, Term: 5},
		{Type: raft.MsgApp, From: 2, To: 0, Term: 4, LogTerm: 3, Index: 9, Commit: 7, NEntries: 2, Entries: [raft.MaxEntries]uint64{3, 4}},
		{Type: raft.MsgAppResp, From: 1, To: 0, Term: 4, Index: 11},
		{Type: raft.MsgAppResp, From: 1, To: 0, Term: 4, Reject: true, Index: 5, LogTerm: 2, Commit: 9},
		{Type: raft.MsgHeartbeat, From: 2, To: 0, Term: 4, Commit: 3},
		{Type: raft.MsgHeartbeatResp, From: 1, To: 0, Term: 4},
	} {
		if got := n.fromEtcd(n.toEtcd(&m)); got != m {
			t.Errorf("%v: read back as %v (%+v)", m.String(), got.String(), got)
		}
	}
	// The course's heartbeat, an AppendEntries without entries or log
	// position, is a heartbeat to etcd; one committing beyond the log is
	// dropped.
	course := raft.Message{Type: raft.MsgApp, From: 2, To: 0, Term: 4, Commit: 2}
	if got := n.fromEtcd(n.toEtcd(&course)); got.Type != raft.MsgHeartbeat || got.Commit != 2 {
		t.Errorf("the course's heartbeat reads as %v", got.String())
	}
	course.Commit = 4
	if e := n.toEtcd(&course); e != nil {
		t.Errorf("a heartbeat committing 4 of a 3-entry log reached etcd: %v", e)
	}
}

// TestRefuses: what etcd cannot do panics here; scenarios refuse it first,
// with a message.
func TestRefuses(t *testing.T) {
	for name, f := range map[string]func(){
		"stickiness": func() { New(config(0, 3, raft.Options{LeaderStickiness: true}), ticks, &fixed{}) },
		"bug": func() {
			c := config(0, 3, raft.Options{})
			c.Bugs = raft.BugNoRetry
			New(c, ticks, &fixed{})
		},
		"ticks": func() {
			New(config(0, 3, raft.Options{}), scenarios.EtcdConfig{Tick: ms, ElectionTick: 5, HeartbeatTick: 5}, &fixed{})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestNoCampaignPastMaxTerm: etcd's raft would take a node of term
// 2^53-1 to 2^53 at its next election, past what the wire carries; the
// node stands in term MaxTerm, then, its timer firing again, sends
// nothing, keeps its term, turns its timer off and says so in its Ready,
// until a leader of MaxTerm is heard from.
func TestNoCampaignPastMaxTerm(t *testing.T) {
	for _, prevote := range []bool{false, true} {
		n := New(config(0, 3, raft.Options{PreVote: prevote}), ticks, &fixed{0})
		n.Restore(raft.MaxTerm-1, raft.None, nil)
		n.Start(0)
		n.Ready()
		var now time.Duration
		fire := func() *raft.Ready {
			ts := n.timers[raft.ElectionTimer]
			if !ts.Armed {
				t.Fatalf("prevote %v: election timer off in %+v", prevote, n.state)
			}
			now = ts.Due
			n.Tick(now, raft.ElectionTimer)
			return n.Ready()
		}
		rd := fire()
		if prevote { // the pre-vote round, won: then the election
			for _, m := range sent(rd, raft.MsgPreVote) {
				n.Step(now, &raft.Message{Type: raft.MsgPreVoteResp, From: m.To, To: 0, Term: m.Term})
				break
			}
			rd = n.Ready()
		}
		if rd.State.Role != raft.Candidate || rd.State.Term != raft.MaxTerm || rd.CampaignRefused {
			t.Fatalf("prevote %v: state %+v refused %v, want a candidate of term MaxTerm", prevote, rd.State, rd.CampaignRefused)
		}
		rd = fire()
		if len(rd.Messages) != 0 || rd.State.Term != raft.MaxTerm || !rd.CampaignRefused {
			t.Fatalf("prevote %v: at MaxTerm the timer fired: sent %v, state %+v, refused %v; want nothing sent, term MaxTerm, refused",
				prevote, rd.Messages, rd.State, rd.CampaignRefused)
		}
		if ts, ok := timer(rd, raft.ElectionTimer); !ok || ts.Armed {
			t.Errorf("prevote %v: election timer %+v (moved %v), want it turned off", prevote, ts, ok)
		}
		if rd = n.Ready(); rd.CampaignRefused {
			t.Errorf("prevote %v: a second Ready says the campaign was refused again", prevote)
		}
		n.Step(now+ms, &raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 0, Term: raft.MaxTerm})
		rd = n.Ready()
		if rd.State.Role != raft.Follower || rd.State.Lead != 1 || !n.timers[raft.ElectionTimer].Armed {
			t.Errorf("prevote %v: after a MaxTerm leader's heartbeat: state %+v, timer %+v; want a follower of n1 with its timer on",
				prevote, rd.State, n.timers[raft.ElectionTimer])
		}
	}
}
