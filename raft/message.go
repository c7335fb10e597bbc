package raft

import (
	"strconv"
	"strings"
)

// ID names a node: 0 to N-1, printed n1 to nN.
type ID int32

// None is the ID of no node: no vote cast, no leader known.
const None ID = -1

func (id ID) String() string {
	if id == None {
		return "none"
	}
	return "n" + strconv.Itoa(int(id)+1)
}

// MsgType is the kind of a [Message].
type MsgType uint8

// The messages of leader election and log replication.
const (
	MsgVote        MsgType = iota + 1 // RequestVote
	MsgVoteResp                       // reply to RequestVote
	MsgPreVote                        // Pre-Vote request: would you vote for me in Term?
	MsgPreVoteResp                    // reply to a Pre-Vote request
	MsgApp                            // AppendEntries; a heartbeat when it carries no entries
	MsgAppResp                        // reply to AppendEntries
	// etcd's raft sends heartbeats as a message of their own, with no log
	// position: etcd's node (--impl etcd) sends these two, raftsim's never.
	MsgHeartbeat     // a leader's heartbeat: its term and a commit index the follower holds
	MsgHeartbeatResp // reply to a heartbeat
)

var msgNames = [...]string{
	MsgVote: "RequestVote", MsgVoteResp: "RequestVoteResp",
	MsgPreVote: "PreVote", MsgPreVoteResp: "PreVoteResp",
	MsgApp: "AppendEntries", MsgAppResp: "AppendEntriesResp",
	MsgHeartbeat: "Heartbeat", MsgHeartbeatResp: "HeartbeatResp",
}

func (t MsgType) String() string {
	if int(t) < len(msgNames) && msgNames[t] != "" {
		return msgNames[t]
	}
	return "Msg(" + strconv.Itoa(int(t)) + ")"
}

// MaxEntries is the most log entries one AppendEntries carries; a follower
// that is further behind catches up over several round trips, as with etcd's
// MaxSizePerMsg. It keeps a Message a fixed-size value.
const MaxEntries = 4

// Message is one RPC request or reply. It is a plain value with no pointers,
// so that drivers can copy it freely.
type Message struct {
	Type     MsgType
	Reject   bool // replies: vote or pre-vote refused, or AppendEntries failed
	NEntries uint8
	From, To ID
	Term     uint64
	// LogTerm and Index are, in RequestVote and Pre-Vote, the term and index
	// of the candidate's last entry; in AppendEntries, those of the entry
	// just before Entries; in a successful AppendEntriesResp, Index is the
	// follower's last matching index, and in a failed one the index after
	// which the leader may try next: raftsim's node gives its last index,
	// etcd's its RejectHint, with that entry's term in LogTerm.
	LogTerm uint64
	Index   uint64
	// Commit is, in AppendEntries and Heartbeat, the leader's commit index;
	// in a failed AppendEntriesResp of etcd's node, the prevLogIndex of the
	// AppendEntries refused (etcd's Index), by which etcd's leader tells a
	// stale refusal from a fresh one. raftsim's node leaves it 0 in replies.
	Commit  uint64
	Entries [MaxEntries]uint64 // AppendEntries: the terms of entries Index+1 ...
}

// IsResponse reports whether m is a reply.
func (m *Message) IsResponse() bool {
	return m.Type == MsgVoteResp || m.Type == MsgPreVoteResp || m.Type == MsgAppResp || m.Type == MsgHeartbeatResp
}

// String formats m the way traces show it, for example
// "RequestVote term=4 log=2/7" or "AppendEntries term=3 prev=1/5 entries=2 commit=5".
func (m *Message) String() string {
	var b strings.Builder
	b.WriteString(m.Type.String())
	b.WriteString(" term=")
	b.WriteString(strconv.FormatUint(m.Term, 10))
	switch m.Type {
	case MsgVote, MsgPreVote:
		b.WriteString(" log=")
		b.WriteString(strconv.FormatUint(m.LogTerm, 10))
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(m.Index, 10))
	case MsgApp:
		b.WriteString(" prev=")
		b.WriteString(strconv.FormatUint(m.LogTerm, 10))
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(m.Index, 10))
		b.WriteString(" entries=")
		b.WriteString(strconv.Itoa(int(m.NEntries)))
		b.WriteString(" commit=")
		b.WriteString(strconv.FormatUint(m.Commit, 10))
	case MsgHeartbeat:
		b.WriteString(" commit=")
		b.WriteString(strconv.FormatUint(m.Commit, 10))
	case MsgVoteResp, MsgPreVoteResp:
		if m.Reject {
			b.WriteString(" rejected")
		} else {
			b.WriteString(" granted")
		}
	case MsgAppResp:
		if m.Reject {
			b.WriteString(" rejected last=")
		} else {
			b.WriteString(" match=")
		}
		b.WriteString(strconv.FormatUint(m.Index, 10))
	}
	return b.String()
}
