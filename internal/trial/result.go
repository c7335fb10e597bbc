package trial

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/internal/trial/trace"
)

// Result is what one trial measured, and whether it failed.
type Result struct {
	Seed uint64
	// Started says the measurement's origin happened (always, from the
	// start; from a fault, only if a fault removed a leader).
	Started bool
	// Measured says a leader was found after the origin (and, with
	// until: first-heartbeat, its first heartbeat reached the others; with
	// until: commit, it committed its first entry of its term).
	Measured     bool
	TimeToLeader time.Duration
	// Rounds, SplitVotes and OtherLosses count terms after the origin:
	// those with a candidate, the winning one included; those lost by
	// candidates that stood within one election timeout of each other;
	// and the other lost ones. A trial that never measured its leader
	// counts the terms it saw, all lost.
	Rounds      int
	SplitVotes  int
	OtherLosses int
	Messages    int // messages sent from the origin until the measurement ended
	// StaleLeader is how long the leader that the fault removed, but did not
	// crash, went on believing it led. HasStale says it applies.
	StaleLeader time.Duration
	HasStale    bool
	Events      uint64        // simulated events
	End         time.Duration // virtual time when the trial ended
	Failure     *Failure      // the first failure, or nil
	// Unfinished says why the fault timeline was not over when the trial
	// ended (a step waiting for an event that never came), or is "".
	Unfinished string

	// From the origin (steady-state runs: from the first leader) to the end:
	// terms begun beyond the highest term so far, and leaders of the newest
	// leader term deposed by a higher term.
	TermsBumped int
	Disruptions int

	// Steady-state runs only: how long stability was measured, and what
	// happened meanwhile.
	SteadyTime    time.Duration
	Elections     int           // terms started by a candidate: each a needless election
	LeaderChanges int           // leaders elected after the first
	Leaderless    time.Duration // time without a working leader
}

// Failure is an invariant or expectation that did not hold.
type Failure struct {
	Kind   string        // election-safety, vote-once, term-monotonic, leader-completeness, liveness, unexpected-leader, leaders-at-end
	Detail string        // what happened, with nodes and terms
	At     time.Duration // virtual time
	Event  uint64        // simulated event number
}

func (f *Failure) String() string {
	return fmt.Sprintf("%s at t=%s (event %d): %s", f.Kind, trace.FormatTime(f.At), f.Event, f.Detail)
}

// Failure kinds beyond the invariants' own names.
const (
	KindLiveness         = "liveness"
	KindUnexpectedLeader = "unexpected-leader"
	KindLeadersAtEnd     = "leaders-at-end"
)
