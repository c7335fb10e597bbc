package sim

import "github.com/raftsim/raftsim/rng"

// Rand is one seeded random stream: SplitMix64 (see [rng.Rand]). Every
// stream of a trial is seeded with [Rand.Seed] from a derived seed, so that
// draws for one purpose never shift the draws for another.
type Rand = rng.Rand

// NewRand returns a stream seeded with seed.
func NewRand(seed uint64) *Rand { return rng.NewRand(seed) }

// Derive returns the seed of an independent sub-stream of seed, named by
// purpose and index. It is a pure function: the same inputs always name the
// same stream.
func Derive(seed uint64, purpose Purpose, index int) uint64 {
	return rng.Mix(seed ^ rng.Mix(uint64(purpose)<<32^uint64(uint32(index))^0x5bd1e9955bd1e995))
}

// Purpose names what a random stream is for.
type Purpose uint32

// The streams of one trial.
const (
	PurposeNode    Purpose = iota + 1 // a node's election timeouts (index: node)
	PurposeNetwork                    // latency, loss and duplication draws
	PurposeFaults                     // random fault times and random node choices
	PurposeStart                      // start times of nodes (index: node)
	PurposeSwarm                      // a trial's configuration, when drawn from its seed
	PurposeDisk                       // a node's disk write times (index: node)
	PurposeJitter                     // a node's timer lateness (index: node)
)

// Mix returns a well-scrambled 64-bit value of x; it is how trial seeds are
// derived from a scenario seed and a trial index.
func Mix(x uint64) uint64 { return rng.Mix(x) }
