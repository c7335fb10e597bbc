package metrics

import (
	"fmt"
	"time"
)

// LeaderChanges is how many leader changes a member saw between two of
// its scrapes.
type LeaderChanges struct {
	Changes float64
	Over    time.Duration
	// Restarted says the member restarted in between (its process start
	// moved, or its counter went down): Changes then counts only what it
	// saw since, its first leader after the restart included.
	Restarted bool
}

// PerHour returns the rate of leader changes per hour.
func (l LeaderChanges) PerHour() float64 { return l.Changes / l.Over.Hours() }

// LeaderChangesBetween returns the leader changes the member saw from
// scrape before to scrape after, which must be of the same member, in
// that order.
func LeaderChangesBetween(before, after *Scrape) (LeaderChanges, error) {
	switch {
	case before.Member != after.Member:
		return LeaderChanges{}, fmt.Errorf("%s and %s are scrapes of different members (%s and %s)", before.Source, after.Source, before.Member, after.Member)
	case !after.At.After(before.At):
		return LeaderChanges{}, fmt.Errorf("%s was not taken after %s (%s, %s)", after.Source, before.Source,
			after.At.Format(time.RFC3339Nano), before.At.Format(time.RFC3339Nano))
	}
	l := LeaderChanges{Changes: after.LeaderChanges - before.LeaderChanges, Over: after.At.Sub(before.At)}
	if !after.ProcessStart.Equal(before.ProcessStart) || l.Changes < 0 {
		l.Changes, l.Restarted = after.LeaderChanges, true
	}
	return l, nil
}
