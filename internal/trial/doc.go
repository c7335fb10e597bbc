// Package trial is one trial of a scenario, written once for both worlds
// it runs in: the simulator (package simulated) and real processes
// (package live). A [Conductor] runs the trial against a small [World]
// interface: the world reports what happens (a node booted, showed a new
// role or term, sent a message, heard its leader's AppendEntries) and
// carries out what the conductor tells it (crash, restart, pause, drift,
// the network, a write), and the conductor decides everything else, in a
// file per concern:
//
//	conductor.go the World interface, and what the conductor hears and asks
//	timeline.go  the fault timeline: steps, triggers, delays, actions, node
//	             picks and their random draws, check steps, trace text
//	meter.go     time to leader, rounds, split votes, stale leaders, stability
//	liveness.go  the watchdog: a working leader within a deadline while a
//	             majority is up and connected; end-of-trial expectations
//	cluster.go   what the trial knows of the cluster: each node's role and
//	             term as shown, who is up, the topology, who leads and works
//	plan.go      a scenario made ready for trials: its steps, links, starts
//	seeds.go     every random stream of a trial, derived from its one seed
//	result.go    what a trial measured, and its failure
//
// The conductor never reads a node: what it knows is what the world saw
// the nodes show, and the majority is ⌊N/2⌋+1 of the cluster size, so a
// node's bug cannot blind the check that judges it. A difference between a
// simulated and a live trial of the same scenario and seed comes from the
// worlds, never from code written twice.
//
// A trial must be a pure function of its plan, seed and what its world
// reports: nothing here reads the wall clock, a global random source or a
// map's iteration order.
package trial
