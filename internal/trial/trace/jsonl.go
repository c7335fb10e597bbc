package trace

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// jsonEvent is the machine-readable form of an event: one JSON object a line.
type jsonEvent struct {
	Seq      uint64   `json:"seq"`
	TNs      int64    `json:"t_ns"`
	Kind     string   `json:"kind"`
	Node     string   `json:"node"`
	Peer     string   `json:"peer,omitempty"`
	Msg      *jsonMsg `json:"msg,omitempty"`
	Role     string   `json:"role,omitempty"`
	Term     *uint64  `json:"term,omitempty"`
	Index    *uint64  `json:"index,omitempty"`
	Vote     string   `json:"vote,omitempty"`
	Timer    string   `json:"timer,omitempty"`
	ArriveNs *int64   `json:"arrive_ns,omitempty"`
	UntilNs  *int64   `json:"until_ns,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Text     string   `json:"text,omitempty"`
	Line     string   `json:"line"`
}

type jsonMsg struct {
	Type    string   `json:"type"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Term    uint64   `json:"term"`
	LogTerm uint64   `json:"log_term"`
	Index   uint64   `json:"index"`
	Commit  uint64   `json:"commit,omitempty"`
	Entries []uint64 `json:"entries,omitempty"`
	Reject  bool     `json:"reject,omitempty"`
}

func nodeName(i int) string {
	if i < 0 {
		return "cluster"
	}
	return raft.ID(i).String()
}

func toJSON(e *Event) jsonEvent {
	j := jsonEvent{Seq: e.Seq, TNs: int64(e.At), Kind: e.Kind.String(), Node: nodeName(e.Node), Line: e.Line()}
	u := func(x uint64) *uint64 { return &x }
	t := func(x time.Duration) *int64 { v := int64(x); return &v }
	switch e.Kind {
	case EvSend, EvRecv, EvDrop, EvDup:
		m := &e.Msg
		j.Peer = nodeName(e.Peer)
		j.Msg = &jsonMsg{Type: m.Type.String(), From: m.From.String(), To: m.To.String(), Term: m.Term,
			LogTerm: m.LogTerm, Index: m.Index, Commit: m.Commit, Entries: append([]uint64(nil), m.Entries[:m.NEntries]...), Reject: m.Reject}
		if e.Kind == EvDrop {
			j.Reason = e.Reason
		}
		if e.Arrive > 0 {
			j.ArriveNs = t(e.Arrive)
		}
	case EvStart, EvState:
		j.Role, j.Term = e.Role.String(), u(e.Term)
	case EvVote:
		j.Vote, j.Term = nodeName(e.Vote), u(e.Term)
	case EvCommit:
		j.Index = u(e.Term)
	case EvTimeout:
		j.Timer = e.Timer.String()
	case EvPause:
		j.UntilNs = t(e.Arrive)
	default:
		j.Text = e.Text
	}
	return j
}

// WriteJSONL writes one JSON object per event, each on its own line.
func WriteJSONL(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range events {
		if err := enc.Encode(toJSON(&events[i])); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func itoa(i int) string { return strconv.Itoa(i) }
