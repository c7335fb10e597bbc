package raft

import (
	"testing"
	"time"
)

// TestPreVoteRequest: a Pre-Vote request changes neither the receiver's
// term nor its vote; it is granted iff it is for a later term, the
// candidate's log is up-to-date, and no leader was heard from within the
// minimum election timeout.
func TestPreVoteRequest(t *testing.T) {
	tests := []struct {
		name      string
		log       []uint64
		heardAt   time.Duration // when the node last heard its leader; -1: never
		now       time.Duration
		req       Message
		grant     bool
		replyTerm uint64
	}{
		{"up-to-date, no leader", nil, -1, time.Second, Message{Term: 4}, true, 4},
		{"same term", nil, -1, time.Second, Message{Term: 3}, false, 3},
		{"log behind", []uint64{1, 3}, -1, time.Second, Message{Term: 4, LogTerm: 1, Index: 1}, false, 3},
		{"leader heard just now", nil, 900 * time.Millisecond, time.Second, Message{Term: 4}, false, 3},
		{"leader heard a minimum timeout ago", nil, time.Second - eMin, time.Second, Message{Term: 4}, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, 0, 3, 3, tt.log, Options{PreVote: true}, 0)
			n.vote = 2
			if tt.heardAt >= 0 {
				n.Step(tt.heardAt, &Message{Type: MsgApp, From: 2, To: 0, Term: 3, Index: uint64(len(tt.log)), LogTerm: n.lastTerm()})
				n.Ready()
			}
			req := tt.req
			req.Type, req.From, req.To = MsgPreVote, 1, 0
			n.Step(tt.now, &req)
			out := n.Ready().Messages
			if len(out) != 1 || out[0].Type != MsgPreVoteResp {
				t.Fatalf("sent %v, want one PreVoteResp", out)
			}
			if !out[0].Reject != tt.grant || out[0].Term != tt.replyTerm {
				t.Errorf("reply granted=%v term %d, want granted=%v term %d", !out[0].Reject, out[0].Term, tt.grant, tt.replyTerm)
			}
			if n.term != 3 || n.vote != 2 {
				t.Errorf("the pre-vote changed the receiver: term %d vote %v, want 3 and n3", n.term, n.vote)
			}
		})
	}
}

// TestPreVoteRound: an election timeout starts a Pre-Vote round for the next
// term without touching the term; a majority of grants starts the real
// election; a majority of refusals ends the round; a refusal from a later
// term makes the node adopt it.
func TestPreVoteRound(t *testing.T) {
	n := newNode(t, 0, 5, 2, nil, Options{PreVote: true}, 0)
	n.Tick(eMin, ElectionTimer)
	out := n.Ready().Messages
	if n.role != PreCandidate || n.term != 2 || len(out) != 4 || out[0].Type != MsgPreVote || out[0].Term != 3 {
		t.Fatalf("after timeout: %v term %d, sent %v", n.role, n.term, out)
	}
	n.Step(eMin, &Message{Type: MsgPreVoteResp, From: 1, To: 0, Term: 3})
	n.Step(eMin, &Message{Type: MsgPreVoteResp, From: 1, To: 0, Term: 3}) // a duplicate counts once
	if n.role != PreCandidate {
		t.Fatalf("2 of 5 pre-votes made it %v", n.role)
	}
	n.Step(eMin, &Message{Type: MsgPreVoteResp, From: 2, To: 0, Term: 3})
	if n.role != Candidate || n.term != 3 || n.vote != 0 {
		t.Fatalf("3 of 5 pre-votes: %v term %d vote %v, want candidate of term 3", n.role, n.term, n.vote)
	}

	lost := newNode(t, 0, 5, 2, nil, Options{PreVote: true}, 0)
	lost.Tick(eMin, ElectionTimer)
	for _, from := range []ID{1, 2, 3} {
		lost.Step(eMin, &Message{Type: MsgPreVoteResp, From: from, To: 0, Term: 2, Reject: true})
	}
	if lost.role != Follower || lost.term != 2 {
		t.Fatalf("3 refusals: %v term %d, want follower term 2", lost.role, lost.term)
	}

	later := newNode(t, 0, 5, 2, nil, Options{PreVote: true}, 0)
	later.Tick(eMin, ElectionTimer)
	later.Step(eMin, &Message{Type: MsgPreVoteResp, From: 1, To: 0, Term: 7, Reject: true})
	if later.role != Follower || later.term != 7 {
		t.Fatalf("refusal of term 7: %v term %d", later.role, later.term)
	}
}

