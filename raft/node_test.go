package raft

import (
	"testing"
	"time"
)

// fixedRand always draws the same offset, so election timeouts are exact.
type fixedRand int64

func (r fixedRand) Int63n(n int64) int64 { return int64(r) % n }

const (
	eMin = 150 * time.Millisecond
	eMax = 300 * time.Millisecond
	hb   = 50 * time.Millisecond
)

// newNode returns a started follower id of a cluster of size, with the
// given term and log (terms of entries 1, 2, ...).
func newNode(t *testing.T, id ID, size int, term uint64, log []uint64, opts Options, bugs Bug) *Node {
	t.Helper()
	n := New(Config{ID: id, Size: size, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb, Options: opts, Bugs: bugs}, fixedRand(0))
	n.Restore(term, None, log)
	n.Start(0)
	return n
}

// elect makes n win an election in a cluster where every other node grants.
func elect(t *testing.T, n *Node) {
	t.Helper()
	n.Tick(eMin, ElectionTimer)
	if n.role == Candidate {
		for i := 0; i < n.cfg.Size && n.role == Candidate; i++ {
			if ID(i) != n.ID() {
				n.Step(eMin, &Message{Type: MsgVoteResp, From: ID(i), To: n.ID(), Term: n.term})
			}
		}
	}
	if n.role != Leader {
		t.Fatalf("%v did not become leader: %v term %d", n.ID(), n.role, n.term)
	}
	n.Ready()
}

func TestMajority(t *testing.T) {
	tests := []struct{ size, want, buggy int }{
		{1, 1, 1}, {2, 2, 1}, {3, 2, 2}, {4, 3, 2}, {5, 3, 3}, {6, 4, 3}, {7, 4, 4}, {9, 5, 5}, {1001, 501, 501},
	}
	for _, tt := range tests {
		cfg := Config{Size: tt.size, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}
		if got := New(cfg, fixedRand(0)).majority; got != tt.want {
			t.Errorf("majority of %d = %d, want %d", tt.size, got, tt.want)
		}
		cfg.Bugs = BugPeersMajority
		if got := New(cfg, fixedRand(0)).majority; got != tt.buggy {
			t.Errorf("peers-majority of %d = %d, want %d", tt.size, got, tt.buggy)
		}
	}
}

// TestElectionNeedsMajority: a candidate becomes leader with exactly
// ⌊N/2⌋+1 votes, itself included, for any N.
func TestElectionNeedsMajority(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 5, 6, 7, 9, 1001} {
		n := newNode(t, 0, size, 0, nil, Options{}, 0)
		n.Tick(eMin, ElectionTimer)
		need := size/2 + 1
		for i := 1; i < need; i++ {
			if n.role != Candidate {
				t.Fatalf("size %d: %v after %d votes, want candidate", size, n.role, i)
			}
			n.Step(eMin, &Message{Type: MsgVoteResp, From: ID(i), To: 0, Term: 1})
			// A duplicated reply must not count twice.
			if i < need-1 {
				n.Step(eMin, &Message{Type: MsgVoteResp, From: ID(i), To: 0, Term: 1})
			}
		}
		if n.role != Leader {
			t.Fatalf("size %d: %v with %d votes, want leader", size, n.role, need)
		}
	}
}

