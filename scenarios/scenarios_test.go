package scenarios

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

func TestBuiltinsParseAndValidate(t *testing.T) {
	for _, name := range BuiltinNames {
		s, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name != name {
			t.Errorf("%s: name %q", name, s.Name)
		}
		if s.Description == "" {
			t.Errorf("%s: no description", name)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Builtin("nope"); err == nil {
		t.Error("Builtin(nope) succeeded")
	}
}

func TestExampleFile(t *testing.T) {
	s, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Nodes != 5 || len(s.Faults) == 0 || len(s.Network.Links) == 0 {
		t.Errorf("example.yaml lost content: %+v", s)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse("min.yaml", []byte("name: min\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Nodes != 5 || s.Cluster.ElectionTimeout != DefaultElectionTimeout || s.Cluster.Heartbeat != DefaultHeartbeat ||
		s.Network.Latency != DefaultLatency || s.Trials != 1000 || s.Seed != 1 || len(s.Expect.Invariants) != 5 || s.Measure.Limit != time.Minute {
		t.Errorf("defaults: %+v", s)
	}
}

func TestParseFields(t *testing.T) {
	src := `
name: all
cluster:
  nodes: 3
  election_timeout: 100-200ms
  heartbeat: 20ms
  options: {prevote: true, check_quorum: true, leader_stickiness: true, reset_timer_on_step_down: true}
  start: [0s, 10ms, uniform:0-50ms]
  term: 3
  logs: {n1: [1, 3], n3: [1]}
network:
  latency: exp:1ms,3ms
  loss: 0.01
  duplicate: 0.02
  fifo: true
  links:
    - {from: n1, to: all, loss: 0.5}
faults:
  - at: 1s
    after: heartbeat
    delay: 5ms
    crash: {nodes: leader, restart_after: 100ms}
    partition: [[n1], random:1]
  - repeat: 3
    steps:
      - isolate: random:2
      - {delay: 10ms, heal: true}
  - {cut: {from: n1, to: [n2, n3]}, pause: {nodes: all, for: 5ms}, drift: {nodes: n2, factor: 0.9}, loss: 0.3, write: {entries: 2, reach: 1}, restart: random}
measure: {from: fault, until: first-heartbeat, settle: 1s, limit: 30s}
expect: {invariants: [election-safety, vote-once], leader_within: 2s, one_leader_at_end: true}
trials: 7
seed: 0x10
`
	s, err := Parse("all.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	c := s.Cluster
	if c.Nodes != 3 || c.ElectionTimeout != (Range{Min: 100 * time.Millisecond, Max: 200 * time.Millisecond}) ||
		!c.Options.PreVote || !c.Options.CheckQuorum || !c.Options.LeaderStickiness || !c.Options.ResetTimerOnStepDown ||
		len(c.Start) != 3 || c.Term != 3 || len(c.Logs) != 2 || c.Logs[1].Node != 2 {
		t.Errorf("cluster: %+v", c)
	}
	if s.Network.Loss != 0.01 || s.Network.Dup != 0.02 || !s.Network.FIFO || len(s.Network.Links) != 1 || *s.Network.Links[0].Loss != 0.5 {
		t.Errorf("network: %+v", s.Network)
	}
	if len(s.Faults) != 3 || s.Faults[0].After != AfterHeartbeat || len(s.Faults[0].Actions) != 2 || s.Faults[1].Repeat != 3 {
		t.Errorf("faults: %+v", s.Faults)
	}
	if got := len(s.Timeline()); got != 1+3*2+1 {
		t.Errorf("timeline has %d steps, want 8", got)
	}
	last := s.Faults[2].Actions
	kinds := []ActionKind{Cut, Pause, Drift, SetLoss, Write, Restart}
	for i, k := range kinds {
		if last[i].Kind != k {
			t.Errorf("action %d is %v, want %v (actions keep their written order)", i, last[i].Kind, k)
		}
	}
	if s.Measure.From != FromFault || s.Measure.Until != UntilFirstHeartbeat || s.Expect.LeaderWithin != 2*time.Second ||
		len(s.Expect.Invariants) != 2 || s.Trials != 7 || s.Seed != 16 {
		t.Errorf("measure/expect/trials/seed: %+v %+v %d %d", s.Measure, s.Expect, s.Trials, s.Seed)
	}
}

// TestErrors: each bad input names the file, the line and the field.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the whole location prefix and a part of the message
	}{
		{"unknown key", "name: x\nclustr:\n  nodes: 3\n", "bad.yaml:2: clustr: unknown key"},
		{"nested unknown key", "cluster:\n  nodes: 3\n  nodez: 4\n", "bad.yaml:3: cluster.nodez: unknown key"},
		{"wrong type", "cluster:\n  nodes: five\n", "bad.yaml:2: cluster.nodes: want a whole number"},
		{"zero nodes", "cluster:\n  nodes: 0\n", "bad.yaml:2: cluster.nodes: 0 is outside"},
		{"min above max", "cluster:\n  election_timeout: 300ms-150ms\n", "bad.yaml:2: cluster.election_timeout: range"},
		{"loss above 1", "network:\n  loss: 1.5\n", "bad.yaml:2: network.loss: probability 1.5 is outside [0, 1]"},
		{"loss below 0", "network:\n  loss: -0.1\n", "bad.yaml:2: network.loss: probability"},
		{"bad latency", "network:\n  latency: gamma:1ms\n", "bad.yaml:2: network.latency: unknown distribution"},
		{"duplicate key", "name: a\nname: b\n", "bad.yaml:2: name: key written twice (first at line 1)"},
		{"missing node", "cluster:\n  nodes: 3\nfaults:\n  - crash: n7\n", "bad.yaml:4: faults[0].crash: node n7 does not exist (the cluster has 3 nodes)"},
		{"bad selector", "faults:\n  - crash: Boss\n", "bad.yaml:2: faults[0].crash: want a node"},
		{"unbound name", "faults:\n  - crash: boss\n", "bad.yaml:2: faults[0].crash: no earlier step names nodes \"boss\" (give an action as: boss first)"},
		{"name used before given", "faults:\n  - heal: old\n  - isolate: {nodes: leader, as: old}\n", "bad.yaml:2: faults[0].heal: no earlier step names nodes \"old\""},
		{"name that is a node", "faults:\n  - isolate: {nodes: leader, as: n2}\n", "bad.yaml:2: faults[0].isolate.as: \"n2\" cannot name nodes"},
		{"node in two groups", "faults:\n  - partition: [[n1, n2], [leader, n2]]\n", "bad.yaml:2: faults[0].partition[1]: n2 is in two groups"},
		{"empty check", "faults:\n  - check: {among: all}\n", "bad.yaml:2: faults[0].check: a check needs at least one of"},
		{"term_since not earlier", "faults:\n  - delay: 1s\n  - check: {term_since: 2}\n", "bad.yaml:3: faults[1].check.term_since: step 2 is not before this step (2)"},
		{"heal nodes and links", "faults:\n  - heal: {nodes: n1, from: n1, to: n2}\n", "bad.yaml:2: faults[0].heal: heal takes nodes"},
		{"heal half a link", "faults:\n  - heal: {from: n1}\n", "bad.yaml:2: faults[0].heal: healing links needs both from and to"},
		{"drift that never ends", "faults:\n  - drift: {nodes: n1, factor: 1000}\n", "bad.yaml:2: faults[0].drift.factor: 1000 is outside [0.01, 100]"},
		{"zero heartbeat", "cluster: {heartbeat: 0s}\n", "bad.yaml:1: cluster.heartbeat: the heartbeat interval must be above 0"},
		{"zero election timeout", "cluster: {election_timeout: 0ms-0ms}\n", "bad.yaml:1: cluster.election_timeout: the minimum election timeout must be above 0"},
		{"trials against trial_seeds", "trials: 3\ntrial_seeds: [7, 8]\n", "bad.yaml:1: trials: 3 trials, but trial_seeds gives 2 seeds"},
		{"unknown action", "faults:\n  - explode: n1\n", "bad.yaml:2: faults[0].explode: unknown key"},
		{"bad event", "faults:\n  - after: lunch\n", "bad.yaml:2: faults[0].after: unknown event"},
		{"random too many", "cluster:\n  nodes: 3\nfaults:\n  - crash: random:4\n", "bad.yaml:4: faults[0].crash: random:4 picks 4 nodes of 3"},
		{"pause without for", "faults:\n  - pause: {nodes: n1}\n", "bad.yaml:2: faults[0].pause: missing for"},
		{"repeat without steps", "faults:\n  - repeat: 2\n", "bad.yaml:2: faults[0].repeat: repeat needs steps"},
		{"bad invariant", "expect:\n  invariants: [safety]\n", "bad.yaml:2: expect.invariants: unknown invariant"},
		{"not yaml", "cluster: [\n", "bad.yaml:1: not valid YAML"},
		{"empty", "", "bad.yaml: the file is empty"},
		{"two documents", "name: a\n---\nname: b\n", "bad.yaml:2: more than one YAML document"},
		{"not a mapping", "- a\n- b\n", "bad.yaml:1: a scenario is a YAML mapping"},
		{"log newer than term", "cluster:\n  logs: {n1: [1, 2]}\n", "bad.yaml:2: cluster.logs.n1: an entry of term 2 is newer"},
		{"log of missing node", "cluster:\n  nodes: 2\n  term: 1\n  logs:\n    n4: [1]\n", "bad.yaml:5: cluster.logs.n4: node n4 does not exist"},
		{"start count", "cluster:\n  nodes: 3\n  start: [0s, 1s]\n", "bad.yaml:3: cluster.start: 2 start times for 3 nodes"},
		{"contradiction", "expect:\n  no_leader: true\n  leader_within: 1s\n", "bad.yaml:2: expect.no_leader: no_leader and leader_within contradict"},
		{"negative trials", "trials: -3\n", "bad.yaml:1: trials: -3 is outside"},
		{"bad seed", "seed: abc\n", "bad.yaml:1: seed: want a seed"},
		{"heal false", "faults:\n  - heal: false\n", "bad.yaml:2: faults[0].heal: heal: false does nothing"},
		{"write reach", "cluster:\n  nodes: 3\nfaults:\n  - write: {reach: 5}\n", "bad.yaml:4: faults[0].write.reach: reach 5 is more than the 2 followers"},
		{"link selector", "network:\n  links:\n    - {from: leader, to: n2}\n", "bad.yaml:3: network.links[0].from: links are fixed"},

		// Terms go up to 2^53-1, raft.MaxTerm, and the message says so.
		{"term 2^53", "cluster:\n  term: 9007199254740992\n", "bad.yaml:2: cluster.term: 9007199254740992 is above 9007199254740991 (2^53-1), the largest term"},
		{"term 2^64-1", "cluster:\n  term: 18446744073709551615\n", "bad.yaml:2: cluster.term: 18446744073709551615 is above 9007199254740991 (2^53-1)"},
		{"term beyond 2^64", "cluster:\n  term: 99_999_999_999_999_999_999\n", "bad.yaml:2: cluster.term: 99_999_999_999_999_999_999 is above 9007199254740991"},
		{"term in hex", "cluster:\n  term: 0x20000000000000\n", "bad.yaml:2: cluster.term: 0x20000000000000 is above 9007199254740991"},
		{"negative term", "cluster:\n  term: -1\n", "bad.yaml:2: cluster.term: -1 is outside [0, 9007199254740991]"},
		{"fractional term", "cluster:\n  term: 1.5\n", "bad.yaml:2: cluster.term: want a term, a whole number from 0 to 9007199254740991 (2^53-1), got \"1.5\""},
		{"quoted term", "cluster:\n  term: \"3\"\n", "bad.yaml:2: cluster.term: want a term"},
		{"log term 2^53", "cluster:\n  term: 2\n  logs: {n1: [1, 9007199254740992]}\n", "bad.yaml:3: cluster.logs.n1[1]: 9007199254740992 is above 9007199254740991 (2^53-1)"},
		{"log term 0", "cluster:\n  term: 2\n  logs: {n1: [0]}\n", "bad.yaml:3: cluster.logs.n1[0]: 0 is outside [1, 9007199254740991]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("bad.yaml", []byte(tt.src))
			if err == nil {
				err = s.Validate()
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *scenarios.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got  %q\nwant %q", err.Error(), tt.want)
			}
			loc := strings.SplitN(tt.want, ": ", 2)[0]
			if !strings.HasPrefix(err.Error(), loc) {
				t.Fatalf("got %q, want it to start with %q", err.Error(), loc)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("no/such/file.yaml")
	var se *Error
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "no/such/file.yaml: cannot read") {
		t.Fatalf("got %v", err)
	}
}

// TestLoadText: a file's text parses, anywhere, to the scenario Load
// reads; a built-in has no text to carry.
func TestLoadText(t *testing.T) {
	s, text, err := LoadText("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("example.yaml", text)
	if err != nil || string(again.YAML()) != string(s.YAML()) {
		t.Fatalf("the text parses to %v (%v), want the scenario LoadText read", again, err)
	}
	if _, text, err := LoadText("leader-crash"); err != nil || text != nil {
		t.Errorf("built-in: text %q, error %v; want nil, nil", text, err)
	}
}

// FuzzScenario feeds the parser arbitrary bytes: it must return a scenario
// that validates or a located *Error, and never panic.
func FuzzScenario(f *testing.F) {
	for _, name := range BuiltinNames {
		data, err := BuiltinYAML(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("cluster: {nodes: 3}\nfaults:\n  - repeat: 2\n    steps: [{isolate: leader}, {heal: true}]\n"))
	f.Add([]byte("network:\n  latency: lognormal:7ms,2ms\n  links: [{from: n1, to: n2, both: true}]\n"))
	f.Add([]byte("a: &x [1, *x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err == nil {
			err = s.Validate()
		}
		if err == nil {
			_ = s.Timeline()
			return
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("error %T is not a *scenarios.Error: %v", err, err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// TestParseSelector: each text form of a node selector, and the bad ones.
func TestParseSelector(t *testing.T) {
	for _, c := range []struct {
		text  string
		kind  SelectorKind
		count int
		ids   []int
	}{
		{"n3", Named, 0, []int{2}},
		{"leader", Leader, 0, nil},
		{"old-leader", OldLeader, 0, nil},
		{"follower", RandomFollower, 1, nil},
		{"follower:2", RandomFollower, 2, nil},
		{"random", Random, 1, nil},
		{"random:3", Random, 3, nil},
		{"all", All, 0, nil},
	} {
		s, err := ParseSelector(c.text)
		if err != nil || s.Kind != c.kind || s.Count != c.count || !slices.Equal(s.IDs, c.ids) || s.Text != c.text {
			t.Errorf("ParseSelector(%q) = %+v, %v; want kind %v, count %d, ids %v", c.text, s, err, c.kind, c.count, c.ids)
		}
	}
	if s, err := ParseSelector("old"); err != nil || s.Kind != Bound || s.Name != "old" {
		t.Errorf("ParseSelector(old) = %+v, %v; want the bound name old", s, err)
	}
	if s, err := ParseSelector("connected"); err != nil || s.Kind != Connected {
		t.Errorf("ParseSelector(connected) = %+v, %v", s, err)
	}
	for _, bad := range []string{"", "n0", "Boss", "old:2", "leader:2", "all:1", "random:0", "random:x", "old-leader:1", "1st"} {
		if s, err := ParseSelector(bad); err == nil {
			t.Errorf("ParseSelector(%q) = %+v, want an error", bad, s)
		}
	}
}

// TestWrittenZeroes: a zero written in a file means what the same flag
// means: a constant latency of 0 is kept (not replaced by the default),
// while a zero heartbeat or election timeout is refused (TestErrors).
func TestWrittenZeroes(t *testing.T) {
	s, err := Parse("zero.yaml", []byte("network: {latency: 0ms}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Network.Latency != sim.ConstDist(0) {
		t.Errorf("latency: 0ms read as %s, want const:0s", FormatDist(s.Network.Latency))
	}
	s, err = Parse("none.yaml", []byte("name: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Network.Latency != DefaultLatency || s.Cluster.Heartbeat != DefaultHeartbeat {
		t.Errorf("defaults not applied to what is not written: %+v", s.Network.Latency)
	}
}

// TestSelectorPick: what each kind of selector picks.
func TestSelectorPick(t *testing.T) {
	var r sim.Rand
	r.Seed(7)
	var bound Bindings
	bound.Bind("old", []int{4, 2})
	p := &Picker{N: 5, Leader: 1, OldLeader: 3, Rand: &r, Bound: &bound, Connected: func(i int) bool { return i != 0 }}
	all := func(int) bool { return true }
	for _, tc := range []struct {
		sel  Selector
		want string
	}{
		{Selector{Kind: Named, IDs: []int{2, 0}}, "{n3,n1}"},
		{Selector{Kind: Leader}, "{n2}"},
		{Selector{Kind: OldLeader}, "{n4}"},
		{Selector{Kind: All}, "{n1,n2,n3,n4,n5}"},
		{Selector{Kind: Connected}, "{n2,n3,n4,n5}"},
		{Selector{Kind: Bound, Name: "old"}, "{n5,n3}"},
		{Selector{Kind: Bound, Name: "unbound"}, "{}"},
		{Selector{Kind: Union, Items: []Selector{{Kind: Leader}, {Kind: Bound, Name: "old"}}}, "{n2,n3,n5}"},
	} {
		if got := NodeSet(p.Pick(tc.sel, all)); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.sel, got, tc.want)
		}
	}
	if got := NodeSet((&Picker{N: 5, Leader: -1, OldLeader: -1}).Pick(Selector{Kind: Leader}, all)); got != "{}" {
		t.Errorf("the leader of a leaderless cluster: got %s", got)
	}
	for range 100 {
		ids := p.Pick(Selector{Kind: RandomFollower, Count: 2}, func(i int) bool { return i != 4 })
		if len(ids) != 2 || ids[0] >= ids[1] || slices.Contains(ids, 1) || slices.Contains(ids, 4) {
			t.Fatalf("two random followers but n5: got %v", ids)
		}
	}
}

// TestTermsUpToTheBound: 2^53-1 itself is a term like any other, for the
// cluster and for log entries.
func TestTermsUpToTheBound(t *testing.T) {
	s, err := Parse("max.yaml", []byte("cluster:\n  nodes: 3\n  term: 9_007_199_254_740_991\n  logs: {n2: [1, 9007199254740991]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Term != raft.MaxTerm || len(s.Cluster.Logs) != 1 || s.Cluster.Logs[0].Terms[1] != raft.MaxTerm {
		t.Errorf("got term %d and logs %+v, want %d in both", s.Cluster.Term, s.Cluster.Logs, uint64(raft.MaxTerm))
	}
}
