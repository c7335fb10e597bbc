// Package wire is the course's HTTP API as it travels between nodes: the
// endpoints, the JSON bodies of the chapter's TypeScript interfaces
// (RequestVoteArgs, RequestVoteReply, AppendEntriesArgs, AppendEntriesReply)
// and of /status, and their translation to and from [raft.Message].
// raftsim's own node, its proxy and its conformance checks all read and
// write the wire through this package, so they cannot disagree about a
// field. CONTRACT.md, beside this file, is the contract for other people's
// nodes.
//
// wire must never do I/O or keep state: it only encodes and decodes.
package wire

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/raft"
)

// The endpoints. PreVote is raftsim's addition to the chapter's API; Propose
// is optional (raftsim's node has it; live scenarios that write entries
// need it).
const (
	PathRequestVote   = "/raft/request-vote"
	PathPreVote       = "/raft/pre-vote"
	PathAppendEntries = "/raft/append-entries"
	PathHeartbeat     = "/raft/heartbeat" // the chapter's name for AppendEntries
	PathStatus        = "/status"
	PathPropose       = "/propose"
)

// RequestType returns the message type of a request sent to path.
func RequestType(path string) (raft.MsgType, bool) {
	switch path {
	case PathRequestVote:
		return raft.MsgVote, true
	case PathPreVote:
		return raft.MsgPreVote, true
	case PathAppendEntries, PathHeartbeat:
		return raft.MsgApp, true
	}
	return 0, false
}

// Path returns the endpoint a request of type t is sent to.
func Path(t raft.MsgType) string {
	switch t {
	case raft.MsgVote:
		return PathRequestVote
	case raft.MsgPreVote:
		return PathPreVote
	case raft.MsgHeartbeat:
		return PathHeartbeat // etcd's heartbeat: the course's, an AppendEntries without entries or log position
	}
	return PathAppendEntries
}

// RequestVoteArgs is the body of RequestVote and of Pre-Vote (where Term is
// the term the candidate would stand in).
type RequestVoteArgs struct {
	Term         uint64 `json:"term"`
	CandidateID  string `json:"candidateId"`
	LastLogIndex uint64 `json:"lastLogIndex"`
	LastLogTerm  uint64 `json:"lastLogTerm"`
}

// RequestVoteReply answers RequestVote and Pre-Vote.
type RequestVoteReply struct {
	Term        uint64 `json:"term"`
	VoteGranted bool   `json:"voteGranted"`
}

// LogEntry is one entry of AppendEntriesArgs. raftsim's entries carry no
// command (null); it only reads Index and Term.
type LogEntry struct {
	Index   uint64          `json:"index"`
	Term    uint64          `json:"term"`
	Command json.RawMessage `json:"command"`
}

// AppendEntriesArgs is the body of AppendEntries and of a heartbeat.
type AppendEntriesArgs struct {
	Term         uint64     `json:"term"`
	LeaderID     string     `json:"leaderId"`
	PrevLogIndex uint64     `json:"prevLogIndex"`
	PrevLogTerm  uint64     `json:"prevLogTerm"`
	Entries      []LogEntry `json:"entries"`
	LeaderCommit uint64     `json:"leaderCommit"`
}

// AppendEntriesReply answers AppendEntries. MatchIndex is raftsim's
// addition, which a leader needs to replicate a log: after success, the
// follower's last entry known to match the leader's; after a failure, an
// index at or below which the follower's log may still match. When a reply
// lacks it, raftsim reads prevLogIndex + len(entries) after success and
// prevLogIndex - 1 after a failure.
type AppendEntriesReply struct {
	Term       uint64  `json:"term"`
	Success    bool    `json:"success"`
	MatchIndex *uint64 `json:"matchIndex,omitempty"`
}

// Status is the body of GET /status. The chapter's fields come first;
// votedFor, commitIndex and logLength are raftsim's, and optional.
type Status struct {
	ID          string  `json:"id"`
	State       string  `json:"state"` // follower, candidate or leader
	Term        uint64  `json:"term"`
	Leader      *string `json:"leader"` // null when no leader is known
	VotedFor    *string `json:"votedFor,omitempty"`
	CommitIndex uint64  `json:"commitIndex"`
	LogLength   uint64  `json:"logLength"`
}

