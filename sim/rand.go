package sim

import "github.com/raftsim/raftsim/rng"

// Rand is one seeded random stream: SplitMix64 (see [rng.Rand]). The
// driver seeds each stream of a trial from its own sub-seed, so that draws
// for one purpose never shift the draws for another.
type Rand = rng.Rand

// NewRand returns a stream seeded with seed.
func NewRand(seed uint64) *Rand { return rng.NewRand(seed) }
