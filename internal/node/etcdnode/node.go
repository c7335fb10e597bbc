package etcdnode

import (
	"fmt"
	"math"
	"time"

	etcd "go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
)

// maxSizePerMsg makes etcd put at most raft.MaxEntries entries in one
// AppendEntries: an empty entry encodes in 4 bytes at least (term and
// index below 128), so five never fit.
const maxSizePerMsg = 5*4 - 1

// maxInflightMsgs is etcd's own server's limit on the AppendEntries in
// flight to one follower.
const maxInflightMsgs = 512

// transfer is the context of a vote request in a leadership transfer
// (etcd's campaignTransfer), which etcd lets past its lease check.
var transfer = []byte("CampaignTransfer")

// Node is one node of etcd's raft, a [raft.Machine]. It is not safe for
// concurrent use.
type Node struct {
	cfg   raft.Config
	ticks scenarios.EtcdConfig
	rand  raft.Rand

	store storage
	rn    *etcd.RawNode
	log   []uint64   // the terms of entries 1, 2, ... as the Readys wrote them
	state raft.State // as the Readys said

	// The tick grid: tick k falls k tick lengths after the boot, on the
	// node's clock.
	boot    time.Duration
	at      int64 // the tick the input being handled falls on
	from    int64 // the tick from which etcd counts electionElapsed (and a leader heartbeatElapsed)
	timeout int64 // the election timeout in ticks, drawn from the seed: etcd's randomizedElectionTimeout
	fed     int64 // a leader: the last tick handed to etcd
	granted bool  // the input made the node grant a vote
	said    int   // lines etcd logged
	// atMaxTerm: the node's election timer fired in term raft.MaxTerm, so
	// it did not campaign (etcd would go to MaxTerm+1, past what the wire
	// carries) and its timer is off until it hears from a leader or its
	// term or role changes. refused: the next Ready says so.
	atMaxTerm, refused bool

	// What the next Ready reports.
	rd           raft.Ready
	reported     raft.State
	mustSync     bool
	unstable     uint64 // the lowest index written since the last Ready; noEntries: none
	timers       [raft.NumTimers]raft.TimerSetting
	timerChanged [raft.NumTimers]bool
	timerBuf     [raft.NumTimers]raft.TimerSetting
	msgs         []raft.Message
}

var _ raft.Machine = (*Node)(nil)

// noEntries is the value of unstable when no entry was written.
const noEntries = math.MaxUint64

// New returns a node of etcd's raft with raftsim's configuration cfg (its
// id, cluster size and options) in etcd's ticks, drawing its election
// timeouts from rand. It has not started: give it its persistent state with
// [Node.Restore] if it has any, then call [Node.Start]. It panics on what
// etcd cannot do (leader stickiness, deliberate bugs, ticks etcd refuses):
// validate scenarios first ([scenarios.Cluster.Etcd]).
func New(cfg raft.Config, ticks scenarios.EtcdConfig, rand raft.Rand) *Node {
	if ticks.Tick <= 0 || ticks.HeartbeatTick < 1 || ticks.ElectionTick <= ticks.HeartbeatTick {
		panic(fmt.Sprintf("etcdnode: ticks etcd refuses: %+v", ticks))
	}
	n := &Node{ticks: ticks, rand: rand}
	n.Reset(cfg)
	return n
}

// Reset makes n a fresh node with configuration cfg and empty storage.
func (n *Node) Reset(cfg raft.Config) {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("etcdnode: %v", err))
	}
	if cfg.LeaderStickiness || cfg.Bugs != 0 {
		panic("etcdnode: etcd's raft has neither leader stickiness nor deliberate bugs")
	}
	n.cfg = cfg
	n.store.reset(cfg.Size)
	n.rn = nil
	n.log = n.log[:0]
	n.state = raft.State{Vote: raft.None, Lead: raft.None}
	n.reported = n.state
	n.mustSync, n.unstable = false, noEntries
	n.atMaxTerm, n.refused = false, false
	n.timers = [raft.NumTimers]raft.TimerSetting{}
	n.timerChanged = [raft.NumTimers]bool{}
	n.msgs = n.msgs[:0]
}

// Restore gives a node that has not started its term, vote and log, as on
// stable storage: the next Ready does not ask to write them.
func (n *Node) Restore(term uint64, vote raft.ID, log []uint64) {
	ents := make([]*pb.Entry, len(log))
	for i, t := range log {
		ents[i] = &pb.Entry{Index: new(uint64(i + 1)), Term: new(t)}
	}
	if err := n.store.Append(ents); err != nil {
		panic(fmt.Sprintf("etcdnode: %v: restoring the log: %v", n.cfg.ID, err))
	}
	n.store.SetHardState(&pb.HardState{Term: new(term), Vote: new(etcdID(vote)), Commit: new(uint64(0))})
	n.log = append(n.log[:0], log...)
	n.state = raft.State{Term: term, Vote: vote, Lead: raft.None, LastIndex: uint64(len(log)), LastTerm: n.logTerm(uint64(len(log)))}
	n.reported = n.state
}

