// Package conformance drives a single Raft node — raftsim's own or any
// program that keeps the node contract (internal/node/wire/CONTRACT.md) —
// with hand-made RPCs and reports, rule by rule, whether it behaves as
// Figure 2 says: one vote per term; refuse a stale term; adopt a higher term
// and step down; step down as a candidate on an AppendEntries of its own
// term; refuse a candidate whose log is behind; reset the election timer on
// a heartbeat from the current leader; campaign again after a split vote;
// lead only with a majority of the whole cluster; lead as soon as a
// majority granted, without waiting for every peer; keep term and vote
// across a restart. raftsim live --conformance runs it.
//
// The node under test is n1 of an N-node cluster (4 unless told otherwise:
// the smallest where a majority over the peers differs from the real one)
// whose other members, n2 … nN, are raftsim's stand-ins: they answer n1's
// requests as each rule needs (granting or refusing votes, or not answering
// at all) and raftsim's proxy, between n1 and them, records what n1 sends.
// Each rule runs on a fresh process and data directory.
//
// conformance must never leave a process or directory behind, and never
// call a rule failed when the node could not have been tested on it (a node
// without log replication cannot have a log that is ahead): such a rule is
// skipped, saying why.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/raftsim/raftsim/internal/live"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/raft"
)

// Outcome is how a rule went.
type Outcome string

// The outcomes.
const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	Skip Outcome = "skip" // the node could not be tested on the rule
)

// Result is one rule's outcome, with what was sent and received.
type Result struct {
	Rule    string   `json:"rule"`
	Outcome Outcome  `json:"outcome"`
	Why     string   `json:"why"`
	Wire    []string `json:"wire"` // the RPCs, one a line
	Notes   []string `json:"notes,omitempty"`
}

// Options say how to test.
type Options struct {
	// Nodes is the node's program, set up for the protocol (live.Nodes.For):
	// the election timeout below among it.
	Nodes live.Nodes
	// Logs is the directory for the node's log file.
	Logs string
	// ElectionMin and ElectionMax are the election timeout the node was
	// told, which the rules' waits assume; Heartbeat is how often the
	// stand-in leader sends heartbeats.
	ElectionMin, ElectionMax time.Duration
	Heartbeat                time.Duration
	// Size is the cluster the node is told it belongs to: itself and
	// Size-1 stand-ins (3 to MaxSize; 0 means DefaultSize).
	Size int
	// Only, if set, names the rules to test; the others are left out.
	Only []string
}

// Cluster sizes.
const (
	DefaultSize = 4 // the smallest cluster where a majority over the peers is too small
	MaxSize     = 9
)

// rule is one rule's test.
type rule struct {
	name string
	test func(h *harness) (Outcome, string)
}

var rules = []rule{
	{"one vote per term", oneVote},
	{"refuse a stale term", staleTerm},
	{"adopt a higher term and step down", stepDown},
	{"step down as a candidate on an AppendEntries of its own term", candidateStepsDown},
	{"refuse a candidate whose log is behind", logBehind},
	{"reset the election timer on a heartbeat from the current leader", heartbeatResets},
	{"campaign again after a split vote", campaignAgain},
	{"lead only with a majority of the whole cluster", wholeMajority},
	{"lead once a majority granted, without waiting for every peer", noWaitForAll},
	{"keep its term and vote across a restart", keepsAcrossRestart},
}

// Rules lists the rules' names, in the order they are tested.
func Rules() []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.name)
	}
	return out
}

