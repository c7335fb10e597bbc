package safety

import (
	"math/rand/v2"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// TestByTermIsAMap: whatever the order and spread of the terms set,
// byTerm answers as a map would, across resets.
func TestByTermIsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b byTerm
	for round := range 50 {
		b.reset()
		want := map[uint64]int32{}
		base := []uint64{0, 1, 1000, raft.MaxTerm - 100, raft.MaxTerm / 2}[round%5]
		for range 200 {
			var term uint64
			switch rng.IntN(4) {
			case 0: // near the first
				term = base + rng.Uint64N(50)
			case 1: // below it
				term = base - min(base, rng.Uint64N(100))
			case 2: // far above
				term = base + nearSpan + rng.Uint64N(1<<40)
			default: // anywhere up to the bound
				term = rng.Uint64N(raft.MaxTerm + 1)
			}
			if rng.IntN(2) == 0 {
				v := int32(rng.IntN(7))
				b.set(term, v)
				want[term] = v
			}
			got, ok := want[term]
			if !ok {
				got = -1
			}
			if b.get(term) != got {
				t.Fatalf("round %d: term %d: got %d, want %d", round, term, b.get(term), got)
			}
		}
		for term, v := range want {
			if b.get(term) != v {
				t.Fatalf("round %d, at the end: term %d: got %d, want %d", round, term, b.get(term), v)
			}
		}
		if len(b.near) > nearSpan {
			t.Fatalf("round %d: %d terms in the slice, more than %d", round, len(b.near), nearSpan)
		}
	}
}

// TestTermsNearTheBound: a run whose terms start near 2^53-1 (a scenario's
// cluster.term, or what a live node reports) is judged like any other, in
// memory that does not grow with the term.
func TestTermsNearTheBound(t *testing.T) {
	var c Checker
	c.Reset(3)
	top := uint64(raft.MaxTerm)
	wantNone(t, c.Voted(0, top-1, 0))
	wantNone(t, c.Led(0, top-1))
	wantNone(t, c.Voted(1, top, 1))
	wantNone(t, c.Voted(2, top, 1))
	wantNone(t, c.Led(1, top))
	wantViolation(t, c.Voted(2, top, 0), scenarios.VoteOnce, "n3 voted for n2 and then for n1 in term 9007199254740991")
	wantViolation(t, c.Led(2, top), scenarios.ElectionSafety, "n2 and n3 both leaders in term 9007199254740991")
	wantNone(t, c.Led(0, 3)) // a node far below the others, as a restarted one reports
	if got := c.Leader(top - 1); got != 0 {
		t.Errorf("Leader(2^53-2): got %d, want 0", got)
	}
	if n := len(c.leaderOf.near) + len(c.votes[1].near); n > 2*nearSpan {
		t.Errorf("%d terms held in slices", n)
	}
}

// BenchmarkVoted: votes of a run's terms, the simulator's hot path, which
// must not allocate once the storage has grown.
func BenchmarkVoted(b *testing.B) {
	var c Checker
	c.Reset(5)
	for b.Loop() {
		c.Reset(5)
		for term := uint64(1); term <= 20; term++ {
			for i := range 5 {
				c.Voted(i, term, int(term)%5)
			}
			c.Led(int(term)%5, term)
		}
	}
}
