package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/raftsim/raftsim/internal/study/shard"
)

const versionAbout = `Prints the version of this raftsim: the release or commit it was built from,
and for a build from a work tree with changes the start of its executable's
SHA-256 as well. raftsim merge takes only partial results written by the same
version, so run it where it prints the same line as on the machines that ran
the shards.
`

func versionCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("version", "version", versionAbout, "  raftsim version\n", errw)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("version takes no arguments")
	}
	_, err := fmt.Fprintf(out, "raftsim %s\nbuilt with %s for %s/%s\n", shard.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