// TestCheckQuorumStepDown: a leader checks every minimum election timeout
// that a majority answered since the last check, and steps down (in the same
// term) when one did not.
func TestCheckQuorumStepDown(t *testing.T) {
	n := newNode(t, 0, 5, 1, nil, Options{CheckQuorum: true}, 0)
	elect(t, n) // leader at eMin
	due, armed := timerOf(n, ElectionTimer)
	if !armed || due != 2*eMin {
		t.Fatalf("CheckQuorum timer %v armed=%v, want %v", due, armed, 2*eMin)
	}
	// Two followers answer: with the leader, a majority of 5.
	n.Step(eMin+10*time.Millisecond, &Message{Type: MsgAppResp, From: 1, To: 0, Term: n.term, Index: 1})
	n.Step(eMin+10*time.Millisecond, &Message{Type: MsgAppResp, From: 2, To: 0, Term: n.term, Index: 1})
	n.Tick(2*eMin, ElectionTimer)
	if n.role != Leader {
		t.Fatalf("stepped down with a majority answering")
	}
	// Only one answers in the next period: step down at its end.
	n.Step(2*eMin+10*time.Millisecond, &Message{Type: MsgAppResp, From: 3, To: 0, Term: n.term, Index: 1})
	if due, _ := timerOf(n, ElectionTimer); due != 3*eMin {
		t.Fatalf("next check at %v, want %v", due, 3*eMin)
	}
	term := n.term
	n.Tick(3*eMin, ElectionTimer)
	if n.role != Follower || n.term != term {
		t.Fatalf("without a majority: %v term %d, want follower of term %d", n.role, n.term, term)
	}
	// Without CheckQuorum a leader never steps down on its own.
	plain := newNode(t, 0, 5, 1, nil, Options{}, 0)
	elect(t, plain)
	if _, armed := timerOf(plain, ElectionTimer); armed {
		t.Fatal("a leader without CheckQuorum has a check timer")
	}
}

// TestLeaderStickiness: within the minimum election timeout of hearing from
// a leader, a node (or the leader itself) ignores RequestVote of a higher
// term: no term change, no vote, no reply. Afterwards it votes as usual.
func TestLeaderStickiness(t *testing.T) {
	n := newNode(t, 0, 3, 3, nil, Options{LeaderStickiness: true}, 0)
	n.Step(100*time.Millisecond, &Message{Type: MsgApp, From: 2, To: 0, Term: 3})
	n.Ready()
	n.Step(100*time.Millisecond+eMin-1, &Message{Type: MsgVote, From: 1, To: 0, Term: 9})
	if out := n.Ready().Messages; len(out) != 0 || n.term != 3 || n.vote != None {
		t.Fatalf("within the lease: sent %v, term %d vote %v", out, n.term, n.vote)
	}
	n.Step(100*time.Millisecond+eMin, &Message{Type: MsgVote, From: 1, To: 0, Term: 9})
	if out := n.Ready().Messages; len(out) != 1 || out[0].Reject || n.term != 9 || n.vote != 1 {
		t.Fatalf("after the lease: sent %v, term %d vote %v", out, n.term, n.vote)
	}

	l := newNode(t, 0, 3, 3, nil, Options{LeaderStickiness: true}, 0)
	elect(t, l)
	l.Step(10*time.Second, &Message{Type: MsgVote, From: 1, To: 0, Term: 9})
	if l.role != Leader || l.term != 4 {
		t.Fatalf("a sticky leader took a vote request: %v term %d", l.role, l.term)
	}
	// AppendEntries replies of a higher term still depose it.
	l.Step(10*time.Second, &Message{Type: MsgAppResp, From: 1, To: 0, Term: 9, Reject: true})
	if l.role != Follower || l.term != 9 {
		t.Fatalf("a higher-term reply: %v term %d", l.role, l.term)
	}
}

// stepRand draws 0, 1ms, 2ms, ... (modulo n): each draw differs from the
// last.
type stepRand struct{ next int64 }

func (r *stepRand) Int63n(n int64) int64 {
	r.next++
	return (r.next * int64(time.Millisecond)) % n
}

// TestKeepTimeout: with KeepTimeout, a follower restarts its timer at
// each AppendEntries of its leader with the timeout it drew when it became
// follower, and draws again only at a new term or role; without, every
// AppendEntries draws a fresh one.
func TestKeepTimeout(t *testing.T) {
	for _, keep := range []bool{false, true} {
		n := New(Config{ID: 1, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb, Options: Options{KeepTimeout: keep}}, &stepRand{})
		n.Start(0)
		n.Ready()
		timeouts := map[time.Duration]bool{}
		for k := range 4 {
			at := time.Duration(10+50*k) * time.Millisecond
			n.Step(at, &Message{Type: MsgApp, From: 0, To: 1, Term: 1})
			n.Ready()
			timeouts[n.timers[ElectionTimer].due-at] = true
		}
		if want := map[bool]int{false: 4, true: 1}[keep]; len(timeouts) != want {
			t.Errorf("KeepTimeout=%v: four AppendEntries of one leader gave %d timeouts %v, want %d", keep, len(timeouts), timeouts, want)
		}
		var first time.Duration
		for d := range timeouts {
			first = d
		}
		// A new term (a vote granted for term 2) draws again in both.
		n.Step(300*time.Millisecond, &Message{Type: MsgVote, From: 2, To: 1, Term: 2, LogTerm: 0, Index: 0})
		n.Ready()
		if d := n.timers[ElectionTimer].due - 300*time.Millisecond; keep && d == first {
			t.Errorf("KeepTimeout: a new term kept the timeout %v", d)
		}
	}
}
