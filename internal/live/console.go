package live

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/node/wire"
)

// ConsoleHelp lists the commands of [Console].
const ConsoleHelp = `commands:
  status          every node's /status
  kill NODE       kill -9 the node (its data directory is kept)
  restart NODE    start a killed node again
  pause NODE      freeze the node (SIGSTOP); resume NODE continues it (SIGCONT)
  isolate NODE    cut the node off from the others, both ways
  heal            undo every isolate
  help            this list
  quit            stop the cluster (so does ^C)
`

// Console runs the commands a person types at raftsim cluster, one a
// line, until quit, the end of in, or ctx ending. It reports whether the
// person asked to quit.
func Console(ctx context.Context, c *Cluster, in io.Reader, out io.Writer) bool {
	lines := make(chan string)
	go func() { // ends with in, or with the process
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return false
		case line, ok := <-lines:
			if !ok {
				return false
			}
			if quit := c.command(line, out); quit {
				return true
			}
		}
	}
}

// command runs one console command.
func (c *Cluster) command(line string, out io.Writer) (quit bool) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return false
	}
	node := func() (int, bool) {
		if len(words) != 2 {
			fmt.Fprintf(out, "%s needs one node, e.g. %s n1\n", words[0], words[0])
			return 0, false
		}
		if id, ok := c.names.ID(words[1]); ok {
			return int(id), true
		}
		fmt.Fprintf(out, "no node %q (the nodes: %s)\n", words[1], strings.Join(c.names, " "))
		return 0, false
	}
	// report says what a command did to node i, or why it could not.
	report := func(verb string, i int, done string, err error) {
		if err != nil {
			fmt.Fprintf(out, "cannot %s %s: %v\n", verb, c.names[i], err)
			return
		}
		fmt.Fprintln(out, done)
	}
	switch words[0] {
	case "status":
		for i, name := range c.names {
			if down := c.Down(i); down != "" {
				fmt.Fprintf(out, "%s: %s\n", name, down)
				continue
			}
			s, err := c.Status(i)
			if err != nil {
				fmt.Fprintf(out, "%s: no answer (%v)\n", name, err)
				continue
			}
			fmt.Fprintf(out, "%s: %s term=%d leader=%s\n", name, s.State, s.Term, orNone(s.Leader))
		}
	case "kill":
		if i, ok := node(); ok {
			report("kill", i, "killed "+c.names[i]+" (kill -9)", c.Kill(i))
		}
	case "restart":
		if i, ok := node(); ok {
			if err := c.Start(i, time.Now()); err != nil {
				report("restart", i, "", err)
			} else if err := c.WaitReady(context.Background(), i); err != nil {
				fmt.Fprintf(out, "restarted %s, but it has not answered /status: %v\n", c.names[i], err)
			} else {
				fmt.Fprintf(out, "restarted %s\n", c.names[i])
			}
		}
	case "pause":
		if i, ok := node(); ok {
			report("pause", i, "paused "+c.names[i]+" (SIGSTOP)", c.Pause(i))
		}
	case "resume":
		if i, ok := node(); ok {
			report("resume", i, "resumed "+c.names[i]+" (SIGCONT)", c.Resume(i))
		}
	case "isolate":
		if i, ok := node(); ok {
			c.Isolate(i)
			fmt.Fprintf(out, "isolated %s\n", c.names[i])
		}
	case "heal":
		c.Heal()
		fmt.Fprintln(out, "healed")
	case "help":
		fmt.Fprint(out, ConsoleHelp)
	case "quit", "exit":
		return true
	default:
		fmt.Fprintf(out, "unknown command %q\n%s", words[0], ConsoleHelp)
	}
	return false
}

func orNone(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// CurlLines returns the commands that ask each node for its /status, as the
// chapter's walkthrough does.
func (c *Cluster) CurlLines() []string {
	var out []string
	for i := range c.names {
		out = append(out, "curl http://"+c.Addr(i)+wire.PathStatus)
	}
	return out
}
