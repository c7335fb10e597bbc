package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOutputDevices: devices are written in place, never replaced, even
// by root: a full device (/dev/full) fails with an error naming it, a null
// one (/dev/null) takes everything. As root the test makes its own device
// nodes, so that a broken raftsim replaces those and not the system's.
func TestOutputDevices(t *testing.T) {
	full, null := "/dev/full", "/dev/null"
	if os.Geteuid() == 0 {
		dir := t.TempDir()
		full, null = filepath.Join(dir, "full"), filepath.Join(dir, "null")
		for _, d := range []struct {
			path  string
			minor int
		}{{full, 7}, {null, 3}} {
			if err := syscall.Mknod(d.path, syscall.S_IFCHR|0o666, 1<<8|d.minor); err != nil {
				t.Skip("cannot make device nodes:", err)
			}
		}
	}
	code, out, errw := raftsim("run", "--trials", "20", "--out", full)
	if code == 0 || out != "" || !strings.Contains(errw, "--out "+full+": no space left on device") {
		t.Errorf("--out %s: exit %d, stderr %q; want an error naming it", full, code, errw)
	}
	code, out, errw = raftsim("run", "--trials", "20", "--out", null)
	if code != 0 || out != "" {
		t.Errorf("--out %s: exit %d, stderr %q", null, code, errw)
	}
	for _, dev := range []string{full, null} {
		if st, err := os.Stat(dev); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("%s is no longer a device: %v %v", dev, st.Mode(), err)
		}
	}
}

// TestOutputFIFO: a FIFO is written in place and stays a FIFO.
func TestOutputFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	got := make(chan []byte)
	go func() {
		r, err := os.Open(fifo) // waits for the writer
		if err != nil {
			got <- nil
			return
		}
		data, _ := io.ReadAll(r)
		r.Close()
		got <- data
	}()
	code, _, errw := raftsim("run", "--trials", "20", "--out", fifo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", st.Mode(), err) // its reader waits for ever
	}
	_, want, _ := raftsim("run", "--trials", "20")
	if data := <-got; string(data) != want {
		t.Errorf("the FIFO's reader got %q, want the table", data)
	}
}

// TestOutputUnwritableDirectory: a directory that takes no new file is
// reported before the scenario is even read.
func TestOutputUnwritableDirectory(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("no /proc")
	}
	code, _, errw := raftsim("run", "no-such-scenario", "--out", "/proc/r.json")
	if code != 2 || !strings.Contains(errw, "--out /proc/r.json: cannot create a file in /proc") {
		t.Errorf("exit %d, stderr %q", code, errw)
	}
}

// TestOutputAsOtherUser runs raftsim as an unprivileged user, as root
// cannot see permission problems: --out /dev/null works, and a directory
// the user cannot write is reported before any trial runs.
func TestOutputAsOtherUser(t *testing.T) {
	run := func(args ...string) (int, string, string) { return raftsim(args...) }
	if os.Geteuid() == 0 {
		run = asNobody(t)
	}
	if code, out, errw := run("run", "--trials", "20", "--out", "/dev/null"); code != 0 || out != "" || strings.Contains(errw, "/dev/.") {
		t.Errorf("--out /dev/null: exit %d, stdout %q, stderr %q", code, out, errw)
	}
	top, err := os.MkdirTemp("", "raftsim-locked")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	locked := filepath.Join(top, "locked")
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	code, _, errw := run("run", "no-such-scenario", "--out", filepath.Join(locked, "r.json"))
	if code != 2 || !strings.Contains(errw, "--out "+filepath.Join(locked, "r.json")+": cannot create a file in "+locked+": permission denied") {
		t.Errorf("unwritable directory: exit %d, stderr %q", code, errw)
	}
}

// asNobody returns a function that runs raftsim (this test binary, copied
// where every user may run it) as the user nobody.
func asNobody(t *testing.T) func(args ...string) (int, string, string) {
	t.Helper()
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Skip("cannot copy the test binary:", err)
	}
	dir, err := os.MkdirTemp("", "raftsim-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "raftsim")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), beRaftsim+"=1") // the test binary is raftsim (TestMain)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var out, errw bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errw
		err := cmd.Run()
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode(), out.String(), errw.String()
		}
		if err != nil {
			t.Fatalf("running as nobody: %v", err)
		}
		return 0, out.String(), errw.String()
	}
}
