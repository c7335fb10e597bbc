package fuzzing

import "testing"

// TestDeadlineRace: the race at the end of -fuzztime is told from a
// finding by what go test printed (outputs of real runs, shortened).
func TestDeadlineRace(t *testing.T) {
	for _, tt := range []struct {
		name, out string
		race      bool
	}{
		{"the race", `fuzz: elapsed: 9s, execs: 339286 (42020/sec), new interesting: 7 (total: 220)
fuzz: elapsed: 10s, execs: 374848 (32226/sec), new interesting: 8 (total: 221)
--- FAIL: FuzzScanKeys (10.13s)
    context deadline exceeded
FAIL
exit status 1`, true},
		{"a finding", `fuzz: elapsed: 2s, execs: 1234 (617/sec), new interesting: 3 (total: 50)
--- FAIL: FuzzScanKeys (2.01s)
    --- FAIL: FuzzScanKeys (0.00s)
        strict_test.go:40: a key twice was not found
    Failing input written to testdata/fuzz/FuzzScanKeys/582528ddfad69eb5
    To re-run:
    go test -run=FuzzScanKeys/582528ddfad69eb5
FAIL`, false},
		{"a finding at the deadline", `--- FAIL: FuzzScanKeys (10.02s)
    context deadline exceeded
    Failing input written to testdata/fuzz/FuzzScanKeys/582528ddfad69eb5
FAIL`, false},
		{"a panic", `panic: runtime error: index out of range [3] with length 3
context deadline exceeded`, false},
		{"a build failure", `./strict.go:12:2: undefined: x
FAIL	github.com/raftsim/raftsim/internal/node/wire [build failed]`, false},
	} {
		if got := deadlineRace(tt.out); got != tt.race {
			t.Errorf("%s: deadlineRace %v, want %v", tt.name, got, tt.race)
		}
	}
}
