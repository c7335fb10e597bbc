package scenarios

import (
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string // rules
	}{
		{"the defaults", "name: d", nil},
		{"heartbeat = min timeout", "cluster: {election_timeout: 50ms-100ms, heartbeat: 50ms}", []string{RuleHeartbeat, RuleRoundTrip}},
		{"heartbeat above", "cluster: {heartbeat: 200ms}\nnetwork: {latency: 1ms}", []string{RuleHeartbeat}},
		{"a proportional heartbeat", "cluster: {election_timeout: 50ms-100ms, heartbeat: 33%}\nnetwork: {latency: 1ms}", nil},
		{"a WAN", "cluster: {election_timeout: 150ms-300ms}\nnetwork: {latency: 'lognormal:35ms,10ms'}", []string{RuleRoundTrip}},
		{"one slow link", "network:\n  latency: 1ms\n  links: [{from: n1, to: n2, latency: 20ms}]", []string{RuleRoundTrip}},
		{"exactly ten round trips", "cluster: {election_timeout: 150ms-300ms}\nnetwork: {latency: 7500us}", nil},
		{"no width", "cluster: {election_timeout: 150ms}\nnetwork: {latency: 1ms}", []string{RuleNoWidth}},
		{"no width, written as a range", "cluster: {election_timeout: 150ms-150ms}\nnetwork: {latency: 1ms}", []string{RuleNoWidth}},
		{"a width of 1ms", "cluster: {election_timeout: 150ms-151ms}\nnetwork: {latency: 1ms}", nil},
	} {
		s, err := Parse("w.yaml", []byte(tt.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, w := range s.Warnings() {
			got = append(got, w.Rule)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
