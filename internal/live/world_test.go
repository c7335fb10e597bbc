package live

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/internal/trial/trace"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// worldMade reports whether the world writes e itself, carrying out what
// the conductor asked (a fault action, a crash, a boot, a pause and its
// end) or saying where the trial is (a note, a violation), rather than
// observing a node.
func worldMade(e *trace.Event) bool {
	switch e.Kind {
	case trace.EvFault, trace.EvNote, trace.EvDown, trace.EvPause, trace.EvResume, trace.EvStart, trace.EvViolation:
		return true
	}
	return false
}

// replay runs, in live's world, with fake processes on a clock it moves,
// the trial whose simulated run traced events: it feeds live's conductor
// what live would have observed of the simulated nodes (their roles,
// terms and leaders, the messages they sent, the AppendEntries that
// reached them) at the times the simulator saw them, and returns the lines
// live's world wrote and what the trial measured.
func replay(t *testing.T, plan *trial.Plan, seed uint64, events []trace.Event, end time.Duration) ([]string, *trial.Result, *fakeProcesses) {
	tr, now, fake := testTrial(t, plan.Scenario, seed)
	o, c := tr.obs, tr.c
	// lastApp is, by node, the term and sender of the last AppendEntries
	// that reached it: a node that moves to that term follows the sender.
	type app struct {
		term uint64
		from raft.ID
	}
	lastApp := make([]app, plan.Scenario.Cluster.Nodes)
	o.mu.Lock()
	defer o.mu.Unlock()
	tr.startOwn()
	// step runs the next wake-up if it is due by at (before at, unless
	// inclusive); it reports whether there was one.
	step := func(at time.Duration, inclusive bool) bool {
		next, ok := tr.wakeups.next()
		if tr.ended || !ok || next > at || next == at && !inclusive {
			return false
		}
		*now = next
		f, _ := tr.wakeups.popDue(next)
		f()
		o.mu.Unlock()
		tr.drain(t)
		o.mu.Lock()
		return true
	}
	run := func(at time.Duration, inclusive bool) {
		for step(at, inclusive) {
		}
	}
	// madeSoFar counts the lines live's world has written.
	madeSoFar := func() int {
		n := 0
		for k := range o.events {
			if worldMade(&o.events[k]) {
				n++
			}
		}
		return n
	}
	want := 0 // the world's lines the simulator had written by the event at hand
	for k := range events {
		e := &events[k]
		if tr.ended {
			break
		}
		if worldMade(e) {
			// Live's world writes it at a wake-up of its own: run them one
			// by one until it has (a wake-up due at the same time as a
			// node's event may come before or after it, as in the
			// simulator's queue).
			want++
			for madeSoFar() < want && step(e.At, true) {
			}
			continue
		}
		run(e.At, false)
		*now = e.At
		cl := &c.Cluster
		switch e.Kind {
		case trace.EvState:
			cur := cl.State[e.Node]
			l := cur.Lead
			switch a := lastApp[e.Node]; {
			case e.Role == raft.Leader:
				l = raft.ID(e.Node)
			case a.term == e.Term && e.Role == raft.Follower:
				l = a.from
			case e.Term != cur.Term:
				l = raft.None
			}
			o.setState(e.Node, e.Term, e.Role, l, e.At)
		case trace.EvSend:
			c.Sent()
			if e.Msg.Type == raft.MsgApp {
				c.Heartbeat(e.Node)
			}
		case trace.EvDrop:
			if e.Reason == sim.Discarded.String() {
				c.Sent() // held back by a write when sent: traced as a drop alone
			}
		case trace.EvDup:
			continue
		case trace.EvRecv:
			if e.Msg.Type == raft.MsgApp {
				c.AppendEntriesDelivered(e.Peer, e.Node, e.Msg.Term)
				lastApp[e.Node] = app{e.Msg.Term, raft.ID(e.Peer)}
				if st := &cl.State[e.Node]; e.Msg.Term == st.Term && st.Role == raft.Follower {
					o.setState(e.Node, st.Term, st.Role, raft.ID(e.Peer), e.At) // it follows its term's leader
				}
			}
		}
		c.Watch()
	}
	run(end, true)
	*now = end
	res := c.Finish()
	var lines []string
	for _, e := range o.events {
		if worldMade(&e) {
			lines = append(lines, e.Line())
		}
	}
	return lines, res, fake
}

