package scenarios

import (
	"fmt"
	"strconv"
	"time"
)

// Warning is advice about a valid scenario whose timing is probably not
// what its author meant: the trials run, but expect needless elections.
type Warning struct {
	// Rule says what is wrong in words that are the same for every
	// scenario it applies to, so that a sweep can group its cells by it.
	Rule string
	// Text says it with the scenario's numbers.
	Text string
}

// The rules [Scenario.Warnings] applies.
const (
	RuleHeartbeat = "the heartbeat is at or above the minimum election timeout"
	RuleRoundTrip = "the minimum election timeout is below ten round trips (etcd's rule of thumb)"
	RuleNoWidth   = "the election timeout range has no width"
)

// RoundTrips is how many round trips the minimum election timeout should
// span at least: etcd's tuning guide asks for ten, so that the variance
// of the network does not set off elections.
const RoundTrips = 10

// Warnings returns what looks wrong in s's timing, in a fixed order: a
// heartbeat at or above the minimum election timeout (a follower may time
// out between two heartbeats of a healthy leader), a minimum election
// timeout below [RoundTrips] round trips, and an election timeout range of
// no width (every node times out after the same time, so nothing but the
// network breaks a tie: one value, such as etcd's --election-timeout
// 150ms, is such a range here, not etcd's [T, 2T)). A round trip is twice the mean
// one-way latency of the slowest link (the network's, or a link
// override's): the mean, not a high quantile, as etcd's guide measures it.
func (s *Scenario) Warnings() []Warning {
	c := &s.Cluster
	min, hb := c.ElectionTimeout.Min, c.HeartbeatInterval()
	var out []Warning
	if hb >= min {
		out = append(out, Warning{RuleHeartbeat, fmt.Sprintf(
			"the heartbeat (%s) is at or above the minimum election timeout (%s): followers may time out between two heartbeats of a healthy leader",
			millis(hb), millis(min))})
	}
	if rtt := s.RoundTrip(); min < RoundTrips*rtt {
		out = append(out, Warning{RuleRoundTrip, fmt.Sprintf(
			"the minimum election timeout (%s) is below %d round trips (%s; a round trip is twice the slowest link's mean one-way latency, %s): "+
				"etcd's rule of thumb; expect needless elections and split votes",
			millis(min), RoundTrips, millis(RoundTrips*rtt), millis(rtt/2))})
	}
	if r := c.ElectionTimeout; r.Min == r.Max {
		out = append(out, Warning{RuleNoWidth, fmt.Sprintf(
			"the election timeout range %s has no width: every node times out after exactly %s, so candidates that start together "+
				"stand together and split the vote until the network breaks the tie (expect split votes, and trials without a leader). "+
				"One value is a range of no width here, not etcd's [T, 2T): for that, write %s",
			r, millis(r.Min), Range{r.Min, 2 * r.Min})})
	}
	return out
}

// millis writes d in milliseconds, with up to 4 significant digits.
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'g', 4, 64) + "ms"
}

// RoundTrip returns twice the largest mean one-way latency of any link.
func (s *Scenario) RoundTrip() time.Duration {
	worst := s.Network.Latency.Mean()
	for _, l := range s.Network.Links {
		if l.Latency != nil {
			worst = max(worst, l.Latency.Mean())
		}
	}
	return 2 * worst
}
