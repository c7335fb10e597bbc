package sim

import (
	"math"
	"testing"
	"time"
)

const ms = time.Millisecond

type msg struct{ id int }

func newSim(nodes int, lat Dist) *Sim[msg] {
	s := New[msg](nodes, 2)
	s.Reset(nodes, 2, 7)
	s.Net.SetDefault(Link{Latency: lat})
	return s
}

// drain runs s to the end and returns its events with their times.
type seen struct {
	at time.Duration
	Event
	id int
}

func drain(s *Sim[msg]) []seen {
	var out []seen
	for e := s.Next(); e != nil; e = s.Next() {
		x := seen{at: s.Now(), Event: *e, id: -1}
		if e.Kind == Deliver || e.Kind == Drop {
			x.id = s.Message().id
		}
		out = append(out, x)
	}
	return out
}

func TestTiesFollowSchedulingOrder(t *testing.T) {
	s := newSim(2, ConstDist(10*ms))
	s.At(10*ms, 1)
	s.Send(0, 1, &msg{1}) // arrives at 10ms, scheduled after call 1
	s.SetTimer(1, 0, 10*ms)
	s.At(10*ms, 2)
	got := drain(s)
	want := []EventKind{Call, Deliver, Timeout, Call}
	for i, e := range got {
		if e.Kind != want[i] || e.at != 10*ms {
			t.Fatalf("event %d: %v at %v, want %v at 10ms", i, e.Kind, e.at, want[i])
		}
	}
	if got[0].Call != 1 || got[3].Call != 2 {
		t.Errorf("calls in order %d, %d; want 1, 2", got[0].Call, got[3].Call)
	}
}

func TestTimersMoveAndStop(t *testing.T) {
	s := newSim(1, ConstDist(ms))
	s.SetTimer(0, 0, 100*ms)
	s.SetTimer(0, 1, 50*ms)
	s.SetTimer(0, 0, 30*ms) // moved earlier
	s.SetTimer(0, 1, 80*ms) // moved later
	s.At(60*ms, 0)
	got := drain(s)
	if len(got) != 3 || got[0].Timer != 0 || got[0].at != 30*ms || got[1].Kind != Call || got[2].Timer != 1 || got[2].at != 80*ms {
		t.Fatalf("got %+v", got)
	}
	s.SetTimer(0, 0, s.Now()+10*ms)
	if due, ok := s.TimerDue(0, 0); !ok || due != s.Now()+10*ms {
		t.Fatalf("TimerDue: %v %v, want %v true", due, ok, s.Now()+10*ms)
	}
	s.StopTimer(0, 0)
	if _, ok := s.TimerDue(0, 0); s.TimerArmed(0, 0) || ok {
		t.Fatal("stopped timer is armed")
	}
	if got := drain(s); len(got) != 0 {
		t.Fatalf("a stopped timer fired: %+v", got)
	}
}

func TestCrash(t *testing.T) {
	s := newSim(2, ConstDist(10*ms))
	s.Send(1, 0, &msg{1}) // on the wire before the crash: still delivered
	s.SetTimer(1, 0, 5*ms)
	s.Send(0, 1, &msg{2}) // to the node that crashes: dropped on arrival
	s.Crash(1)
	got := drain(s)
	if len(got) != 2 {
		t.Fatalf("got %+v, want a delivery and a drop", got)
	}
	if got[0].Kind != Deliver || got[0].Node != 0 || got[0].id != 1 {
		t.Errorf("first %+v, want message 1 delivered to n1", got[0])
	}
	if got[1].Kind != Drop || got[1].Reason != Crashed || got[1].id != 2 {
		t.Errorf("second %+v, want message 2 dropped: crashed", got[1])
	}
	s.Restart(1)
	s.Send(0, 1, &msg{3})
	if got := drain(s); len(got) != 1 || got[0].Kind != Deliver {
		t.Fatalf("after restart: %+v", got)
	}
}

