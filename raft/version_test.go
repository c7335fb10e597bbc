package raft

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/raftsim/raftsim/rng"
)

// stateOf is what StateVersion promises to cover.
type stateOf struct {
	role                 Role
	term                 uint64
	vote                 ID
	commit               uint64
	lastIndex, lastTerm  uint64
	truncations, version uint64
}

func snapshot(n *Node) stateOf {
	return stateOf{n.Role(), n.Term(), n.Vote(), n.Commit(), n.LastIndex(), n.LastTerm(), n.Truncations(), n.StateVersion()}
}

// randRand draws election timeouts from a seeded stdlib stream.
type randRand struct{ r *rand.Rand }

func (r randRand) Int63n(n int64) int64 { return r.r.Int64N(n) }

// TestStateVersionCoversEveryChange drives small clusters through random
// elections, writes, lost, duplicated and reordered messages and restarts,
// under every option and bug, and checks that no input changes the role,
// term, vote, commit index or log without changing StateVersion: a driver
// that trusts the version would otherwise miss the change.
func TestStateVersionCoversEveryChange(t *testing.T) {
	changes := 0
	for seed := uint64(0); seed < 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		size := 1 + rng.IntN(5)
		opts := Options{ResetTimerOnStepDown: rng.IntN(2) == 0, PreVote: rng.IntN(2) == 0,
			CheckQuorum: rng.IntN(2) == 0, LeaderStickiness: rng.IntN(2) == 0}
		bugs := Bug(rng.Uint32()) & (BugLeaderNoStepDown<<1 - 1) & Bug(rng.Uint32())
		nodes := make([]*Node, size)
		for i := range nodes {
			cfg := Config{ID: ID(i), Size: size, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb, Options: opts, Bugs: bugs}
			nodes[i] = New(cfg, randRand{rng})
			var log []uint64
			for j, term := 0, uint64(1); j < rng.IntN(4); j++ {
				term += uint64(rng.IntN(2))
				log = append(log, term)
			}
			v := nodes[i].StateVersion()
			nodes[i].SetPersistent(uint64(len(log)+rng.IntN(2)), None, log)
			if nodes[i].StateVersion() == v {
				t.Fatalf("SetPersistent left StateVersion at %d", v)
			}
			nodes[i].Start(0)
		}
		var wire []Message
		now := time.Duration(0)
		for step := 0; step < 3000; step++ {
			now += time.Duration(rng.IntN(20)) * time.Millisecond
			i := rng.IntN(size)
			n := nodes[i]
			before := snapshot(n)
			switch k := rng.IntN(20); {
			case k < 12 && len(wire) > 0: // deliver, lose or duplicate a message in flight
				j := rng.IntN(len(wire))
				m := wire[j]
				if rng.IntN(8) != 0 {
					wire[j] = wire[len(wire)-1]
					wire = wire[:len(wire)-1]
				}
				n = nodes[m.To]
				before = snapshot(n)
				if rng.IntN(10) != 0 {
					n.Step(now, &m)
				}
			case k < 16:
				n.Tick(now, Timer(rng.IntN(int(NumTimers))))
			case k < 18:
				n.Propose(now, 1+rng.IntN(MaxEntries+2))
			default:
				n.Restart(now)
			}
			after := snapshot(n)
			moved := after.version != before.version
			after.version = before.version
			if after != before {
				changes++
				if !moved {
					t.Fatalf("seed %d step %d: %v changed from %+v to %+v, StateVersion stayed %d", seed, step, n.ID(), before, after, before.version)
				}
			}
			wire = append(wire, n.Messages()...)
			if len(wire) > 200 {
				wire = wire[len(wire)-200:]
			}
		}
	}
	if changes < 1000 {
		t.Fatalf("only %d state changes seen: the test drives the nodes too little", changes)
	}
}

// hiddenRand hides an *rng.Rand behind the interface, so that the node
// takes its general path.
type hiddenRand struct{ r *rng.Rand }

func (h hiddenRand) Int63n(n int64) int64 { return h.r.Int63n(n) }

// TestDirectDrawsMatchInterface: a node given an *rng.Rand draws from it
// directly, and must draw exactly what it draws through the interface.
func TestDirectDrawsMatchInterface(t *testing.T) {
	cfg := Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb}
	direct := New(cfg, rng.NewRand(7))
	general := New(cfg, hiddenRand{rng.NewRand(7)})
	if direct.fast == nil || general.fast != nil {
		t.Fatal("the node did not tell an *rng.Rand from another Rand")
	}
	now := time.Duration(0)
	direct.Start(now)
	general.Start(now)
	for i := 0; i < 1000; i++ {
		now += hb
		m := Message{Type: MsgApp, From: 1, To: 0, Term: 1}
		direct.Step(now, &m)
		general.Step(now, &m)
		a, _ := direct.Timer(ElectionTimer)
		b, _ := general.Timer(ElectionTimer)
		if a != b {
			t.Fatalf("heartbeat %d: election timer due at %v drawn directly, %v through the interface", i, a, b)
		}
	}
}