// Start boots the node as a follower.
func (n *Node) Start(now time.Duration) { n.start(now) }

// Restart boots the node again after a crash: a new RawNode from the
// storage, which kept the log and the HardState.
func (n *Node) Restart(now time.Duration) { n.start(now) }

func (n *Node) start(now time.Duration) {
	rn, err := etcd.NewRawNode(&etcd.Config{
		ID:                        etcdID(n.cfg.ID),
		ElectionTick:              n.ticks.ElectionTick,
		HeartbeatTick:             n.ticks.HeartbeatTick,
		Storage:                   n.store,
		MaxSizePerMsg:             maxSizePerMsg,
		MaxInflightMsgs:           maxInflightMsgs,
		CheckQuorum:               n.cfg.CheckQuorum,
		PreVote:                   n.cfg.PreVote,
		Logger:                    quiet{&n.said},
		DisableProposalForwarding: true,
	})
	if err != nil {
		panic(fmt.Sprintf("etcdnode: %v: %v", n.cfg.ID, err))
	}
	n.rn = rn
	hs, _, _ := n.store.InitialState()
	n.state.Role, n.state.Lead, n.state.Commit = raft.Follower, raft.None, hs.GetCommit()
	n.boot, n.at, n.from, n.fed = now, 0, 0, 0
	n.atMaxTerm, n.refused = false, false
	n.timeout = n.draw() // newRaft's becomeFollower drew one
	n.drain()
	n.setTimers()
}

// LogTerm returns the term of entry i in the node's storage, or 0 when it
// has no entry i.
func (n *Node) LogTerm(i uint64) uint64 {
	t, err := n.store.Term(i)
	if err != nil {
		return 0
	}
	return t
}

// ID returns the node's id.
func (n *Node) ID() raft.ID { return n.cfg.ID }

// State returns the node's state as its Readys said.
func (n *Node) State() raft.State { return n.state }

// Step hands the node a message addressed to it.
func (n *Node) Step(now time.Duration, m *raft.Message) {
	n.clock(now)
	e := n.toEtcd(m)
	if e == nil {
		return
	}
	if n.pastLease(m) {
		e.Context = transfer
	}
	prev := n.state
	_ = n.rn.Step(e) // its errors are for messages a driver never sends (local ones, unknown peers)
	n.drain()
	heard := (m.Type == raft.MsgApp || m.Type == raft.MsgHeartbeat) && m.Term >= prev.Term && n.state.Role == raft.Follower
	n.observe(prev, heard || n.granted)
	n.setTimers()
}

// pastLease reports whether m is a vote request that etcd's lease check
// would refuse on its stale count but not on the count of the grid: a
// follower that knows a leader and whose electionElapsed has, by the
// grid, reached ElectionTick.
func (n *Node) pastLease(m *raft.Message) bool {
	return (m.Type == raft.MsgVote || m.Type == raft.MsgPreVote) && m.Term > n.state.Term && n.cfg.CheckQuorum &&
		n.state.Role != raft.Leader && n.state.Lead != raft.None && n.at-n.from >= int64(n.ticks.ElectionTick)
}

// Tick tells the node that its timer t has fired: a leader gets its ticks
// up to the heartbeat or quorum check t was armed for, a follower or
// candidate its election timeout's.
func (n *Node) Tick(now time.Duration, t raft.Timer) {
	n.clock(now)
	n.timers[t].Armed = false // spent: setTimers arms it again
	n.timerChanged[t] = true
	switch {
	case n.state.Role == raft.Leader:
		n.lead(n.leaderTarget(t))
	case t == raft.ElectionTimer && n.state.Term >= raft.MaxTerm:
		// etcd has no bound on terms: it is not handed the ticks that
		// would make it campaign, as raftsim's node refuses to.
		n.atMaxTerm, n.refused = true, true
	case t == raft.ElectionTimer:
		prev := n.state
		n.at = n.from + n.timeout // a late timer fires on the tick it was armed for
		n.campaign()
		n.drain()
		n.observe(prev, true)
	}
	n.setTimers()
}