func TestVoteRule(t *testing.T) {
	tests := []struct {
		name      string
		term      uint64   // voter's term
		vote      ID       // voter's vote in that term
		log       []uint64 // voter's log
		req       Message  // RequestVote from n2 (ID 1)
		grant     bool
		wantTerm  uint64
		wantVote  ID
		bugs      Bug
		resetsTmr bool
	}{
		{name: "fresh term, empty logs", term: 1, vote: None, req: Message{Term: 2}, grant: true, wantTerm: 2, wantVote: 1, resetsTmr: true},
		{name: "same term, not voted", term: 2, vote: None, req: Message{Term: 2}, grant: true, wantTerm: 2, wantVote: 1, resetsTmr: true},
		{name: "same term, voted for candidate", term: 2, vote: 1, req: Message{Term: 2}, grant: true, wantTerm: 2, wantVote: 1, resetsTmr: true},
		{name: "same term, voted for another", term: 2, vote: 2, req: Message{Term: 2}, grant: false, wantTerm: 2, wantVote: 2},
		{name: "higher term clears the old vote", term: 2, vote: 2, req: Message{Term: 3}, grant: true, wantTerm: 3, wantVote: 1, resetsTmr: true},
		{name: "stale term", term: 3, vote: None, req: Message{Term: 2}, grant: false, wantTerm: 3, wantVote: None},
		{name: "candidate's last term older", term: 3, vote: None, log: []uint64{1, 3}, req: Message{Term: 4, LogTerm: 2, Index: 5}, grant: false, wantTerm: 4, wantVote: None},
		{name: "candidate's last term newer, shorter log", term: 3, vote: None, log: []uint64{1, 2, 2}, req: Message{Term: 4, LogTerm: 3, Index: 1}, grant: true, wantTerm: 4, wantVote: 1, resetsTmr: true},
		{name: "same last term, shorter log", term: 3, vote: None, log: []uint64{1, 3, 3}, req: Message{Term: 4, LogTerm: 3, Index: 2}, grant: false, wantTerm: 4, wantVote: None},
		{name: "same last term, same length", term: 3, vote: None, log: []uint64{1, 3, 3}, req: Message{Term: 4, LogTerm: 3, Index: 3}, grant: true, wantTerm: 4, wantVote: 1, resetsTmr: true},
		{name: "same last term, longer log", term: 3, vote: None, log: []uint64{1, 3}, req: Message{Term: 4, LogTerm: 3, Index: 3}, grant: true, wantTerm: 4, wantVote: 1, resetsTmr: true},
		{name: "bug no-log-check grants a stale log", term: 3, vote: None, log: []uint64{1, 3}, req: Message{Term: 4, LogTerm: 1, Index: 1}, grant: true, wantTerm: 4, wantVote: 1, bugs: BugNoLogCheck, resetsTmr: true},
		{name: "bug reset-on-any-vote resets on refusal", term: 2, vote: 2, req: Message{Term: 2}, grant: false, wantTerm: 2, wantVote: 2, bugs: BugResetOnAnyVote, resetsTmr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, 0, 3, tt.term, tt.log, Options{}, tt.bugs)
			n.vote = tt.vote
			due0, _ := timerOf(n, ElectionTimer)
			req := tt.req
			req.Type, req.From, req.To = MsgVote, 1, 0
			n.Step(10*time.Millisecond, &req)
			out := n.Ready().Messages
			if len(out) != 1 || out[0].Type != MsgVoteResp || out[0].To != 1 {
				t.Fatalf("sent %v, want one RequestVoteResp to n2", out)
			}
			if got := !out[0].Reject; got != tt.grant {
				t.Errorf("granted %v, want %v", got, tt.grant)
			}
			if out[0].Term != tt.wantTerm {
				t.Errorf("reply term %d, want %d", out[0].Term, tt.wantTerm)
			}
			if n.term != tt.wantTerm || n.vote != tt.wantVote {
				t.Errorf("term %d vote %v, want term %d vote %v", n.term, n.vote, tt.wantTerm, tt.wantVote)
			}
			due, _ := timerOf(n, ElectionTimer)
			if got := due != due0; got != tt.resetsTmr {
				t.Errorf("election timer reset %v, want %v", got, tt.resetsTmr)
			}
		})
	}
}

// TestStepDownOnHigherTerm: any message with a higher term makes every role
// adopt the term, clear its vote and become a follower; a Pre-Vote request
// and a granted Pre-Vote reply are the exceptions.
func TestStepDownOnHigherTerm(t *testing.T) {
	roles := []struct {
		name  string
		setup func(*Node)
	}{
		{"follower", func(*Node) {}},
		{"candidate", func(n *Node) { n.Tick(eMin, ElectionTimer) }},
		{"leader", func(n *Node) { elect(t, n) }},
	}
	msgs := []struct {
		typ      MsgType
		reject   bool
		stepDown bool
	}{
		{MsgVote, false, true},
		{MsgVoteResp, true, true},
		{MsgApp, false, true},
		{MsgAppResp, true, true},
		{MsgPreVoteResp, true, true},
		{MsgPreVote, false, false},
		{MsgPreVoteResp, false, false},
	}
	for _, r := range roles {
		for _, m := range msgs {
			n := newNode(t, 0, 3, 1, nil, Options{}, 0)
			r.setup(n)
			role, term := n.role, n.term
			n.Step(eMin, &Message{Type: m.typ, From: 1, To: 0, Term: 9, Reject: m.reject})
			if m.stepDown {
				if n.role != Follower || n.term != 9 {
					t.Errorf("%s got %v reject=%v term 9: %v term %d, want follower term 9", r.name, m.typ, m.reject, n.role, n.term)
				}
				if m.typ != MsgVote && n.vote != None {
					t.Errorf("%s got %v term 9: vote %v, want none", r.name, m.typ, n.vote)
				}
			} else if n.role != role || n.term != term {
				t.Errorf("%s got %v reject=%v term 9: %v term %d, want %v term %d unchanged", r.name, m.typ, m.reject, n.role, n.term, role, term)
			}
		}
	}
}

