package trial

import (
	"fmt"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// Seed returns the seed of trial index of a scenario run with seed
// scenarioSeed. Trial seeds are below 2^53, so that JSON readers keep them
// exact.
func Seed(scenarioSeed uint64, index int) uint64 {
	return sim.Mix(scenarioSeed^sim.Mix(uint64(index)+1)) & (1<<53 - 1)
}

// SteadySeed returns the scenario seed of a scenario's steady-state runs:
// run i of them has the seed Seed(SteadySeed(s), i), apart from the seeds
// of the scenario's own trials.
func SteadySeed(scenarioSeed uint64) uint64 { return scenarioSeed ^ steadySalt }

// steadySalt keeps the seeds of steady-state runs apart from the seeds of
// a scenario's trials.
const steadySalt = 0x5374656164795374 // "SteadySt"

// Seeds derives every random stream of one trial from the trial's seed,
// TigerBeetle-style: each purpose (and each node, where a stream is per
// node) has its own sub-seed, so that draws for one purpose never shift the
// draws for another, and changing one part of a scenario does not reshuffle
// the rest.
type Seeds uint64

// purpose names what a random stream of a trial is for.
type purpose uint32

const (
	purposeNode       purpose = iota + 1 // a node's election timeouts (index: node)
	purposeNetwork                       // latency, loss and duplication draws
	purposeFaults                        // random fault delays and random node choices
	purposeStart                         // a node's start time (index: node)
	purposeSwarm                         // a trial's whole configuration, under --swarm
	purposeDisk                          // a node's disk write times (index: node)
	purposeJitter                        // a node's timer lateness (index: node)
	purposeProcessing                    // a node's time to react to an input (index: node)
)

// derive is a pure function: the same trial, purpose and index always name
// the same stream.
func (s Seeds) derive(p purpose, index int) uint64 {
	return sim.Mix(uint64(s) ^ sim.Mix(uint64(p)<<32^uint64(uint32(index))^0x5bd1e9955bd1e995))
}

// Node is the seed of node i's election timeouts.
func (s Seeds) Node(i int) uint64 { return s.derive(purposeNode, i) }

// Network is the seed of the network's latency, loss and duplication.
func (s Seeds) Network() uint64 { return s.derive(purposeNetwork, 0) }

// Faults is the seed the fault steps' seeds derive from.
func (s Seeds) Faults() uint64 { return s.derive(purposeFaults, 0) }

// Step is the seed of fault step k's random delay and node choices (k is
// its 1-based position in the unrolled timeline): each step draws from its
// own stream, so that leaving one step out, as shrinking does, leaves the
// draws of every other as they were.
func (s Seeds) Step(k int) uint64 { return sim.Mix(s.Faults() ^ sim.Mix(uint64(k))) }

// Start is the seed of node i's start time.
func (s Seeds) Start(i int) uint64 { return s.derive(purposeStart, i) }

// Disk is the seed of node i's disk write times.
func (s Seeds) Disk(i int) uint64 { return s.derive(purposeDisk, i) }

// Jitter is the seed of node i's timer lateness.
func (s Seeds) Jitter(i int) uint64 { return s.derive(purposeJitter, i) }

// Processing is the seed of node i's times to react to its inputs.
func (s Seeds) Processing(i int) uint64 { return s.derive(purposeProcessing, i) }

// Swarm is the seed of the trial's whole configuration under --swarm.
func (s Seeds) Swarm() uint64 { return s.derive(purposeSwarm, 0) }

// Describe lists the sub-seeds of a trial of n nodes, one stream a line,
// as replay's header prints them.
func (s Seeds) Describe(n int) []string {
	perNode := func(name string, seed func(int) uint64) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("n%d=%#x", i+1, seed(i))
		}
		return name + ": " + strings.Join(parts, " ")
	}
	return []string{
		fmt.Sprintf("trial %d: network %#x, faults %#x (step k: mixed with k), swarm %#x", uint64(s), s.Network(), s.Faults(), s.Swarm()),
		perNode("election timeouts", s.Node),
		perNode("start times", s.Start),
		perNode("disk writes", s.Disk),
		perNode("timer slack", s.Jitter),
	}
}