// The states /status reports.
const (
	StateFollower  = "follower"
	StateCandidate = "candidate"
	StateLeader    = "leader"
)

// StateOf names role as /status reports it: a pre-candidate is still a
// follower (it has not started an election).
func StateOf(role raft.Role) string {
	switch role {
	case raft.Candidate:
		return StateCandidate
	case raft.Leader:
		return StateLeader
	}
	return StateFollower
}

// RoleOf reads the state /status reports: the role StateOf named.
func RoleOf(state string) raft.Role {
	switch state {
	case StateLeader:
		return raft.Leader
	case StateCandidate:
		return raft.Candidate
	}
	return raft.Follower
}

// Error is the body of a 4xx or 5xx answer.
type Error struct {
	Error string `json:"error"`
}

// Names names the nodes of a cluster: node raft.ID(i) is Names[i].
type Names []string

// ID returns the node called name.
func (ns Names) ID(name string) (raft.ID, bool) {
	i := slices.Index(ns, name)
	return raft.ID(i), i >= 0
}

// Name returns the name of node id, or "" for raft.None.
func (ns Names) Name(id raft.ID) string {
	if id < 0 || int(id) >= len(ns) {
		return ""
	}
	return ns[id]
}

// NodeNames returns the names raftsim gives the nodes of an n-node cluster:
// n1, n2, ..., as traces print them.
func NodeNames(n int) Names {
	ns := make(Names, n)
	for i := range ns {
		ns[i] = raft.ID(i).String()
	}
	return ns
}

