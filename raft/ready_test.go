package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// randRand draws election timeouts from a seeded stdlib stream.
type randRand struct{ r *rand.Rand }

func (r randRand) Int63n(n int64) int64 { return r.r.Int64N(n) }

// mirror is what a driver knows of a node from its Readys alone.
type mirror struct {
	state  State
	log    []uint64 // from Entries: log[i-1] is the term of entry i
	timers [NumTimers]TimerSetting
}

// apply folds one Ready into the mirror, checking what Ready promises.
func (mr *mirror) apply(t *testing.T, n *Node, rd *Ready, what string) {
	t.Helper()
	before := mr.state
	if rd.StateChanged != (rd.State != before) {
		t.Fatalf("%s: StateChanged=%v, but the state went from %+v to %+v", what, rd.StateChanged, before, rd.State)
	}
	mr.state = rd.State
	oldLog := slices.Clone(mr.log)
	if len(rd.Entries) > 0 {
		if rd.FirstIndex < 1 || rd.FirstIndex > uint64(len(mr.log))+1 {
			t.Fatalf("%s: entries from %d after a log of %d", what, rd.FirstIndex, len(mr.log))
		}
		mr.log = append(mr.log[:rd.FirstIndex-1], rd.Entries...)
	}
	if !slices.Equal(mr.log, n.log[1:]) {
		t.Fatalf("%s: the log from Ready's entries is %v, the node's %v", what, mr.log, n.log[1:])
	}
	hard := before.Term != rd.State.Term || before.Vote != rd.State.Vote || !slices.Equal(oldLog, mr.log)
	if rd.MustSync != hard {
		t.Fatalf("%s: MustSync=%v, but term/vote/log changed=%v", what, rd.MustSync, hard)
	}
	for _, ts := range rd.Timers {
		mr.timers[ts.Timer] = ts
	}
	for tm := range NumTimers {
		got := mr.timers[tm]
		if got.Armed != n.timers[tm].armed || got.Armed && got.Due != n.timers[tm].due {
			t.Fatalf("%s: %v timer from Ready armed=%v due %v; the node's armed=%v due %v",
				what, tm, got.Armed, got.Due, n.timers[tm].armed, n.timers[tm].due)
		}
	}
	if st := n.State(); st != rd.State {
		t.Fatalf("%s: Ready's state %+v, the node's %+v", what, rd.State, st)
	}
}

// TestReadyTellsEverything drives small clusters through random elections,
// writes, lost, duplicated and reordered messages and restarts, under every
// option and bug, and checks that a driver that knows a node only from its
// Readys always knows its state, log and timers exactly, and is asked to
// sync exactly when term, vote or log changed.
func TestReadyTellsEverything(t *testing.T) {
	inputs, changes := 0, 0
	allBugs := Bug(0)
	for _, b := range Bugs {
		allBugs |= b.Bug
	}
	for seed := uint64(0); seed < 60; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		size := 1 + rng.IntN(5)
		opts := Options{ResetTimerOnStepDown: rng.IntN(2) == 0, PreVote: rng.IntN(2) == 0,
			CheckQuorum: rng.IntN(2) == 0, LeaderStickiness: rng.IntN(2) == 0}
		bugs := Bug(rng.Uint32()) & allBugs & Bug(rng.Uint32())
		nodes := make([]*Node, size)
		mirrors := make([]mirror, size)
		for i := range nodes {
			cfg := Config{ID: ID(i), Size: size, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb, Options: opts, Bugs: bugs}
			nodes[i] = New(cfg, randRand{rng})
			var log []uint64
			for j, term := 0, uint64(1); j < rng.IntN(4); j++ {
				term += uint64(rng.IntN(2))
				log = append(log, term)
			}
			nodes[i].Restore(uint64(len(log)+rng.IntN(2)), None, log)
			mirrors[i] = mirror{state: nodes[i].State(), log: log}
			nodes[i].Start(0)
			mirrors[i].apply(t, nodes[i], nodes[i].Ready(), "start")
		}
		var wire []Message
		now := time.Duration(0)
		for step := 0; step < 400; step++ {
			now += time.Duration(rng.IntN(int(20 * time.Millisecond)))
			i := rng.IntN(size)
			n := nodes[i]
			var what string
			switch k := rng.IntN(10); {
			case k < 5 && len(wire) > 0:
				j := rng.IntN(len(wire)) // out of order
				m := wire[j]
				if rng.IntN(4) > 0 { // sometimes duplicated
					wire = slices.Delete(wire, j, j+1)
				}
				n = nodes[m.To]
				i = int(m.To)
				what = "step " + m.String()
				n.Step(now, &m)
			case k < 7:
				tm := Timer(rng.IntN(int(NumTimers)))
				what = "tick " + tm.String()
				n.Tick(now, tm)
			case k < 8:
				what = "propose"
				n.Propose(now, 1+rng.IntN(3))
			case k < 9:
				what = "restart"
				n.Restart(now)
			default:
				wire = wire[:0] // a partition loses what is in flight
				continue
			}
			rd := n.Ready()
			if rd.StateChanged {
				changes++
			}
			inputs++
			mirrors[i].apply(t, n, rd, fmt.Sprintf("seed %d step %d %v %s", seed, step, ID(i), what))
			wire = append(wire, rd.Messages...)
			if again := n.Ready(); again.StateChanged || again.MustSync || len(again.Messages) > 0 || len(again.Timers) > 0 {
				t.Fatalf("a second Ready without an input reports %+v", again)
			}
		}
	}
	if changes < inputs/10 {
		t.Fatalf("only %d of %d inputs changed a state: the test exercises too little", changes, inputs)
	}
}

