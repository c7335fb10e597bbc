package supervisor

import "syscall"

// sysProcAttr puts the process in a group of its own, and has Linux kill it
// if the supervisor's process dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