// Run tests the node on every rule.
func Run(ctx context.Context, opt Options) ([]Result, error) {
	if opt.Size == 0 {
		opt.Size = DefaultSize
	}
	if opt.Size < 3 || opt.Size > MaxSize {
		return nil, fmt.Errorf("conformance: a cluster of %d nodes: want 3 to %d", opt.Size, MaxSize)
	}
	var out []Result
	for _, r := range rules {
		if len(opt.Only) > 0 && !slices.Contains(opt.Only, r.name) {
			continue
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		res, err := runRule(ctx, &opt, r)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// runRule starts a fresh node, tests it on r and stops it.
func runRule(ctx context.Context, opt *Options, r rule) (Result, error) {
	h, err := newHarness(ctx, opt)
	if err != nil {
		return Result{}, err
	}
	defer h.close()
	if err := h.cluster.Start(0, time.Now()); err != nil {
		return Result{}, err
	}
	if err := h.cluster.WaitReady(ctx, 0); err != nil {
		return Result{}, err
	}
	outcome, why := r.test(h)
	res := Result{Rule: r.name, Outcome: outcome, Why: why, Wire: h.wire()}
	if h.appPath == wire.PathHeartbeat {
		res.Notes = append(res.Notes, fmt.Sprintf("the node answers AppendEntries only at %s (the chapter's path; the contract makes %s the same RPC): raftsim sent them there",
			wire.PathHeartbeat, wire.PathAppendEntries))
	}
	return res, nil
}

// harness is one node under test and its stand-in peers.
type harness struct {
	ctx     context.Context
	opt     *Options
	dir     string
	cluster *live.Cluster
	peers   []*standIn // n2, n3, ...
	names   wire.Names
	client  *http.Client
	start   time.Time
	appPath string // where the node takes AppendEntries: wire.PathAppendEntries, or the chapter's heartbeat path

	mu    sync.Mutex
	lines []string
	sent  []raft.Message // what n1 sent, as the proxy saw it
}

func newHarness(ctx context.Context, opt *Options) (*harness, error) {
	h := &harness{ctx: ctx, opt: opt, client: &http.Client{Timeout: 2 * time.Second}, start: time.Now(),
		names: wire.NodeNames(opt.Size), appPath: wire.PathAppendEntries}
	var err error
	if h.dir, err = os.MkdirTemp("", "raftsim-conformance-"); err != nil {
		return nil, err
	}
	ports := make([]int, opt.Size) // n1's 0: the cluster holds a free port for it until it starts
	for k := 1; k < opt.Size; k++ {
		p, err := startStandIn(ctx)
		if err != nil {
			h.close()
			return nil, err
		}
		h.peers = append(h.peers, p)
		ports[k] = p.port
	}
	h.cluster, err = live.NewCluster(live.ClusterConfig{Nodes: opt.Nodes, Size: opt.Size, Ports: ports, Data: h.dir, Logs: opt.Logs,
		Observer: h, Now: func() time.Duration { return time.Since(h.start) }})
	if err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *harness) close() {
	if h.cluster != nil {
		h.cluster.Close()
	}
	for _, p := range h.peers {
		p.close()
	}
	h.client.CloseIdleConnections()
	os.RemoveAll(h.dir)
}

// majority returns the votes a candidate needs: ⌊N/2⌋+1 of the cluster.
func (h *harness) majority() int { return raft.Majority(h.opt.Size) }

// grantFrom makes the first k stand-ins grant their votes, the others
// refuse.
func (h *harness) grantFrom(k int) {
	for i, p := range h.peers {
		p.set(i < k, false)
	}
}

func (h *harness) note(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, fmt.Sprintf("t=%6.1fms ", float64(time.Since(h.start))/1e6)+fmt.Sprintf(format, args...))
}

func (h *harness) wire() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// Sent implements proxy.Observer: n1's requests to the stand-ins and their
// answers.
func (h *harness) Sent(m *raft.Message, _, _ time.Duration, dropped string) {
	if m.From == 0 {
		h.mu.Lock()
		h.sent = append(h.sent, *m)
		h.mu.Unlock()
	}
	h.note("%v->%v %s (sent by %s)", m.From, m.To, m.String(), map[bool]string{true: "the node", false: "a stand-in"}[m.From == 0])
}

// The rest of proxy.Observer: nothing to hear.
func (h *harness) Delivered(*raft.Message, time.Duration, time.Duration) {}
func (h *harness) Answered(*raft.Message, *raft.Message, time.Duration)  {}
func (h *harness) Dropped(*raft.Message, time.Duration, string)          {}
func (h *harness) Unreadable(from, to int, _ time.Duration, what string, err error) {
	h.note("%v->%v %s: %v", raft.ID(from), raft.ID(to), what, err)
}

// requestsFrom returns what n1 sent of type t, from index k of what it sent on.
func (h *harness) requestsFrom(k int, t raft.MsgType) []raft.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []raft.Message
	for _, m := range h.sent[min(k, len(h.sent)):] {
		if m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) sentSoFar() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sent)
}

