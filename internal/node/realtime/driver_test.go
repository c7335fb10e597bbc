package realtime

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// fakeClock is a Clock that moves only when the test advances it; timers
// fire in the test's goroutine, in order of their due times.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	due     time.Duration
	f       func()
	stopped bool
	fired   bool
}

func (c *fakeClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, due: c.now + d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

// Advance moves the clock on by d, firing the timers that come due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now + d
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.stopped && !t.fired && t.due <= end && (next == nil || t.due < next.due) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		c.now = next.due
		next.fired = true
		c.mu.Unlock()
		next.f()
	}
}

// journal records what the store and the transport were asked to do, in
// order, so that tests can see that writes come before sends.
type journal struct {
	mu      sync.Mutex
	lines   []string
	sent    []raft.Message
	failing bool // Save fails
}

func (j *journal) Save(term uint64, vote raft.ID, first uint64, entries []uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failing {
		j.lines = append(j.lines, "save failed")
		return errors.New("disk full")
	}
	j.lines = append(j.lines, fmt.Sprintf("save term=%d vote=%v entries=%d@%d", term, vote, len(entries), first))
	return nil
}

func (j *journal) Send(m raft.Message) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf("send %v->%v %v", m.From, m.To, m.String()))
	j.sent = append(j.sent, m)
}

func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.lines
	j.lines = nil
	return out
}

// firstDraw is a Rand whose every election timeout is the minimum.
type firstDraw struct{}

func (firstDraw) Int63n(int64) int64 { return 0 }

const (
	eMin = 150 * time.Millisecond
	eMax = 300 * time.Millisecond
	hb   = 50 * time.Millisecond
)

func newTestDriver(id raft.ID, size int) (*Driver, *fakeClock, *journal) {
	clock, j := &fakeClock{}, &journal{}
	d := New(Config{
		Node:  raft.Config{ID: id, Size: size, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb},
		Rand:  firstDraw{},
		Clock: clock, Storage: j, Transport: j,
	})
	return d, clock, j
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got\n  %q\nwant\n  %q", got, want)
	}
}