// campaign hands a follower or candidate, whose electionElapsed is 0, tick
// after tick until it campaigns: after at least ElectionTick of them, and
// at most 2·ElectionTick-1, whatever etcd drew. A tick that does nothing
// logs nothing, and etcd logs as it starts an election: only a tick that
// logged is worth asking etcd whether it has a Ready, which costs
// allocations.
func (n *Node) campaign() {
	e := n.ticks.ElectionTick
	for range e - 1 {
		n.rn.Tick() // ticks below ElectionTick never start an election
	}
	for range e {
		said := n.said
		n.rn.Tick()
		if n.said != said && n.rn.HasReady() {
			return
		}
	}
	panic(fmt.Sprintf("etcdnode: %v term %d did not campaign within %d ticks", n.cfg.ID, n.state.Term, 2*e-1))
}

// leaderTarget returns the tick a leader's timer t was armed for.
func (n *Node) leaderTarget(t raft.Timer) int64 {
	if t == raft.HeartbeatTimer {
		return n.next(n.ticks.HeartbeatTick)
	}
	if n.cfg.CheckQuorum {
		return n.next(n.ticks.ElectionTick)
	}
	return n.fed
}

// next returns a leader's next tick after fed that is a multiple of every
// ticks from the start of its leadership.
func (n *Node) next(every int) int64 {
	k := int64(every)
	return n.from + k*((n.fed-n.from)/k+1)
}

// lead hands a leader its ticks up to target, a run at a time, each ending
// on a tick that does something (a heartbeat, a quorum check); a leader
// that stepped down gets no more.
func (n *Node) lead(target int64) {
	for n.fed < target && n.state.Role == raft.Leader {
		end := min(target, n.next(n.ticks.HeartbeatTick))
		if n.cfg.CheckQuorum {
			end = min(end, n.next(n.ticks.ElectionTick))
		}
		for ; n.fed < end; n.fed++ {
			n.rn.Tick()
		}
		prev := n.state
		n.at = end
		n.drain()
		n.observe(prev, false)
	}
}

// Propose makes a leader append count entries and send them: one proposal
// message carrying them all, as count proposals arriving before etcd's next
// Ready would.
func (n *Node) Propose(now time.Duration, count int) bool {
	if n.state.Role != raft.Leader || count < 1 {
		return false
	}
	n.clock(now)
	ents := make([]*pb.Entry, count)
	for i := range ents {
		ents[i] = &pb.Entry{}
	}
	prev := n.state
	err := n.rn.Step(&pb.Message{Type: pb.MsgProp.Enum(), From: new(etcdID(n.cfg.ID)), Entries: ents})
	n.drain()
	n.observe(prev, false)
	n.setTimers()
	return err == nil
}

// clock moves the input's tick to the grid's at now; it never goes back.
func (n *Node) clock(now time.Duration) {
	n.granted = false
	if k := int64((now - n.boot) / n.ticks.Tick); k > n.at {
		n.at = k
	}
}

// observe follows etcd's counts through an input that took the node from
// prev to its state now, on tick at: electionElapsed starts again from 0
// where etcd zeroes it — at a reset (a new term or role) and where zero
// says (a heartbeat or AppendEntries heard, a vote granted, the timeout run
// out) — and the timeout is drawn again where etcd's reset draws it: at any
// new term or role but pre-candidate, which keeps its follower's timeout.
func (n *Node) observe(prev raft.State, zero bool) {
	cur := &n.state
	if zero || cur.Term != prev.Term || cur.Role != prev.Role {
		n.from, n.fed = n.at, n.at
		n.atMaxTerm = false
	}
	if cur.Term != prev.Term || cur.Role != prev.Role && cur.Role != raft.PreCandidate {
		n.timeout = n.draw()
	}
}

// draw draws an election timeout in ticks, uniform in [ElectionTick,
// 2·ElectionTick), as etcd's resetRandomizedElectionTimeout does.
func (n *Node) draw() int64 {
	e := int64(n.ticks.ElectionTick)
	return e + n.rand.Int63n(e)
}

// setTimers arms the timers the node's role needs: a leader's heartbeat
// timer at its next heartbeat tick and, with CheckQuorum, its election
// timer at its next quorum check; a follower's or candidate's election
// timer where its timeout runs out.
func (n *Node) setTimers() {
	var want [raft.NumTimers]raft.TimerSetting
	for t := range want {
		want[t].Timer = raft.Timer(t)
	}
	if n.state.Role == raft.Leader {
		want[raft.HeartbeatTimer].Armed, want[raft.HeartbeatTimer].Due = true, n.due(n.next(n.ticks.HeartbeatTick))
		if n.cfg.CheckQuorum {
			want[raft.ElectionTimer].Armed, want[raft.ElectionTimer].Due = true, n.due(n.next(n.ticks.ElectionTick))
		}
	} else if !n.atMaxTerm {
		want[raft.ElectionTimer].Armed, want[raft.ElectionTimer].Due = true, n.due(n.from+n.timeout)
	}
	for t := range want {
		if want[t] != n.timers[t] {
			n.timers[t] = want[t]
			n.timerChanged[t] = true
		}
	}
}