// TestStepDownTimer: whether adopting a higher term resets a running
// election timer is an option; a leader that steps down always starts one.
func TestStepDownTimer(t *testing.T) {
	for _, reset := range []bool{false, true} {
		n := newNode(t, 0, 3, 1, []uint64{1, 1}, Options{ResetTimerOnStepDown: reset}, 0)
		before, _ := timerOf(n, ElectionTimer)
		// A vote request the node refuses (its log is more up-to-date).
		n.Step(20*time.Millisecond, &Message{Type: MsgVote, From: 1, To: 0, Term: 5})
		after, armed := timerOf(n, ElectionTimer)
		if !armed || (after != before) != reset {
			t.Errorf("ResetTimerOnStepDown=%v: timer moved %v -> %v, want moved=%v", reset, before, after, reset)
		}
		l := newNode(t, 0, 3, 1, nil, Options{ResetTimerOnStepDown: reset}, 0)
		elect(t, l)
		if _, armed := timerOf(l, ElectionTimer); armed {
			t.Fatal("a leader without CheckQuorum has its election timer armed")
		}
		l.Step(400*time.Millisecond, &Message{Type: MsgAppResp, From: 1, To: 0, Term: 5, Reject: true})
		if due, armed := timerOf(l, ElectionTimer); !armed || due != 400*time.Millisecond+eMin {
			t.Errorf("ResetTimerOnStepDown=%v: deposed leader's timer %v armed=%v, want %v", reset, due, armed, 400*time.Millisecond+eMin)
		}
		if _, armed := timerOf(l, HeartbeatTimer); armed {
			t.Errorf("deposed leader still has its heartbeat timer armed")
		}
	}
}

func TestCandidateStepsDownOnAppendEntriesOfItsTerm(t *testing.T) {
	n := newNode(t, 0, 3, 1, nil, Options{}, 0)
	n.Tick(eMin, ElectionTimer) // term 2
	n.Ready()
	n.Step(eMin+time.Millisecond, &Message{Type: MsgApp, From: 2, To: 0, Term: 2})
	if n.role != Follower || n.term != 2 || n.lead != 2 {
		t.Fatalf("got %v term %d lead %v, want follower term 2 lead n3", n.role, n.term, n.lead)
	}
	if n.vote != 0 {
		t.Errorf("vote %v, want its own vote kept", n.vote)
	}
	out := n.Ready().Messages
	if len(out) != 1 || out[0].Type != MsgAppResp || out[0].Reject {
		t.Errorf("sent %v, want a successful AppendEntriesResp", out)
	}
}

// TestSplitVoteRetry: a candidate whose timer fires starts a new election in
// the next term; with the no-retry bug it waits forever.
func TestSplitVoteRetry(t *testing.T) {
	n := newNode(t, 0, 5, 0, nil, Options{}, 0)
	n.Tick(eMin, ElectionTimer)
	if n.role != Candidate || n.term != 1 || n.vote != 0 {
		t.Fatalf("got %v term %d vote %v, want candidate term 1 voting for itself", n.role, n.term, n.vote)
	}
	if out := n.Ready().Messages; len(out) != 4 || out[0].Type != MsgVote {
		t.Fatalf("sent %v, want RequestVote to the 4 others", out)
	}
	due, armed := timerOf(n, ElectionTimer)
	if !armed || due != 2*eMin {
		t.Fatalf("election timer %v armed=%v, want %v", due, armed, 2*eMin)
	}
	n.Tick(due, ElectionTimer)
	if n.role != Candidate || n.term != 2 {
		t.Fatalf("after a split vote: %v term %d, want candidate term 2", n.role, n.term)
	}

	b := newNode(t, 0, 5, 0, nil, Options{}, BugNoRetry)
	b.Tick(eMin, ElectionTimer)
	b.Tick(2*eMin, ElectionTimer)
	if b.term != 1 {
		t.Errorf("no-retry: term %d, want 1", b.term)
	}
	if _, armed := timerOf(b, ElectionTimer); armed {
		t.Errorf("no-retry: the candidate re-armed its timer")
	}
}