func TestElectionTimerCampaignsAndWritesBeforeSending(t *testing.T) {
	d, clock, j := newTestDriver(0, 3)
	if err := d.Boot(0, raft.None, nil, false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(eMin - time.Millisecond)
	wantLines(t, j.take()) // nothing before the timeout
	clock.Advance(time.Millisecond)
	wantLines(t, j.take(),
		"save term=1 vote=n1 entries=0@0",
		"send n1->n2 RequestVote term=1 log=0/0",
		"send n1->n3 RequestVote term=1 log=0/0")
	if st := d.State(); st.Role != raft.Candidate || st.Term != 1 {
		t.Errorf("got %v term %d, want candidate term 1", st.Role, st.Term)
	}
}

func TestHandleReturnsTheReplyAfterTheWrite(t *testing.T) {
	d, _, j := newTestDriver(0, 3)
	d.Boot(0, raft.None, nil, false)
	reply, err := d.Handle([]raft.Message{{Type: raft.MsgVote, From: 1, To: 0, Term: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Type != raft.MsgVoteResp || reply.Reject || reply.Term != 1 || reply.To != 1 {
		t.Errorf("got %v to %v, want a granted RequestVoteResp term=1 to n2", reply.String(), reply.To)
	}
	// The vote is on disk before Handle returns the reply; nothing is sent.
	wantLines(t, j.take(), "save term=1 vote=n2 entries=0@0")
	// One vote per term: n3 is refused, and nothing is written.
	reply, _ = d.Handle([]raft.Message{{Type: raft.MsgVote, From: 2, To: 0, Term: 1}})
	if !reply.Reject {
		t.Errorf("got %v, want the second vote of term 1 refused", reply.String())
	}
	wantLines(t, j.take())
}

func TestHeartbeatResetsTheElectionTimer(t *testing.T) {
	d, clock, j := newTestDriver(0, 3)
	d.Boot(0, raft.None, nil, false)
	clock.Advance(100 * time.Millisecond)
	reply, _ := d.Handle([]raft.Message{{Type: raft.MsgApp, From: 1, To: 0, Term: 1}})
	if reply.Reject || reply.Type != raft.MsgAppResp {
		t.Fatalf("got %v, want a successful AppendEntriesResp", reply.String())
	}
	j.take()
	clock.Advance(eMin - time.Millisecond) // t=249ms: the first timeout (150ms) is long past
	wantLines(t, j.take())
	if st := d.State(); st.Role != raft.Follower || st.Lead != 1 {
		t.Errorf("got %v led by %v, want a follower of n2", st.Role, st.Lead)
	}
	clock.Advance(time.Millisecond) // 150ms after the heartbeat
	if st := d.State(); st.Role != raft.Candidate || st.Term != 2 {
		t.Errorf("got %v term %d, want candidate term 2", st.Role, st.Term)
	}
}

func TestAStaleTimerDoesNothing(t *testing.T) {
	d, clock, j := newTestDriver(0, 3)
	d.Boot(0, raft.None, nil, false)
	first := clock.timers[0]
	d.Handle([]raft.Message{{Type: raft.MsgApp, From: 1, To: 0, Term: 1}}) // re-arms the election timer
	j.take()
	first.f() // the old timer's goroutine lost the race with Stop
	wantLines(t, j.take())
	if st := d.State(); st.Role != raft.Follower {
		t.Errorf("got %v, want follower: a stopped timer started an election", st.Role)
	}
}

func TestAFailedWriteStopsTheNodeBeforeItSends(t *testing.T) {
	d, clock, j := newTestDriver(0, 3)
	d.Boot(0, raft.None, nil, false)
	j.failing = true
	clock.Advance(eMax)
	wantLines(t, j.take(), "save failed") // and no RequestVote
	if d.Err() == nil {
		t.Error("got no error from Err, want the write's")
	}
	if _, err := d.Handle([]raft.Message{{Type: raft.MsgVote, From: 1, To: 0, Term: 5}}); !errors.Is(err, ErrStopped) {
		t.Errorf("Handle after a failed write: got %v, want ErrStopped", err)
	}
	for _, tm := range clock.timers {
		if !tm.stopped && !tm.fired {
			t.Errorf("the stopped node left a timer due at %v running", tm.due)
		}
	}
}

func TestAnIgnoredRequestIsRefusedAtTheNodesTerm(t *testing.T) {
	clock, j := &fakeClock{}, &journal{}
	d := New(Config{
		Node: raft.Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb,
			Options: raft.Options{LeaderStickiness: true}},
		Rand: firstDraw{}, Clock: clock, Storage: j, Transport: j,
	})
	d.Boot(0, raft.None, nil, false)
	d.Handle([]raft.Message{{Type: raft.MsgApp, From: 1, To: 0, Term: 1}}) // a leader is heard
	reply, err := d.Handle([]raft.Message{{Type: raft.MsgVote, From: 2, To: 0, Term: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !reply.Reject || reply.Term != 1 || reply.Type != raft.MsgVoteResp {
		t.Errorf("got %v, want RequestVoteResp term=1 rejected", reply.String())
	}
}

// TestThreeDriversElectOneLeader runs three drivers on one fake clock,
// carrying every request to its receiver's Handle and the reply back to the
// sender's Receive, as an HTTP transport does.
func TestThreeDriversElectOneLeader(t *testing.T) {
	clock, j := &fakeClock{}, &journal{}
	var ds []*Driver
	for i := range 3 {
		ds = append(ds, New(Config{
			Node:  raft.Config{ID: raft.ID(i), Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb},
			Rand:  &stagger{i}, // n1 draws the shortest timeout
			Clock: clock, Storage: &journal{}, Transport: j,
		}))
		ds[i].Boot(0, raft.None, nil, false)
	}
	deliver := func() {
		for k := 0; k < 100; k++ {
			j.mu.Lock()
			if len(j.sent) == 0 {
				j.mu.Unlock()
				return
			}
			m := j.sent[0]
			j.sent = j.sent[1:]
			j.mu.Unlock()
			reply, err := ds[m.To].Handle([]raft.Message{m})
			if err != nil {
				t.Fatal(err)
			}
			if err := ds[m.From].Receive(reply); err != nil {
				t.Fatal(err)
			}
		}
		t.Fatal("messages kept coming")
	}
	for step := 0; step < 20; step++ {
		clock.Advance(10 * time.Millisecond)
		deliver()
	}
	var roles []string
	for _, d := range ds {
		st := d.State()
		roles = append(roles, fmt.Sprintf("%v/%d/%v", st.Role, st.Term, st.Lead))
	}
	wantLines(t, roles, "leader/1/n1", "follower/1/n1", "follower/1/n1")
}

// stagger draws node i's election timeouts i*10ms above the minimum.
type stagger struct{ i int }

func (s *stagger) Int63n(n int64) int64 { return min(n-1, int64(s.i)*int64(10*time.Millisecond)) }

// blockingStore is a Storage whose saves wait until the test releases them.
type blockingStore struct {
	entered chan struct{} // a save has begun
	release chan struct{}
}

func (s *blockingStore) Save(uint64, raft.ID, uint64, []uint64) error {
	s.entered <- struct{}{}
	<-s.release
	return nil
}

// TestStateDoesNotWaitForTheDisk: while a request waits for its write (and
// holds the node), State answers at once, with the state before the
// request: a state is reported only once it is durable.
func TestStateDoesNotWaitForTheDisk(t *testing.T) {
	store := &blockingStore{entered: make(chan struct{}), release: make(chan struct{})}
	d := New(Config{
		Node: raft.Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb},
		Rand: firstDraw{}, Clock: &fakeClock{}, Storage: store, Transport: &journal{},
	})
	d.Boot(3, raft.None, nil, true)
	handled := make(chan raft.Message, 1)
	go func() {
		reply, _ := d.Handle([]raft.Message{{Type: raft.MsgVote, From: 1, To: 0, Term: 4}})
		handled <- reply
	}()
	<-store.entered // the vote is being written, under the driver's lock
	read := make(chan raft.State, 1)
	go func() { read <- d.State() }()
	select {
	case st := <-read:
		if st.Term != 3 || st.Vote != raft.None {
			t.Errorf("during the write: got term %d vote %v, want term 3 and no vote (the vote is not durable yet)", st.Term, st.Vote)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("State waited for the write to finish")
	}
	close(store.release)
	if reply := <-handled; reply.Reject {
		t.Errorf("got %v, want the vote granted", reply.String())
	}
	if st := d.State(); st.Term != 4 || st.Vote != 1 {
		t.Errorf("after the write: got term %d vote %v, want term 4 and a vote for n2", st.Term, st.Vote)
	}
}

// TestNoCampaignAtMaxTerm: at raft.MaxTerm the election timer's firing
// writes nothing, sends nothing and is told to OnCampaignRefused, once.
func TestNoCampaignAtMaxTerm(t *testing.T) {
	clock, j := &fakeClock{}, &journal{}
	var refused []uint64
	d := New(Config{
		Node: raft.Config{ID: 0, Size: 3, ElectionMin: eMin, ElectionMax: eMax, Heartbeat: hb},
		Rand: firstDraw{}, Clock: clock, Storage: j, Transport: j,
		OnCampaignRefused: func(st raft.State) { refused = append(refused, st.Term) },
	})
	if err := d.Boot(raft.MaxTerm, raft.None, nil, true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * eMax)
	wantLines(t, j.take())
	if !slices.Equal(refused, []uint64{raft.MaxTerm}) {
		t.Errorf("OnCampaignRefused heard terms %v, want [%d] once", refused, uint64(raft.MaxTerm))
	}
	if st := d.State(); st.Role != raft.Follower || st.Term != raft.MaxTerm {
		t.Errorf("got %v term %d, want a follower of term %d", st.Role, st.Term, uint64(raft.MaxTerm))
	}
}
