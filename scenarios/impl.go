package scenarios

import (
	"fmt"
	"strings"
	"time"
)

// Impl names the Raft implementation every node of a cluster runs.
type Impl uint8

// The implementations.
const (
	// ImplRaftsim is raftsim's own node (package raft): the Raft paper's
	// Figure 2, with the options and deliberate bugs of [raft.Config].
	ImplRaftsim Impl = iota
	// ImplEtcd is etcd's raft (go.etcd.io/raft/v3, unmodified) behind the
	// same drivers, configured by [Cluster.Etcd].
	ImplEtcd
)

var implNames = [...]string{ImplRaftsim: "raftsim", ImplEtcd: "etcd"}

func (i Impl) String() string { return implNames[i] }

// ParseImpl reads an implementation's name: raftsim or etcd.
func ParseImpl(s string) (Impl, error) {
	for i, name := range implNames {
		if strings.TrimSpace(s) == name {
			return Impl(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not an implementation: want %s", s, strings.Join(implNames[:], " or "))
}

// DefaultTick is the length of etcd's tick when a cluster gives none.
const DefaultTick = time.Millisecond

// TickLength returns the length of etcd's tick: the cluster's, or
// [DefaultTick].
func (c *Cluster) TickLength() time.Duration {
	if c.Tick > 0 {
		return c.Tick
	}
	return DefaultTick
}

// EtcdConfig is a cluster in the terms of etcd's raft, which counts time
// in ticks: each node's Config.ElectionTick and HeartbeatTick, and how long
// a tick is. etcd draws each election timeout uniformly from
// [ElectionTick, 2·ElectionTick) ticks.
type EtcdConfig struct {
	Tick          time.Duration
	ElectionTick  int
	HeartbeatTick int
}

// etcdField is why a cluster cannot run on etcd's raft, and the field at
// fault.
type etcdField struct {
	field string
	msg   string
}

// etcd translates the cluster into etcd's terms, or says what etcd cannot
// do and which field asks for it. It refuses rather than rounds: a scenario
// that etcd cannot express is not silently changed.
func (c *Cluster) etcd() (EtcdConfig, *etcdField) {
	tick := c.TickLength()
	min, max, hb := c.ElectionTimeout.Min, c.ElectionTimeout.Max, c.HeartbeatInterval()
	e := EtcdConfig{Tick: tick, ElectionTick: int(min / tick), HeartbeatTick: int(hb / tick)}
	can := fmt.Sprintf("%s-%s", FormatDuration(min), FormatDuration(2*min))
	switch {
	case min%tick != 0:
		return e, &etcdField{"cluster.election_timeout", fmt.Sprintf(
			"etcd counts time in ticks of %s (tick): a minimum election timeout of %s is not a whole number of them",
			FormatDuration(tick), FormatDuration(min))}
	case max != 2*min && max != 2*min-tick:
		return e, &etcdField{"cluster.election_timeout", fmt.Sprintf(
			"etcd draws its election timeout from [E, 2E) ticks: with a minimum of %s and a tick of %s it can do %s "+
				"(ElectionTick %d, timeouts of %d to %d ticks), and %s is not of that form",
			FormatDuration(min), FormatDuration(tick), can, e.ElectionTick, e.ElectionTick, 2*e.ElectionTick-1, c.ElectionTimeout)}
	case hb%tick != 0:
		return e, &etcdField{"cluster.heartbeat", fmt.Sprintf(
			"etcd counts time in ticks of %s (tick): a heartbeat of %s is not a whole number of them",
			FormatDuration(tick), FormatDuration(hb))}
	case e.HeartbeatTick >= e.ElectionTick:
		return e, &etcdField{"cluster.heartbeat", fmt.Sprintf(
			"etcd needs the heartbeat (%s, HeartbeatTick %d) below the minimum election timeout (%s, ElectionTick %d)",
			FormatDuration(hb), e.HeartbeatTick, FormatDuration(min), e.ElectionTick)}
	case c.Options.LeaderStickiness:
		return e, &etcdField{"cluster.options.leader_stickiness",
			"etcd's raft has no leader stickiness as raftsim defines it: its lease check (ignore votes while a leader " +
				"was heard within the election timeout) comes with check_quorum (--check-quorum)"}
	case c.Bugs != 0:
		return e, &etcdField{"cluster.impl", fmt.Sprintf(
			"the deliberate bugs (%s) are raftsim's node's: etcd's raft has none to switch on", c.Bugs)}
	}
	return e, nil
}

// checkImpl checks that the cluster's implementation can run it.
func (s *Scenario) checkImpl() error {
	c := &s.Cluster
	if c.Impl != ImplEtcd {
		if c.Tick != 0 {
			return s.errorf(s.line("cluster.tick"), "cluster.tick", "a tick is etcd's unit of time: set impl: etcd (--impl etcd), or leave tick out")
		}
		return nil
	}
	if _, bad := c.etcd(); bad != nil {
		return s.errorf(s.line(bad.field), bad.field, "%s", bad.msg)
	}
	return nil
}
