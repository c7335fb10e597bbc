package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Override is one value of a scenario that the command line may change,
// as the flag --Flag. [OverrideFlags] lists them all.
type Override struct {
	Flag string // the flag's name, without --
	Kind string // how the flag is written: "string", "int" or "bool"
	Help string
	// Picks says the flag picks which trials run (--seed, --trials) rather
	// than what a trial is, so a replay command leaves it out.
	Picks bool
	// parse reads the flag's text; it returns the change it makes and the
	// flag's text in canonical form.
	parse func(text string) (func(*Scenario), string, error)
}

const latencyHelp = `one-way latency of every link: const:7ms (or 7ms), uniform:5ms-10ms,
normal:MEAN,STDDEV (truncated at 0), exp:MEAN, exp:MIN,MEAN, lognormal:MEAN,STDDEV,
empirical:FILE (a CSV of values, or of histogram buckets le,count),
mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s (weights adding up to 1)`

// OverrideFlags lists every override, in the order --help shows them and
// [Overrides.Args] prints them.
var OverrideFlags = append([]Override{
	{"seed", "string", "scenario seed (decimal or 0x-hex); default: the scenario's", true,
		textOverride(ParseSeed, func(x uint64) string { return strconv.FormatUint(x, 10) }, func(s *Scenario, x uint64) { s.Seed = x })},
	{"trials", "int", "number of trials; default: the scenario's", true,
		textOverride(intIn("a number of trials", 1, MaxTrials), strconv.Itoa, func(s *Scenario, n int) { s.Trials = n })},
	{"impl", "string", "the Raft every node runs: raftsim (raftsim's own node) or etcd (etcd's raft, go.etcd.io/raft/v3 v3.7.0)", false,
		textOverride(ParseImpl, Impl.String, func(s *Scenario, i Impl) { s.Cluster.Impl = i })},
	{"tick", "string", "etcd's tick (--impl etcd; default 1ms): ElectionTick is the minimum election timeout in ticks, HeartbeatTick the heartbeat", false,
		textOverride(parseTick, FormatDuration, func(s *Scenario, d time.Duration) { s.Cluster.Tick = d })},
	{"nodes", "int", "cluster size", false,
		textOverride(intIn("a cluster size", 1, MaxNodes), strconv.Itoa, func(s *Scenario, n int) { s.Cluster.Nodes = n })},
	{"election-timeout", "string", "election timeout range, e.g. 150ms-300ms", false,
		textOverride(ParseRange, Range.String, func(s *Scenario, r Range) { s.Cluster.ElectionTimeout = r })},
	{"heartbeat", "string", "heartbeat interval, e.g. 50ms, or a percentage of the minimum election timeout, e.g. 50%", false,
		textOverride(ParseHeartbeat, Heartbeat.String, func(s *Scenario, h Heartbeat) { s.Cluster.Heartbeat = h })},
	{"start", "string", "when each node starts: a distribution each node draws from, e.g. uniform:0ms-1s; default: the scenario's (all at 0)", false,
		textOverride(ParseDist, FormatDist, func(s *Scenario, d sim.Dist) { s.Cluster.Start = []sim.Dist{d} })},
	{"latency", "string", latencyHelp, false,
		textOverride(ParseDist, FormatDist, func(s *Scenario, d sim.Dist) { s.Network.Latency = d })},
	{"loss", "string", "message loss probability of every link, 0 to 1", false,
		textOverride(ParseProbability, formatFloat, func(s *Scenario, p float64) { s.Network.Loss = p })},
	{"duplicate", "string", "message duplication probability of every link, 0 to 1", false,
		textOverride(ParseProbability, formatFloat, func(s *Scenario, p float64) { s.Network.Dup = p })},
	{"timer-jitter", "string", "every timer fires late by a random amount, e.g. uniform:0-1ms (operating system timer slack)", false,
		textOverride(ParseDist, FormatDist, func(s *Scenario, d sim.Dist) { s.Cluster.TimerJitter = &d })},
	{"persist", "string", "disk write time: messages that depend on a new term, vote or log entry wait for it (a distribution, e.g. uniform:2ms-8ms)", false,
		textOverride(ParseDist, FormatDist, func(s *Scenario, d sim.Dist) { s.Cluster.Persist = &d })},
	{"processing", "string", "how long a node takes to react to each input (HTTP, JSON, scheduling) before what it sends leaves (a distribution, e.g. lognormal:1ms,0.5ms)", false,
		textOverride(ParseDist, FormatDist, func(s *Scenario, d sim.Dist) { s.Cluster.Processing = &d })},
	{"fifo", "bool", "deliver messages on each link in the order sent (TCP-like)", false,
		boolOverride(func(s *Scenario) *bool { return &s.Network.FIFO })},
}, append(optionOverrides(), Override{
	"bug", "string", "switch on deliberate bugs, comma-separated (raftsim bugs lists them)", false,
	textOverride(raft.ParseBugs, raft.Bug.String, func(s *Scenario, b raft.Bug) { s.Cluster.Bugs = b }),
})...)

// Swept reports whether raftsim sweep takes a list of values for the
// override's flag instead ([SweptParams]).
func (ov *Override) Swept() bool { return Swept(ov.Flag) }

