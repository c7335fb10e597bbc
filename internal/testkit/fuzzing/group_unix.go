//go:build unix

package fuzzing

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts cmd in a process group of its own, and makes its
// cancellation kill the whole group: go test -fuzz runs its workers as
// children, which killing go alone would leave running.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
