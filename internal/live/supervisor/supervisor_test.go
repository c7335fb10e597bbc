package supervisor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sh(t *testing.T, g *Group, script string) *Proc {
	t.Helper()
	p, err := g.Start(Spec{Name: "sh", Argv: []string{"sh", "-c", script}, Log: filepath.Join(t.TempDir(), "log")})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// alive reports whether a process with this pid exists and is not a
// zombie (a killed orphan waits for init to reap it).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: the signal test is all there is
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(after, "Z")
}

func TestCloseKillsEveryProcessAndItsChildren(t *testing.T) {
	var g Group
	dir := t.TempDir()
	child := filepath.Join(dir, "child")
	p := sh(t, &g, "sleep 60 & echo $! > "+child+"; wait")
	var pid int
	for range 100 {
		if data, err := os.ReadFile(child); err == nil && strings.HasSuffix(string(data), "\n") {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the shell never started its child")
	}
	killed, err := g.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(killed) != 0 {
		t.Errorf("the shell and its child needed SIGKILL (%v): they exit on SIGTERM", killed)
	}
	if p.Running() {
		t.Error("the shell still runs after Close")
	}
	for range 100 { // the child is killed with the group; wait for init to reap it
		if !alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the shell's child %d survived Close", pid)
}

func TestPauseAndResume(t *testing.T) {
	var g Group
	defer g.Close()
	p := sh(t, &g, "while true; do date +%s%N; sleep 0.01; done")
	time.Sleep(50 * time.Millisecond)
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // let a line in flight land
	before := p.LogTail(1000)
	time.Sleep(100 * time.Millisecond)
	if after := p.LogTail(1000); after != before {
		t.Error("a paused process kept writing")
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if after := p.LogTail(1000); after == before {
		t.Error("a resumed process wrote nothing")
	}
}

func TestTheLogHoldsOutputAndTheTailIsBounded(t *testing.T) {
	var g Group
	defer g.Close()
	p := sh(t, &g, "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; exit 3")
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the script did not end")
	}
	if got := p.LogTail(2); got != "line 5\noops" {
		t.Errorf("got %q, want the last two lines", got)
	}
	if p.Exit() == nil {
		t.Error("exit status 3 reported as success")
	}
	if err := p.Pause(); err != ErrNotRunning {
		t.Errorf("pausing an exited process: got %v, want ErrNotRunning", err)
	}
}

func TestAMissingProgramIsAnError(t *testing.T) {
	var g Group
	_, err := g.Start(Spec{Name: "n1", Argv: []string{"/no/such/program"}, Log: filepath.Join(t.TempDir(), "log")})
	if err == nil || !strings.Contains(err.Error(), "/no/such/program") {
		t.Errorf("got %v, want an error naming the program", err)
	}
}

// TestCloseKillsWhatIgnoresSIGTERM: a process that ignores SIGTERM is
// killed after the grace period and named.
func TestCloseKillsWhatIgnoresSIGTERM(t *testing.T) {
	var g Group
	ready := filepath.Join(t.TempDir(), "trapped")
	p := sh(t, &g, "trap '' TERM; touch "+ready+"; while :; do sleep 1; done")
	for deadline := time.Now().Add(10 * time.Second); ; { // a SIGTERM before the trap would simply end the shell
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell never set its trap")
		}
		time.Sleep(10 * time.Millisecond)
	}
	killed, err := g.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(killed) != 1 || p.Running() {
		t.Errorf("killed %v, running %v: want the shell killed and named", killed, p.Running())
	}
}

// TestTheLogIsCapped: a process that floods its output has the first
// MaxLog bytes kept, a line saying the rest was dropped, and ends normally.
func TestTheLogIsCapped(t *testing.T) {
	var g Group
	defer g.Close()
	log := filepath.Join(t.TempDir(), "flood.log")
	p, err := g.Start(Spec{Name: "flood", Argv: []string{"sh", "-c", "head -c 20000000 /dev/zero"}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the flood did not end")
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxLog+200 || !strings.Contains(string(data[MaxLog:]), "the rest of its output is dropped") {
		t.Errorf("the log has %d bytes, want %d and a line saying the rest was dropped", len(data), MaxLog)
	}
}

// TestKillSendsNoSIGTERM: Kill ends every process with SIGKILL at once: a
// process that would handle SIGTERM (writing a file) never gets to, and
// none is left running.
func TestKillSendsNoSIGTERM(t *testing.T) {
	var g Group
	dir := t.TempDir()
	ready, termed := filepath.Join(dir, "trapped"), filepath.Join(dir, "termed")
	p := sh(t, &g, "trap 'touch "+termed+"; exit 0' TERM; touch "+ready+"; while :; do sleep 1; done")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell never set its trap")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Error("still running after Kill")
	}
	if _, err := os.Stat(termed); err == nil {
		t.Error("the process handled a SIGTERM: Kill sent one")
	}
}

// TestCappedWriterSaysWhenFull: the line saying the rest is dropped comes
// once, at the first byte past the cap, whether that byte is in the write
// that fills the log or in a later one (the log filled exactly).
func TestCappedWriterSaysWhenFull(t *testing.T) {
	const note = "\n[raftsim: this process wrote more than 16 MiB; the rest of its output is dropped]\n"
	for _, tt := range []struct {
		writes []string
		want   string
	}{
		{[]string{"abcd", "e", "f"}, "abcd" + note},
		{[]string{"abcdef"}, "abcd" + note},
		{[]string{"ab", "cd"}, "abcd"},
		{[]string{"ab", "cdef", "g"}, "abcd" + note},
		{[]string{"abcd", ""}, "abcd"},
	} {
		var b strings.Builder
		c := &cappedWriter{w: &b, left: 4}
		for _, w := range tt.writes {
			if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
				t.Errorf("%q: writing %q: %d, %v", tt.writes, w, n, err)
			}
		}
		if b.String() != tt.want {
			t.Errorf("%q: the log holds %q, want %q", tt.writes, b.String(), tt.want)
		}
	}
}
