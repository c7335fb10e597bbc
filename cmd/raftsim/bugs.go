package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/raftsim/raftsim/raft"
)

// bugDemo is where a deliberate bug shows: the check that finds it, and
// within how many trials it does (tests hold raftsim to that).
type bugDemo struct {
	bug    string
	args   []string // raftsim check ARGS --bug BUG
	within int      // trials
}

var bugDemos = []bugDemo{
	{"peers-majority", []string{"cold-start", "--nodes", "4"}, 2000},
	{"no-log-check", []string{"lagging-follower"}, 100},
	{"no-retry", []string{"leader-crash", "--election-timeout", "150ms-155ms"}, 100},
	{"vote-not-persisted", []string{"crash-restart"}, 1000},
	{"ignore-reply-term", []string{"stale-leader"}, 100},
	{"reset-on-any-vote", []string{"fast-laggard"}, 1000},
	{"leader-no-step-down", []string{"partition-leader"}, 100},
	{"vote-unrecorded", []string{"cold-start"}, 100},
	{"candidate-stays", []string{"cold-start"}, 200},
}

func (d bugDemo) command() string {
	return commandLine(append(append([]string{"raftsim", "check"}, d.args...), "--bug", d.bug)...)
}

func bugsCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("bugs", "bugs", "Lists the deliberate bugs that --bug switches on: its name, what it breaks, and\nthe check that finds it. They are for teaching, and for proving that raftsim's\ncheckers catch them. raftsim check --swarm --bug NAME hunts for most of them too.\n",
		"  raftsim bugs\n  raftsim check cold-start --nodes 4 --bug peers-majority\n  raftsim run partition-leader --bug leader-no-step-down\n", errw)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("bugs takes no arguments")
	}
	var b strings.Builder
	for _, info := range raft.Bugs {
		fmt.Fprintf(&b, "%-20s %s\n", info.Name, info.Breaks)
		for _, d := range bugDemos {
			if d.bug == info.Name {
				fmt.Fprintf(&b, "%-20s   shows in: %s\n", "", d.command())
			}
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}
