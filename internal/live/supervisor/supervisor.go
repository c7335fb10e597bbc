// Package supervisor starts the processes of a live cluster and does to
// them what a fault timeline says: kill -9, restart, SIGSTOP and SIGCONT.
// Each process runs in its own process group (so that a shell command's
// children get the same signals), writes its stdout and stderr to a log
// file, and dies with the supervisor's process on Linux.
//
// supervisor must never leave a process behind: [Group.Close] kills and
// reaps every process it started, and every wait is bounded.
package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says how to start a process.
type Spec struct {
	Name string   // for messages
	Argv []string // the program and its arguments
	Env  []string // added to this process's environment
	Dir  string   // working directory; "" for the current one
	Log  string   // the file stdout and stderr are appended to
	// Also, if set, gets a copy of stdout and stderr (raftsim cluster
	// shows the nodes' log lines as they come).
	Also io.Writer
}

// Proc is a started process.
type Proc struct {
	spec    Spec
	cmd     *exec.Cmd
	log     *os.File
	done    chan struct{}
	mu      sync.Mutex
	exitErr error
	paused  bool
}

// Limits.
const (
	reapWait = 5 * time.Second // for a killed process to be reaped
	// StopGrace is how long a process has to exit after SIGTERM before
	// Group.Close kills it.
	StopGrace = time.Second
	// MaxLog bounds what one process writes to its log: a node that floods
	// its output fills neither the disk nor raftsim's memory.
	MaxLog = 16 << 20
)

// ErrNotRunning says the process has exited.
var ErrNotRunning = errors.New("supervisor: the process is not running")

// Start starts a process as spec says.
func Start(spec Spec) (*Proc, error) {
	if len(spec.Argv) == 0 {
		return nil, errors.New("supervisor: no program")
	}
	logf, err := os.OpenFile(spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Dir = spec.Dir
	var out io.Writer = &cappedWriter{w: logf, left: MaxLog}
	if spec.Also != nil {
		out = io.MultiWriter(out, spec.Also)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = reapWait // a child that escaped the group may hold the output pipe: Wait does not wait for it forever
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s (%s): %v", spec.Name, strings.Join(spec.Argv, " "), err)
	}
	p := &Proc{spec: spec, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Exit returns how the process ended, once it has.
func (p *Proc) Exit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// signal sends sig to the process's group.
func (p *Proc) signal(sig syscall.Signal) error {
	if !p.Running() {
		return ErrNotRunning
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Kill kills the process group with SIGKILL, as kill -9 does, and waits
// (a bounded time) until the process is reaped.
func (p *Proc) Kill() error {
	err := p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(reapWait):
		return fmt.Errorf("supervisor: %s (pid %d) still running %v after SIGKILL", p.spec.Name, p.Pid(), reapWait)
	}
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	return err
}

// Stop asks the process group to exit with SIGTERM, and kills it (SIGKILL)
// if it has not within grace; it reports whether it had to.
func (p *Proc) Stop(grace time.Duration) (killed bool, err error) {
	p.Resume() // a stopped process cannot handle SIGTERM
	if err := p.signal(syscall.SIGTERM); errors.Is(err, ErrNotRunning) {
		return false, nil
	}
	select {
	case <-p.done:
		return false, nil
	case <-time.After(grace):
	}
	return true, p.Kill()
}

// Pause stops the process group with SIGSTOP.
func (p *Proc) Pause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	p.paused = true
	return nil
}

// Resume continues a paused process group with SIGCONT.
func (p *Proc) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		return nil
	}
	p.paused = false
	return p.signal(syscall.SIGCONT)
}

// LogTail returns the last n lines of the process's log file.
func (p *Proc) LogTail(n int) string { return Tail(p.spec.Log, n) }

// Tail returns the last n lines of the file at path (at most its last
// 64 KiB), or a note saying why it cannot.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	const window = 64 << 10
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	off := max(0, st.Size()-window)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return fmt.Sprintf("(reading the log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Group is a set of processes that are killed together.
type Group struct {
	mu    sync.Mutex
	procs []*Proc
}

// Start starts a process in the group.
func (g *Group) Start(spec Spec) (*Proc, error) {
	p, err := Start(spec)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	return p, nil
}

// Close stops every process of the group that still runs (SIGTERM, then
// SIGKILL after StopGrace) and reaps it. It returns the names of those that
// had to be killed.
func (g *Group) Close() (killed []string, err error) {
	return g.close(func(p *Proc) (bool, error) { return p.Stop(StopGrace) })
}

// Kill kills every process of the group that still runs (SIGKILL) and
// reaps it, for programs whose graceful stop is work the caller does not
// want: an etcd leader hands its leadership over before it exits.
func (g *Group) Kill() error {
	_, err := g.close(func(p *Proc) (bool, error) { return false, p.Kill() })
	return err
}

func (g *Group) close(stop func(*Proc) (killed bool, err error)) (killed []string, err error) {
	g.mu.Lock()
	procs := g.procs
	g.procs = nil
	g.mu.Unlock()
	var errs []error
	for _, p := range procs {
		k, err := stop(p)
		if err != nil {
			errs = append(errs, err)
		}
		if k {
			killed = append(killed, p.spec.Name)
		}
	}
	return killed, errors.Join(errs...)
}

// cappedWriter writes to w until left bytes are written, then says so once
// and drops the rest, still taking it (a process whose output pipe is not
// read would block).
type cappedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	left    int64
	dropped bool // the line saying so is written
}

// Write keeps what fits in what is left, and at the first byte that does
// not, says that the rest is dropped: also when an earlier write filled
// the log exactly (a pipe read in 32 KiB chunks fills 16 MiB so).
func (c *cappedWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := min(int64(len(b)), c.left)
	if kept > 0 {
		c.left -= kept
		if _, err := c.w.Write(b[:kept]); err != nil || kept == int64(len(b)) {
			return len(b), err
		}
	}
	if !c.dropped && len(b) > 0 {
		c.dropped = true
		fmt.Fprintf(c.w, "\n[raftsim: this process wrote more than %d MiB; the rest of its output is dropped]\n", MaxLog>>20)
	}
	return len(b), nil
}
