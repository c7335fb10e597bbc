// Package simulated is the simulated world of a trial: Raft nodes (package
// raft) over a simulated network (package sim), in virtual time. Its
// [Driver] is the [trial.World] of a [trial.Conductor], which runs the
// trial's timeline, measures and judges it; the driver owns the event loop
// and carries out what each node's Ready asks for. Besides the conductor,
// two concerns hear what happens, each in a file named for it:
//
//	driver.go    the event loop: inputs to nodes, their Readys, disk and
//	             timer slack, a write's hold; the World the conductor acts on
//	check.go     the safety checker: election safety, vote-once,
//	             term-monotonic, leader completeness
//	tracing.go   the trial's events as a trace (package trace), and its details
//	view.go      what a Ready changed, the faults as the tracer hears them,
//	             and the nodes' logs as their Readys wrote them
//
// A trial must be a pure function of its plan and seed: nothing here may
// read the wall clock, a global random source or a map's iteration order,
// and tracing a trial must not change it.
package simulated