func TestPartitionAndCut(t *testing.T) {
	s := newSim(3, ConstDist(10*ms))
	s.Send(0, 1, &msg{1}) // in flight when the partition starts: dropped
	s.Net.Partition([][]int{{0}})
	if r := s.Send(0, 2, &msg{2}); r.Copies != 0 || r.Reason != Partitioned {
		t.Fatalf("send across a partition: %+v", r)
	}
	s.Send(1, 2, &msg{3}) // same side: delivered
	got := drain(s)
	if len(got) != 2 || got[0].Kind != Drop || got[0].Reason != Partitioned || got[1].Kind != Deliver || got[1].id != 3 {
		t.Fatalf("got %+v", got)
	}
	s.Net.Heal()
	s.Net.Cut(0, 1)
	if r := s.Send(0, 1, &msg{4}); r.Copies != 0 {
		t.Fatal("a cut link carried a message")
	}
	if r := s.Send(1, 0, &msg{5}); r.Copies != 1 {
		t.Fatal("the reverse of a one-way cut is blocked")
	}
	s.Net.Isolate(2)
	if !s.Net.Blocked(2, 1) || !s.Net.Blocked(0, 2) || s.Net.Healed() {
		t.Fatal("isolated node still connected")
	}
	s.Net.Heal()
	if !s.Net.Healed() || s.Net.Blocked(0, 1) {
		t.Fatal("heal left a block")
	}
	// Each change alone must block: Blocked skips its checks when none has
	// been made.
	s.Net.Isolate(1)
	if !s.Net.Blocked(0, 1) {
		t.Fatal("isolating a node of a healed network blocked nothing")
	}
	s.Reset(3, 2, 1)
	if s.Net.Blocked(0, 1) {
		t.Fatal("Reset left a block")
	}
	s.Net.Partition([][]int{{0, 1}})
	if !s.Net.Blocked(1, 2) {
		t.Fatal("a partition of a fresh network blocked nothing")
	}
}

// TestPause: a paused node's messages wait and arrive in order when it
// wakes, then the timers that came due fire, unless the backlog re-armed them.
func TestPause(t *testing.T) {
	s := newSim(2, ConstDist(10*ms))
	s.SetTimer(1, 0, 20*ms)
	s.SetTimer(1, 1, 30*ms)
	s.Pause(1, 100*ms)
	s.Send(0, 1, &msg{1})
	s.Send(0, 1, &msg{2})
	var got []seen
	for e := s.Next(); e != nil; e = s.Next() {
		x := seen{at: s.Now(), Event: *e}
		if e.Kind == Deliver {
			x.id = s.Message().id
			if x.id == 1 {
				s.SetTimer(1, 1, s.Now()+50*ms) // the backlog re-arms timer 1
			}
		}
		got = append(got, x)
	}
	want := []struct {
		kind EventKind
		at   time.Duration
	}{{Resume, 100 * ms}, {Deliver, 100 * ms}, {Deliver, 100 * ms}, {Timeout, 100 * ms}, {Timeout, 150 * ms}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].at != w.at {
			t.Fatalf("event %d: %v at %v, want %v at %v", i, got[i].Kind, got[i].at, w.kind, w.at)
		}
	}
	if got[1].id != 1 || got[2].id != 2 || got[3].Timer != 0 || got[4].Timer != 1 {
		t.Fatalf("order: %+v", got)
	}
}

func TestDrift(t *testing.T) {
	s := newSim(2, ConstDist(ms))
	s.SetRate(1, 2) // node 1's clock runs twice as fast
	s.SetTimer(1, 0, 100*ms)
	s.SetTimer(0, 0, 100*ms)
	got := drain(s)
	if got[0].Node != 1 || got[0].at != 50*ms || got[1].Node != 0 || got[1].at != 100*ms {
		t.Fatalf("got %+v", got)
	}
	if s.LocalNow(1) != 200*ms {
		t.Fatalf("local clock %v at 100ms, want 200ms", s.LocalNow(1))
	}
	// Changing the rate keeps an armed timer's local due time.
	s.SetTimer(1, 0, s.LocalNow(1)+100*ms) // local 300ms, global 150ms at rate 2
	s.SetRate(1, 0.5)                      // now local 300ms is 200ms of virtual time away
	if due, ok := s.TimerDue(1, 0); !ok || due != 300*ms {
		t.Fatalf("TimerDue after the rate change: %v %v, want 300ms true", due, ok)
	}
	if got := drain(s); got[0].at != 300*ms {
		t.Fatalf("timer fired at %v, want 300ms", got[0].at)
	}
}

