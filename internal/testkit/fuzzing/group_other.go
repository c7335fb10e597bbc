//go:build !unix

package fuzzing

import "os/exec"

// setProcessGroup does nothing where there are no process groups: the
// cancellation kills go test alone.
func setProcessGroup(*exec.Cmd) {}