// due returns when tick k falls on the node's clock.
func (n *Node) due(k int64) time.Duration { return n.boot + time.Duration(k)*n.ticks.Tick }

// drain carries out every Ready etcd has, as its contract asks: write the
// HardState and entries to storage, take the messages, Advance; until etcd
// has nothing more.
func (n *Node) drain() {
	for n.rn.HasReady() {
		rd := n.rn.Ready()
		if ss := rd.SoftState; ss != nil {
			n.state.Role, n.state.Lead = role(ss.RaftState), raftID(ss.Lead)
		}
		if hs := rd.HardState; hs != nil {
			n.store.SetHardState(hs)
			n.state.Term, n.state.Vote, n.state.Commit = hs.GetTerm(), raftID(hs.GetVote()), hs.GetCommit()
		}
		if len(rd.Entries) > 0 {
			if err := n.store.Append(rd.Entries); err != nil {
				panic(fmt.Sprintf("etcdnode: %v: appending to storage: %v", n.cfg.ID, err))
			}
			n.write(rd.Entries)
		}
		n.mustSync = n.mustSync || rd.MustSync
		for _, m := range rd.Messages {
			n.msgs = append(n.msgs, n.fromEtcd(m))
		}
		n.rn.Advance(rd)
	}
}

// write applies entries a Ready wrote to the node's view of its log.
func (n *Node) write(ents []*pb.Entry) {
	first := ents[0].GetIndex()
	n.log = n.log[:first-1]
	for _, e := range ents {
		n.log = append(n.log, e.GetTerm())
	}
	n.unstable = min(n.unstable, first)
	n.state.LastIndex = uint64(len(n.log))
	n.state.LastTerm = n.logTerm(n.state.LastIndex)
}

func (n *Node) logTerm(i uint64) uint64 {
	if i == 0 || i > uint64(len(n.log)) {
		return 0
	}
	return n.log[i-1]
}

// Ready drains what the node did since the previous Ready. It is valid
// until the node's next input.
func (n *Node) Ready() *raft.Ready {
	rd := &n.rd
	rd.State, rd.StateChanged = n.state, n.state != n.reported
	n.reported = n.state
	rd.CampaignRefused, n.refused = n.refused, false
	rd.MustSync, n.mustSync = n.mustSync, false
	rd.FirstIndex, rd.Entries = 0, nil
	if n.unstable <= uint64(len(n.log)) {
		rd.FirstIndex, rd.Entries = n.unstable, n.log[n.unstable-1:]
	}
	n.unstable = noEntries
	k := 0
	for t := range raft.NumTimers {
		if n.timerChanged[t] {
			n.timerChanged[t] = false
			n.timerBuf[k] = n.timers[t]
			k++
		}
	}
	rd.Timers = n.timerBuf[:k]
	rd.Messages = n.msgs
	n.msgs = n.msgs[:0]
	return rd
}

// storage is a MemoryStorage whose ConfState names the cluster's voters,
// 1 to N: etcd's way of bootstrapping without a configuration entry in the
// log.
type storage struct {
	*etcd.MemoryStorage
	conf *pb.ConfState
}

func (s *storage) reset(size int) {
	s.MemoryStorage = etcd.NewMemoryStorage()
	if len(s.conf.GetVoters()) != size {
		voters := make([]uint64, size)
		for i := range voters {
			voters[i] = uint64(i + 1)
		}
		s.conf = &pb.ConfState{Voters: voters}
	}
}

// InitialState implements etcd's Storage: the HardState saved, and the
// voters.
func (s storage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	hs, _, err := s.MemoryStorage.InitialState()
	return hs, s.conf, err
}

// quiet is a Logger that writes nothing but counts the lines etcd logs;
// etcd's panics still panic.
type quiet struct{ said *int }

func (q quiet) Debug(...any)            { *q.said++ }
func (q quiet) Debugf(string, ...any)   { *q.said++ }
func (q quiet) Error(...any)            { *q.said++ }
func (q quiet) Errorf(string, ...any)   { *q.said++ }
func (q quiet) Info(...any)             { *q.said++ }
func (q quiet) Infof(string, ...any)    { *q.said++ }
func (q quiet) Warning(...any)          { *q.said++ }
func (q quiet) Warningf(string, ...any) { *q.said++ }
func (quiet) Fatal(v ...any)            { panic(fmt.Sprint(v...)) }
func (quiet) Fatalf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }
func (quiet) Panic(v ...any)            { panic(fmt.Sprint(v...)) }
func (quiet) Panicf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }
