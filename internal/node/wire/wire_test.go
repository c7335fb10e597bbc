package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
)

func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		typ    raft.MsgType
		body   string
		sender string
		want   []string // the messages, as traces print them
		err    string   // part of the error, when one is wanted
	}{
		{"vote", raft.MsgVote, `{"term":4,"candidateId":"n2","lastLogIndex":7,"lastLogTerm":2}`, "n2",
			[]string{"RequestVote term=4 log=2/7"}, ""},
		{"pre-vote", raft.MsgPreVote, `{"term":5,"candidateId":"node3","lastLogIndex":0,"lastLogTerm":0}`, "node3",
			[]string{"PreVote term=5 log=0/0"}, ""},
		{"the chapter's bare heartbeat", raft.MsgApp, `{"term":3,"leaderId":"n1"}`, "n1",
			[]string{"AppendEntries term=3 prev=0/0 entries=0 commit=0"}, ""},
		{"entries", raft.MsgApp, `{"term":3,"leaderId":"n1","prevLogIndex":2,"prevLogTerm":1,"entries":[{"index":3,"term":3,"command":null}],"leaderCommit":2}`, "n1",
			[]string{"AppendEntries term=3 prev=1/2 entries=1 commit=2"}, ""},
		{"more entries than a message holds", raft.MsgApp, `{"term":3,"leaderId":"n1","prevLogIndex":0,"prevLogTerm":0,"entries":[` +
			`{"index":1,"term":1},{"index":2,"term":1},{"index":3,"term":2},{"index":4,"term":2},{"index":5,"term":3}],"leaderCommit":1}`, "n1",
			[]string{"AppendEntries term=3 prev=0/0 entries=4 commit=1", "AppendEntries term=3 prev=2/4 entries=1 commit=1"}, ""},
		{"unknown fields are ignored", raft.MsgVote, `{"term":1,"candidateId":"n1","color":"red"}`, "n1",
			[]string{"RequestVote term=1 log=0/0"}, ""},
		{"not JSON", raft.MsgVote, `term=1`, "", nil, "not a JSON object"},
		{"no term", raft.MsgVote, `{"candidateId":"n1"}`, "", nil, `missing field "term"`},
		{"null sender", raft.MsgApp, `{"term":1,"leaderId":null}`, "", nil, `missing field "leaderId"`},
		{"negative term", raft.MsgVote, `{"term":-1,"candidateId":"n1"}`, "", nil, `field "term"`},
		{"a string term", raft.MsgApp, `{"term":"1","leaderId":"n1"}`, "", nil, `field "term"`},
		{"entries out of order", raft.MsgApp, `{"term":1,"leaderId":"n1","prevLogIndex":1,"entries":[{"index":3,"term":1}]}`, "", nil, "entries[0].index is 3"},
		{"entries that skip one", raft.MsgApp, `{"term":1,"leaderId":"n1","prevLogIndex":1,"entries":[{"index":2,"term":1},{"index":4,"term":1}]}`, "", nil, "entries[1].index is 4"},
		{"entries that go back", raft.MsgApp, `{"term":1,"leaderId":"n1","prevLogIndex":1,"entries":[{"index":1,"term":1}]}`, "", nil, "entries[0].index is 1"},

		// Numbers a JSON number does not carry exactly: the request
		// first, then each field, and the bound itself, which is accepted.
		{"a term of 2^64-1", raft.MsgVote, `{"term":18446744073709551615,"candidateId":"n2","lastLogIndex":0,"lastLogTerm":0}`, "", nil,
			`field "term": 18446744073709551615 is above 9007199254740991 (2^53-1)`},
		{"a term of 2^53", raft.MsgApp, `{"term":9007199254740992,"leaderId":"n1"}`, "", nil, `field "term": 9007199254740992 is above`},
		{"a term of 2^53-1", raft.MsgApp, `{"term":9007199254740991,"leaderId":"n1"}`, "n1",
			[]string{"AppendEntries term=9007199254740991 prev=0/0 entries=0 commit=0"}, ""},
		{"lastLogIndex", raft.MsgPreVote, `{"term":2,"candidateId":"n1","lastLogIndex":9007199254740992}`, "", nil, `field "lastLogIndex"`},
		{"lastLogTerm", raft.MsgVote, `{"term":2,"candidateId":"n1","lastLogTerm":9007199254740992}`, "", nil, `field "lastLogTerm"`},
		{"prevLogIndex", raft.MsgApp, `{"term":2,"leaderId":"n1","prevLogIndex":9007199254740992}`, "", nil, `field "prevLogIndex"`},
		{"prevLogTerm", raft.MsgApp, `{"term":2,"leaderId":"n1","prevLogTerm":9007199254740992}`, "", nil, `field "prevLogTerm"`},
		{"leaderCommit", raft.MsgApp, `{"term":2,"leaderId":"n1","leaderCommit":9007199254740992}`, "", nil, `field "leaderCommit"`},
		{"an entry's index", raft.MsgApp, `{"term":2,"leaderId":"n1","prevLogIndex":9007199254740991,"entries":[{"index":9007199254740992,"term":1}]}`, "", nil,
			`field "entries[0].index": 9007199254740992 is above`},
		{"an entry's term", raft.MsgApp, `{"term":2,"leaderId":"n1","entries":[{"index":1,"term":1},{"index":2,"term":9007199254740992}]}`, "", nil,
			`field "entries[1].term"`},
		{"beyond 2^64", raft.MsgVote, `{"term":18446744073709551616,"candidateId":"n1"}`, "", nil, `field "term": 18446744073709551616 is above 9007199254740991`},
		{"a fraction", raft.MsgVote, `{"term":1.5,"candidateId":"n1"}`, "", nil, `field "term": want a whole number from 0 to 9007199254740991, got number 1.5`},

		// Logs no honest node has.
		{"a candidate's log newer than its term", raft.MsgVote, `{"term":2,"candidateId":"n1","lastLogIndex":1,"lastLogTerm":3}`, "", nil,
			"lastLogTerm 3 is above term 2"},
		{"a leader's prevLogTerm newer than its term", raft.MsgApp, `{"term":2,"leaderId":"n1","prevLogIndex":1,"prevLogTerm":3}`, "", nil,
			"prevLogTerm 3 is above term 2"},
		{"an entry newer than the term", raft.MsgApp, `{"term":2,"leaderId":"n1","entries":[{"index":1,"term":3}]}`, "", nil,
			"entries[0].term is 3, above term 2"},
		{"entry terms that decrease", raft.MsgApp, `{"term":3,"leaderId":"n1","entries":[{"index":1,"term":2},{"index":2,"term":1}]}`, "", nil,
			"entries[1].term is 1, below the term 2 before it"},
		{"an entry older than prevLogTerm", raft.MsgApp, `{"term":3,"leaderId":"n1","prevLogIndex":1,"prevLogTerm":2,"entries":[{"index":2,"term":1}]}`, "", nil,
			"entries[0].term is 1, below the term 2 before it"},

		// Duplicate keys: Go's reader keeps the last, others the first.
		{"a key twice", raft.MsgVote, `{"term":1,"candidateId":"n1","term":99}`, "", nil, `key "term": a key twice`},
		{"a key twice, in case", raft.MsgVote, `{"term":1,"candidateId":"n1","TERM":99}`, "", nil, `keys "term" and "TERM"`},
		{"a key twice, escaped", raft.MsgApp, `{"term":1,"leaderId":"n1","le\u0061derId":"n2"}`, "", nil, `key "leaderId"`},
		{"a key twice in an entry", raft.MsgApp, `{"term":1,"leaderId":"n1","entries":[{"index":1,"term":1,"term":2}]}`, "", nil, `key "term"`},
		{"a key twice in a command", raft.MsgApp, `{"term":1,"leaderId":"n1","entries":[{"index":1,"term":1,"command":{"a":[{"x":1,"x":2}]}}]}`, "", nil, `key "x"`},
		{"the same key in two objects", raft.MsgApp, `{"term":2,"leaderId":"n1","entries":[{"index":1,"term":1,"command":{"term":5}},{"index":2,"term":2}]}`, "n1",
			[]string{"AppendEntries term=2 prev=0/0 entries=2 commit=0"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeRequest(tc.typ, []byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Sender != tc.sender {
				t.Errorf("sender: got %q, want %q", req.Sender, tc.sender)
			}
			var got []string
			for _, m := range req.Msgs {
				got = append(got, m.String())
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRequestsSurviveTheWire(t *testing.T) {
	for _, m := range []raft.Message{
		{Type: raft.MsgVote, Term: 4, LogTerm: 2, Index: 7},
		{Type: raft.MsgPreVote, Term: 9, LogTerm: 3, Index: 1},
		{Type: raft.MsgApp, Term: 3, LogTerm: 1, Index: 5, Commit: 5, NEntries: 2, Entries: [raft.MaxEntries]uint64{2, 3}},
	} {
		body, err := json.Marshal(EncodeRequest(&m, "n4"))
		if err != nil {
			t.Fatal(err)
		}
		req, err := DecodeRequest(m.Type, body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		m.From, m.To = raft.None, raft.None
		if req.Sender != "n4" || len(req.Msgs) != 1 || req.Msgs[0] != m {
			t.Errorf("%s came back as %+v from %q", m.String(), req.Msgs, req.Sender)
		}
	}
}

func TestDecodeReply(t *testing.T) {
	app := raft.Message{Type: raft.MsgApp, From: 0, To: 2, Term: 3, Index: 5, LogTerm: 2, NEntries: 2}
	vote := raft.Message{Type: raft.MsgVote, From: 0, To: 2, Term: 3}
	for _, tc := range []struct {
		req  raft.Message
		body string
		want string
		err  string
	}{
		{vote, `{"term":3,"voteGranted":true}`, "RequestVoteResp term=3 granted", ""},
		{vote, `{"term":4,"voteGranted":false}`, "RequestVoteResp term=4 rejected", ""},
		{app, `{"term":3,"success":true,"matchIndex":7}`, "AppendEntriesResp term=3 match=7", ""},
		{app, `{"term":3,"success":true}`, "AppendEntriesResp term=3 match=7", ""}, // derived: prev + entries
		{app, `{"term":3,"success":false}`, "AppendEntriesResp term=3 rejected last=4", ""},
		{app, `{"success":true}`, "", `missing field "term"`},
		{vote, `{"term":3}`, "", `missing field "voteGranted"`},
		{vote, `{"term":9007199254740992,"voteGranted":false}`, "", `field "term": 9007199254740992 is above`},
		{app, `{"term":3,"success":true,"matchIndex":9007199254740992}`, "", `field "matchIndex"`},
		{app, `{"term":3,"success":true,"success":false}`, "", `key "success"`},
	} {
		m, err := DecodeReply(&tc.req, []byte(tc.body))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got error %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if m.String() != tc.want || m.From != 2 || m.To != 0 {
			t.Errorf("%s: got %s from %v to %v, want %s from n3 to n1", tc.body, m.String(), m.From, m.To, tc.want)
		}
	}
}

func TestSortNamesNaturally(t *testing.T) {
	ns := Names{"node10", "node2", "n3", "node1", "alpha"}
	Sort(ns)
	if got := strings.Join(ns, ","); got != "alpha,n3,node1,node2,node10" {
		t.Errorf("got %s", got)
	}
	if id, ok := ns.ID("node2"); !ok || id != 3 {
		t.Errorf("ID(node2): got %v %v, want 3 true", id, ok)
	}
	if _, ok := ns.ID("node3"); ok {
		t.Error("ID(node3): found a node that is not there")
	}
}

func TestDecodeStatus(t *testing.T) {
	s, err := DecodeStatus([]byte(`{"id":"node1","state":"leader","term":3,"leader":"node1"}`))
	if err != nil || s.State != StateLeader || s.Leader == nil || *s.Leader != "node1" {
		t.Errorf("got %+v, %v", s, err)
	}
	if _, err := DecodeStatus([]byte(`{"id":"n1","state":"king","term":3}`)); err == nil {
		t.Error("a state that is not follower, candidate or leader was accepted")
	}
	if _, err := DecodeStatus([]byte(`{"id":"n1","term":3}`)); !errors.Is(err, ErrMissing) {
		t.Errorf("no state: got %v, want ErrMissing", err)
	}
	if _, err := DecodeStatus([]byte(`{"id":"n1","state":"leader","term":18446744073709551615}`)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a term of 2^64-1: got %v, want ErrTooLarge", err)
	}
	if _, err := DecodeStatus([]byte(`{"id":"n1","state":"leader","term":3,"state":"follower"}`)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("a state twice: got %v, want ErrDuplicate", err)
	}
}

func TestParsePeers(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"n2=127.0.0.1:3002,n3=127.0.0.1:3003", "n2=127.0.0.1:3002,n3=127.0.0.1:3003", ""},
		{"node2:3002, node3:3003", "node2=node2:3002,node3=node3:3003", ""}, // the chapter's compose file
		{"", "", ""},
		{"n2=127.0.0.1", "", "want NAME=HOST:PORT"},
		{"n2=127.0.0.1:99999", "", "is not 1 to 65535"},
		{"=127.0.0.1:3002", "", "no name"},
	} {
		peers, err := ParsePeers(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || FormatPeers(peers) != tc.want {
			t.Errorf("%q: got %q, %v, want %q", tc.in, FormatPeers(peers), err, tc.want)
		}
	}
}

// TestStatusRoles: /status names each role, and reading the name gives the
// role back.
func TestStatusRoles(t *testing.T) {
	for _, tc := range []struct {
		role  raft.Role
		state string
	}{{raft.Follower, StateFollower}, {raft.Candidate, StateCandidate}, {raft.Leader, StateLeader}} {
		if got := StateOf(tc.role); got != tc.state {
			t.Errorf("StateOf(%v) = %q, want %q", tc.role, got, tc.state)
		}
		if got := RoleOf(tc.state); got != tc.role {
			t.Errorf("RoleOf(%q) = %v, want %v", tc.state, got, tc.role)
		}
	}
	if got := RoleOf("confused"); got != raft.Follower {
		t.Errorf("RoleOf of an unknown state = %v, want a follower", got)
	}
}

// TestFoldIsGosKeyMatch: two keys are one key to uniqueKeys exactly when
// Go's reader would fill one field from both (bytes.EqualFold, which
// encoding/json's foldName follows).
func TestFoldIsGosKeyMatch(t *testing.T) {
	keys := []string{"term", "TERM", "Term", "tErm", "terms", "leaderId", "leaderid", "leaderİd",
		"s", "S", "ſ", "k", "K", "\u212a", "ß", "SS", "", "é", "É"}
	for _, a := range keys {
		for _, b := range keys {
			if got, want := fold(a) == fold(b), bytes.EqualFold([]byte(a), []byte(b)); got != want {
				t.Errorf("%q and %q: one key is %v, want %v", a, b, got, want)
			}
		}
	}
}
