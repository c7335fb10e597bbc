package raft

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is what a node needs to know before it starts.
type Config struct {
	ID   ID  // this node, 0 <= ID < Size
	Size int // nodes in the cluster, this one included

	// ElectionMin and ElectionMax bound the election timeout: each time the
	// election timer is reset it is set to a fresh uniform random duration
	// in [ElectionMin, ElectionMax].
	ElectionMin, ElectionMax time.Duration
	// Heartbeat is how often a leader sends AppendEntries to every follower.
	Heartbeat time.Duration

	Options
	// Bugs switches on deliberate mistakes; see [Bug].
	Bugs Bug
}

// Options change the protocol in ways the literature describes.
type Options struct {
	// ResetTimerOnStepDown makes a node that adopts a higher term reset its
	// election timer, as etcd's becomeFollower does. The default, false,
	// follows the paper's Figure 2: a follower or candidate that learns of a
	// higher term keeps its running timer, and only a valid AppendEntries, a
	// granted vote or starting an election resets it. (A leader that steps
	// down has no election timer running, so it always starts a fresh one.)
	ResetTimerOnStepDown bool
	// KeepTimeout makes a node draw its election timeout only when its term
	// or role changes (it becomes follower, candidate or leader), as etcd's
	// raft does, and restart its election timer with the same timeout when
	// a heartbeat or AppendEntries of its leader arrives, it grants a vote
	// or it starts a Pre-Vote round. The default, false, draws a fresh
	// timeout at every reset of the timer.
	KeepTimeout bool
	// PreVote runs a Pre-Vote round before each election (Ongaro's thesis
	// §9.6): the node asks for votes for its next term without incrementing
	// its term, and only starts a real election if a majority would vote for
	// it. A voter grants a pre-vote when the candidate's log is at least as
	// up-to-date as its own and it has not heard from a leader within the
	// minimum election timeout. Pre-Vote requests change neither the
	// receiver's term nor its vote.
	PreVote bool
	// CheckQuorum makes a leader step down when a minimum election timeout
	// passes without a response from a majority of the cluster (thesis §6.2).
	CheckQuorum bool
	// LeaderStickiness makes a node that heard from a current leader within
	// the minimum election timeout (or is the leader) ignore RequestVote and
	// Pre-Vote requests of higher terms: it neither updates its term nor
	// grants its vote (thesis §4.2.3, disruptive servers).
	LeaderStickiness bool
}

// Bug is a set of deliberate mistakes in the node, for teaching and for
// proving that raftsim's checkers catch them.
type Bug uint32

// The deliberate bugs.
const (
	// BugPeersMajority counts the majority over the peers only,
	// ⌊(N-1)/2⌋+1, which is too small for even N.
	BugPeersMajority Bug = 1 << iota
	// BugNoLogCheck grants votes without the up-to-date log check.
	BugNoLogCheck
	// BugNoRetry makes a candidate whose election splits never retry: its
	// election timer only fires for followers.
	BugNoRetry
	// BugVoteNotPersisted forgets votedFor across a restart.
	BugVoteNotPersisted
	// BugIgnoreReplyTerm makes a node ignore a higher term in replies.
	BugIgnoreReplyTerm
	// BugResetOnAnyVote makes a follower reset its election timer on every
	// RequestVote, granted or not.
	BugResetOnAnyVote
	// BugLeaderNoStepDown makes a leader ignore higher terms.
	BugLeaderNoStepDown
	// BugVoteUnrecorded makes a node grant a vote without recording it, so
	// that it can grant another in the same term.
	BugVoteUnrecorded
	// BugCandidateStays makes a candidate that hears an AppendEntries of its
	// own term note the leader and reset its timer, but stay a candidate:
	// the chapter's receive_heartbeat.
	BugCandidateStays
)

// BugInfo describes one deliberate bug.
type BugInfo struct {
	Bug    Bug
	Name   string // the name --bug takes
	Breaks string // what it breaks, in one line
}

// Bugs lists every deliberate bug, in a stable order.
var Bugs = []BugInfo{
	{BugPeersMajority, "peers-majority", "majority counted over the peers only (⌊(N-1)/2⌋+1): two leaders in one term in even clusters"},
	{BugNoLogCheck, "no-log-check", "votes granted without the up-to-date log check: a leader without committed entries"},
	{BugNoRetry, "no-retry", "a candidate never retries after a split vote: the cluster can stay leaderless forever"},
	{BugVoteNotPersisted, "vote-not-persisted", "votedFor lost across a restart: a node votes twice in one term"},
	{BugIgnoreReplyTerm, "ignore-reply-term", "a higher term in a reply is ignored: stale candidates and leaders linger"},
	{BugResetOnAnyVote, "reset-on-any-vote", "a follower resets its election timer on any RequestVote: elections drag on"},
	{BugLeaderNoStepDown, "leader-no-step-down", "a leader does not step down on a higher term: two leaders at once"},
	{BugVoteUnrecorded, "vote-unrecorded", "a vote is granted but never recorded: a node votes for two candidates in one term"},
	{BugCandidateStays, "candidate-stays", "a candidate that hears its term's leader follows it but stays a candidate (the chapter's receive_heartbeat)"},
}

// ParseBugs turns a comma-separated list of bug names into a [Bug] set.
func ParseBugs(names string) (Bug, error) {
	var b Bug
	for _, name := range strings.Split(names, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, info := range Bugs {
			if info.Name == name {
				b |= info.Bug
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown bug %q (raftsim bugs lists them)", name)
		}
	}
	return b, nil
}

// String returns the comma-separated names of the bugs in b.
func (b Bug) String() string {
	var names []string
	for _, info := range Bugs {
		if b&info.Bug != 0 {
			names = append(names, info.Name)
		}
	}
	return strings.Join(names, ",")
}

// Errors from [Config.Validate].
var (
	ErrSize      = errors.New("raft: cluster size must be at least 1")
	ErrID        = errors.New("raft: node id outside the cluster")
	ErrElection  = errors.New("raft: election timeout must satisfy 0 < min <= max")
	ErrHeartbeat = errors.New("raft: heartbeat interval must be above 0")
)

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	if c.Size < 1 {
		return ErrSize
	}
	if c.ID < 0 || int(c.ID) >= c.Size {
		return ErrID
	}
	if c.ElectionMin <= 0 || c.ElectionMin > c.ElectionMax {
		return ErrElection
	}
	if c.Heartbeat <= 0 {
		return ErrHeartbeat
	}
	return nil
}

// Majority is the number of votes that elect a leader of a cluster of
// size nodes: a strict majority of the whole cluster, the candidate
// included. Raft's safety rests on any two such sets sharing a node; the
// checks that judge a cluster count with it too.
func Majority(size int) int { return size/2 + 1 }
