package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/raftsim/raftsim/internal/study/shard"
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
	workers := fs.Int("workers", defaultWorkers(), "partial results read at once (the output does not depend on it)")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		return badUsage("merge: give the partial results of every shard, e.g. raftsim merge part-*.json")
	}
	if *workers < 1 {
		return badUsage("--workers: want at least 1, got %d", *workers)
	}
	m := shard.NewMerged(shard.Version())
	if err := readPartials(names, *workers, func(name string, p *shard.Partial) error {
		if err := m.Add(name, p); err != nil {
			return badUsage("merge: %v", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.Complete(); err != nil {
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

// readPartials reads the files names, workers at a time, and gives each
// to take in the order given, holding at most workers read but not yet
// taken: reading (decoding JSON) is most of a merge's work, and partial
// results are large. It stops at the first error.
func readPartials(names []string, workers int, take func(name string, p *shard.Partial) error) error {
	type read struct {
		p   *shard.Partial
		err error
	}
	reads := make([]chan read, len(names))
	for i := range reads {
		reads[i] = make(chan read, 1) // a reader never waits
	}
	slots := make(chan struct{}, workers)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i, name := range names {
			select {
			case slots <- struct{}{}:
			case <-stop:
				return
			}
			go func() {
				f, err := os.Open(name)
				var pathErr *fs.PathError
				if errors.As(err, &pathErr) {
					err = pathErr.Err // the name is said once, with the error
				}
				if err != nil {
					reads[i] <- read{err: err}
					return
				}
				defer f.Close()
				p, err := shard.Read(f)
				reads[i] <- read{p, err}
			}()
		}
	}()
	for i, name := range names {
		r := <-reads[i]
		<-slots
		if r.err != nil {
			return badUsage("merge: %s: %v", name, r.err)
		}
		if err := take(name, r.p); err != nil {
			return err
		}
	}
	return nil
}
