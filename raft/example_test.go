package raft_test

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// counter is a Rand that draws 0, 1, 2, ...: the first node to draw times
// out first. A real driver seeds a proper generator.
type counter struct{ next int64 }

func (c *counter) Int63n(n int64) int64 { c.next++; return (c.next - 1) % n }

// Example elects a leader among three nodes by hand, showing the contract
// every driver keeps: give a node one input, then drain its Ready — persist
// what MustSync asks for, arm its timers, send its messages — before the
// next input. Here the "network" is a queue delivered in order and the
// clock stands still.
func Example() {
	var rand counter
	nodes := make([]*raft.Node, 3)
	for i := range nodes {
		nodes[i] = raft.New(raft.Config{ID: raft.ID(i), Size: 3, ElectionMin: 150 * time.Millisecond,
			ElectionMax: 300 * time.Millisecond, Heartbeat: 50 * time.Millisecond}, &rand)
	}
	var wire []raft.Message
	drain := func(n *raft.Node) {
		rd := n.Ready()
		if rd.StateChanged {
			st := rd.State
			fmt.Printf("%v: %v term=%d vote=%v commit=%d mustSync=%v\n", n.ID(), st.Role, st.Term, st.Vote, st.Commit, rd.MustSync)
		}
		wire = append(wire, rd.Messages...) // after the write, were there a disk
	}
	for _, n := range nodes {
		n.Start(0)
		drain(n)
	}
	deliver := func(now time.Duration) {
		for len(wire) > 0 {
			m := wire[0]
			wire = wire[1:]
			fmt.Printf("%v->%v %v\n", m.From, m.To, m.String())
			nodes[m.To].Step(now, &m)
			drain(nodes[m.To])
		}
	}
	// n1 drew the shortest timeout: its election timer fires first.
	nodes[0].Tick(150*time.Millisecond, raft.ElectionTimer)
	drain(nodes[0])
	deliver(150 * time.Millisecond)
	// The leader's heartbeat tells the followers what it committed.
	nodes[0].Tick(200*time.Millisecond, raft.HeartbeatTimer)
	drain(nodes[0])
	deliver(200 * time.Millisecond)
	// Output:
	// n1: candidate term=1 vote=n1 commit=0 mustSync=true
	// n1->n2 RequestVote term=1 log=0/0
	// n2: follower term=1 vote=n1 commit=0 mustSync=true
	// n1->n3 RequestVote term=1 log=0/0
	// n3: follower term=1 vote=n1 commit=0 mustSync=true
	// n2->n1 RequestVoteResp term=1 granted
	// n1: leader term=1 vote=n1 commit=0 mustSync=true
	// n3->n1 RequestVoteResp term=1 granted
	// n1->n2 AppendEntries term=1 prev=0/0 entries=1 commit=0
	// n2: follower term=1 vote=n1 commit=0 mustSync=true
	// n1->n3 AppendEntries term=1 prev=0/0 entries=1 commit=0
	// n3: follower term=1 vote=n1 commit=0 mustSync=true
	// n2->n1 AppendEntriesResp term=1 match=1
	// n1: leader term=1 vote=n1 commit=1 mustSync=false
	// n3->n1 AppendEntriesResp term=1 match=1
	// n1->n2 AppendEntries term=1 prev=1/1 entries=0 commit=1
	// n2: follower term=1 vote=n1 commit=1 mustSync=false
	// n1->n3 AppendEntries term=1 prev=1/1 entries=0 commit=1
	// n3: follower term=1 vote=n1 commit=1 mustSync=false
	// n2->n1 AppendEntriesResp term=1 match=1
	// n3->n1 AppendEntriesResp term=1 match=1
}
