package raft

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Scripts in testdata/*.txt drive a small cluster of nodes by hand, in the
// spirit of etcd raft's testdata: each block is a command, a line "----",
// and the output the command must print, ended by a blank line. One script
// per rule of Figure 2 and per option. go test ./raft -update rewrites the
// expected output; review the diff like code.
//
// Commands (node names n1 ... nN; times in Go's units):
//
//	cluster size=N [prevote] [check-quorum] [stickiness] [reset-on-step-down]
//	        [bugs=a,b] [term=T] [log-n2=1,1,2] [election=150ms-300ms]
//	                      new nodes with that persistent state, started at 0
//	time T                the clock reads T for the inputs that follow
//	campaign nX           nX's election timer fires (the same as tick nX)
//	tick nX [heartbeat]   nX's election (or heartbeat) timer fires
//	deliver [from=nX] [to=nY] [type=T] [count=K]
//	                      deliver the matching messages queued before the
//	                      command, in the order sent (type: as printed)
//	drop [from=nX] [to=nY] [type=T]
//	                      discard the matching queued messages
//	stabilize             deliver until no message is queued
//	step nX from=nY type=T term=K [log=T/I] [prev=T/I] [entries=1,2]
//	        [commit=C] [reject] [index=I]
//	                      hand nX one made-up message
//	propose nX [count=K]  nX appends K entries if it leads
//	crash nX              nX stops; messages to it are lost
//	restart nX            nX boots again from its persistent state
//	status                every node's state and log
//
// After each input the node's Ready is printed: its state when it changed,
// what it must make durable, the timers it set and the messages it sent.
// A fixed Rand draws 0, so every election timeout is the minimum unless the
// command line of the cluster says otherwise with election=.

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txt")

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := runScript(t, path, string(data))
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(data) {
				t.Errorf("%s: output differs (go test ./raft -update rewrites it):\n%s", path, firstDiff(got, string(data)))
			}
		})
	}
}

// runScript runs every command of a script and returns the script with the
// output each printed in place of its expected output.
func runScript(t *testing.T, path, text string) string {
	var out strings.Builder
	lines := strings.Split(text, "\n")
	c := &scriptCluster{}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			if i < len(lines)-1 || line != "" {
				out.WriteString(line + "\n")
			}
			continue
		}
		// A command: its expected output runs from "----" to a blank line.
		out.WriteString(line + "\n")
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: want ---- after the command", path, i+1)
		}
		i++
		for i+1 < len(lines) && lines[i+1] != "" {
			i++
		}
		result, err := c.run(line)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, i+1, line, err)
		}
		out.WriteString("----\n")
		if result == "" {
			result = "ok\n"
		}
		out.WriteString(result)
	}
	return out.String()
}

// scriptCluster is the world a script drives: nodes, a queue of messages
// in the order they were sent, and a clock.
type scriptCluster struct {
	nodes   []*Node
	crashed []bool
	queue   []Message
	now     time.Duration
	out     *strings.Builder
}

// scriptRand always draws the same offset, so timeouts are exact.
type scriptRand int64

func (r scriptRand) Int63n(n int64) int64 { return int64(r) % n }

func (c *scriptCluster) run(line string) (string, error) {
	var b strings.Builder
	c.out = &b
	words := strings.Fields(line)
	cmd, args := words[0], words[1:]
	kv := map[string]string{}
	var plain []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kv[k] = v
		} else {
			plain = append(plain, a)
			kv[a] = "" // a bare word is also a flag, such as reject
		}
	}
	if cmd != "cluster" && c.nodes == nil {
		return "", fmt.Errorf("no cluster yet")
	}
	switch cmd {
	case "cluster":
		return b.String(), c.cluster(plain, kv)
	case "time":
		if len(args) != 1 {
			return "", fmt.Errorf("want time T")
		}
		d, err := time.ParseDuration(args[0])
		c.now = d
		return b.String(), err
	case "campaign", "tick":
		n, err := c.node(plain, 0)
		if err != nil {
			return "", err
		}
		timer := ElectionTimer
		if slices.Contains(plain, "heartbeat") {
			timer = HeartbeatTimer
		}
		c.nodes[n].Tick(c.now, timer)
		c.drain(n, "")
	case "deliver", "stabilize":
		limit := -1
		if cmd == "stabilize" {
			kv = nil
		}
		if s, ok := kv["count"]; ok {
			limit, _ = strconv.Atoi(s)
		}
		for round := 0; ; round++ {
			if round > 100 {
				return "", fmt.Errorf("still messages after 100 rounds")
			}
			pending := c.queue
			c.queue = nil
			for _, m := range pending {
				if limit == 0 || !matches(&m, kv) {
					c.queue = append(c.queue, m)
					continue
				}
				limit--
				c.deliver(m)
			}
			if cmd != "stabilize" || len(c.queue) == 0 {
				break
			}
		}
	case "drop":
		kept := c.queue[:0]
		for _, m := range c.queue {
			if matches(&m, kv) {
				fmt.Fprintf(&b, "dropped %v->%v %s\n", m.From, m.To, m.String())
			} else {
				kept = append(kept, m)
			}
		}
		c.queue = kept
	case "step":
		n, err := c.node(plain, 0)
		if err != nil {
			return "", err
		}
		m, err := madeUpMessage(ID(n), kv)
		if err != nil {
			return "", err
		}
		c.nodes[n].Step(c.now, &m)
		c.drain(n, "")
	case "propose":
		n, err := c.node(plain, 0)
		if err != nil {
			return "", err
		}
		count := 1
		if s, ok := kv["count"]; ok {
			count, _ = strconv.Atoi(s)
		}
		if !c.nodes[n].Propose(c.now, count) {
			fmt.Fprintf(&b, "%v is not the leader: nothing appended\n", ID(n))
		}
		c.drain(n, "")
	case "crash":
		n, err := c.node(plain, 0)
		if err != nil {
			return "", err
		}
		c.crashed[n] = true
	case "restart":
		n, err := c.node(plain, 0)
		if err != nil {
			return "", err
		}
		c.crashed[n] = false
		c.nodes[n].Restart(c.now)
		c.drain(n, "")
	case "status":
		for i, n := range c.nodes {
			st := n.State()
			down := ""
			if c.crashed[i] {
				down = " (crashed)"
			}
			fmt.Fprintf(&b, "%v: %s log=%v%s\n", ID(i), stateText(&st), n.log[1:], down)
		}
	default:
		return "", fmt.Errorf("unknown command %q", cmd)
	}
	return b.String(), nil
}

func (c *scriptCluster) cluster(flags []string, kv map[string]string) error {
	size, err := strconv.Atoi(kv["size"])
	if err != nil || size < 1 {
		return fmt.Errorf("want size=N")
	}
	cfg := Config{Size: size, ElectionMin: 150 * time.Millisecond, ElectionMax: 300 * time.Millisecond, Heartbeat: 50 * time.Millisecond}
	if s, ok := kv["election"]; ok {
		lo, hi, _ := strings.Cut(s, "-")
		if cfg.ElectionMin, err = time.ParseDuration(lo); err != nil {
			return err
		}
		if cfg.ElectionMax, err = time.ParseDuration(hi); err != nil {
			return err
		}
	}
	for _, f := range flags {
		switch f {
		case "prevote":
			cfg.PreVote = true
		case "check-quorum":
			cfg.CheckQuorum = true
		case "stickiness":
			cfg.LeaderStickiness = true
		case "reset-on-step-down":
			cfg.ResetTimerOnStepDown = true
		default:
			return fmt.Errorf("unknown option %q", f)
		}
	}
	if cfg.Bugs, err = ParseBugs(kv["bugs"]); err != nil {
		return err
	}
	term, _ := strconv.ParseUint(kv["term"], 10, 64)
	c.nodes, c.crashed, c.queue, c.now = nil, make([]bool, size), nil, 0
	for i := range size {
		cfg.ID = ID(i)
		n := New(cfg, scriptRand(0))
		log, err := parseTerms(kv["log-"+ID(i).String()])
		if err != nil {
			return err
		}
		n.Restore(term, None, log)
		c.nodes = append(c.nodes, n)
	}
	for i, n := range c.nodes {
		n.Start(0)
		c.drain(i, "")
	}
	return nil
}

// node returns the index of the node named by the k-th plain argument.
func (c *scriptCluster) node(plain []string, k int) (int, error) {
	if k >= len(plain) {
		return 0, fmt.Errorf("want a node name")
	}
	i, err := nodeIndex(plain[k])
	if err != nil || i >= len(c.nodes) {
		return 0, fmt.Errorf("no node %q", plain[k])
	}
	return i, nil
}

func nodeIndex(name string) (int, error) {
	i, err := strconv.Atoi(strings.TrimPrefix(name, "n"))
	if err != nil || !strings.HasPrefix(name, "n") || i < 1 {
		return 0, fmt.Errorf("bad node name %q", name)
	}
	return i - 1, nil
}

// deliver hands m to its receiver, unless it is down.
func (c *scriptCluster) deliver(m Message) {
	fmt.Fprintf(c.out, "%v->%v %s", m.From, m.To, m.String())
	if c.crashed[m.To] {
		fmt.Fprintf(c.out, " (lost: %v is down)\n", m.To)
		return
	}
	c.out.WriteString("\n")
	c.nodes[m.To].Step(c.now, &m)
	c.drain(int(m.To), "  ")
}

// drain prints node i's Ready and queues its messages.
func (c *scriptCluster) drain(i int, indent string) {
	rd := c.nodes[i].Ready()
	id := ID(i)
	if rd.StateChanged {
		fmt.Fprintf(c.out, "%s%v: %s\n", indent, id, stateText(&rd.State))
	}
	if rd.MustSync {
		fmt.Fprintf(c.out, "%s%v: persist term=%d vote=%v", indent, id, rd.State.Term, rd.State.Vote)
		if len(rd.Entries) > 0 {
			fmt.Fprintf(c.out, " entries from %d: %v", rd.FirstIndex, rd.Entries)
		}
		c.out.WriteString("\n")
	}
	for _, ts := range rd.Timers {
		if ts.Armed {
			fmt.Fprintf(c.out, "%s%v: %v timer at %v\n", indent, id, ts.Timer, ts.Due)
		} else {
			fmt.Fprintf(c.out, "%s%v: %v timer off\n", indent, id, ts.Timer)
		}
	}
	if rd.CampaignRefused {
		fmt.Fprintf(c.out, "%s%v: no campaign: term %d is MaxTerm\n", indent, id, rd.State.Term)
	}
	for _, m := range rd.Messages {
		fmt.Fprintf(c.out, "%s%v->%v %s\n", indent, m.From, m.To, m.String())
		c.queue = append(c.queue, m)
	}
}

func stateText(st *State) string {
	return fmt.Sprintf("%v term=%d vote=%v lead=%v commit=%d last=%d/%d", st.Role, st.Term, st.Vote, st.Lead, st.Commit, st.LastTerm, st.LastIndex)
}

// matches reports whether m passes the deliver or drop filters in kv.
func matches(m *Message, kv map[string]string) bool {
	if s, ok := kv["from"]; ok && m.From.String() != s {
		return false
	}
	if s, ok := kv["to"]; ok && m.To.String() != s {
		return false
	}
	if s, ok := kv["type"]; ok && m.Type.String() != s {
		return false
	}
	return true
}

// madeUpMessage builds the message a step command describes, to node to.
func madeUpMessage(to ID, kv map[string]string) (Message, error) {
	m := Message{To: to}
	from, err := nodeIndex(kv["from"])
	if err != nil {
		return m, err
	}
	m.From = ID(from)
	for t := MsgVote; t <= MsgAppResp; t++ {
		if t.String() == kv["type"] {
			m.Type = t
		}
	}
	if m.Type == 0 {
		return m, fmt.Errorf("unknown type %q", kv["type"])
	}
	num := func(key string) uint64 { x, _ := strconv.ParseUint(kv[key], 10, 64); return x }
	m.Term, m.Commit = num("term"), num("commit")
	for _, key := range []string{"log", "prev"} {
		if s, ok := kv[key]; ok {
			lt, li, _ := strings.Cut(s, "/")
			m.LogTerm, _ = strconv.ParseUint(lt, 10, 64)
			m.Index, _ = strconv.ParseUint(li, 10, 64)
		}
	}
	if s, ok := kv["index"]; ok {
		m.Index, _ = strconv.ParseUint(s, 10, 64)
	}
	_, m.Reject = kv["reject"]
	entries, err := parseTerms(kv["entries"])
	if err != nil || len(entries) > MaxEntries {
		return m, fmt.Errorf("entries: at most %d terms: %v", MaxEntries, err)
	}
	m.NEntries = uint8(copy(m.Entries[:], entries))
	return m, nil
}

func parseTerms(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		x, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// firstDiff is internal/golden.FirstDiff, written again because raft/ must
// import nothing of this module, tests included.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}
