package trial

import (
	"strings"
	"testing"
)

// TestSeedsIndependent: every stream of a trial has its own sub-seed, the
// same one every time, and different trials share none.
func TestSeedsIndependent(t *testing.T) {
	seen := map[uint64]string{}
	for trial := uint64(0); trial < 20; trial++ {
		s := Seeds(Seed(42, int(trial)))
		streams := map[string]uint64{"network": s.Network(), "faults": s.Faults(), "swarm": s.Swarm()}
		for i := 0; i < 50; i++ {
			for name, seed := range map[string]func(int) uint64{"node": s.Node, "start": s.Start, "disk": s.Disk, "jitter": s.Jitter, "processing": s.Processing} {
				streams[name+string(rune('A'+i))] = seed(i)
			}
		}
		for name, seed := range streams {
			if other, dup := seen[seed]; dup {
				t.Fatalf("trial %d: stream %s has the seed of %s", trial, name, other)
			}
			seen[seed] = name
		}
		if s.Node(3) != Seeds(Seed(42, int(trial))).Node(3) {
			t.Fatal("a sub-seed is not a pure function of the trial seed")
		}
	}
	if SteadySeed(42) == 42 || Seed(SteadySeed(42), 0) == Seed(42, 0) {
		t.Error("steady-state runs share seeds with the trials")
	}
}

func TestSeedsDescribe(t *testing.T) {
	lines := Seeds(7).Describe(3)
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "trial 7: network 0x") || !strings.Contains(lines[1], "n3=0x") {
		t.Errorf("Describe(3) = %q", lines)
	}
}