// TestLiveAppliesTheTimelineAsTheSimulatorDoes runs every built-in
// scenario that live can run through both worlds against one script: a
// trial as the simulator ran it is the world, and live's world is fed
// what live would have seen of it. Both must apply the same actions at the
// same times with the same trace lines (the fault timeline, its picks and
// random draws are the conductor's, written once), and measure the same.
func TestLiveAppliesTheTimelineAsTheSimulatorDoes(t *testing.T) {
	for _, name := range scenarios.BuiltinNames {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(s, Nodes{}); err != nil {
			continue // drift: live cannot apply it
		}
		plan := trial.NewPlan(s)
		for i := range 5 {
			seed := plan.SeedOf(s.Seed, i)
			var rec trace.Recorder
			d := simulated.NewDriver(plan)
			d.SetTracer(&rec)
			want := d.Run(seed)
			var wantLines []string
			kills, starts := 0, 0
			for k := range rec.Events {
				if e := &rec.Events[k]; worldMade(e) {
					wantLines = append(wantLines, e.Line())
					switch {
					case e.Kind == trace.EvDown:
						kills++
					case e.Kind == trace.EvStart && e.At > 0:
						starts++ // a restart (own nodes boot at 0 and their start times without a new process)
					}
				}
			}
			got, res, fake := replay(t, plan, seed, rec.Events, want.End)
			where := fmt.Sprintf("%s seed %d", name, seed)
			if !slices.Equal(got, wantLines) {
				t.Errorf("%s: live's world wrote\n  %s\nthe simulator's\n  %s", where, strings.Join(got, "\n  "), strings.Join(wantLines, "\n  "))
				continue
			}
			if g, w := countPrefix(fake.log, "kill"), kills; g != w {
				t.Errorf("%s: %d processes killed, want %d (the crashes)\n%s", where, g, w, strings.Join(fake.log, "\n"))
			}
			if g := countPrefix(fake.log, "start"); g != starts && s.Cluster.Start == nil {
				t.Errorf("%s: %d processes started, want %d (the restarts)\n%s", where, g, starts, strings.Join(fake.log, "\n"))
			}
			res.Seed, res.Events, want.Events = 0, 0, 0
			want.Seed = 0
			if fmt.Sprint(*res) != fmt.Sprint(want) {
				t.Errorf("%s: live measured\n  %+v\nthe simulator\n  %+v", where, *res, want)
			}
		}
	}
}

// countPrefix counts the lines of log whose action (after the time)
// starts with word.
func countPrefix(log []string, word string) int {
	n := 0
	for _, line := range log {
		if _, action, _ := strings.Cut(line, " "); strings.HasPrefix(action, word) {
			n++
		}
	}
	return n
}

// TestLiveWriteNeverReachesACrashedFollower: a write with reach draws the
// followers it reaches among those up and not cut off from the leader, in
// live as in the simulator (the draw is the conductor's): the follower the
// step before crashed is never one of them.
func TestLiveWriteNeverReachesACrashedFollower(t *testing.T) {
	src := "cluster: {nodes: 3}\nfaults:\n  - after: leader-elected\n    crash: {nodes: follower, as: down}\n  - write: {entries: 1, reach: 1}\n"
	s, err := scenarios.Parse("write.yaml", []byte(src))
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	crashed := regexp.MustCompile(`fault crash \{(n\d)\}`)
	reached := regexp.MustCompile(`fault write 1 entry at leader n1, reaching \{(n\d)\}`)
	for i := range 100 {
		tr, now, fake := testTrial(t, s, trial.Seed(7, i))
		o := tr.obs
		o.mu.Lock()
		tr.startOwn()
		for f, ok := tr.wakeups.popDue(0); ok; f, ok = tr.wakeups.popDue(0) {
			f()
		}
		*now = 100 * time.Millisecond
		o.setState(0, 1, raft.Leader, 0, *now) // n1 is elected: the step's trigger
		for {
			next, ok := tr.wakeups.next()
			if !ok || next > time.Second {
				break
			}
			*now = next
			f, _ := tr.wakeups.popDue(next)
			f()
		}
		var text string
		for _, e := range o.events {
			text += e.Line() + "\n"
		}
		o.mu.Unlock()
		tr.drain(t)
		c, r := crashed.FindStringSubmatch(text), reached.FindStringSubmatch(text)
		switch {
		case c == nil || r == nil:
			t.Fatalf("seed %d: no crash or no write:\n%s", i, text)
		case c[1] == r[1]:
			t.Fatalf("seed %d: the write reached %s, which the step before crashed:\n%s", i, r[1], text)
		}
		if !slices.ContainsFunc(fake.log, func(l string) bool { return strings.Contains(l, "propose 1 at n1") }) {
			t.Fatalf("seed %d: no propose at the leader: %q", i, fake.log)
		}
	}
}
