package scenarios

import (
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// SweptParam is a parameter raftsim sweep varies: the flag that lists its
// values (which elsewhere overrides the one value, but for options, whose
// sets are sweep's own), its key in a scenario's sweep: section (none for
// options), and the values that section gives, as the flag writes them.
// The one list of them is [SweptParams]: the sweep: section's keys, the
// sweep command's flags, its axes and the samples file's columns all come
// from it.
type SweptParam struct {
	Flag string // the sweep flag, and the override of one value
	Key  string // in a sweep: section; "" for none
	// Column says a samples file has a column for it (Column(Flag)): the
	// condition a group of measured times was taken under, which fit reads.
	Column bool
	help   string // the sweep flag's help
	list   string // what the sweep: key lists, for the reference
	values func(*Sweep) []string
	read   func(d *decoder, v *yaml.Node, field string, sw *Sweep)
}

// SweptParams are the swept parameters, in the order a sweep's cells nest
// them: the election timeout innermost.
var SweptParams = []SweptParam{
	{Flag: "nodes", Key: "nodes", Column: true, help: "cluster sizes, e.g. 3,5,7", list: "cluster sizes",
		values: func(sw *Sweep) []string { return texts(sw.Nodes, strconv.Itoa) },
		read:   func(d *decoder, v *yaml.Node, f string, sw *Sweep) { sw.Nodes = listOf(d, v, f, (*decoder).nodes) }},
	{Flag: "latency", Key: "latency", help: "latency distributions, e.g. 'uniform:5ms-10ms;exp:2ms,5ms' (see raftsim run --help)",
		list:   "latency distributions",
		values: func(sw *Sweep) []string { return texts(sw.Latency, FormatDist) },
		read:   func(d *decoder, v *yaml.Node, f string, sw *Sweep) { sw.Latency = listOf(d, v, f, (*decoder).dist) }},
	{Flag: "loss", Key: "loss", Column: true, help: "loss probabilities, e.g. 0,0.01", list: "loss probabilities",
		values: func(sw *Sweep) []string { return texts(sw.Loss, formatFloat) },
		read:   func(d *decoder, v *yaml.Node, f string, sw *Sweep) { sw.Loss = listOf(d, v, f, (*decoder).probability) }},
	{Flag: "heartbeat", Key: "heartbeat", Column: true, help: "heartbeat intervals, e.g. 25ms,50ms or 50% (of the minimum election timeout)",
		list:   "heartbeat intervals",
		values: func(sw *Sweep) []string { return texts(sw.Heartbeat, Heartbeat.String) },
		read: func(d *decoder, v *yaml.Node, f string, sw *Sweep) {
			sw.Heartbeat = listOf(d, v, f, (*decoder).heartbeat)
		}},
	{Flag: "options", help: "protocol option sets, '+' within a set: e.g. none,prevote,check-quorum,prevote+check-quorum (also leader-stickiness)",
		values: func(*Sweep) []string { return nil }},
	{Flag: "election-timeout", Key: "election_timeout", Column: true, help: "election timeout ranges, e.g. 50ms-100ms,150ms-300ms,500ms-1s",
		list:   "election timeout ranges",
		values: func(sw *Sweep) []string { return texts(sw.ElectionTimeout, Range.String) },
		read: func(d *decoder, v *yaml.Node, f string, sw *Sweep) {
			sw.ElectionTimeout = listOf(d, v, f, (*decoder).rangeOf)
		}},
}

// Help is the sweep flag's help.
func (p *SweptParam) Help() string { return p.help }

// Values returns the values sw lists for the parameter, as its flag writes
// them; none when sw lists none.
func (p *SweptParam) Values(sw *Sweep) []string { return p.values(sw) }

// Swept reports whether raftsim sweep takes a list of values for the flag.
func Swept(flag string) bool {
	return slices.ContainsFunc(SweptParams, func(p SweptParam) bool { return p.Flag == flag })
}

func texts[T any](xs []T, format func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, format(x))
	}
	return out
}