// call sends n1 a hand-made request m (From a stand-in) and returns the
// reply, noting both. AppendEntries go to /raft/append-entries, or, when
// the node answers that with 404, to the chapter's /raft/heartbeat from
// then on: the contract makes them one RPC.
func (h *harness) call(m raft.Message) (raft.Message, error) {
	m.To = 0
	body, err := json.Marshal(wire.EncodeRequest(&m, h.names.Name(m.From)))
	if err != nil {
		return raft.Message{}, err
	}
	path := wire.Path(m.Type)
	if m.Type == raft.MsgApp {
		path = h.appPath
	}
	resp, err := h.client.Post("http://"+h.cluster.Addr(0)+path, "application/json", bytes.NewReader(body))
	if err != nil {
		h.note("%v->n1 %s (sent by raftsim): no answer: %v", m.From, m.String(), err)
		return raft.Message{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode == http.StatusNotFound && m.Type == raft.MsgApp && h.appPath == wire.PathAppendEntries {
		h.note("%v->n1 %s (sent by raftsim): 404 at %s: trying the chapter's %s", m.From, m.String(), wire.PathAppendEntries, wire.PathHeartbeat)
		h.appPath = wire.PathHeartbeat
		return h.call(m)
	}
	if resp.StatusCode != http.StatusOK {
		h.note("%v->n1 %s (sent by raftsim): %s %s", m.From, m.String(), resp.Status, bytes.TrimSpace(data))
		return raft.Message{}, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(data))
	}
	reply, err := wire.DecodeReply(&m, data)
	if err != nil {
		h.note("%v->n1 %s (sent by raftsim): an answer that does not follow the API: %v", m.From, m.String(), err)
		return reply, err
	}
	h.note("%v->n1 %s (sent by raftsim) answered %s", m.From, m.String(), reply.String())
	return reply, nil
}

// status asks n1 for its /status, noting it.
func (h *harness) status() (wire.Status, error) {
	s, err := h.cluster.Status(0)
	if err != nil {
		h.note("/status of n1: %v", err)
		return s, err
	}
	h.note("/status of n1: %s term=%d leader=%s", s.State, s.Term, nameOr(s.Leader))
	return s, nil
}

func nameOr(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// sleep waits d, or less if the run is cancelled.
func (h *harness) sleep(d time.Duration) {
	select {
	case <-h.ctx.Done():
	case <-time.After(d):
	}
}

// heartbeats sends n1 an AppendEntries of term from n2 every heartbeat
// interval for d.
func (h *harness) heartbeats(term uint64, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end) && h.ctx.Err() == nil; {
		h.call(raft.Message{Type: raft.MsgApp, From: 1, Term: term})
		h.sleep(h.opt.Heartbeat)
	}
}

// standIn is one of n1's peers, played by raftsim: it answers RequestVote
// as told (granting, or refusing at the requester's term, as a peer that
// voted for another candidate does, or not answering until the rule ends,
// as a frozen peer), grants every Pre-Vote, and answers AppendEntries with
// success.
type standIn struct {
	srv   *http.Server
	port  int
	ctx   context.Context // a held answer waits for it
	mu    sync.Mutex
	grant bool // RequestVote
	hold  bool // RequestVote: no answer
}

func startStandIn(ctx context.Context) (*standIn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &standIn{port: ln.Addr().(*net.TCPAddr).Port, ctx: ctx}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *standIn) set(grant, hold bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grant, p.hold = grant, hold
}

// maxHold bounds how long a stand-in keeps a request unanswered.
const maxHold = 5 * time.Second

func (p *standIn) serve(w http.ResponseWriter, r *http.Request) {
	t, ok := wire.RequestType(r.URL.Path)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req, err := wire.DecodeRequest(t, body)
	if !ok || err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	m := req.Msgs[len(req.Msgs)-1]
	p.mu.Lock()
	grant, hold := p.grant, p.hold
	p.mu.Unlock()
	if hold && t == raft.MsgVote {
		select { // a frozen peer: the request waits, and its connection closes unanswered
		case <-p.ctx.Done():
		case <-r.Context().Done():
		case <-time.After(maxHold):
		}
		panic(http.ErrAbortHandler)
	}
	reply := raft.Message{Type: wire.ReplyType(t), Term: m.Term, Reject: t == raft.MsgVote && !grant,
		Index: m.Index + uint64(m.NEntries)}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(wire.EncodeReply(&reply))
}

func (p *standIn) close() { p.srv.Close() }

// Write writes results as text: one line per rule, then what was sent and
// received, indented.
func Write(w io.Writer, node string, size int, results []Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "conformance of %s: it runs as n1 of a %d-node cluster; raftsim plays %s\n\n", node, size, playedBy(size))
	passed, failed := 0, 0
	for _, r := range results {
		fmt.Fprintf(&b, "%-4s  %s", strings.ToUpper(string(r.Outcome)), r.Rule)
		if r.Why != "" {
			fmt.Fprintf(&b, ": %s", r.Why)
		}
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "      note: %s\n", n)
		}
		for _, l := range r.Wire {
			fmt.Fprintf(&b, "        %s\n", l)
		}
		switch r.Outcome {
		case Pass:
			passed++
		case Fail:
			failed++
		}
	}
	fmt.Fprintf(&b, "\n%d of %d rules passed, %d failed, %d skipped\n", passed, len(results), failed, len(results)-passed-failed)
	_, err := io.WriteString(w, b.String())
	return err
}

// playedBy names the stand-ins of a cluster of size nodes: "n2, n3 and n4".
func playedBy(size int) string {
	names := wire.NodeNames(size)[1:]
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
