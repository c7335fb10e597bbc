// Package etcdnode runs etcd's raft — a go.etcd.io/raft/v3 RawNode,
// v3.7.0, unmodified — as a [raft.Machine], so that the simulator's trial
// driver and the real-time driver behind raftsim serve drive it exactly as
// they drive raftsim's own node: messages in ([Node.Step]), timers firing
// ([Node.Tick]), entries to propose, and after each input one [raft.Ready]
// translated from what etcd's Readys said. The driver never learns which
// node it runs, and the checkers judge etcd from the same things they judge
// raftsim's node by: the states its Readys report and the messages it
// sends.
//
// # Time: ticks the node does not need are not delivered
//
// etcd counts time in ticks: a follower or candidate campaigns once
// electionElapsed ticks reach its randomizedElectionTimeout, and a leader
// sends heartbeats every HeartbeatTick ticks and checks its quorum every
// ElectionTick. A real deployment calls Tick every tick length; the node
// here keeps that grid (tick k falls k tick lengths after the node booted)
// but hands etcd its ticks only when they matter, through the two timers a
// [raft.Ready] can arm: a leader's heartbeat timer at its next heartbeat
// tick and, with CheckQuorum, its election timer at its next quorum check,
// delivering all ticks since the last in one go; a follower's or
// candidate's election timer at the tick its election timeout runs out.
// Between its bursts a follower's electionElapsed therefore stays 0, and
// the node keeps the count itself, from the grid: it restarts it wherever
// etcd zeroes electionElapsed, which it sees from outside — a change of
// term or role in a Ready (etcd's reset), a heartbeat or AppendEntries of
// the node's term or later (the follower's reset), a granted vote in what
// it sends, and its own election timeout running out.
//
// # Randomness: etcd's draw made irrelevant, the trial's draw used
//
// etcd draws randomizedElectionTimeout, uniform in [ElectionTick,
// 2·ElectionTick), at every reset (a change of term or role but the step to
// pre-candidate) from a process-wide crypto/rand source that nothing can
// seed (globalRand in raft.go). This package leaves that draw to etcd but
// makes it unobservable: it draws its own timeout from the same range with
// the trial's seeded generator (the node's [raft.Rand]) at the same
// moments, arms the election timer at that tick, and when it fires hands
// etcd tick after tick until etcd campaigns — whatever etcd drew, it
// campaigns at the tick the seed chose, with electionElapsed 0 afterwards
// as always. The only other reader of electionElapsed is the lease check
// of CheckQuorum (a follower ignores vote requests of a higher term while
// electionElapsed < ElectionTick and it knows a leader); a vote request
// arriving once the node's own count has reached ElectionTick carries
// etcd's leadership-transfer context, the documented way past that check,
// so that etcd decides as it would with its count up to date. Everything
// else etcd does is deterministic: it visits peers in sorted order and
// reads no clock. Drawn from the seed, then: every election timeout.
// Not drawn from it: nothing that changes what the node does.
//
// # What else is fixed
//
// Storage is a MemoryStorage holding the log and the HardState (term,
// vote, commit), kept across a crash: [Node.Restart] builds a new RawNode
// from it, as etcd restarts from its WAL. Each Ready is written to it, then
// translated, then advanced, until etcd has nothing more (a candidate's
// vote for itself and a leader's own acknowledgement are stepped on
// Advance). The cluster's voters are n1 … nN (etcd ids 1 … N), given as the
// storage's ConfState. An AppendEntries carries at most
// [raft.MaxEntries] entries, as raftsim's does: MaxSizePerMsg is 19 bytes,
// four empty entries while terms and indexes are below 128, three above.
// Followers drop proposals (DisableProposalForwarding): only a leader
// takes writes. etcd's logs are discarded.
//
// A node must not be used concurrently; etcdnode never starts goroutines,
// reads a clock or draws from a global random source of its own.
package etcdnode
