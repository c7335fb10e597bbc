package safety

// byTerm holds an int32 per term, -1 where none was set. Terms near the
// first one set live in a slice, so that the usual run — its terms start
// at the cluster's and climb one election at a time — allocates nothing
// per observation once the slice has grown; terms far from it (a scenario
// or a node that starts near 2^53-1, or a node that jumps there) live in a
// map, so that no term costs memory in proportion to its value.
type byTerm struct {
	base  uint64  // the term of near[0]
	near  []int32 // near[k] is term base+k
	far   map[uint64]int32
	empty bool // nothing set since reset: the next term set becomes base
}

// nearSpan is how many terms the slice holds at most: 256 KiB.
const nearSpan = 1 << 16

func (b *byTerm) reset() {
	b.near, b.empty = b.near[:0], true
	clear(b.far)
}

// get returns the value of term, or -1.
func (b *byTerm) get(term uint64) int32 {
	if term >= b.base && term-b.base < uint64(len(b.near)) { // reset empties near
		return b.near[term-b.base]
	}
	if len(b.far) > 0 {
		if v, ok := b.far[term]; ok {
			return v
		}
	}
	return -1
}

// set sets the value of term.
func (b *byTerm) set(term uint64, v int32) {
	if b.empty {
		b.base, b.empty = term, false
	}
	switch {
	case term >= b.base && term-b.base < nearSpan:
		for uint64(len(b.near)) <= term-b.base {
			b.near = append(b.near, -1)
		}
		b.near[term-b.base] = v
	case term < b.base && b.base-term+uint64(len(b.near)) <= nearSpan && len(b.far) == 0:
		// A term below the first: move the slice up to make room (rare:
		// live observes terms in the order its observations arrive).
		shift := int(b.base - term)
		b.near = append(b.near, make([]int32, shift)...)
		copy(b.near[shift:], b.near)
		for k := range shift {
			b.near[k] = -1
		}
		b.base = term
		b.near[0] = v
	default:
		if b.far == nil {
			b.far = map[uint64]int32{}
		}
		b.far[term] = v
	}
}
