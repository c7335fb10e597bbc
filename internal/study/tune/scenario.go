package tune

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/scenarios"
)

// ScenarioFile is the name of the scenario tune writes, beside its data
// files.
const ScenarioFile = "etcd.yaml"

// Cluster is the cluster tune simulates: the model's network and disk for
// Size members (the model's own size, or another the user asks about),
// their Pre-Vote, and the directory the scenario file and its data files
// are named in (written there only with raftsim tune --save).
type Cluster struct {
	Model   *Model
	Size    int
	PreVote bool
	Dir     string
}

// Path is the scenario file's path.
func (c *Cluster) Path() string { return filepath.Join(c.Dir, ScenarioFile) }

// PerLink reports whether the scenario gives each link its own latency:
// when the cluster is the one scraped and every member measured its round
// trips to every other.
func (c *Cluster) PerLink() bool {
	n := len(c.Model.Members)
	return c.Size == n && len(c.Model.Links) == n*(n-1)
}

// steadyRun is how long one steady-state run lasts (scenarios.SteadyRun):
// a weather timeline must last that long.
const steadyRun = scenarios.SteadyRun

// MaxStallSteps bounds the stalls of one steady-state run: a scenario's
// timeline holds at most 100000 steps.
const MaxStallSteps = 50000

// Files returns the scenario file at setting base and its data files, by
// path: the text a scenario is parsed from ([scenarios.ParseWithData]),
// and what raftsim tune --save writes. notes say what the scenario could
// not model as measured.
func (c *Cluster) Files(base Setting) (files map[string][]byte, notes []string) {
	m := c.Model
	files = map[string][]byte{}
	data := func(name string, h metrics.Histogram) string {
		files[filepath.Join(c.Dir, name)] = h.CSV()
		return `"empirical:` + name + `"`
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("name: etcd-tune\n")
	w("description: >-\n  %d etcd members (%s) on the network and disk their metrics describe (%s);\n", c.Size, versionText(m.Version), c.sources())
	w("  the leader crashes at a random point of its heartbeat interval; time until a new leader.\n")
	e := electionRange(base)
	w("cluster:\n  nodes: %d\n  impl: etcd\n  tick: %s\n  heartbeat: %s\n  election_timeout: %s\n",
		c.Size, scenarios.FormatDuration(base.Heartbeat), scenarios.FormatDuration(base.Heartbeat), e)
	w("  options: {check_quorum: true, prevote: %v}\n", c.PreVote)
	w("  persist: %s\n", data("fsync.csv", m.Persist))
	w("network:\n  latency: %s\n", data("latency.csv", m.Network))
	if c.PerLink() {
		w("  links:\n")
		for _, l := range m.Links {
			if l.From < l.To { // both directions share the pair's round trips
				name := fmt.Sprintf("latency-%s-%s.csv", scenarios.NodeName(l.From), scenarios.NodeName(l.To))
				w("    - {from: %s, to: %s, both: true, latency: %s}\n", scenarios.NodeName(l.From), scenarios.NodeName(l.To), data(name, l.OneWay))
			}
		}
	} else {
		notes = append(notes, fmt.Sprintf("every link has the latency of all round trips measured: per-link latencies need a cluster of the %d members scraped, each measuring every other",
			len(m.Members)))
	}
	w("faults:\n  - after: leader-elected\n    delay: 1s\n    note: let the cluster settle\n")
	w("  - after: heartbeat\n    delay: within-heartbeat\n    crash: leader\n")
	w("measure: {from: fault, until: leader, limit: %s}\n", scenarios.FormatDuration(max(60*time.Second, 40*base.Election)))
	w("steady:\n  faults:")
	st := &m.Stalls
	switch rate := st.PerHour() * float64(c.Size); {
	case math.IsNaN(rate):
		w(" []\n")
		notes = append(notes, "the stalls' rate is unknown (no process start time, and one scrape of each member): the steady state has none; give two scrapes of each member, FILE@TIME")
	case rate == 0 || st.Tail.Count() == 0:
		w(" []\n")
	default:
		expected := rate * steadyRun.Hours()
		steps := int(math.Ceil(expected + 6*math.Sqrt(expected) + 10))
		if steps > MaxStallSteps {
			steps = MaxStallSteps
			notes = append(notes, fmt.Sprintf("stalls come so often (%.0f in %s) that a steady-state run holds only the first %d", expected, scenarios.FormatDuration(steadyRun), steps))
		}
		w("\n    - repeat: %d\n      steps:\n        - delay: \"exp:%s\"\n          pause: {nodes: random, for: %s}\n",
			steps, scenarios.FormatDuration(meanGap(rate)), data("stall.csv", st.Tail))
	}
	files[c.Path()] = []byte(b.String())
	return files, notes
}

// meanGap is the mean time between stalls at rate stalls an hour: to the
// millisecond, or the microsecond below a second, and never 0.
func meanGap(rate float64) time.Duration {
	gap := time.Duration(float64(time.Hour) / rate)
	if gap >= time.Second {
		return gap.Round(time.Millisecond)
	}
	return max(gap.Round(time.Microsecond), time.Microsecond)
}

// sources names what the model was read from.
func (c *Cluster) sources() string {
	n := 0
	for _, m := range c.Model.Members {
		n += len(m.Scrapes)
	}
	return scenarios.Count(n, "scrape", "scrapes") + " of " + scenarios.Count(len(c.Model.Members), "member", "members")
}

func versionText(v string) string {
	if v == "" {
		return "version unknown"
	}
	return "etcd " + v
}

// electionRange is the election timeout range etcd draws from at s:
// ElectionTick to 2·ElectionTick−1 ticks of one heartbeat.
func electionRange(s Setting) scenarios.Range {
	t := time.Duration(s.Ticks())
	return scenarios.Range{Min: t * s.Heartbeat, Max: (2*t - 1) * s.Heartbeat}
}

// Overrides returns o with the overrides that turn the scenario of
// [Cluster.Files] to setting s: what its cell's replay command gives.
func Overrides(o scenarios.Overrides, s Setting) (scenarios.Overrides, error) {
	for _, kv := range [][2]string{{"tick", scenarios.FormatDuration(s.Heartbeat)}, {"heartbeat", scenarios.FormatDuration(s.Heartbeat)},
		{"election-timeout", electionRange(s).String()}} {
		if err := o.Set(kv[0], kv[1]); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Scenario parses the scenario of files (from [Cluster.Files]).
func (c *Cluster) Scenario(files map[string][]byte) (*scenarios.Scenario, error) {
	return scenarios.ParseWithData(c.Path(), files[c.Path()], files)
}