// TestLeaderNoopAndCommit: a new leader appends a no-op of its term, sends
// it at once and commits it once a majority holds it.
func TestLeaderNoopAndCommit(t *testing.T) {
	n := newNode(t, 0, 5, 1, []uint64{1}, Options{}, 0)
	n.Tick(eMin, ElectionTimer)
	n.Ready()
	n.Step(eMin, &Message{Type: MsgVoteResp, From: 1, To: 0, Term: 2})
	n.Step(eMin, &Message{Type: MsgVoteResp, From: 2, To: 0, Term: 2})
	if n.role != Leader || n.lastIndex() != 2 || n.LogTerm(2) != 2 {
		t.Fatalf("got %v last %d/%d, want leader with a no-op at 2/2", n.role, n.lastIndex(), n.LogTerm(2))
	}
	out := n.Ready().Messages
	if len(out) != 4 {
		t.Fatalf("leader sent %d messages, want 4 AppendEntries", len(out))
	}
	for _, m := range out {
		if m.Type != MsgApp || m.Index != 1 || m.LogTerm != 1 || m.NEntries != 1 || m.Entries[0] != 2 {
			t.Fatalf("leader sent %v, want AppendEntries prev=1/1 with the no-op", m.String())
		}
	}
	if due, armed := timerOf(n, HeartbeatTimer); !armed || due != eMin+hb {
		t.Fatalf("heartbeat timer %v armed=%v, want %v", due, armed, eMin+hb)
	}
	n.Step(eMin, &Message{Type: MsgAppResp, From: 1, To: 0, Term: 2, Index: 2})
	if n.commit != 0 {
		t.Fatalf("committed %d with 2 of 5, want 0", n.commit)
	}
	n.Step(eMin, &Message{Type: MsgAppResp, From: 3, To: 0, Term: 2, Index: 2})
	if n.commit != 2 {
		t.Fatalf("commit %d with 3 of 5, want 2", n.commit)
	}
	n.Tick(eMin+hb, HeartbeatTimer)
	out = n.Ready().Messages
	if len(out) != 4 || out[0].Commit != 2 {
		t.Fatalf("heartbeat sent %v, want 4 AppendEntries with commit=2", out)
	}
}

// TestConsistencyCheck covers the follower's side of AppendEntries.
func TestConsistencyCheck(t *testing.T) {
	tests := []struct {
		name    string
		log     []uint64
		app     Message
		reject  bool
		wantLog []uint64
		commit  uint64
	}{
		{"append to an empty log", nil, Message{Index: 0, LogTerm: 0, NEntries: 2, Entries: [MaxEntries]uint64{1, 2}, Commit: 1}, false, []uint64{1, 2}, 1},
		{"missing previous entry", []uint64{1}, Message{Index: 3, LogTerm: 2}, true, []uint64{1}, 0},
		{"previous term mismatch", []uint64{1, 1}, Message{Index: 2, LogTerm: 2}, true, []uint64{1, 1}, 0},
		{"conflicting suffix replaced", []uint64{1, 1, 1}, Message{Index: 1, LogTerm: 1, NEntries: 1, Entries: [MaxEntries]uint64{3}}, false, []uint64{1, 3}, 0},
		{"matching entries kept", []uint64{1, 2, 2}, Message{Index: 1, LogTerm: 1, NEntries: 1, Entries: [MaxEntries]uint64{2}, Commit: 3}, false, []uint64{1, 2, 2}, 2},
		{"heartbeat advances commit", []uint64{1, 3}, Message{Index: 2, LogTerm: 3, Commit: 5}, false, []uint64{1, 3}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, 0, 3, 3, tt.log, Options{}, 0)
			m := tt.app
			m.Type, m.From, m.To, m.Term = MsgApp, 1, 0, 3
			n.Step(time.Millisecond, &m)
			out := n.Ready().Messages
			if len(out) != 1 || out[0].Type != MsgAppResp || out[0].Reject != tt.reject {
				t.Fatalf("sent %v, want one AppendEntriesResp reject=%v", out, tt.reject)
			}
			if got := n.log[1:]; !equal(got, tt.wantLog) {
				t.Errorf("log %v, want %v", got, tt.wantLog)
			}
			if n.commit != tt.commit {
				t.Errorf("commit %d, want %d", n.commit, tt.commit)
			}
		})
	}
}

