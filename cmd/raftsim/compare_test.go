package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCompareJSONContract: the keys compare's JSON promises (impls, stats,
// and in each statistic ks_distance, p_value and differs), one statistic
// per line of the table, the same bytes at any --workers.
func TestCompareJSONContract(t *testing.T) {
	args := []string{"compare", "leader-crash", "--trials", "100", "--format", "json"}
	code, out, errw := raftsim(append(args, "--workers", "1")...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errw)
	}
	if _, two, _ := raftsim(append(args, "--workers", "2")...); two != out {
		t.Errorf("--workers 2 printed otherwise than --workers 1")
	}
	var r struct {
		Impls   []string
		Differs *bool
		Stats   []struct {
			Name       string
			Kind       string
			Values     map[string]map[string]any
			KSDistance *float64 `json:"ks_distance"`
			PValue     *float64 `json:"p_value"`
			Differs    *bool
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if strings.Join(r.Impls, ",") != "raftsim,etcd" || r.Differs == nil {
		t.Fatalf("impls %v, differs %v", r.Impls, r.Differs)
	}
	var names []string
	for _, s := range r.Stats {
		names = append(names, s.Name)
		if s.PValue == nil || s.Differs == nil || len(s.Values) != 2 || s.Values["etcd"] == nil || s.Values["raftsim"]["n"] == nil {
			t.Errorf("%s: %+v", s.Name, s)
		}
		if (s.KSDistance == nil) != (s.Kind == "rate") {
			t.Errorf("%s (%s): ks_distance %v: want one exactly for distributions", s.Name, s.Kind, s.KSDistance)
		}
		if *s.Differs != (*s.PValue < 0.01) {
			t.Errorf("%s: p %g, differs %v", s.Name, *s.PValue, *s.Differs)
		}
	}
	if got := strings.Join(names, ","); got != "time_to_leader_ms,rounds,split_vote_rate,terms_bumped,disruptions" {
		t.Errorf("statistics %s", got)
	}
	if !strings.Contains(out, `"p50"`) || !strings.Contains(out, `"no_leader"`) || !strings.Contains(out, `"hits"`) {
		t.Errorf("values lack p50, no_leader or hits:\n%s", out)
	}
}

// TestCompareFindsADifference: etcd with a 50ms tick can only time out
// after 150, 200 or 250ms, so its elections split far more often than
// raftsim's node's with the same 150ms-300ms: compare says so, and exits 1
// with --fail-on-difference only.
func TestCompareFindsADifference(t *testing.T) {
	args := []string{"compare", "cold-start", "--tick", "50ms", "--trials", "100"}
	code, out, errw := raftsim(args...)
	if code != 0 || !strings.Contains(out, "raftsim against etcd (tick 50ms)") || !strings.Contains(out, "DIFFERS") ||
		!strings.Contains(out, "raftsim and etcd differ in: time to leader (ms)") || !strings.Contains(out, "split-vote rate\n") {
		t.Fatalf("exit %d:\n%s%s", code, out, errw)
	}
	if code, _, _ := raftsim(append(args, "--fail-on-difference")...); code != 1 {
		t.Errorf("--fail-on-difference: exit %d, want 1", code)
	}
	// The same implementation's statistics never differ from themselves,
	// in whichever order they are named.
	if code, out, _ := raftsim("compare", "cold-start", "--impl", "etcd,raftsim", "--trials", "100", "--fail-on-difference"); code != 0 ||
		!strings.Contains(out, "etcd and raftsim differ in no statistic") {
		t.Errorf("etcd,raftsim at 1ms ticks: exit %d\n%s", code, out)
	}
}

// TestCompareBadInput: --impl names two different implementations.
func TestCompareBadInput(t *testing.T) {
	for _, tt := range []struct {
		impl, want string
	}{
		{"raftsim", "--impl: want two implementations"},
		{"etcd,etcd", "--impl: etcd against itself"},
		{"raftsim,paxos", `--impl: "paxos" is not an implementation`},
	} {
		if code, out, errw := raftsim("compare", "--impl", tt.impl); code != 2 || out != "" || !strings.Contains(errw, tt.want) {
			t.Errorf("--impl %s: exit %d, %q; want 2 and %q", tt.impl, code, errw, tt.want)
		}
	}
	if code, _, errw := raftsim("compare", "--leader-stickiness"); code != 2 || !strings.Contains(errw, "--impl etcd --leader-stickiness=true") {
		t.Errorf("--leader-stickiness: exit %d, %s", code, errw)
	}
}

// TestCompareFailedTrialsExit1: a trial that fails on either side makes
// compare exit 1, as run does: etcd's raft without CheckQuorum keeps a
// leader cut off in one direction leading, two leaders in a term.
func TestCompareFailedTrialsExit1(t *testing.T) {
	code, out, errw := raftsim("compare", "stale-leader", "--trials", "20")
	if code != 1 || !strings.Contains(out, "etcd FAILED in 20 of 20 trials") {
		t.Errorf("compare stale-leader: exit %d, want 1 and etcd's failures:\n%s%s", code, out, errw)
	}
}
