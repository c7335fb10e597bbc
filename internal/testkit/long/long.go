// Package long says whether tests run their long suites: the
// 100,000-trial swarm, 10,000 trials of every built-in scenario, and the
// like. They run when the environment variable RAFTSIM_LONG is set (to
// anything but 0), as .ci/run sets it; go test ./... alone runs the short
// versions, so that it finishes in under a minute on two cores.
//
// long is for tests only: it must never be imported by code that ships.
package long

import "os"

// Enabled reports whether the long suites run.
func Enabled() bool {
	v := os.Getenv("RAFTSIM_LONG")
	return v != "" && v != "0"
}

// Pick returns full when the long suites run, short otherwise.
func Pick[T any](short, full T) T {
	if Enabled() {
		return full
	}
	return short
}