// TestCommitRule: the leader commits the largest index a majority holds
// when it is of its own term (Figure 2), whatever order acknowledgements
// come in; never an index a majority does not hold, never one of an earlier
// term by counting replicas (§5.4.2).
func TestCommitRule(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		prior  []uint64 // the leader's log before it wins; it then leads term 3
		acks   [][2]uint64
		commit uint64
	}{
		// The leader of term 3 over an empty log: a no-op at 1, then 3 entries at 2..4.
		{"a majority holds the quorum index", 5, nil, [][2]uint64{{1, 1}, {2, 2}}, 1},
		{"the index acknowledged last need not be the one committed", 5, nil, [][2]uint64{{1, 2}, {2, 4}}, 2},
		{"two of five is no majority", 5, nil, [][2]uint64{{1, 4}}, 0},
		{"three of five is", 5, nil, [][2]uint64{{1, 4}, {2, 3}}, 3},
		{"everyone at different places", 5, nil, [][2]uint64{{1, 1}, {2, 2}, {3, 3}, {4, 4}}, 3},
		{"an even cluster needs more than half", 4, nil, [][2]uint64{{1, 4}}, 0},
		{"an even cluster, a majority", 4, nil, [][2]uint64{{1, 4}, {2, 3}}, 3},
		{"a lone node commits alone", 1, nil, nil, 4},
		{"entries of an earlier term wait for one of this term", 3, []uint64{1, 2}, [][2]uint64{{1, 2}}, 0},
		{"and then commit with it", 3, []uint64{1, 2}, [][2]uint64{{1, 2}, {1, 3}}, 3},
		{"acknowledgements never lower the commit index", 3, nil, [][2]uint64{{1, 3}, {2, 1}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(Config{ID: 0, Size: tt.size, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}, fixedRand(0))
			n.Restore(2, None, tt.prior)
			n.Start(0)
			n.Tick(eMin, ElectionTimer)
			for i := 1; i < tt.size && n.role == Candidate; i++ {
				n.Step(eMin, &Message{Type: MsgVoteResp, From: ID(i), To: 0, Term: 3})
			}
			if tt.prior == nil {
				n.Propose(eMin, 3)
			}
			for _, a := range tt.acks {
				n.Step(eMin, &Message{Type: MsgAppResp, From: ID(a[0]), To: 0, Term: 3, Index: a[1]})
			}
			if n.role != Leader || n.commit != tt.commit {
				t.Fatalf("%v with log %v: commit %d, want %d", n.role, n.log[1:], n.commit, tt.commit)
			}
		})
	}
}

// TestIllegalTransitionsPanic: a transition from a role it is not legal
// from panics naming the node, its term, and both roles.
func TestIllegalTransitionsPanic(t *testing.T) {
	for _, tt := range []struct {
		name string
		from func(*Node)
		to   func(*Node)
		want string
	}{
		{"follower to leader", func(*Node) {}, (*Node).becomeLeader, "n1 term 0: illegal transition follower -> leader"},
		{"leader to candidate", func(n *Node) { elect(t, n) }, (*Node).becomeCandidate, "n1 term 1: illegal transition leader -> candidate"},
		{"leader to pre-candidate", func(n *Node) { elect(t, n) }, (*Node).becomePreCandidate, "n1 term 1: illegal transition leader -> pre-candidate"},
		{"pre-candidate to leader", func(n *Node) { n.becomePreCandidate() }, (*Node).becomeLeader, "n1 term 0: illegal transition pre-candidate -> leader"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, 0, 3, 0, nil, Options{}, 0)
			tt.from(n)
			defer func() {
				got, _ := recover().(string)
				if !strings.Contains(got, tt.want) {
					t.Errorf("panic %q, want one naming %q", got, tt.want)
				}
			}()
			tt.to(n)
		})
	}
}

// TestNewRefusesInvalidConfig: New panics on a configuration Validate
// refuses, naming the problem.
func TestNewRefusesInvalidConfig(t *testing.T) {
	defer func() {
		if got, _ := recover().(string); !strings.Contains(got, ErrElection.Error()) {
			t.Errorf("panic %q, want %q", got, ErrElection)
		}
	}()
	New(Config{Size: 3, ElectionMin: eMax, ElectionMax: eMin, Heartbeat: hb}, fixedRand(0))
}
