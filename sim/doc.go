// Package sim is a deterministic discrete-event simulator: a virtual clock, an
// event queue ordered by (time, scheduling sequence), cancellable per-node
// timers, seeded random streams, a simulated network (latency, loss,
// duplication, FIFO links, partitions, one-way cuts) and node faults (crash,
// restart, pause, clock drift).
//
// A [Sim] is driven by one caller in a single loop: it calls [Sim.Next] for the
// next event and reacts by sending messages and arming timers. Nothing here
// knows what the messages mean; the Raft node lives in package raft and the
// code that joins the two lives above both.
//
// sim must never read the wall clock, start goroutines, use the global random
// source, or let map iteration order decide anything: the same seed and the
// same calls give the same events, on any machine.
package sim
