package live

import (
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// TestCheckEtcdRefusesWhatEtcdCannotSay: each scenario is refused with a
// message naming the field and what etcd can do instead; etcd's own
// timing is accepted.
func TestCheckEtcdRefusesWhatEtcdCannotSay(t *testing.T) {
	const base = "cluster: {nodes: 3, election_timeout: 1000ms-2000ms, heartbeat: 100ms}\n"
	for _, tt := range []struct{ yaml, refusal string }{
		{base, ""},
		{"cluster: {nodes: 3, election_timeout: 150ms-155ms, heartbeat: 30ms}\n", "etcd's --election-timeout T draws from [T, 2T); write 150ms-300ms"},
		{"cluster: {nodes: 3, election_timeout: 300ms-600ms, heartbeat: 100ms}\n", "at least 5 times --heartbeat-interval"},
		{base + "network: {loss: 0.01}\n", "network.loss and network.duplicate"},
		{base + "faults:\n  - after: leader-elected\n    write: {entries: 1, reach: 1}\n", "write: reach"},
		{"cluster: {nodes: 3, election_timeout: 1000ms-2000ms, heartbeat: 100ms, options: {leader_stickiness: true}}\n", "leader_stickiness"},
	} {
		s, err := scenarios.Parse("etcd.yaml", []byte(tt.yaml))
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = Check(s, Nodes{Etcd: "etcd"})
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%q: refused: %v", tt.yaml, err)
		case tt.refusal != "" && (err == nil || !strings.Contains(err.Error(), tt.refusal)):
			t.Errorf("%q: got %v, want a refusal saying %q", tt.yaml, err, tt.refusal)
		}
	}
	// Heartbeats are unseen: a step after one is accepted, with a note
	// saying what it waits for instead.
	s, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	s.Cluster.ElectionTimeout, s.Cluster.Heartbeat = scenarios.Range{Min: time.Second, Max: 2 * time.Second}, scenarios.Heartbeat{D: 100 * time.Millisecond}
	notes, err := Check(s, Nodes{Etcd: "etcd"})
	if err != nil || !strings.Contains(strings.Join(notes, "\n"), "after: heartbeat: etcd's heartbeats travel inside its TCP streams, unseen") {
		t.Errorf("leader-crash on etcd: %v, notes %q", err, notes)
	}
}

// TestEtcdSimulation: the simulation beside real members runs etcd's raft
// on a tick of one heartbeat, with timeouts of ElectionTick to
// 2·ElectionTick−1 ticks (--election-timeout in whole heartbeats, rounded
// down as etcd divides) and check-quorum on, whatever the scenario said;
// nodes start out of step within the first tick unless the scenario says
// when they start; the scenario itself is left as it was.
func TestEtcdSimulation(t *testing.T) {
	for _, tt := range []struct {
		yaml    string
		tick    string
		timeout string
		prevote bool
		start   string
		noteHas string
	}{
		{"cluster: {nodes: 3, election_timeout: 1000ms-2000ms, heartbeat: 100ms}\n", "100ms", "1s-1900ms", false, "uniform:0s-100ms", "ElectionTick 10 (timeouts of 10 to 19 ticks"},
		{"cluster: {nodes: 5, election_timeout: 500ms-1000ms, heartbeat: 50ms, options: {prevote: true}}\n", "50ms", "500ms-950ms", true, "uniform:0s-50ms", "a tick of 50ms"},
		{"cluster: {nodes: 3, election_timeout: 500ms-1000ms, heartbeat: 30ms}\n", "30ms", "480ms-930ms", false, "uniform:0s-30ms", "(cluster.start uniform:0s-30ms)"},
		{"cluster: {nodes: 3, election_timeout: 500ms-1000ms, heartbeat: 50ms, start: uniform:0ms-1s}\n", "50ms", "500ms-950ms", false, "uniform:0s-1s", "ElectionTick 10"},
		{"cluster: {nodes: 3, election_timeout: 500ms-1000ms, heartbeat: 50ms}\nmeasure: {until: working-leader}\n", "50ms", "500ms-950ms", false, "uniform:0s-50ms", "ElectionTick 10"},
	} {
		s, err := scenarios.Parse("etcd.yaml", []byte(tt.yaml))
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			t.Fatal(err)
		}
		e, note, err := EtcdSimulation(s)
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		c := &e.Cluster
		if c.Impl != scenarios.ImplEtcd || scenarios.FormatDuration(c.Tick) != tt.tick || c.ElectionTimeout.String() != tt.timeout ||
			!c.Options.CheckQuorum || c.Options.PreVote != tt.prevote || c.HeartbeatInterval() != c.Tick {
			t.Errorf("%q: impl %s, tick %s, timeout %s, heartbeat %s, %+v; want etcd, %s, %s, one tick, check-quorum, prevote %v",
				tt.yaml, c.Impl, scenarios.FormatDuration(c.Tick), c.ElectionTimeout, scenarios.FormatDuration(c.HeartbeatInterval()), c.Options, tt.tick, tt.timeout, tt.prevote)
		}
		if len(c.Start) != 1 || scenarios.FormatDist(c.Start[0]) != tt.start {
			t.Errorf("%q: start %v, want %s", tt.yaml, c.Start, tt.start)
		}
		if !strings.Contains(note, tt.noteHas) || strings.Contains(note, "out of step") != (len(s.Cluster.Start) == 0) {
			t.Errorf("%q: note %q lacks %q, or tells of a start the scenario set", tt.yaml, note, tt.noteHas)
		}
		// A member shows a new leader once its first entry is applied: the
		// simulation measures until it is committed; other ends stay.
		if toCommit := s.Measure.Until == scenarios.UntilLeader; toCommit && e.Measure.Until != scenarios.UntilCommit ||
			!toCommit && e.Measure.Until != s.Measure.Until || toCommit != strings.Contains(note, "measured until the new leader's first entry is committed") {
			t.Errorf("%q: until %s, simulated until %s, note %q", tt.yaml, s.Measure.Until, e.Measure.Until, note)
		}
		if s.Cluster.Impl != scenarios.ImplRaftsim || s.Cluster.Options.CheckQuorum || tt.start != "uniform:0s-1s" && len(s.Cluster.Start) != 0 ||
			s.Measure.Until == scenarios.UntilCommit {
			t.Errorf("%q: the scenario itself changed", tt.yaml)
		}
	}
}

