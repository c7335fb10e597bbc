package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// sel parses a selector or fails the test.
func sel(t *testing.T, text string) Selector {
	t.Helper()
	s, err := ParseSelector(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// union is the selector of a list of selectors, as YAML writes [n1, n2].
func union(t *testing.T, texts ...string) Selector {
	t.Helper()
	u := Selector{Kind: Union, Text: "[" + strings.Join(texts, ", ") + "]"}
	for _, text := range texts {
		u.Items = append(u.Items, sel(t, text))
	}
	return u
}

// TestJudge: what each kind of check holds or finds, on five nodes of
// which n2 leads term 3, n4 still believes it leads term 2, n5 is down,
// and n1 and n3 follow n2.
func TestJudge(t *testing.T) {
	views := []NodeView{
		{Term: 3, Lead: 1}, {Leads: true, Term: 3, Lead: 1}, {Term: 3, Lead: 1},
		{Leads: true, Term: 2, Lead: 3}, {Leads: true, Term: 1, Lead: 4},
	}
	var bound Bindings
	bound.Bind("old", []int{3})
	var terms StepTerms
	terms.Record(1, 3)
	terms.Record(2, 2)
	terms.Record(4, 0) // before any election
	j := Judge{
		Picker: &Picker{N: 5, Leader: 1, OldLeader: 3, Bound: &bound, Connected: func(i int) bool { return i < 3 }},
		Node:   func(i int) NodeView { return views[i] },
		Up:     func(i int) bool { return i != 4 },
		Terms:  terms,
	}
	old, leader := sel(t, "old"), sel(t, "leader")
	for _, tc := range []struct {
		name string
		c    Assertion
		why  string // "" when it holds
	}{
		{"one leader among connected", Assertion{Leader: CheckLeaderOne, Among: sel(t, "connected")}, ""},
		{"one leader among all running", Assertion{Leader: CheckLeaderOne, Among: sel(t, "all")},
			"want one leader among all {n1,n2,n3,n4}, found 2: n2 (term 3), n4 (term 2)"},
		{"no leader among old", Assertion{Leader: CheckLeaderNone, Among: old},
			"want no leader among old {n4}, found 1: n4 (term 2)"},
		{"no leader among followers", Assertion{Leader: CheckLeaderNone, Among: sel(t, "n1")}, ""},
		{"the leader is n2", Assertion{Leader: CheckLeaderIs, Is: sel(t, "n2"), Among: sel(t, "connected")}, ""},
		{"the leader is old", Assertion{Leader: CheckLeaderIs, Is: old, Among: sel(t, "connected")},
			"want old {n4} as the one leader among connected {n1,n2,n3}, found 1: n2 (term 3)"},
		{"old does not lead the connected", Assertion{Not: &old, Among: sel(t, "connected")}, ""},
		{"the leader does not lead", Assertion{Not: &leader, Among: sel(t, "all")},
			"want no leader of leader {n2} among all {n1,n2,n3,n4}, found 2: n2 (term 3), n4 (term 2)"},
		{"the connected agree", Assertion{Agree: true, Among: sel(t, "connected")}, ""},
		{"all agree", Assertion{Agree: true, Among: sel(t, "all")},
			"want every node of all {n1,n2,n3,n4} to follow the same leader: n1 follows n2, n2 follows n2, n3 follows n2, n4 follows n4"},
		{"no new term since step 1", Assertion{TermSince: 1, Among: sel(t, "all")}, ""},
		{"no new term since step 2", Assertion{TermSince: 2, Among: sel(t, "all")},
			"want no term begun since step 2 (term 2 then), found term 3"},
		{"no new term since a step in term 0", Assertion{TermSince: 4, Among: sel(t, "all")},
			"want no term begun since step 4 (term 0 then), found term 3"},
		{"a step that never ran", Assertion{TermSince: 3, Among: sel(t, "all")},
			"step 3, whose term this check compares with, never ran"},
	} {
		ok, why := j.Holds(&tc.c)
		if ok != (tc.why == "") || why != tc.why {
			t.Errorf("%s: got %v %q, want %q", tc.name, ok, why, tc.why)
		}
	}
}

// TestJudgeFollowingN1: n1, node 0, is a leader like any other: nodes that
// follow it agree, and a failure names it.
func TestJudgeFollowingN1(t *testing.T) {
	views := []NodeView{{Leads: true, Term: 2, Lead: 0}, {Term: 2, Lead: 0}, {Term: 2, Lead: -1}}
	j := Judge{Picker: &Picker{N: 3, Leader: 0, OldLeader: 0},
		Node: func(i int) NodeView { return views[i] }, Up: func(int) bool { return true }}
	if ok, why := j.Holds(&Assertion{Agree: true, Among: union(t, "n1", "n2")}); !ok {
		t.Errorf("n1 and n2 follow n1: %s", why)
	}
	want := "want every node of all {n1,n2,n3} to follow the same leader: n1 follows n1, n2 follows n1, n3 follows none"
	if ok, why := j.Holds(&Assertion{Agree: true, Among: sel(t, "all")}); ok || why != want {
		t.Errorf("n3 follows nobody: got %v %q, want %q", ok, why, want)
	}
	if ok, why := j.Holds(&Assertion{Leader: CheckLeaderIs, Is: sel(t, "old-leader"), Among: sel(t, "all")}); !ok {
		t.Errorf("the old leader, n1, leads: %s", why)
	}
}

// TestJudgeNobodyToAgree: agreement among no node does not hold, nor among
// nodes that follow nobody.
func TestJudgeNobodyToAgree(t *testing.T) {
	j := Judge{Picker: &Picker{N: 2, Leader: -1, OldLeader: -1},
		Node: func(int) NodeView { return NodeView{Lead: -1} }, Up: func(int) bool { return true }}
	if ok, why := j.Holds(&Assertion{Agree: true, Among: sel(t, "all")}); ok || !strings.Contains(why, "n1 follows none, n2 follows none") {
		t.Errorf("nodes following nobody: got %v %q", ok, why)
	}
	j.Up = func(int) bool { return false }
	if ok, _ := j.Holds(&Assertion{Agree: true, Among: sel(t, "all")}); ok {
		t.Error("no running node: agreement held")
	}
}

// TestApplyNetwork: each network action changes the topology as its text
// says, picking nodes with the picker.
func TestApplyNetwork(t *testing.T) {
	all := func(int) bool { return true }
	var bound Bindings
	p := &Picker{N: 4, Leader: 0, OldLeader: -1, Bound: &bound, Connected: all}
	tp := sim.NewTopology(4)
	apply := func(a Action, want string) {
		t.Helper()
		if got := p.ApplyNetwork(&a, tp, all); got != want {
			t.Errorf("%s: trace text %q, want %q", a.Kind, got, want)
		}
	}
	apply(Action{Kind: Partition, Groups: []Selector{union(t, "n1", "n2"), union(t, "n3", "n4")}}, "partition {n1,n2} {n3,n4}")
	if tp.Blocked(0, 1) || !tp.Blocked(1, 2) {
		t.Error("partition of every node: the groups are not as its text says")
	}
	apply(Action{Kind: Partition, Groups: []Selector{sel(t, "leader"), sel(t, "n2")}}, "partition {n1} {n2} {n3,n4}")
	if !tp.Blocked(0, 1) || !tp.Blocked(1, 2) || tp.Blocked(2, 3) || !tp.Main(2) || tp.Main(0) {
		t.Error("partition: the groups are not as its text says")
	}
	apply(Action{Kind: Heal, From: sel(t, "n1"), To: sel(t, "n2"), Both: true}, "heal {n1}<->{n2}")
	if tp.Blocked(0, 1) || tp.Blocked(1, 0) || !tp.Blocked(0, 2) {
		t.Error("heal of a link both ways: not opened, or more opened")
	}
	apply(Action{Kind: Heal, Nodes: sel(t, "n2")}, "heal {n2}")
	if !tp.Main(1) || tp.Blocked(1, 2) {
		t.Error("heal of n2: not back in the main network")
	}
	apply(Action{Kind: Heal}, "heal")
	apply(Action{Kind: Isolate, Nodes: sel(t, "leader"), As: "old"}, "isolate {n1}")
	if got := bound.Lookup("old"); len(got) != 1 || got[0] != 0 || !tp.Blocked(0, 1) || tp.Blocked(1, 2) {
		t.Errorf("isolate the leader as old: bound %v", got)
	}
	apply(Action{Kind: Heal}, "heal")
	apply(Action{Kind: Cut, From: sel(t, "n3"), To: sel(t, "all")}, "cut {n3}->{n1,n2,n3,n4}")
	if !tp.Blocked(2, 0) || tp.Blocked(0, 2) || tp.Blocked(2, 2) {
		t.Error("cut: not one way, or a node cut from itself")
	}
	apply(Action{Kind: Heal, From: sel(t, "n3"), To: sel(t, "n1")}, "heal {n3}->{n1}")
	if tp.Blocked(2, 0) || !tp.Blocked(2, 1) {
		t.Error("heal of one cut link: not opened, or more opened")
	}
}

// TestStepWords: how traces and reports name a step, and say why it was
// not done.
func TestStepWords(t *testing.T) {
	st := Step{Index: 4, Line: 12, At: 3 * time.Second, After: AfterLeaderElected}
	for _, tc := range []struct {
		p    StepPhase
		want string
	}{
		{WaitingForTime, "step 4 (line 12) never ran: waiting until 3s"},
		{WaitingForTrigger, "step 4 (line 12) never ran: waiting for leader-elected"},
		{Delaying, "step 4 (line 12) never ran: its delay was not over"},
		{Checking, "step 4 (line 12) never finished: its check had not come true"},
	} {
		if got := st.Unfinished(tc.p); got != tc.want {
			t.Errorf("phase %d: %q, want %q", tc.p, got, tc.want)
		}
	}
	if got := (&Step{Index: 2}).Name(); got != "2" {
		t.Errorf("a step made by a program: named %q", got)
	}
	steps := []Step{{Index: 1, Actions: []Action{{Kind: Crash}}}, {Index: 2, Actions: []Action{{Kind: Heal}, {Kind: Check}}}}
	if got := FirstCheck(steps); got == nil || got.Index != 2 {
		t.Errorf("FirstCheck: %+v", got)
	}
	if got := FirstCheck(steps[:1]); got != nil {
		t.Errorf("FirstCheck of steps without a check: %+v", got)
	}
}
