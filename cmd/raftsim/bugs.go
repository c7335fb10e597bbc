package main

import (
	"fmt"
	"io"

	"github.com/raftsim/raftsim/raft"
)

func bugsCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("bugs", "bugs", "Lists the deliberate bugs that --bug switches on, one a line: its name and\nwhat it breaks. They are for teaching, and for proving that the checkers catch them.\n",
		"  raftsim bugs\n  raftsim run cold-start --nodes 4 --bug peers-majority\n", errw)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("bugs takes no arguments")
	}
	for _, b := range raft.Bugs {
		fmt.Fprintf(out, "%-20s %s\n", b.Name, b.Breaks)
	}
	return nil
}