// optionOverrides are the flags of the [ProtocolOptions].
func optionOverrides() []Override {
	var out []Override
	for _, o := range ProtocolOptions {
		out = append(out, Override{Flag: o.Flag, Kind: "bool", Help: o.Help,
			parse: boolOverride(func(s *Scenario) *bool { return o.Field(&s.Cluster.Options) })})
	}
	return out
}

// textOverride makes the parse function of an override whose value parse
// reads, format prints in canonical form and set puts in a scenario.
func textOverride[T any](parse func(string) (T, error), format func(T) string, set func(*Scenario, T)) func(string) (func(*Scenario), string, error) {
	return func(text string) (func(*Scenario), string, error) {
		x, err := parse(text)
		if err != nil {
			return nil, "", err
		}
		return func(s *Scenario) { set(s, x) }, format(x), nil
	}
}

func boolOverride(field func(*Scenario) *bool) func(string) (func(*Scenario), string, error) {
	return textOverride(strconv.ParseBool, strconv.FormatBool, func(s *Scenario, b bool) { *field(s) = b })
}

// intIn reads what, a whole number in [lo, hi].
func intIn(what string, lo, hi int) func(string) (int, error) {
	return func(text string) (int, error) {
		n, err := strconv.Atoi(text)
		if err != nil {
			return 0, fmt.Errorf("%q is not %s from %d to %d", text, what, lo, hi)
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("%d is outside [%d, %d]", n, lo, hi)
		}
		return n, nil
	}
}

// parseTick reads a tick: a duration above 0.
func parseTick(text string) (time.Duration, error) {
	d, err := ParseDuration(text)
	if err == nil && d == 0 {
		err = errors.New("a tick of 0s: want a duration above 0, such as 1ms")
	}
	return d, err
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Overrides are the changes the command line makes to a scenario, each
// kept with its flag's text in canonical form. The zero value changes
// nothing; an Overrides is a value: Set on a copy leaves the original as
// it was.
type Overrides struct {
	set []setting // in OverrideFlags order, one per flag
}

type setting struct {
	at    int // in OverrideFlags
	text  string
	apply func(*Scenario)
}

// Set records --flag text, replacing an earlier value of the same flag.
// The error says what is wrong with text; the caller names the flag.
func (o *Overrides) Set(flag, text string) error {
	at := slices.IndexFunc(OverrideFlags, func(ov Override) bool { return ov.Flag == flag })
	if at < 0 {
		return errors.New("not a flag that overrides a scenario")
	}
	apply, canonical, err := OverrideFlags[at].parse(text)
	if err != nil {
		return err
	}
	next := make([]setting, 0, len(o.set)+1)
	for _, st := range o.set {
		if st.at != at {
			next = append(next, st)
		}
	}
	next = append(next, setting{at, canonical, apply})
	slices.SortFunc(next, func(a, b setting) int { return a.at - b.at })
	o.set = next
	return nil
}

// Apply returns a copy of s with the overrides applied, validated: the one
// place a scenario is checked before its trials are planned. s itself is
// not changed. An [Error] the overrides cause names, in Flags, the flags
// that cause it: those without which it goes away, or all of them when no
// single one does.
func (o Overrides) Apply(s *Scenario) (*Scenario, error) {
	c, err := o.apply(s)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			se.Flags = o.culprits(s, err.Error())
		}
		return nil, err
	}
	return c, nil
}

func (o Overrides) apply(s *Scenario) (*Scenario, error) {
	c := *s
	for _, st := range o.set {
		st.apply(&c)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// culprits returns the flags that make s fail with the error msg: none
// when s fails so without overrides.
func (o Overrides) culprits(s *Scenario, msg string) []string {
	if _, err := (Overrides{}).apply(s); err != nil && err.Error() == msg {
		return nil
	}
	var all, out []string
	for i, st := range o.set {
		flag := strings.Join(st.args(false), " ")
		all = append(all, flag)
		without := Overrides{set: slices.Delete(slices.Clone(o.set), i, i+1)}
		if _, err := without.apply(s); err == nil || err.Error() != msg {
			out = append(out, flag)
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// Without returns the overrides with --flag left out.
func (o Overrides) Without(flag string) Overrides {
	var out Overrides
	for _, st := range o.set {
		if OverrideFlags[st.at].Flag != flag {
			out.set = append(out.set, st)
		}
	}
	return out
}

// Args returns the overrides as command-line flags in canonical form,
// leaving out those that pick trials (--seed, --trials): what a replay
// command needs to rebuild a trial's scenario.
func (o Overrides) Args() []string {
	var out []string
	for _, st := range o.set {
		out = append(out, st.args(true)...)
	}
	return out
}

// args returns the flag as command-line words in canonical form, or
// nothing when it picks trials and picks says to leave those out.
func (st setting) args(leavePicks bool) []string {
	ov := &OverrideFlags[st.at]
	switch {
	case leavePicks && ov.Picks:
		return nil
	case ov.Kind == "bool":
		return []string{"--" + ov.Flag + "=" + st.text}
	}
	return []string{"--" + ov.Flag, st.text}
}

// Text returns the canonical text of --flag, or "" when it is not set.
func (o Overrides) Text(flag string) string {
	for _, st := range o.set {
		if OverrideFlags[st.at].Flag == flag {
			return st.text
		}
	}
	return ""
}
