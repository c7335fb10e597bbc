// Package samples is the CSV format of times to leader, one row per trial:
// what raftsim run --samples and raftsim sweep --samples write, and what
// raftsim fit reads, whether the rows come from the simulator or from a
// real cluster.
//
//	election_timeout,nodes,heartbeat,trial,time_to_leader_ms
//	150ms-300ms,5,50ms,0,191.0391
//	150ms-300ms,5,50ms,1,
//
// The columns:
//   - election_timeout (required): the trial's election timeout range, as
//     --election-timeout takes it;
//   - time_to_leader_ms (required): the time to leader in milliseconds, or
//     empty when the trial found no leader within its time limit;
//   - nodes, heartbeat, loss (optional): the trial's cluster size,
//     heartbeat interval and loss probability, as their flags take them;
//     an empty cell means the scenario's own value;
//   - trial (optional): the trial's index, for reference.
//
// Rows with the same election timeout, nodes, heartbeat and loss form one
// group: trials of one set of conditions. A trial whose measurement never
// began (it measures from a fault, and no fault removed a leader) measured
// nothing and has no row. A sweep's file also has a column for each other
// parameter it varies over two values or more (latency, options); [Read]
// refuses those, since the rows of one file must come from one network.
//
// samples only reads and writes rows: it must never run trials or judge
// them, and a file it writes reads back to the same groups.
package samples

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// The columns every file has, and the one kept for reference.
const (
	ElectionTimeout = "election_timeout"
	TimeToLeader    = "time_to_leader_ms"
	TrialIndex      = "trial"
)

// conditions are the columns that set a group's conditions, each the
// swept parameter of the same name with '-' for '_' (a SweptParam with a
// Column).
var conditions = func() []string {
	var cols []string
	for _, p := range scenarios.SweptParams {
		if p.Column {
			cols = append(cols, Column(p.Flag))
		}
	}
	return cols
}()

// MaxRows bounds the rows of a file.
const MaxRows = 1_000_000

// maxMs bounds a time to leader, in ms (about 11.6 days).
const maxMs = 1e9

// Column returns the column of the scenario flag flag: election-timeout
// is election_timeout.
func Column(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// flag returns the scenario flag of a column.
func flag(column string) string { return strings.ReplaceAll(column, "_", "-") }

// Outcome is what one trial measured.
type Outcome struct {
	Started bool          // the measurement began: the trial has a row
	Leader  bool          // a leader was found, Time after the origin
	Time    time.Duration // time to leader
}

// Trials holds the outcome of each trial of a run, by trial index.
type Trials []Outcome

// Record keeps the outcome of trial index: it is a [runner.Options] Trial
// function, safe for concurrent calls with different indexes.
func (ts Trials) Record(index int, r *trial.Result) {
	ts[index] = Outcome{Started: r.Started, Leader: r.Measured, Time: r.TimeToLeader}
}

// Columns returns the condition columns of s's trials and their values: election_timeout, nodes and heartbeat as s has them, then a
// column for each flag of varied (a sweep's axes) not among them, with
// its value from values.
func Columns(s *scenarios.Scenario, varied, values []string) (columns, texts []string) {
	c := &s.Cluster
	columns = []string{ElectionTimeout, "nodes", "heartbeat"}
	texts = []string{c.ElectionTimeout.String(), strconv.Itoa(c.Nodes), c.Heartbeat.String()}
	for i, f := range varied {
		if col := Column(f); !slices.Contains(columns, col) {
			columns = append(columns, col)
			texts = append(texts, values[i])
		}
	}
	return columns, texts
}

// formatMs prints a time in ms exactly: every nanosecond is kept.
func formatMs(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', -1, 64)
}
