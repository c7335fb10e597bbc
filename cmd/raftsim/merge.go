package main

import (
	"io"
	"os"
	"slices"

	"github.com/raftsim/raftsim/shard"
)

const mergeAbout = `Joins the partial results of the N shards of one run, sweep or check (each
shard written by the command with --shard K/N, in any order) and prints
exactly what the command prints without --shard: the same table, JSON or CSV,
the same failures and replay commands, a sweep's recommendation and plots
(written where its --plot said), a check's first failure in trial order,
shrunk; and it exits as the command would (1 when a trial failed).

It refuses, naming the files, a shard missing or given twice, partial results
of different commands, flags, scenarios or shard counts, and partial results
that another version of raftsim wrote: merge with the raftsim that ran the
shards.
`

const mergeExamples = `  for k in 1 2 3 4; do raftsim sweep figure16 --shard $k/4 --out part-$k.json & done; wait
  raftsim merge part-*.json
  raftsim merge /results/part-*.json --out /results/figure16.txt
`

// merges are the commands whose shards merge, by name.
var merges = map[string]func(args []string, out, errw io.Writer, m *shard.Merged) error{
	"run":   runWith,
	"sweep": sweepWith,
	"check": checkWith,
}

func mergeCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("merge", "merge PART... [--out FILE]", mergeAbout, mergeExamples, errw)
	outPath := fs.String("out", "", "write the output to this file (whole or not at all) instead of stdout")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		return badUsage("merge: give the partial results of every shard, e.g. raftsim merge part-*.json")
	}
	parts := make([]*shard.Partial, len(names))
	for i, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return badUsage("merge: %v", err)
		}
		parts[i], err = shard.Read(f)
		f.Close()
		if err != nil {
			return badUsage("merge: %s: %v", name, err)
		}
	}
	m, err := shard.Join(names, parts, shard.Version())
	if err != nil {
		return badUsage("merge: %v", err)
	}
	command, ok := merges[m.Command]
	if !ok {
		return badUsage("merge: %s: shards of raftsim %s, which do not merge", names[0], m.Command)
	}
	flags := slices.Clone(m.Flags)
	if *outPath != "" {
		flags = append(flags, "--out="+*outPath)
	}
	return command(slices.Concat(flags, []string{"--"}, m.Args), out, errw, m)
}
