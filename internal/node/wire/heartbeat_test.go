package wire

import (
	"encoding/json"
	"testing"

	"github.com/raftsim/raftsim/raft"
)

// TestEtcdHeartbeatOnTheWire: etcd's heartbeat travels as the course's
// heartbeat — POST /raft/heartbeat with an AppendEntries body that has no
// entries and no log position — and its reply as an AppendEntries reply;
// the requester reads the reply back as a HeartbeatResp. A refused
// AppendEntries reply carries, in Commit, the index refused, which etcd's
// leader reads.
func TestEtcdHeartbeatOnTheWire(t *testing.T) {
	hb := raft.Message{Type: raft.MsgHeartbeat, From: 0, To: 1, Term: 4, Commit: 7}
	if Path(hb.Type) != PathHeartbeat || ReplyType(hb.Type) != raft.MsgHeartbeatResp {
		t.Fatalf("path %s, reply %v", Path(hb.Type), ReplyType(hb.Type))
	}
	body, err := json.Marshal(EncodeRequest(&hb, "n1"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeRequest(raft.MsgApp, body)
	if err != nil || len(req.Msgs) != 1 {
		t.Fatalf("%s: %v", body, err)
	}
	if m := req.Msgs[0]; m.Type != raft.MsgApp || m.Term != 4 || m.Commit != 7 || m.Index != 0 || m.LogTerm != 0 || m.NEntries != 0 {
		t.Fatalf("%s read as %v", body, m.String())
	}
	reply, err := json.Marshal(EncodeReply(&raft.Message{Type: raft.MsgHeartbeatResp, From: 1, To: 0, Term: 4}))
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != `{"term":4,"success":true}` {
		t.Errorf("heartbeat reply %s", reply)
	}
	back, err := DecodeReply(&hb, reply)
	if err != nil || back.Type != raft.MsgHeartbeatResp || back.Term != 4 || back.From != 1 || back.To != 0 {
		t.Errorf("read back as %v (%+v), %v", back.String(), back, err)
	}
	app := raft.Message{Type: raft.MsgApp, From: 0, To: 1, Term: 4, Index: 9, LogTerm: 3}
	refused, err := DecodeReply(&app, []byte(`{"term":4,"success":false,"matchIndex":5}`))
	if err != nil || !refused.Reject || refused.Index != 5 || refused.Commit != 9 {
		t.Errorf("a refusal of prevLogIndex 9 read as %+v, %v; want Index 5 (the hint) and Commit 9 (the index refused)", refused, err)
	}
}
