package live

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
)

// TestCheckEtcdRefusesWhatEtcdCannotSay: each scenario is refused with a
// message naming the field and what etcd can do instead; etcd's own
// timing is accepted.
func TestCheckEtcdRefusesWhatEtcdCannotSay(t *testing.T) {
	const base = "cluster: {nodes: 3, election_timeout: 1000ms-2000ms, heartbeat: 100ms}\n"
	for _, tt := range []struct{ yaml, refusal string }{
		{base, ""},
		{"cluster: {nodes: 3, election_timeout: 150ms-155ms, heartbeat: 30ms}\n", "etcd's --election-timeout T draws from [T, 2T); write 150ms-300ms"},
		{"cluster: {nodes: 3, election_timeout: 300ms-600ms, heartbeat: 100ms}\n", "at least 5 times --heartbeat-interval"},
		{base + "network: {loss: 0.01}\n", "network.loss and network.duplicate"},
		{base + "faults:\n  - after: leader-elected\n    write: {entries: 1, reach: 1}\n", "write: reach"},
		{base + "faults:\n  - after: heartbeat\n    crash: leader\n", "after: heartbeat"},
		{"cluster: {nodes: 3, election_timeout: 1000ms-2000ms, heartbeat: 100ms, options: {leader_stickiness: true}}\n", "leader_stickiness"},
	} {
		s, err := scenarios.Parse("etcd.yaml", []byte(tt.yaml))
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = Check(s, Nodes{Etcd: "etcd"})
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%q: refused: %v", tt.yaml, err)
		case tt.refusal != "" && (err == nil || !strings.Contains(err.Error(), tt.refusal)):
			t.Errorf("%q: got %v, want a refusal saying %q", tt.yaml, err, tt.refusal)
		}
	}
}
