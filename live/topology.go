package live

// topology is which links of a live cluster are blocked: partition groups
// (nodes in different groups cannot talk) and one-way cuts, as the fault
// timeline sets them. The proxy enforces it; the observer reads it to judge
// who can reach a majority.
type topology struct {
	n     int
	group []int  // by node
	cut   []bool // by link from*n+to
}

func newTopology(n int) topology {
	return topology{n: n, group: make([]int, n), cut: make([]bool, n*n)}
}

// partition splits the nodes into groups; nodes in none form one more.
// Cuts are kept.
func (t *topology) partition(groups [][]int) {
	clear(t.group)
	for g, members := range groups {
		for _, i := range members {
			t.group[i] = g + 1
		}
	}
}

// isolate puts node i in a group of its own.
func (t *topology) isolate(i int) {
	top := 0
	for _, g := range t.group {
		top = max(top, g)
	}
	t.group[i] = top + 1
}

// cutLink blocks the one-way link from → to.
func (t *topology) cutLink(from, to int) { t.cut[from*t.n+to] = true }

// heal removes every partition and cut.
func (t *topology) heal() {
	clear(t.group)
	clear(t.cut)
}

// blocked reports whether messages from → to are stopped.
func (t *topology) blocked(from, to int) bool {
	return t.group[from] != t.group[to] || t.cut[from*t.n+to]
}