// TestAStepAfterAnUnseenHeartbeat: where heartbeats are unseen (etcd
// members), a step after the next heartbeat starts within one heartbeat
// interval of the previous step, at a point drawn uniformly from it by
// the step's random stream: the same point for the same seed, spread over
// the whole interval across seeds.
func TestAStepAfterAnUnseenHeartbeat(t *testing.T) {
	sc, err := scenarios.Parse("unseen.yaml", []byte("cluster: {nodes: 3, election_timeout: 1000ms-2000ms, heartbeat: 100ms}\n"+
		"faults:\n  - after: leader-elected\n    delay: 1s\n  - after: heartbeat\n    crash: leader\nmeasure: {from: fault, until: leader}\n"))
	if err == nil {
		err = sc.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	killedAt := func(seed uint64) time.Duration {
		tr, now, fake := testTrial(t, sc, seed)
		o := tr.obs
		o.mu.Lock()
		defer o.mu.Unlock()
		tr.c.HeartbeatsUnseen()
		tr.c.Begin()
		for i := range 3 {
			tr.booted(i)
		}
		*now = 200 * time.Millisecond
		o.setState(0, 1, raft.Leader, 0, *now)
		tr.c.Watch()
		for !tr.ended {
			next, ok := tr.wakeups.next()
			if !ok || next > 3*time.Second {
				break
			}
			*now = next
			f, _ := tr.wakeups.popDue(next)
			f()
			o.mu.Unlock()
			tr.drain(t)
			o.mu.Lock()
			for _, line := range fake.log {
				if strings.HasSuffix(line, "kill n1") {
					return *now
				}
			}
		}
		t.Fatalf("seed %d: the leader was never killed: %q", seed, fake.log)
		return 0
	}
	var early, late int
	for seed := uint64(1); seed <= 40; seed++ {
		at := killedAt(seed)
		if at < 1200*time.Millisecond || at >= 1300*time.Millisecond {
			t.Fatalf("seed %d: killed at %v, want within the heartbeat interval after 1.2s", seed, at)
		}
		if again := killedAt(seed); again != at {
			t.Fatalf("seed %d: killed at %v, then at %v", seed, at, again)
		}
		if at < 1250*time.Millisecond {
			early++
		} else {
			late++
		}
	}
	if early < 8 || late < 8 {
		t.Errorf("of 40 seeds, %d killed in the interval's first half and %d in its second: want both near 20", early, late)
	}
}
