package sim

import "testing"

// TestRandKnownAnswers pins the stream: a change to it would silently
// change every trial of every seed, golden traces and published results
// alike. The raw draws are SplitMix64's reference values (Vigna's
// splitmix64.c from state 1234567); the seeded stream, Mix and the derived
// draws are pinned as they are.
func TestRandKnownAnswers(t *testing.T) {
	r := Rand{state: 1234567}
	for k, want := range []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821} {
		if got := r.Uint64(); got != want {
			t.Errorf("SplitMix64 from state 1234567, draw %d: got %d, want %d", k, got, want)
		}
	}
	if got, want := Mix(0), uint64(16294208416658607535); got != want {
		t.Errorf("Mix(0): got %d, want %d", got, want)
	}
	if got, want := Mix(1), uint64(10451216379200822465); got != want {
		t.Errorf("Mix(1): got %d, want %d", got, want)
	}
	r.Seed(42)
	if a, b := r.Uint64(), r.Uint64(); a != 6332618229526065668 || b != 17630415256238047317 {
		t.Errorf("NewRand(42): got %d, %d, want 6332618229526065668, 17630415256238047317", a, b)
	}
	r.Seed(7)
	f, i, i63, c, n, e := r.Float64(), r.Intn(10), r.Int63n(1000003), r.Chance(0.5), r.Normal(), r.Exp()
	if f != 0.7215081806049702 || i != 6 || i63 != 549375 || c || n != 0.38178265192226435 || e != 2.4731066592116124 {
		t.Errorf("NewRand(7): Float64, Intn(10), Int63n(1000003), Chance(0.5), Normal, Exp: got %v %v %v %v %v %v, want 0.7215081806049702 6 549375 false 0.38178265192226435 2.4731066592116124",
			f, i, i63, c, n, e)
	}
}

// TestChanceKeepsTheStreamAligned: Chance consumes one draw whatever p is,
// so that a link without loss and one with loss leave the next draws alike.
func TestChanceKeepsTheStreamAligned(t *testing.T) {
	for _, p := range []float64{0, 0.3, 1} {
		r := NewRand(9)
		r.Chance(p)
		want := NewRand(9)
		want.Uint64()
		if got, w := r.Uint64(), want.Uint64(); got != w {
			t.Errorf("after Chance(%v): got %d, want %d (one draw consumed)", p, got, w)
		}
	}
}
