// Package trial runs one trial of a scenario: Raft nodes (package raft)
// over a simulated network (package sim), with the scenario's faults, and
// judges it. A [Driver] owns the event loop and carries out what each node's
// Ready asks for; everything else is a concern of its own, in a file named
// for it, fed by one small [Observer] interface:
//
//	driver.go    the event loop: inputs to nodes, their Readys, disk and timer slack
//	faults.go    the fault timeline: steps, triggers, actions, node selectors
//	check.go     the safety checker: election safety, vote-once, term-monotonic,
//	             leader completeness
//	liveness.go  the watchdog: a working leader within a deadline while a
//	             majority is up and connected; end-of-trial expectations
//	measure.go   time to leader, rounds, split votes, stale leaders, stability
//	tracing.go   the trial's events as a trace (package trace), and its details
//	seeds.go     every random stream of a trial, derived from its one seed
//	view.go      what the concerns may know: the nodes' reports and the simulator's view
//
// The concerns never read a node. What they know comes from the nodes'
// Readys (their reported state and the log entries they wrote), the
// messages they sent, and the simulator; the majority is ⌊N/2⌋+1 of the
// cluster size, never a node's own count, so a node's bug cannot blind the
// check that judges it.
//
// A trial must be a pure function of its plan and seed: nothing here may
// read the wall clock, a global random source or a map's iteration order,
// and tracing a trial must not change it.
package trial
