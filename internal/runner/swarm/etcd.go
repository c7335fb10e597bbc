package swarm

import (
	"time"

	"github.com/raftsim/raftsim/scenarios"
)

// OnTicks returns s, a drawn swarm scenario, with its timing put where
// etcd's raft can run it with ticks of tick (--swarm --impl etcd): the
// minimum election timeout and the heartbeat rounded to whole ticks (the
// heartbeat at least one, and below the timeout), the range MIN-2·MIN as
// etcd draws it, and no leader stickiness, which etcd lacks. Every other
// draw stays as it was; the liveness bound is derived for etcd's raft
// ([ConvergeEtcd]). s is changed in place.
func OnTicks(s *scenarios.Scenario, tick time.Duration) *scenarios.Scenario {
	c := &s.Cluster
	e := max(3, roundTo(c.ElectionTimeout.Min, tick))
	h := min(max(1, roundTo(c.HeartbeatInterval(), tick)), e-1)
	c.ElectionTimeout = scenarios.Range{Min: time.Duration(e) * tick, Max: time.Duration(2*e) * tick}
	c.Heartbeat = scenarios.Heartbeat{D: time.Duration(h) * tick}
	c.Options.LeaderStickiness = false
	etcdBounds(s, tick)
	return s
}

// etcdBounds sets the settle time of s, a drawn scenario on etcd's raft
// with ticks of tick, from its maximum election timeout, and its liveness
// bound as [ConvergeEtcd] derives it.
func etcdBounds(s *scenarios.Scenario, tick time.Duration) {
	s.Measure.Settle = ms(float64(s.Cluster.ElectionTimeout.Max) / 1e6 * 2)
	s.Expect.ConvergeWithin = ConvergeEtcd(s, Level, tick).Within
}

// etcdTick reports whether the overrides o run etcd's raft (--impl etcd),
// and its tick (--tick, or [scenarios.DefaultTick]).
func etcdTick(o scenarios.Overrides) (time.Duration, bool) {
	if o.Text("impl") != scenarios.ImplEtcd.String() {
		return 0, false
	}
	tick := scenarios.DefaultTick
	if text := o.Text("tick"); text != "" {
		tick, _ = scenarios.ParseDuration(text) // canonical: Set read it
	}
	return tick, true
}

// roundTo returns d in whole ticks, rounded to the nearest.
func roundTo(d, tick time.Duration) int64 { return int64((d + tick/2) / tick) }
