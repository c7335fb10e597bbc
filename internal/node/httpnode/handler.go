package httpnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"

	"github.com/raftsim/raftsim/internal/node/realtime"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
)

// Handler returns the node's HTTP API.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, path := range []string{wire.PathRequestVote, wire.PathPreVote, wire.PathAppendEntries, wire.PathHeartbeat} {
		mux.HandleFunc("POST "+path, n.serveRPC)
	}
	mux.HandleFunc("GET "+wire.PathStatus, n.serveStatus)
	mux.HandleFunc("POST "+wire.PathPropose, n.servePropose)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// serveRPC answers RequestVote, Pre-Vote and AppendEntries (heartbeat).
func (n *Node) serveRPC(w http.ResponseWriter, r *http.Request) {
	t, _ := wire.RequestType(r.URL.Path)
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := wire.DecodeRequest(t, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	from, ok := n.names.ID(req.Sender)
	if !ok || from == n.self {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sender %q is not a peer of %s (peers: %v)", req.Sender, n.cfg.Name, n.peerNames()))
		return
	}
	select {
	case <-n.booted:
	default:
		writeError(w, http.StatusServiceUnavailable, n.cfg.Name+" has not started yet")
		return
	}
	for k := range req.Msgs {
		req.Msgs[k].From, req.Msgs[k].To = from, n.self
	}
	reply, err := n.drv.Handle(req.Msgs)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, wire.EncodeReply(&reply))
}

func (n *Node) peerNames() []string {
	var out []string
	for _, p := range n.cfg.Peers {
		out = append(out, p.Name)
	}
	return out
}

// serveStatus answers GET /status with what the node's last Ready said.
func (n *Node) serveStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, n.Status())
}

// Status returns the node's /status. Before the boot (StartAt) it is the
// state its data directory holds, as a follower that knows no leader: a
// restarted node never reports a term below the one it persisted.
func (n *Node) Status() wire.Status {
	select {
	case <-n.booted:
	default:
		s := wire.Status{ID: n.cfg.Name, State: wire.StateFollower, Term: n.stored.Term, LogLength: uint64(len(n.stored.Log))}
		if n.stored.Vote != "" {
			s.VotedFor = &n.stored.Vote
		}
		return s
	}
	st := n.drv.State()
	s := wire.Status{ID: n.cfg.Name, State: wire.StateOf(st.Role), Term: st.Term, CommitIndex: st.Commit, LogLength: st.LastIndex}
	if st.Lead != raft.None {
		lead := n.names.Name(st.Lead)
		s.Leader = &lead
	}
	if st.Vote != raft.None {
		vote := n.names.Name(st.Vote)
		s.VotedFor = &vote
	}
	return s
}

// ProposeArgs is the body of POST /propose: how many entries to append.
type ProposeArgs struct {
	Count int `json:"count"`
}

// ProposeReply answers POST /propose: whether the node leads and appended
// the entries.
type ProposeReply struct {
	Accepted bool `json:"accepted"`
}

func (n *Node) servePropose(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var a ProposeArgs
	if err := wire.DecodeObject(body, &a, "count"); err != nil {
		writeError(w, http.StatusBadRequest, "want {\"count\": N}: "+err.Error())
		return
	}
	if a.Count < 1 || a.Count > maxPropose {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("count %d: want 1 to %d", a.Count, maxPropose))
		return
	}
	ok, err := n.drv.Propose(a.Count)
	if errors.Is(err, realtime.ErrStopped) {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ProposeReply{Accepted: ok})
}

// readBody reads a request's body, at most wire.MaxBody bytes of it, or
// answers 400 and reports false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the body is over %d bytes, the most a node reads", wire.MaxBody))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return nil, false
	}
	return body, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code, data = http.StatusInternalServerError, []byte(`{"error":"encoding the reply"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, wire.Error{Error: msg})
}

// osRand is a raft.Rand drawing from math/rand/v2's source, which each
// process seeds at random: a live node's election timeouts need not be
// reproducible, only independent of its peers'.
type osRand struct{}

func (osRand) Int63n(n int64) int64 { return rand.Int64N(n) }
