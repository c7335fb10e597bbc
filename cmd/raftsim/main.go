// Command raftsim simulates Raft leader election: it runs scenarios of many
// seeded trials, sweeps election timeouts, checks Raft's safety properties
// in every trial, and replays any trial from its seed.
//
// Run raftsim --help for the commands.
//
// This package only wires flags to the packages below and prints: it must
// never hold simulation logic of its own, and bad input must end in a
// clear message and exit status 2, never a panic or a partial file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/scenarios"
)

// Exit statuses.
const (
	exitOK       = 0 // every expectation held
	exitFailed   = 1 // some trial failed an expectation or invariant
	exitBadUsage = 2 // bad input: flags, arguments, scenario files

	exitInterrupted = 130 // stopped by ^C, as shells report SIGINT
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, out, errw io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run a scenario's trials and print statistics", runCmd},
		{"sweep", "run a scenario over lists of parameters: failover and stability side by side", sweepCmd},
		{"fit", "calibrate the network model from measured times to leader", fitCmd},
		{"replay", "re-run one trial from its seed and print its timeline", replayCmd},
		{"check", "hunt for a failing trial, then shrink it", checkCmd},
		{"tune", "recommend etcd's heartbeat and election timeout from a cluster's own metrics, and check the model against the leader changes it saw", tuneCmd},
		{"compare", "run the same trials on two Raft implementations (raftsim's node, etcd's raft) and test each statistic for a difference", compareCmd},
		{"merge", "join the partial results of shards (--shard K/N) into what the unsharded command prints", mergeCmd},
		{"list", "list the built-in scenarios", listCmd},
		{"bugs", "list the deliberate bugs --bug switches on", bugsCmd},
		{"serve", "run one Raft node on HTTP with the course's API", serveCmd},
		{"live", "run a scenario on real processes on loopback, beside the simulator's prediction", liveCmd},
		{"cluster", "start a cluster on loopback, as the chapter's docker-compose does, and kill, isolate and heal its nodes by hand", clusterCmd},
		{"version", "print raftsim's version (merge takes partial results of the same version only)", versionCmd},
	}
}

const usageTop = `raftsim simulates Raft leader election: thousands of seeded trials of a
cluster over a simulated network, with faults, statistics and safety checks.

Usage:
  raftsim COMMAND [ARGUMENTS] [FLAGS]

Commands:
%s
Examples:
  raftsim run                                   the default scenario (cold-start)
  raftsim run leader-crash --trials 10000       a built-in scenario, more trials
  raftsim run my.yaml --format json --out r.json a scenario file, JSON to a file
  raftsim sweep --election-timeout 50-100ms,150-300ms,500ms-1s   tune the timeout
  raftsim fit leader-crash --data times.csv      calibrate the network to measurements
  raftsim replay leader-crash --seed 4280437358326593   one trial, event by event
  raftsim check --swarm --for 1m                one minute of randomized fault hunting
  raftsim list                                  the built-in scenarios

Run raftsim COMMAND --help for a command's flags. Exit status: 0 when every
expectation held, 1 when a trial failed one, 2 on bad input.
`

func usage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, usageTop, b.String())
}

// Main runs raftsim with args and returns the exit status.
func Main(args []string, out, errw io.Writer) int {
	if len(args) == 0 {
		usage(errw)
		return exitBadUsage
	}
	name := args[0]
	switch name {
	case "--version":
		return Main(append([]string{"version"}, args[1:]...), out, errw)
	case "-h", "--help", "help":
		if len(args) > 1 && name == "help" {
			return Main([]string{args[1], "--help"}, out, errw)
		}
		usage(out)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return exitStatus(c.run(args[1:], out, errw), errw)
		}
	}
	fmt.Fprintf(errw, "raftsim: unknown command %q\n\n", name)
	usage(errw)
	return exitBadUsage
}

// errFailed says some trial failed; its report is already printed.
var errFailed = errors.New("some trials failed")

// usageError is bad input from the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badUsage(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func exitStatus(err error, errw io.Writer) int {
	var scenErr *scenarios.Error
	var useErr *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.Is(err, errFailed):
		return exitFailed
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(errw, "raftsim: %v\n", err)
		return exitInterrupted
	case errors.As(err, &scenErr), errors.As(err, &useErr):
		fmt.Fprintf(errw, "raftsim: %v\n", err)
		return exitBadUsage
	}
	fmt.Fprintf(errw, "raftsim: %v\n", err)
	return exitBadUsage
}
