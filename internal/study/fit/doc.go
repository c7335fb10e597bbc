// Package fit calibrates the simulator's network model from measured
// times to leader: it searches the parameters of the latency distribution
// (and, when asked, of the disk write time and the timer lateness) for
// which the scenario's simulated trials look most like the measurements.
//
// What it fits to is either samples (one time to leader per trial, as
// package samples reads them) or published summary figures (targets such
// as "150ms-155ms:p50=287ms"). The distance it minimises is stated in
// every result: for samples, the sum over groups of trials of the
// two-sample Cramér–von Mises statistic between the measured and the
// simulated times; for targets, the sum of the squared logarithms of the
// ratio of each simulated statistic to its target. A coarse grid picks the
// start of a Nelder–Mead search (gonum/optimize). Every candidate runs the
// same trial seeds (common random numbers), so candidates differ only in
// their parameters. The uncertainty comes from a seeded bootstrap: the
// measurements and the simulated trials are resampled, and a quadratic
// fitted to the distance over a design of candidates around the fit gives
// each replicate's minimum.
//
// fit must never read the wall clock, a global random source or a map's
// iteration order: the same inputs give the same fit, byte for byte, at
// any number of workers. It never prints; report formats its results.
package fit