func TestFIFO(t *testing.T) {
	s := newSim(2, UniformDist(ms, 50*ms))
	s.Net.SetFIFO(true)
	for i := 0; i < 200; i++ {
		s.Send(0, 1, &msg{i})
	}
	for i, e := range drain(s) {
		if e.id != i {
			t.Fatalf("message %d arrived %d-th on a FIFO link", e.id, i)
		}
	}
	s.Net.SetFIFO(false)
	for i := 0; i < 200; i++ {
		s.Send(0, 1, &msg{i})
	}
	inOrder := true
	for i, e := range drain(s) {
		inOrder = inOrder && e.id == i
	}
	if inOrder {
		t.Fatal("200 messages with random latency arrived in order without FIFO")
	}
}

func TestLossAndDuplication(t *testing.T) {
	s := newSim(3, ConstDist(ms))
	s.Net.SetDefault(Link{Latency: ConstDist(ms), Loss: 0.2, Dup: 0.1})
	s.Net.SetLink(0, 2, Link{Latency: ConstDist(ms), Loss: 1})
	const n = 20000
	lost, dup := 0, 0
	for i := 0; i < n; i++ {
		switch r := s.Send(0, 1, &msg{i}); r.Copies {
		case 0:
			lost++
		case 2:
			dup++
		}
		if r := s.Send(0, 2, &msg{i}); r.Copies != 0 || r.Reason != Lost {
			t.Fatal("a link overridden to lose everything delivered a message")
		}
	}
	if p := float64(lost) / n; math.Abs(p-0.2) > 0.015 {
		t.Errorf("lost %.3f, want 0.2", p)
	}
	if p := float64(dup) / n; math.Abs(p-0.08) > 0.015 { // 0.1 of the 0.8 not lost
		t.Errorf("duplicated %.3f, want 0.08", p)
	}
	if got := len(drain(s)); got != n-lost+dup {
		t.Errorf("%d deliveries, want %d", got, n-lost+dup)
	}
	s.Net.SetLoss(0)
	if r := s.Send(0, 2, &msg{0}); r.Copies == 0 {
		t.Error("SetLoss(0) did not reach the overridden link")
	}
}

// TestSameSeedSameEvents: two simulators fed the same calls with the same
// seed produce the same events at the same times.
func TestSameSeedSameEvents(t *testing.T) {
	run := func() []seen {
		s := newSim(4, mustDist(LogNormal, 7*ms, 3*ms))
		s.Net.SetDefault(Link{Latency: mustDist(LogNormal, 7*ms, 3*ms), Loss: 0.1, Dup: 0.1})
		for i := 0; i < 500; i++ {
			s.Send(i%4, (i+1)%4, &msg{i})
		}
		return drain(s)
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("%d and %d events", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("event %d: %+v vs %+v", i, a[i], b[i])
		}
	}
}

// TestResetIsFresh: a simulator reset in the middle of a busy trial, with
// timers armed, moved and stopped and messages in flight, then runs a new
// trial exactly as a new simulator does.
func TestResetIsFresh(t *testing.T) {
	trial := func(s *Sim[msg], stopEarly bool) []seen {
		s.Net.SetDefault(Link{Latency: UniformDist(5*ms, 10*ms)})
		for i := 0; i < 200; i++ {
			s.Send(i%3, (i+1)%3, &msg{i})
			s.SetTimer(i%3, i%2, s.LocalNow(i%3)+time.Duration(i%7)*ms)
			if i%5 == 0 {
				s.StopTimer((i+1)%3, 1)
			}
		}
		if stopEarly {
			for i := 0; i < 50; i++ {
				s.Next()
			}
			s.SetTimer(0, 0, time.Hour) // still armed at the Reset
			s.SetTimer(2, 1, time.Hour)
			return nil
		}
		return drain(s)
	}
	used := New[msg](3, 2)
	used.Reset(3, 2, 1)
	trial(used, true)
	used.Reset(3, 2, 9)
	for n := 0; n < 3; n++ {
		for k := 0; k < 2; k++ {
			if used.TimerArmed(n, k) {
				t.Errorf("timer %d of n%d is armed after Reset", k, n+1)
			}
		}
	}
	fresh := New[msg](3, 2)
	fresh.Reset(3, 2, 9)
	a, b := trial(used, false), trial(fresh, false)
	if len(a) != len(b) {
		t.Fatalf("reset simulator: %d events, new one: %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("event %d: reset simulator %+v, new one %+v", i, a[i], b[i])
		}
	}
}

