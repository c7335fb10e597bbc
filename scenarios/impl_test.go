package scenarios

import (
	"strings"
	"testing"
	"time"
)

// TestEtcdTicks: a cluster maps onto etcd's ticks exactly: ElectionTick is
// the minimum election timeout in ticks, HeartbeatTick the heartbeat; the
// range may be written MIN-2·MIN or MIN-(2·MIN−tick), which are etcd's
// [E, 2E) ticks.
func TestEtcdTicks(t *testing.T) {
	for _, tt := range []struct {
		flags [][2]string
		want  EtcdConfig
	}{
		{nil, EtcdConfig{time.Millisecond, 150, 50}},
		{[][2]string{{"election-timeout", "150ms-299ms"}}, EtcdConfig{time.Millisecond, 150, 50}},
		{[][2]string{{"tick", "10ms"}}, EtcdConfig{10 * time.Millisecond, 15, 5}},
		{[][2]string{{"election-timeout", "50ms-100ms"}, {"heartbeat", "25ms"}}, EtcdConfig{time.Millisecond, 50, 25}},
		{[][2]string{{"election-timeout", "1s-2s"}, {"heartbeat", "100ms"}, {"tick", "100ms"}}, EtcdConfig{100 * time.Millisecond, 10, 1}},
		{[][2]string{{"heartbeat", "10%"}, {"tick", "5ms"}}, EtcdConfig{5 * time.Millisecond, 30, 3}},
	} {
		s := etcdScenario(t, tt.flags)
		got, err := s.Cluster.Etcd()
		if err != nil || got != tt.want {
			t.Errorf("%v: got %+v, %v; want %+v", tt.flags, got, err, tt.want)
		}
	}
}

// TestEtcdRefuses: what etcd cannot express is refused with a message that
// names the field and the flags, and says what etcd can do.
func TestEtcdRefuses(t *testing.T) {
	for _, tt := range []struct {
		flags [][2]string
		want  string
	}{
		{[][2]string{{"election-timeout", "150ms-155ms"}},
			"--impl etcd --election-timeout 150ms-155ms: cluster.election_timeout: etcd draws its election timeout from [E, 2E) ticks: " +
				"with a minimum of 150ms and a tick of 1ms it can do 150ms-300ms (ElectionTick 150, timeouts of 150 to 299 ticks), and 150ms-155ms is not of that form"},
		{[][2]string{{"election-timeout", "150500us-301ms"}},
			"cluster.election_timeout: etcd counts time in ticks of 1ms (tick): a minimum election timeout of 150500us is not a whole number of them"},
		{[][2]string{{"heartbeat", "2500us"}},
			"cluster.heartbeat: etcd counts time in ticks of 1ms (tick): a heartbeat of 2500us is not a whole number of them"},
		{[][2]string{{"heartbeat", "150ms"}},
			"cluster.heartbeat: etcd needs the heartbeat (150ms, HeartbeatTick 150) below the minimum election timeout (150ms, ElectionTick 150)"},
		{[][2]string{{"tick", "7ms"}}, "a minimum election timeout of 150ms is not a whole number of them"},
		{[][2]string{{"leader-stickiness", "true"}},
			"--impl etcd --leader-stickiness=true: cluster.options.leader_stickiness: etcd's raft has no leader stickiness as raftsim defines it"},
		{[][2]string{{"bug", "no-retry"}},
			"--impl etcd --bug no-retry: cluster.impl: the deliberate bugs (no-retry) are raftsim's node's: etcd's raft has none to switch on"},
	} {
		var o Overrides
		if err := o.Set("impl", "etcd"); err != nil {
			t.Fatal(err)
		}
		for _, f := range tt.flags {
			if err := o.Set(f[0], f[1]); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Builtin("cold-start")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Apply(s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %s", tt.flags, err, tt.want)
		}
	}
	// A tick means nothing to raftsim's node.
	var o Overrides
	if err := o.Set("tick", "1ms"); err != nil {
		t.Fatal(err)
	}
	s, _ := Builtin("cold-start")
	if _, err := o.Apply(s); err == nil || !strings.Contains(err.Error(), "a tick is etcd's unit of time") {
		t.Errorf("--tick without --impl etcd: got %v", err)
	}
	if err := o.Set("tick", "0"); err == nil {
		t.Errorf("--tick 0 was accepted")
	}
	if err := o.Set("impl", "raft"); err == nil || err.Error() != `"raft" is not an implementation: want raftsim or etcd` {
		t.Errorf("--impl raft: got %v", err)
	}
}

// TestImplInFiles: impl and tick are keys of cluster, written back by YAML.
func TestImplInFiles(t *testing.T) {
	s, err := Parse("e.yaml", []byte("cluster: {impl: etcd, tick: 5ms, election_timeout: 100ms-200ms, heartbeat: 20ms}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Impl != ImplEtcd || s.Cluster.Tick != 5*time.Millisecond {
		t.Fatalf("read impl %v tick %v", s.Cluster.Impl, s.Cluster.Tick)
	}
	again, err := Parse("again.yaml", s.YAML())
	if err != nil || again.Cluster.Impl != ImplEtcd || again.Cluster.Tick != 5*time.Millisecond {
		t.Fatalf("written back and read: %v, %+v", err, again.Cluster)
	}
	if _, err := Parse("bad.yaml", []byte("cluster: {impl: zookeeper}\n")); err == nil || !strings.Contains(err.Error(), `unknown implementation "zookeeper" (want raftsim or etcd)`) {
		t.Errorf("impl: zookeeper: got %v", err)
	}
}

func etcdScenario(t *testing.T, flags [][2]string) *Scenario {
	t.Helper()
	var o Overrides
	if err := o.Set("impl", "etcd"); err != nil {
		t.Fatal(err)
	}
	for _, f := range flags {
		if err := o.Set(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Builtin("cold-start")
	if err != nil {
		t.Fatal(err)
	}
	if s, err = o.Apply(s); err != nil {
		t.Fatal(err)
	}
	return s
}
