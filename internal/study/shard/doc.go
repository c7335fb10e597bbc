// Package shard splits the work of raftsim run, sweep and check into N
// disjoint, deterministic parts (shards) that separate processes run, and
// carries each shard's exact result to the merge: a [Partial].
//
// Which shard runs what ([Spec]):
//
//   - run and sweep: each cell's trials (a run is one cell) are cut into N
//     consecutive slices, and shard K takes slice (K-1+cell) mod N of
//     every cell ([Spec.Slice]); a cell's steady-state runs likewise. Every
//     shard thus runs the same share of every cell, whatever cells cost,
//     and turning by the cell's number spreads the few steady-state runs
//     of many cells over all the shards.
//   - check: the hunt's trials are dealt out like cards: shard K takes
//     trials K-1, K-1+N, K-1+2N, ... ([Spec.Trial]), so hunts that a time
//     limit stops together cover the first trials, and the first failure
//     in trial order is the lowest any shard found.
//
// Every trial keeps the index, and so the seed, it has in the whole run:
// merged, the shards' results are exactly the whole run's, and a failure's
// replay command is the same.
//
// # Partial results
//
// A partial is one JSON object (see [Partial] for every key):
//
//	{"raftsim_partial": 1, "raftsim_version": "v1.2.0", "command": "sweep",
//	 "flags": ["--election-timeout=150ms-300ms,300ms-600ms", "--trials=1000"],
//	 "args": ["leader-crash"], "shard": {"k": 2, "n": 4},
//	 "parts": [{"kind": "trials", "cell": 0, "first": 250, "count": 250, "of": 1000,
//	            "aggregate": {"Trials": 250, "TimeToLeader": {"n": 250, "sum": "...", ...}, ...}}, ...]}
//
// raftsim_partial is the format's version ([FormatVersion]); a reader
// refuses any other. raftsim_version is the [Version] of the raftsim that
// wrote it: [Merged] takes partials of one version only, and only in a
// raftsim of that version, since another version may simulate or print
// differently. data lists the data files the shard's trials read
// (empirical distributions: their paths as the command line gives them and
// the SHA-256 of their content); partials that read different data do not
// merge, and the merge, which reads them again where the command line
// names them, requires the same content. It folds each partial into running totals as it comes, so
// a merge holds one set of aggregates however many shards there are. command, flags, args and scenario (the text of a scenario
// file; a built-in's text is part of the binary) are the command line as
// merge gives it back to the command: flags in the order the command
// defines them, without --shard, --out and --workers, which do not change
// what it prints. An aggregate is [runner.Aggregate]'s fields by name,
// each summary (stats.Summary) in its exact JSON form. A check shard
// writes "hunt" instead of "parts" ([Hunt]).
//
// shard never runs trials and never prints: cmd runs each shard's part
// with runner and prints the merged result with report. No result may
// depend on the order of the files merged or on which process ran what.
package shard
