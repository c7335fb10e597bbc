package sim

// The seeded random stream, SplitMix64, defined here in full so that its
// sequence never changes with the Go release. The simulator, the trial
// drivers and live's proxy draw from it; a Raft node gets it only through
// raft.Rand. A stream must never read the clock, the global random source or
// anything else outside its state: it is a pure function of its seed.

import (
	"math"
	"math/bits"
)

// Rand is one seeded random stream: SplitMix64, which passes BigCrush and
// costs an add and two multiplies a draw. Each stream of a trial is seeded
// from its own sub-seed, so that draws for one purpose never shift the draws
// for another.
type Rand struct {
	state uint64
}

// NewRand returns a stream seeded with seed.
func NewRand(seed uint64) *Rand {
	r := &Rand{}
	r.Seed(seed)
	return r
}

// Seed resets the stream to the start of the sequence for seed.
func (r *Rand) Seed(seed uint64) { r.state = Mix(seed) }

// gamma is SplitMix64's increment: each draw advances the state by it.
const gamma = 0x9e3779b97f4a7c15

// Uint64 returns 64 uniformly random bits.
func (r *Rand) Uint64() uint64 {
	r.state += gamma
	z := r.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 {
	return float64(r.Uint64()>>11) * 0x1p-53
}

// Int63n returns a uniform value in [0, n). It panics if n <= 0.
func (r *Rand) Int63n(n int64) int64 {
	if n <= 0 {
		panic("sim: Int63n with n <= 0")
	}
	// Lemire's multiply-and-reject: unbiased, usually one draw. A draw is
	// kept when its low half is at least 2^64 mod n; testing against n
	// first, which that bound is below, skips the division almost always.
	un := uint64(n)
	for {
		hi, lo := bits.Mul64(r.Uint64(), un)
		if lo >= un || lo >= -un%un {
			return int64(hi)
		}
	}
}

// Intn returns a uniform value in [0, n). It panics if n <= 0.
func (r *Rand) Intn(n int) int { return int(r.Int63n(int64(n))) }

// Chance reports true with probability p, always consuming one draw so that
// the stream stays aligned whatever p is. When p is 0 or 1 (a link without
// loss, the usual case) the answer does not depend on the draw, so only the
// state advances and the scrambling is skipped.
func (r *Rand) Chance(p float64) bool {
	if p <= 0 || p >= 1 {
		r.state += gamma
		return p >= 1
	}
	return r.Float64() < p
}

// Normal returns a standard normal deviate (Box–Muller, two draws).
func (r *Rand) Normal() float64 {
	u1 := 1 - r.Float64() // (0, 1]: log is finite
	u2 := r.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Exp returns an exponential deviate with mean 1 (one draw).
func (r *Rand) Exp() float64 {
	return -math.Log(1 - r.Float64())
}

// Mix returns a well-scrambled 64-bit value of z: SplitMix64's finaliser, a
// bijection. Trial seeds and their sub-seeds are derived with it.
func Mix(z uint64) uint64 {
	z += gamma
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