// Sort orders names so that their IDs follow a natural order: n2 before
// n10, then alphabetically. Every node of a cluster sorts the same set of
// names the same way.
func Sort(ns Names) {
	slices.SortFunc(ns, func(a, b string) int {
		pa, na := splitNumber(a)
		pb, nb := splitNumber(b)
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
}

// splitNumber splits a trailing decimal number off s: node10 is (node, 10).
func splitNumber(s string) (string, uint64) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.ParseUint(s[i:], 10, 64)
	if err != nil {
		return s, 0
	}
	return s[:i], n
}

// Request is one RPC request read from the wire.
type Request struct {
	// Sender is the candidateId or leaderId the body names.
	Sender string
	// Msgs are the request as raft messages, with From and To unset: one,
	// or for an AppendEntries with more than raft.MaxEntries entries, one
	// per raft.MaxEntries entries, to be handled in order.
	Msgs []raft.Message
}

// DecodeRequest reads the body of a request of type t. It needs the
// fields the chapter's interfaces require of every sender — term, and
// candidateId or leaderId — and reads the others as 0 (or no entries)
// when they are missing, so that a heartbeat of only {term, leaderId} is
// understood. Unknown fields are ignored. It refuses, with an error and no
// request, what no honest node sends: see [DecodeObject], and CONTRACT.md's
// "What raftsim refuses".
func DecodeRequest(t raft.MsgType, body []byte) (Request, error) {
	switch t {
	case raft.MsgVote, raft.MsgPreVote:
		var a RequestVoteArgs
		if err := DecodeObject(body, &a, "term", "candidateId"); err != nil {
			return Request{}, err
		}
		if err := checkRequestVote(&a); err != nil {
			return Request{}, err
		}
		m := raft.Message{Type: t, From: raft.None, To: raft.None, Term: a.Term, LogTerm: a.LastLogTerm, Index: a.LastLogIndex}
		return Request{Sender: a.CandidateID, Msgs: []raft.Message{m}}, nil
	case raft.MsgApp:
		var a AppendEntriesArgs
		if err := DecodeObject(body, &a, "term", "leaderId"); err != nil {
			return Request{}, err
		}
		if err := checkAppendEntries(&a); err != nil {
			return Request{}, err
		}
		return Request{Sender: a.LeaderID, Msgs: appendMessages(&a)}, nil
	}
	return Request{}, fmt.Errorf("no request of type %v", t)
}

// appendMessages splits a into messages of at most raft.MaxEntries entries.
func appendMessages(a *AppendEntriesArgs) []raft.Message {
	var out []raft.Message
	prev, prevTerm := a.PrevLogIndex, a.PrevLogTerm
	rest := a.Entries
	for {
		m := raft.Message{Type: raft.MsgApp, From: raft.None, To: raft.None, Term: a.Term, Index: prev, LogTerm: prevTerm, Commit: a.LeaderCommit}
		for len(rest) > 0 && int(m.NEntries) < raft.MaxEntries {
			m.Entries[m.NEntries] = rest[0].Term
			m.NEntries++
			prev, prevTerm = prev+1, rest[0].Term
			rest = rest[1:]
		}
		out = append(out, m)
		if len(rest) == 0 {
			return out
		}
	}
}

// EncodeRequest returns the body of request m, which names its sender as
// sender.
func EncodeRequest(m *raft.Message, sender string) any {
	if m.Type == raft.MsgApp || m.Type == raft.MsgHeartbeat {
		a := AppendEntriesArgs{Term: m.Term, LeaderID: sender, PrevLogIndex: m.Index, PrevLogTerm: m.LogTerm,
			Entries: make([]LogEntry, m.NEntries), LeaderCommit: m.Commit}
		for k := range a.Entries {
			a.Entries[k] = LogEntry{Index: m.Index + 1 + uint64(k), Term: m.Entries[k], Command: json.RawMessage("null")}
		}
		return &a
	}
	return &RequestVoteArgs{Term: m.Term, CandidateID: sender, LastLogIndex: m.Index, LastLogTerm: m.LogTerm}
}

// EncodeReply returns the body of reply m.
func EncodeReply(m *raft.Message) any {
	if m.Type == raft.MsgHeartbeatResp {
		return &AppendEntriesReply{Term: m.Term, Success: !m.Reject}
	}
	if m.Type == raft.MsgAppResp {
		idx := m.Index
		return &AppendEntriesReply{Term: m.Term, Success: !m.Reject, MatchIndex: &idx}
	}
	return &RequestVoteReply{Term: m.Term, VoteGranted: !m.Reject}
}

// ReplyType returns the type of the reply to a request of type t.
func ReplyType(t raft.MsgType) raft.MsgType {
	switch t {
	case raft.MsgVote:
		return raft.MsgVoteResp
	case raft.MsgPreVote:
		return raft.MsgPreVoteResp
	case raft.MsgHeartbeat:
		return raft.MsgHeartbeatResp
	}
	return raft.MsgAppResp
}

// DecodeReply reads the body of the reply to req (the last message of the
// request, for a long AppendEntries) as a message from req.To to req.From.
func DecodeReply(req *raft.Message, body []byte) (raft.Message, error) {
	m := raft.Message{Type: ReplyType(req.Type), From: req.To, To: req.From}
	if req.Type == raft.MsgApp || req.Type == raft.MsgHeartbeat {
		var r AppendEntriesReply
		if err := DecodeObject(body, &r, "term", "success"); err != nil {
			return m, err
		}
		match := uint64(0)
		if r.MatchIndex != nil {
			match = *r.MatchIndex
		}
		if err := bounded(number{"term", r.Term}, number{"matchIndex", match}); err != nil {
			return m, err
		}
		m.Term, m.Reject = r.Term, !r.Success
		if req.Type == raft.MsgHeartbeat {
			return m, nil
		}
		if m.Reject {
			m.Commit = req.Index // the index refused, which etcd's leader reads (raft.Message.Commit)
		}
		switch {
		case r.MatchIndex != nil:
			m.Index = *r.MatchIndex
		case r.Success:
			m.Index = req.Index + uint64(req.NEntries)
		default:
			m.Index = max(req.Index, 1) - 1
		}
		return m, nil
	}
	var r RequestVoteReply
	if err := DecodeObject(body, &r, "term", "voteGranted"); err != nil {
		return m, err
	}
	if err := bounded(number{"term", r.Term}); err != nil {
		return m, err
	}
	m.Term, m.Reject = r.Term, !r.VoteGranted
	return m, nil
}

// DecodeStatus reads a /status body. It needs the chapter's id, state and
// term; leader may be null or missing.
func DecodeStatus(body []byte) (Status, error) {
	var s Status
	if err := DecodeObject(body, &s, "id", "state", "term"); err != nil {
		return s, err
	}
	if err := bounded(number{"term", s.Term}, number{"commitIndex", s.CommitIndex}, number{"logLength", s.LogLength}); err != nil {
		return s, err
	}
	switch s.State {
	case StateFollower, StateCandidate, StateLeader:
		return s, nil
	}
	return s, fmt.Errorf("field \"state\": %q is not follower, candidate or leader", s.State)
}