// TestLeaderBacksUp: a leader walks nextIndex back on refusals until the
// follower's log matches, then catches it up.
func TestLeaderBacksUp(t *testing.T) {
	l := newNode(t, 0, 3, 3, []uint64{1, 2, 3}, Options{}, 0)
	f := newNode(t, 1, 3, 3, []uint64{1, 1, 1, 1}, Options{}, 0)
	elect(t, l) // term 4, no-op at 4
	l.Tick(eMin+hb, HeartbeatTimer)
	for round := 0; round < 10; round++ {
		var toF []Message
		for _, m := range l.Ready().Messages {
			if m.To == 1 {
				toF = append(toF, m)
			}
		}
		if len(toF) == 0 {
			break
		}
		for _, m := range toF {
			f.Step(eMin, &m)
		}
		for _, r := range f.Ready().Messages {
			l.Step(eMin, &r)
		}
	}
	if !equal(f.log, l.log) {
		t.Fatalf("follower log %v, want the leader's %v", f.log, l.log)
	}
	if l.commit != 4 {
		t.Errorf("leader commit %d, want 4", l.commit)
	}
}

func TestStaleSenderLearnsTerm(t *testing.T) {
	for _, typ := range []MsgType{MsgVote, MsgApp, MsgPreVote} {
		n := newNode(t, 0, 3, 5, nil, Options{}, 0)
		n.Step(0, &Message{Type: typ, From: 1, To: 0, Term: 3})
		out := n.Ready().Messages
		if len(out) != 1 || !out[0].Reject || out[0].Term != 5 {
			t.Errorf("%v of term 3 answered with %v, want a refusal of term 5", typ, out)
		}
		if n.term != 5 {
			t.Errorf("%v of term 3 changed the term to %d", typ, n.term)
		}
	}
}

func TestRestartKeepsPersistentState(t *testing.T) {
	for _, bug := range []Bug{0, BugVoteNotPersisted} {
		n := newNode(t, 0, 3, 2, []uint64{1, 2}, Options{}, bug)
		n.Step(0, &Message{Type: MsgVote, From: 1, To: 0, Term: 3, LogTerm: 2, Index: 2})
		n.Restart(time.Second)
		want := ID(1)
		if bug != 0 {
			want = None
		}
		if n.term != 3 || n.vote != want || n.lastIndex() != 2 || n.role != Follower || n.commit != 0 {
			t.Errorf("bugs=%v: after restart term %d vote %v last %d %v commit %d; want 3 %v 2 follower 0",
				bug, n.term, n.vote, n.lastIndex(), n.role, n.commit, want)
		}
	}
}

