package metrics

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/testkit/fuzzing"
	"github.com/raftsim/raftsim/internal/testkit/long"
)

// TestFuzzLong fuzzes Read for a while, in the long suites
// (internal/testkit/long); plain go test replays the seed corpus.
func TestFuzzLong(t *testing.T) {
	if !long.Enabled() {
		t.Skip("fuzzing runs in the long suites (RAFTSIM_LONG=1); go test replays the seed corpus")
	}
	fuzzing.Run(t, "FuzzRead", 10*time.Second, 3*time.Minute)
}
