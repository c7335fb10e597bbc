package scenarios

import (
	"fmt"
	"strings"
)

// NodeView is a node as it reports itself, which is all a check judges.
type NodeView struct {
	Leads bool   // it believes it leads
	Term  uint64 // its current term
	Lead  int    // the node it believes leads, or -1
}

// A Judge judges check steps against the nodes as they report themselves.
// The simulator's fault timeline and raftsim live's both judge with it.
type Judge struct {
	*Picker
	Node func(i int) NodeView // node i as it reports itself
	Up   func(i int) bool     // node i runs: only running nodes are judged
	// Terms are the terms when earlier steps were applied (term_since).
	Terms StepTerms
}

// StepTerms remember, by step position, the highest term of any node when
// each step was applied, for checks of term_since.
type StepTerms struct{ terms []uint64 } // 1 + the term; 0: not applied yet

// Record notes that the step at position step was applied in term.
func (st *StepTerms) Record(step int, term uint64) {
	for len(st.terms) <= step {
		st.terms = append(st.terms, 0)
	}
	st.terms[step] = term + 1
}

// At returns the term when the step at position step was applied, and
// whether it has been.
func (st *StepTerms) At(step int) (term uint64, applied bool) {
	if step < 0 || step >= len(st.terms) || st.terms[step] == 0 {
		return 0, false
	}
	return st.terms[step] - 1, true
}

// Reset forgets every step, keeping the memory for the next trial.
func (st *StepTerms) Reset() { st.terms = st.terms[:0] }

// Holds judges c and, when it does not hold, says why.
func (j *Judge) Holds(c *Assertion) (bool, string) {
	judged := j.PickOnly(c.Among, j.Up)
	var leaders []int
	for _, i := range judged {
		if j.Node(i).Leads {
			leaders = append(leaders, i)
		}
	}
	all := func(int) bool { return true }
	among := c.Among.Text + " " + NodeSet(judged)
	switch c.Leader {
	case CheckLeaderOne:
		if len(leaders) != 1 {
			return false, fmt.Sprintf("want one leader among %s, found %s", among, j.leaders(leaders))
		}
	case CheckLeaderNone:
		if len(leaders) != 0 {
			return false, fmt.Sprintf("want no leader among %s, found %s", among, j.leaders(leaders))
		}
	case CheckLeaderIs:
		want := j.Pick(c.Is, all)
		if len(leaders) != 1 || len(want) != 1 || leaders[0] != want[0] {
			return false, fmt.Sprintf("want %s %s as the one leader among %s, found %s", c.Is.Text, NodeSet(want), among, j.leaders(leaders))
		}
	}
	if c.Not != nil {
		not := j.Pick(*c.Not, all)
		for _, l := range leaders {
			for _, x := range not {
				if l == x {
					return false, fmt.Sprintf("want no leader of %s %s among %s, found %s", c.Not.Text, NodeSet(not), among, j.leaders(leaders))
				}
			}
		}
	}
	if c.Agree {
		var follows []string
		agree := len(judged) > 0
		for _, i := range judged {
			lead := j.Node(i).Lead
			follows = append(follows, fmt.Sprintf("%s follows %s", NodeName(i), leadName(lead)))
			agree = agree && lead >= 0 && lead == j.Node(judged[0]).Lead
		}
		if !agree {
			return false, fmt.Sprintf("want every node of %s to follow the same leader: %s", among, strings.Join(follows, ", "))
		}
	}
	if k := c.TermSince; k > 0 {
		then, applied := j.Terms.At(k)
		if !applied {
			return false, fmt.Sprintf("step %d, whose term this check compares with, never ran", k)
		}
		var now uint64
		for i := range j.N {
			now = max(now, j.Node(i).Term)
		}
		if then != now {
			return false, fmt.Sprintf("want no term begun since step %d (term %d then), found term %d", k, then, now)
		}
	}
	return true, ""
}

// leaders lists leading nodes with their terms, or says none.
func (j *Judge) leaders(ids []int) string {
	if len(ids) == 0 {
		return "none"
	}
	parts := make([]string, len(ids))
	for k, i := range ids {
		parts[k] = fmt.Sprintf("%s (term %d)", NodeName(i), j.Node(i).Term)
	}
	return fmt.Sprintf("%d: %s", len(ids), strings.Join(parts, ", "))
}

// leadName names the node a node follows, as raft.ID prints it: "none"
// for no node.
func leadName(i int) string {
	if i < 0 {
		return "none"
	}
	return NodeName(i)
}

// Describe says what a check asserts, for a trace.
func (c *Assertion) Describe() string {
	var parts []string
	switch c.Leader {
	case CheckLeaderOne:
		parts = append(parts, "one leader")
	case CheckLeaderNone:
		parts = append(parts, "no leader")
	case CheckLeaderIs:
		parts = append(parts, c.Is.Text+" leads")
	}
	if c.Not != nil {
		parts = append(parts, c.Not.Text+" does not lead")
	}
	if c.Agree {
		parts = append(parts, "every node follows the same leader")
	}
	if c.TermSince > 0 {
		parts = append(parts, fmt.Sprintf("no term begun since step %d", c.TermSince))
	}
	return strings.Join(parts, ", ") + " among " + c.Among.Text
}
