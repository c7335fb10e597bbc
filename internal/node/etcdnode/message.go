package etcdnode

import (
	"fmt"

	etcd "go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/raftsim/raftsim/raft"
)

// etcdID is the etcd id of raftsim's node id: n1 is 1; none is 0 (etcd's
// None).
func etcdID(id raft.ID) uint64 {
	if id == raft.None {
		return etcd.None
	}
	return uint64(id) + 1
}

// raftID is raftsim's id of etcd's node id.
func raftID(id uint64) raft.ID {
	if id == etcd.None {
		return raft.None
	}
	return raft.ID(id - 1)
}

func role(s etcd.StateType) raft.Role {
	switch s {
	case etcd.StateCandidate:
		return raft.Candidate
	case etcd.StatePreCandidate:
		return raft.PreCandidate
	case etcd.StateLeader:
		return raft.Leader
	}
	return raft.Follower
}

// fromEtcd translates a message etcd sent into raftsim's, field by field
// (raft.Message documents where etcd's fields go); it notes a vote granted.
// etcd sends no other kind of message to a peer here: no snapshots (the
// log is never compacted), no forwarded proposals, no leadership
// transfers or read indexes.
func (n *Node) fromEtcd(e *pb.Message) raft.Message {
	m := raft.Message{From: raftID(e.GetFrom()), To: raftID(e.GetTo()), Term: e.GetTerm(), Reject: e.GetReject()}
	switch e.GetType() {
	case pb.MsgVote, pb.MsgPreVote:
		m.Type = raft.MsgVote
		if e.GetType() == pb.MsgPreVote {
			m.Type = raft.MsgPreVote
		}
		m.LogTerm, m.Index = e.GetLogTerm(), e.GetIndex()
	case pb.MsgVoteResp:
		m.Type = raft.MsgVoteResp
		n.granted = n.granted || !m.Reject
	case pb.MsgPreVoteResp:
		m.Type = raft.MsgPreVoteResp
	case pb.MsgApp:
		m.Type, m.LogTerm, m.Index, m.Commit = raft.MsgApp, e.GetLogTerm(), e.GetIndex(), e.GetCommit()
		ents := e.GetEntries()
		if len(ents) > raft.MaxEntries {
			panic(fmt.Sprintf("etcdnode: %v sent %d entries in one AppendEntries, more than %d", n.cfg.ID, len(ents), raft.MaxEntries))
		}
		for k, en := range ents {
			if en.GetIndex() != m.Index+1+uint64(k) {
				panic(fmt.Sprintf("etcdnode: %v sent entry %d after %d", n.cfg.ID, en.GetIndex(), m.Index+uint64(k)))
			}
			m.Entries[k] = en.GetTerm()
		}
		m.NEntries = uint8(len(ents))
	case pb.MsgAppResp:
		m.Type, m.Index = raft.MsgAppResp, e.GetIndex()
		if m.Reject {
			m.Index, m.LogTerm, m.Commit = e.GetRejectHint(), e.GetLogTerm(), e.GetIndex()
		}
	case pb.MsgHeartbeat:
		m.Type, m.Commit = raft.MsgHeartbeat, e.GetCommit()
	case pb.MsgHeartbeatResp:
		m.Type = raft.MsgHeartbeatResp
	default:
		panic(fmt.Sprintf("etcdnode: %v sent %v, which raftsim's messages do not carry", n.cfg.ID, e.GetType()))
	}
	return m
}

// toEtcd translates a message for the node into etcd's, or returns nil for
// one it must not see. An AppendEntries with no entries and no log
// position (prev 0/0) is the course's heartbeat, as a peer's heartbeat
// arrives over raftsim serve's HTTP API; etcd never sends such an
// AppendEntries (a leader's log holds at least its own term's entry), so
// the two cannot be confused. A heartbeat that would commit beyond the
// node's log comes from no leader of etcd's (which sends min(match,
// commit)) and is dropped: etcd would panic on it.
func (n *Node) toEtcd(m *raft.Message) *pb.Message {
	x := &message{typ: etcdTypes[m.Type], from: etcdID(m.From), to: etcdID(m.To), term: m.Term,
		logTerm: m.LogTerm, index: m.Index, commit: m.Commit, reject: m.Reject}
	e := &x.m
	e.Type, e.From, e.To, e.Term = &x.typ, &x.from, &x.to, &x.term
	if m.Reject {
		e.Reject = &x.reject
	}
	switch m.Type {
	case raft.MsgVote, raft.MsgPreVote:
		e.LogTerm, e.Index = &x.logTerm, &x.index
	case raft.MsgVoteResp, raft.MsgPreVoteResp, raft.MsgHeartbeatResp:
	case raft.MsgApp:
		if m.Index == 0 && m.LogTerm == 0 && m.NEntries == 0 {
			return n.heartbeat(x)
		}
		e.LogTerm, e.Index, e.Commit = &x.logTerm, &x.index, &x.commit
		e.Entries = make([]*pb.Entry, m.NEntries)
		for k := range e.Entries {
			en := &entry{index: m.Index + 1 + uint64(k), term: m.Entries[k]}
			en.e.Index, en.e.Term = &en.index, &en.term
			e.Entries[k] = &en.e
		}
	case raft.MsgAppResp:
		e.Index = &x.index
		if m.Reject {
			x.index, x.hint = m.Commit, m.Index
			e.RejectHint, e.LogTerm = &x.hint, &x.logTerm
		}
	case raft.MsgHeartbeat:
		return n.heartbeat(x)
	default:
		return nil
	}
	return e
}

// message is an etcd message and the values its fields point to, in one
// allocation: etcd's messages hold pointers to their fields.
type message struct {
	m                                            pb.Message
	typ                                          pb.MessageType
	from, to, term, logTerm, index, commit, hint uint64
	reject                                       bool
}

// entry is an etcd entry and the values its fields point to.
type entry struct {
	e           pb.Entry
	index, term uint64
}

// etcdTypes are etcd's types of raftsim's messages.
var etcdTypes = [...]pb.MessageType{
	raft.MsgVote: pb.MsgVote, raft.MsgVoteResp: pb.MsgVoteResp, raft.MsgPreVote: pb.MsgPreVote,
	raft.MsgPreVoteResp: pb.MsgPreVoteResp, raft.MsgApp: pb.MsgApp, raft.MsgAppResp: pb.MsgAppResp,
	raft.MsgHeartbeat: pb.MsgHeartbeat, raft.MsgHeartbeatResp: pb.MsgHeartbeatResp,
}

// heartbeat makes x a heartbeat, or returns nil when no leader of etcd's
// could have sent it.
func (n *Node) heartbeat(x *message) *pb.Message {
	if x.commit > uint64(len(n.log)) && x.term >= n.state.Term {
		return nil // a stale one etcd ignores whatever it says
	}
	x.typ, x.m.Commit = pb.MsgHeartbeat, &x.commit
	return &x.m
}