func mustDist(kind DistKind, a, b time.Duration) Dist {
	d, err := NewDist(kind, a, b)
	if err != nil {
		panic(err)
	}
	return d
}

// TestNetworkDrawsAligned: every message sent costs the network's stream
// the same draws, whatever the loss and duplication probabilities, so a
// message that gets through arrives when it would have with neither; a
// duplicate's second copy draws from a stream of its own.
func TestNetworkDrawsAligned(t *testing.T) {
	arrivals := func(loss, dup float64) []Sent {
		s := newSim(2, UniformDist(ms, 9*ms))
		s.Net.SetDefault(Link{Latency: UniformDist(ms, 9*ms), Loss: loss, Dup: dup})
		out := make([]Sent, 2000)
		for i := range out {
			out[i] = s.Send(0, 1, &msg{i})
		}
		return out
	}
	plain := arrivals(0, 0)
	for _, p := range [][2]float64{{0.3, 0}, {0, 0.3}, {0.2, 0.2}, {1, 0}, {0, 1}} {
		got := arrivals(p[0], p[1])
		lost, dups := 0, 0
		for i, r := range got {
			switch {
			case r.Copies == 0:
				lost++
			case r.Arrive[0] != plain[i].Arrive[0]:
				t.Fatalf("loss %g dup %g: message %d arrives at %v, without them at %v", p[0], p[1], i, r.Arrive[0], plain[i].Arrive[0])
			case r.Copies == 2:
				dups++
			}
		}
		if p[0] > 0 && lost == 0 || p[1] > 0 && p[0] < 1 && dups == 0 {
			t.Errorf("loss %g dup %g: %d lost, %d duplicated", p[0], p[1], lost, dups)
		}
	}
}

// TestHealOneNodeOrLink: healing a node brings it back into the main
// network and opens its cut links; healing a link opens one direction of
// one link, across groups too; a new partition or isolation forgets the
// links healed across the old one.
func TestHealOneNodeOrLink(t *testing.T) {
	s := newSim(4, ConstDist(ms))
	nw := &s.Net
	nw.Isolate(0)
	nw.Isolate(1)
	nw.Cut(2, 3)
	if nw.Main(0) || nw.Main(1) || !nw.Main(2) || nw.GroupsOnly() {
		t.Fatal("isolated nodes counted in the main network, or the cut not noticed")
	}
	nw.HealNode(0)
	if !nw.Main(0) || nw.Blocked(0, 2) || nw.Blocked(3, 0) || !nw.Blocked(0, 1) {
		t.Fatal("n1 healed: want it back with n3 and n4, still cut off from n2")
	}
	nw.HealLink(1, 0)
	if nw.Blocked(1, 0) || !nw.Blocked(0, 1) || !nw.Blocked(1, 2) {
		t.Fatal("the healed link n2->n1 is not the only one open from the isolated n2")
	}
	nw.HealLink(2, 3)
	if nw.Blocked(2, 3) {
		t.Fatal("healing the cut n3->n4 left it blocked")
	}
	nw.Isolate(1)
	if !nw.Blocked(1, 0) {
		t.Fatal("isolating n2 again kept the link healed across the old isolation")
	}
	nw.Partition([][]int{{0, 1}, {2, 3}})
	if !nw.Main(0) || nw.Main(2) {
		t.Fatal("when every node is in a group, the first of the largest groups is the main network")
	}
	nw.Partition([][]int{{0}, {1, 2, 3}})
	if nw.Main(0) || !nw.Main(3) {
		t.Fatal("the largest group is the main network")
	}
}
