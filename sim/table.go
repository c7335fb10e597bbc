package sim

import (
	"errors"
	"math"
	"time"
)

// Bucket is part of an empirical distribution: Weight of it spread
// uniformly over [Lo, Hi], a single value when Lo == Hi.
type Bucket struct {
	Lo, Hi time.Duration
	Weight float64
}

// Errors from [NewEmpirical] and [NewMix].
var (
	ErrNoBuckets   = errors.New("empirical: no bucket has a weight above 0")
	ErrBucket      = errors.New("empirical: a bucket's weight must be a finite number of at least 0, and its bounds 0 <= Lo <= Hi")
	ErrMixWeights  = errors.New("mix: weights must be above 0 and add up to 1")
	ErrMixNested   = errors.New("mix: a part of a mixture cannot be a mixture")
	ErrMixNoParts  = errors.New("mix: no parts")
	ErrMixBadParts = errors.New("mix: one weight for each part")
)

// MixTolerance is how far from 1 the weights of a mixture may add up to.
const MixTolerance = 1e-6

// table is what an Empirical or Mixture distribution draws from: parts i
// chosen with probability cum[i] - cum[i-1]. It never changes once made.
type table struct {
	cum []float64 // cumulative probabilities, increasing, the last exactly 1
	// Empirical: part i is uniform over [lo[i], hi[i]].
	lo, hi []time.Duration
	// Mixture: part i is parts[i], given weights[i].
	parts   []Dist
	weights []float64
	origin  any
	mean    time.Duration
	max     time.Duration // -1: unbounded
}

// NewEmpirical returns the distribution that picks a bucket with
// probability proportional to its weight, then a point uniformly within
// it. Buckets of weight 0 are left out. Sampling takes one draw: its
// position in the cumulative weights picks the bucket and the point in it
// (inverse transform sampling of a piecewise linear distribution
// function). origin is for the maker's own use, such as the file the
// buckets came from ([Dist.Origin]); sim never reads it.
func NewEmpirical(buckets []Bucket, origin any) (Dist, error) {
	t := &table{origin: origin}
	var total, mean float64
	for _, b := range buckets {
		if b.Lo < 0 || b.Lo > b.Hi || !(b.Weight >= 0) || math.IsInf(b.Weight, 0) {
			return Dist{}, ErrBucket
		}
		if b.Weight == 0 {
			continue
		}
		total += b.Weight
		t.cum = append(t.cum, total)
		t.lo, t.hi = append(t.lo, b.Lo), append(t.hi, b.Hi)
		mean += b.Weight * (float64(b.Lo) + float64(b.Hi)) / 2
		t.max = max(t.max, b.Hi)
	}
	if len(t.cum) == 0 || math.IsInf(total, 0) {
		return Dist{}, ErrNoBuckets
	}
	t.normalize(total)
	t.mean = durationOf(mean / total)
	return Dist{Kind: Empirical, table: t}, nil
}

// NewMix returns the mixture that draws from parts[i] with probability
// weights[i]: one draw picks the part, then the part draws as it does on
// its own. The weights must be above 0 and add up to 1 within
// [MixTolerance]; a part cannot be a mixture itself.
func NewMix(weights []float64, parts []Dist) (Dist, error) {
	switch {
	case len(parts) == 0:
		return Dist{}, ErrMixNoParts
	case len(weights) != len(parts):
		return Dist{}, ErrMixBadParts
	}
	t := &table{parts: append([]Dist(nil), parts...), weights: append([]float64(nil), weights...)}
	var total, mean float64
	for i, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return Dist{}, ErrMixWeights
		}
		if parts[i].Kind == Mixture {
			return Dist{}, ErrMixNested
		}
		total += w
		t.cum = append(t.cum, total)
		mean += w * float64(parts[i].Mean())
		if m := parts[i].Max(); m < 0 || t.max < 0 {
			t.max = -1
		} else {
			t.max = max(t.max, m)
		}
	}
	if math.Abs(total-1) > MixTolerance {
		return Dist{}, ErrMixWeights
	}
	t.normalize(total)
	t.mean = durationOf(max(mean/total, 0))
	return Dist{Kind: Mixture, table: t}, nil
}

// normalize divides the cumulative weights by their total, so that the
// last is exactly 1 and every draw in [0, 1) falls in some part.
func (t *table) normalize(total float64) {
	for i := range t.cum {
		t.cum[i] /= total
	}
	t.cum[len(t.cum)-1] = 1
}

// pick returns the part whose share of [0, 1) holds u: the first i with
// cum[i] > u.
func (t *table) pick(u float64) int {
	lo, hi := 0, len(t.cum)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// sampleBucket draws from an empirical table with one draw.
func (t *table) sampleBucket(r *Rand) time.Duration {
	u := r.Float64()
	i := t.pick(u)
	lo, hi := t.lo[i], t.hi[i]
	if lo == hi {
		return lo
	}
	below := 0.0
	if i > 0 {
		below = t.cum[i-1]
	}
	f := (u - below) / (t.cum[i] - below) // in [0, 1]
	return min(lo+durationOf(f*float64(hi-lo)), hi)
}

// Buckets returns the buckets of an Empirical d, each weighed by its
// probability, or nil for another kind.
func (d *Dist) Buckets() []Bucket {
	if d.Kind != Empirical || d.table == nil {
		return nil
	}
	t := d.table
	out := make([]Bucket, len(t.cum))
	below := 0.0
	for i := range t.cum {
		out[i] = Bucket{t.lo[i], t.hi[i], t.cum[i] - below}
		below = t.cum[i]
	}
	return out
}

// Parts returns the weights and parts of a Mixture d, as [NewMix] was given
// them, or nil for another kind.
func (d *Dist) Parts() (weights []float64, parts []Dist) {
	if d.Kind != Mixture || d.table == nil {
		return nil, nil
	}
	return append([]float64(nil), d.table.weights...), append([]Dist(nil), d.table.parts...)
}

// Origin returns what [NewEmpirical] was given as the buckets' origin, or
// nil.
func (d *Dist) Origin() any {
	if d.table == nil {
		return nil
	}
	return d.table.origin
}
