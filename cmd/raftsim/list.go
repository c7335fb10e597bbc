package main

import (
	"fmt"
	"io"

	"github.com/raftsim/raftsim/scenarios"
)

func listCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("list", "list", "Lists the built-in scenarios, one a line: its name and what it does.\n"+
		"Run one with raftsim run NAME; see its file with raftsim list --show NAME.\n",
		"  raftsim list\n  raftsim list --show leader-crash\n", errw)
	show := fs.String("show", "", "print the YAML of the named built-in scenario")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("list takes no arguments")
	}
	if *show != "" {
		data, err := scenarios.BuiltinYAML(*show)
		if err != nil {
			return badUsage("%v", err)
		}
		_, err = out.Write(data)
		return err
	}
	for _, name := range scenarios.BuiltinNames {
		s, err := scenarios.Builtin(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-18s %s\n", name, s.Description)
	}
	return nil
}
