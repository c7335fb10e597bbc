package raft

import "time"

// State is what a node is: its role, the persistent currentTerm and
// votedFor of Figure 2, the leader it follows, its commit index, and where
// its log ends.
type State struct {
	Role      Role
	Term      uint64
	Vote      ID // None: no vote in Term
	Lead      ID // the leader it knows of in Term, None if none
	Commit    uint64
	LastIndex uint64
	LastTerm  uint64
}

// TimerSetting is one of a node's timers as an input left it: armed to fire
// when the node's own clock reads Due, or stopped.
type TimerSetting struct {
	Timer Timer
	Armed bool
	Due   time.Duration
}

// Ready is what a node did with one input, for its driver to carry out, in
// this order: make term, vote and Entries durable (when MustSync says so),
// then arm or stop Timers and send Messages. It is etcd raft's Ready, cut
// down to leader election and log replication.
//
// A Ready and the slices in it belong to the node and stay valid until its
// next input.
type Ready struct {
	// State is the node's state after the input; StateChanged says whether
	// it differs from the State of the previous Ready.
	State        State
	StateChanged bool
	// Entries are log entries to make durable: the terms of entries
	// FirstIndex, FirstIndex+1, ... They replace whatever the log held from
	// FirstIndex on, so a follower that overwrote a conflicting suffix
	// reports the new suffix whole.
	FirstIndex uint64
	Entries    []uint64
	// MustSync says that term, vote or log changed: the messages below may
	// only leave once the change is on stable storage (etcd's MustSync),
	// or a node that crashes and restarts could contradict what it sent.
	MustSync bool
	// Timers are the timers the input armed, moved or stopped.
	Timers []TimerSetting
	// Messages are the messages to send, in the order the node sent them.
	Messages []Message
	// CampaignRefused says that the election timer fired but the node did
	// not campaign, because its term is MaxTerm: it is a follower, with its
	// election timer off. Nothing is to be carried out; a driver may say why
	// the node stays quiet.
	CampaignRefused bool
}

// Ready drains what the node did since the previous Ready: call it after
// every input. The result is valid until the node's next input.
func (n *Node) Ready() *Ready {
	rd := &n.rd
	rd.StateChanged, rd.MustSync = false, false
	if n.dirty { // rd.State is still the state otherwise
		n.dirty = false
		st := n.State()
		rd.State, rd.StateChanged = st, st != n.reported
		rd.MustSync = st.Term != n.reported.Term || st.Vote != n.reported.Vote
		n.reported = st
	}
	rd.FirstIndex, rd.Entries = 0, nil
	if n.unstable <= n.lastIndex() {
		rd.FirstIndex, rd.Entries = n.unstable, n.log[n.unstable:]
		rd.MustSync = true
	}
	n.unstable = noEntries
	k := 0
	for t := range NumTimers {
		if n.timerChanged[t] {
			n.timerChanged[t] = false
			n.timerBuf[k] = TimerSetting{Timer: t, Armed: n.timers[t].armed, Due: n.timers[t].due}
			k++
		}
	}
	rd.Timers = n.timerBuf[:k]
	rd.Messages = n.msgs
	n.msgs = n.msgs[:0]
	rd.CampaignRefused, n.campaignRefused = n.campaignRefused, false
	return rd
}