// TestResetIsFresh checks that a node reused with Reset after leading,
// voting and committing behaves exactly like a new one: same messages,
// timers and state for the same inputs.
func TestResetIsFresh(t *testing.T) {
	cfg := Config{ID: 0, Size: 5, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb, Options: Options{CheckQuorum: true}}
	used := New(cfg, fixedRand(7))
	used.Start(0)
	elect(t, used)
	used.Propose(eMin, 3)
	for i := ID(1); i < 5; i++ {
		used.Step(eMin, &Message{Type: MsgAppResp, From: i, To: 0, Term: used.term, Index: used.lastIndex()})
	}
	if used.commit == 0 {
		t.Fatal("setup: the leader committed nothing")
	}
	used.Reset(cfg)
	fresh := New(cfg, fixedRand(7))
	for _, n := range []*Node{used, fresh} {
		n.Restore(1, None, []uint64{1})
		n.Start(0)
		elect(t, n)
		n.Step(eMin, &Message{Type: MsgAppResp, From: 2, To: 0, Term: n.term, Index: n.lastIndex()})
		n.Step(eMin, &Message{Type: MsgAppResp, From: 3, To: 0, Term: n.term, Index: 0, Reject: true})
		n.Tick(eMin+hb, HeartbeatTimer)
		n.Tick(2*eMin, ElectionTimer) // CheckQuorum: only 2 and 3 answered
	}
	got, want := used.Ready().Messages, fresh.Ready().Messages
	if len(got) != len(want) {
		t.Fatalf("reset node sent %d messages, a new one %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("message %d: reset node sent %v, a new one %v", i, got[i].String(), want[i].String())
		}
	}
	if used.role != fresh.role || used.term != fresh.term || used.commit != fresh.commit ||
		used.lastIndex() != fresh.lastIndex() {
		t.Errorf("reset node: %v term %d commit %d last %d; new node: %v term %d commit %d last %d",
			used.role, used.term, used.commit, used.lastIndex(), fresh.role, fresh.term, fresh.commit, fresh.lastIndex())
	}
	for tm := Timer(0); tm < NumTimers; tm++ {
		ud, ua := timerOf(used, tm)
		fd, fa := timerOf(fresh, tm)
		if ud != fd || ua != fa {
			t.Errorf("%v timer: reset node %v armed=%v, new node %v armed=%v", tm, ud, ua, fd, fa)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tt := range []struct {
		mod  func(*Config)
		want error
	}{
		{func(c *Config) { c.Size = 0 }, ErrSize},
		{func(c *Config) { c.ID = 3 }, ErrID},
		{func(c *Config) { c.ElectionMin = 0 }, ErrElection},
		{func(c *Config) { c.ElectionMax = eMin - 1 }, ErrElection},
		{func(c *Config) { c.Heartbeat = 0 }, ErrHeartbeat},
	} {
		c := good
		tt.mod(&c)
		if err := c.Validate(); err != tt.want {
			t.Errorf("Validate() = %v, want %v", err, tt.want)
		}
	}
}

func TestParseBugs(t *testing.T) {
	b, err := ParseBugs("no-retry, peers-majority")
	if err != nil || b != BugNoRetry|BugPeersMajority {
		t.Fatalf("ParseBugs = %v, %v", b, err)
	}
	if b.String() != "peers-majority,no-retry" {
		t.Errorf("String() = %q", b.String())
	}
	if _, err := ParseBugs("nope"); err == nil {
		t.Error("ParseBugs(nope) succeeded")
	}
}

// timerOf returns when timer t of n is due, and whether it is armed.
func timerOf(n *Node, t Timer) (time.Duration, bool) { return n.timers[t].due, n.timers[t].armed }

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// spanRand records the bound it is asked for and draws its largest value.
type spanRand struct{ asked int64 }

func (r *spanRand) Int63n(n int64) int64 { r.asked = n; return n - 1 }

// TestElectionTimeoutRange: every reset draws uniformly from [min, max],
// both included: the draw spans max-min+1 nanoseconds and lands on top of
// min.
func TestElectionTimeoutRange(t *testing.T) {
	var r spanRand
	n := New(Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}, &r)
	n.Start(time.Second)
	if want := int64(eMax-eMin) + 1; r.asked != want {
		t.Errorf("asked for a draw below %d, want %d", r.asked, want)
	}
	if due, armed := timerOf(n, ElectionTimer); !armed || due != time.Second+eMax {
		t.Errorf("the largest draw put the timer at %v (armed %v), want %v", due, armed, time.Second+eMax)
	}
}

func TestLogTerm(t *testing.T) {
	n := newNode(t, 0, 3, 2, []uint64{1, 2}, Options{}, 0)
	for i, want := range []uint64{0, 1, 2, 0, 0} {
		if got := n.LogTerm(uint64(i)); got != want {
			t.Errorf("LogTerm(%d) = %d, want %d", i, got, want)
		}
	}
}

func TestMsgTypeString(t *testing.T) {
	for typ, want := range map[MsgType]string{0: "Msg(0)", MsgVote: "RequestVote", MsgAppResp: "AppendEntriesResp", MsgHeartbeat: "Heartbeat", MsgHeartbeatResp: "HeartbeatResp", MsgHeartbeatResp + 1: "Msg(9)", 200: "Msg(200)"} {
		if got := typ.String(); got != want {
			t.Errorf("MsgType(%d).String() = %q, want %q", typ, got, want)
		}
	}
}

// TestReadyAfterSeveralInputs: a driver that drains only after several
// inputs still learns every entry written, from the lowest index any of
// them wrote, and the state as it is now.
func TestReadyAfterSeveralInputs(t *testing.T) {
	n := newNode(t, 0, 3, 3, []uint64{1}, Options{}, 0)
	n.Ready()
	n.Step(eMin, &Message{Type: MsgApp, From: 1, To: 0, Term: 3, Index: 1, LogTerm: 1, NEntries: 2, Entries: [MaxEntries]uint64{2, 2}})
	n.Step(eMin, &Message{Type: MsgApp, From: 1, To: 0, Term: 3, Index: 3, LogTerm: 2, NEntries: 1, Entries: [MaxEntries]uint64{3}})
	n.Step(eMin, &Message{Type: MsgApp, From: 1, To: 0, Term: 3, Index: 1, LogTerm: 1, NEntries: 1, Entries: [MaxEntries]uint64{3}})
	rd := n.Ready()
	if rd.FirstIndex != 2 || !equal(rd.Entries, []uint64{3}) || !rd.MustSync {
		t.Errorf("entries from %d: %v (sync %v), want from 2: [3] (sync true)", rd.FirstIndex, rd.Entries, rd.MustSync)
	}
	if len(rd.Messages) != 3 || rd.State.LastIndex != 2 || rd.State.Lead != 1 {
		t.Errorf("%d messages, last index %d, lead %v; want 3, 2, n2", len(rd.Messages), rd.State.LastIndex, rd.State.Lead)
	}
	if rd = n.Ready(); len(rd.Entries) != 0 || rd.MustSync || rd.StateChanged {
		t.Errorf("a second Ready reports entries %v sync %v changed %v", rd.Entries, rd.MustSync, rd.StateChanged)
	}
}

// TestValidateBoundaries: the smallest legal values pass.
func TestValidateBoundaries(t *testing.T) {
	for _, c := range []Config{
		{ID: 0, Size: 1, ElectionMin: 1, ElectionMax: 1, Heartbeat: 1},
		{ID: 4, Size: 5, ElectionMin: eMin, ElectionMax: eMin, Heartbeat: 1},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if err := (&Config{ID: -1, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}).Validate(); err != ErrID {
		t.Errorf("id -1: %v, want %v", err, ErrID)
	}
}

// TestCandidateStepsDownOnItsLeader: a candidate that hears an
// AppendEntries of its own term becomes that leader's follower; with the
// candidate-stays bug (the chapter's receive_heartbeat) it notes the leader
// but stays a candidate.
func TestCandidateStepsDownOnItsLeader(t *testing.T) {
	for _, tt := range []struct {
		bug  Bug
		want Role
	}{{0, Follower}, {BugCandidateStays, Candidate}} {
		n := newNode(t, 0, 5, 0, nil, Options{}, tt.bug)
		n.Tick(eMin, ElectionTimer)
		n.Ready()
		n.Step(eMin+time.Millisecond, &Message{Type: MsgApp, From: 2, To: 0, Term: 1})
		st := n.Ready().State
		if st.Role != tt.want || st.Lead != 2 || st.Term != 1 {
			t.Errorf("bugs %v: got %v term %d lead %v, want %v term 1 following n3", tt.bug, st.Role, st.Term, st.Lead, tt.want)
		}
	}
}

// TestRestoreAboveMaxTermPanics: a state above MaxTerm is a driver's
// mistake (it must check what it reads), not something a node can run from.
func TestRestoreAboveMaxTermPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		term uint64
		log  []uint64
	}{
		{"term", MaxTerm + 1, nil},
		{"an entry", MaxTerm, []uint64{1, MaxTerm + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Restore(%d, %v) did not panic", tc.term, tc.log)
				}
			}()
			n := New(Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}, fixedRand(0))
			n.Restore(tc.term, None, tc.log)
		})
	}
	n := New(Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}, fixedRand(0))
	n.Restore(MaxTerm, None, []uint64{MaxTerm}) // the bound itself is a term like any other
}

// TestHeartbeatMessages: the heartbeats etcd's node sends read in traces
// with their term and commit index, and a heartbeat's reply is a reply.
func TestHeartbeatMessages(t *testing.T) {
	hb := Message{Type: MsgHeartbeat, Term: 3, Commit: 7}
	resp := Message{Type: MsgHeartbeatResp, Term: 3}
	if got := hb.String(); got != "Heartbeat term=3 commit=7" {
		t.Errorf("got %q", got)
	}
	if got := resp.String(); got != "HeartbeatResp term=3" {
		t.Errorf("got %q", got)
	}
	if hb.IsResponse() || !resp.IsResponse() {
		t.Errorf("IsResponse: heartbeat %v, reply %v; want false, true", hb.IsResponse(), resp.IsResponse())
	}
}
