package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// The text forms of the values scenario files share with command-line
// flags (durations, ranges, distributions, heartbeats, seeds,
// probabilities, node selectors), so that both are read and printed alike.

// ParseDuration is [time.ParseDuration] that also accepts a bare 0 and
// refuses negative durations.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (examples: 150ms, 1.5s, 500us)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// FormatDuration prints d in the largest of s, ms, us and ns that shows it
// exactly, so that the text parses back to the same value: 1s, 1500ms, 7ms.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d%time.Microsecond == 0:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// FormatSpan formats a measured span of time for people, to a precision
// that means something: milliseconds above a second (5.004s), microseconds
// below (1.235ms). Scenario values use [FormatDuration], which is exact.
func FormatSpan(d time.Duration) string {
	if d >= time.Second || d <= -time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// Range is a closed interval of durations, such as an election timeout range.
// Its text form is MIN-MAX, for example 150ms-300ms; a unit on the maximum
// alone applies to both (150-300ms).
type Range struct {
	Min, Max time.Duration
}

// ParseRange parses MIN-MAX. A single duration D means D-D.
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		d, err := ParseDuration(s)
		if err != nil {
			return Range{}, err
		}
		return Range{d, d}, nil
	}
	max, err := ParseDuration(hi)
	if err != nil {
		return Range{}, err
	}
	min, err := ParseDuration(lo)
	if err != nil {
		// "150-300ms": the minimum borrows the maximum's unit.
		unit := strings.TrimLeft(strings.TrimSpace(hi), "0123456789.")
		if _, perr := strconv.ParseFloat(strings.TrimSpace(lo), 64); perr != nil || unit == "" {
			return Range{}, err
		}
		if min, err = ParseDuration(strings.TrimSpace(lo) + unit); err != nil {
			return Range{}, err
		}
	}
	if min > max {
		return Range{}, fmt.Errorf("range %q: minimum is above maximum", s)
	}
	return Range{min, max}, nil
}

// String returns MIN-MAX in the form [ParseRange] accepts.
func (r Range) String() string { return FormatDuration(r.Min) + "-" + FormatDuration(r.Max) }

// distNames are the text names of the kinds of [sim.Dist].
var distNames = [...]string{sim.Const: "const", sim.Uniform: "uniform", sim.Normal: "normal", sim.Exp: "exp", sim.LogNormal: "lognormal",
	sim.Empirical: "empirical", sim.Mixture: "mix"}

// ParseDist parses the text form of a distribution of durations, one of
//
//	const:7ms             always 7ms (a bare duration such as 7ms means the same)
//	uniform:5ms-10ms      uniform between 5ms and 10ms, both included
//	normal:7ms,2ms        normal with mean 7ms and standard deviation 2ms, truncated at 0
//	exp:7ms               exponential with mean 7ms
//	exp:5ms,7ms           5ms plus an exponential: minimum 5ms, mean 7ms
//	lognormal:7ms,2ms     log-normal with mean 7ms and standard deviation 2ms
//	empirical:FILE        the values, or histogram, of a CSV file ([EmpiricalDist] says what it holds)
//	mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s
//	                      a mixture: each part (any of the above but mix) with its weight; weights add up to 1
//
// Durations take Go's units (ns, us, ms, s, m, h); a bare 0 needs none.
// A relative FILE is read from the working directory (in a scenario file,
// from the file's directory). [FormatDist] prints the canonical form.
func ParseDist(s string) (sim.Dist, error) { return parseDist(s, dataFiles{}, false) }

// parseDist is [ParseDist] reading files from files; inMix says s is a
// part of a mixture, which cannot be a mixture itself.
func parseDist(s string, files dataFiles, inMix bool) (sim.Dist, error) {
	kind, args, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		d, err := ParseDuration(kind)
		if err != nil {
			return sim.Dist{}, fmt.Errorf("%q is neither a duration nor a distribution (%s)", s, distKinds)
		}
		return newDist(sim.Const, d, 0)
	}
	switch kind {
	case "const":
		d, err := ParseDuration(args)
		if err != nil {
			return sim.Dist{}, err
		}
		return newDist(sim.Const, d, 0)
	case "uniform":
		r, err := ParseRange(args)
		if err != nil {
			return sim.Dist{}, err
		}
		return newDist(sim.Uniform, r.Min, r.Max)
	case "normal", "lognormal":
		a, b, err := parsePair(args)
		if err != nil {
			return sim.Dist{}, fmt.Errorf("%s: want MEAN,STDDEV: %v", kind, err)
		}
		k := sim.Normal
		if kind == "lognormal" {
			k = sim.LogNormal
		}
		return newDist(k, a, b)
	case "exp":
		if !strings.Contains(args, ",") {
			mean, err := ParseDuration(args)
			if err != nil {
				return sim.Dist{}, err
			}
			return newDist(sim.Exp, 0, mean)
		}
		a, b, err := parsePair(args)
		if err != nil {
			return sim.Dist{}, fmt.Errorf("exp: want MEAN or MIN,MEAN: %v", err)
		}
		return newDist(sim.Exp, a, b)
	case "empirical":
		return files.empirical(args)
	case "mix":
		if inMix {
			return sim.Dist{}, errors.New("mix: a part of a mixture cannot be a mixture: write its parts out, their weights multiplied")
		}
		return parseMix(args, files)
	}
	return sim.Dist{}, fmt.Errorf("unknown distribution %q (want %s)", kind, distKinds)
}

// distKinds lists the kinds of distribution for errors.
var distKinds = oneOf(distNames[:])

func parsePair(s string) (a, b time.Duration, err error) {
	x, y, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, fmt.Errorf("%q has no comma", s)
	}
	if a, err = ParseDuration(x); err != nil {
		return 0, 0, err
	}
	if b, err = ParseDuration(y); err != nil {
		return 0, 0, err
	}
	return a, b, nil
}

// newDist is [sim.NewDist] whose errors show the durations in text form.
func newDist(kind sim.DistKind, a, b time.Duration) (sim.Dist, error) {
	d, err := sim.NewDist(kind, a, b)
	switch {
	case errors.Is(err, sim.ErrUniformOrder):
		err = fmt.Errorf("uniform: minimum %s is above maximum %s", FormatDuration(a), FormatDuration(b))
	case errors.Is(err, sim.ErrExpMean):
		err = fmt.Errorf("exp: mean %s must be above the minimum %s", FormatDuration(b), FormatDuration(a))
	}
	return d, err
}

// FormatDist returns the canonical text form of d, which [ParseDist]
// accepts: an empirical distribution names its file as read from the
// working directory ([DataFile] Path), as a command line names it.
func FormatDist(d sim.Dist) string { return formatDist(d, dataPath) }

// formatDist is [FormatDist], an empirical distribution's file named by
// file.
func formatDist(d sim.Dist, file func(*DataFile) string) string {
	name := distNames[d.Kind]
	switch d.Kind {
	case sim.Const:
		return name + ":" + FormatDuration(d.A)
	case sim.Uniform:
		return name + ":" + Range{d.A, d.B}.String()
	case sim.Exp:
		if d.A == 0 {
			return name + ":" + FormatDuration(d.B)
		}
	case sim.Empirical:
		f, ok := d.Origin().(*DataFile)
		switch {
		case d.Buckets() == nil: // the kind alone, as fit names families
			return name + ":"
		case !ok:
			panic("scenarios: an empirical distribution that no file made (make one with ParseDist or EmpiricalDist)")
		}
		return name + ":" + file(f)
	case sim.Mixture:
		weights, parts := d.Parts()
		texts := make([]string, len(parts))
		for i := range parts {
			texts[i] = strconv.FormatFloat(weights[i], 'g', -1, 64) + "*" + formatDist(parts[i], file)
		}
		return name + ":" + strings.Join(texts, "+")
	}
	return name + ":" + FormatDuration(d.A) + "," + FormatDuration(d.B)
}

// String returns the heartbeat as written: 50ms or 50%.
func (h Heartbeat) String() string {
	if h.Percent > 0 {
		return strconv.FormatFloat(h.Percent, 'g', -1, 64) + "%"
	}
	return FormatDuration(h.D)
}

// ParseHeartbeat reads a heartbeat interval: a duration (50ms), or a
// percentage of the minimum election timeout (50%).
func ParseHeartbeat(s string) (Heartbeat, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || !(x > 0) || x > 1000 {
			return Heartbeat{}, fmt.Errorf("heartbeat %q: want a percentage of the minimum election timeout above 0, such as 50%%", s)
		}
		return Heartbeat{Percent: x}, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return Heartbeat{}, fmt.Errorf("%v, or a percentage of the minimum election timeout such as 50%%", err)
	}
	return Heartbeat{D: d}, nil
}

// ParseSeed reads a seed: a non-negative decimal or 0x-hex integer.
func ParseSeed(s string) (uint64, error) {
	x, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, errors.New("want a seed: a whole number from 0 to 18446744073709551615, decimal or 0x-hex, got " + strconv.Quote(s))
	}
	return x, nil
}

// ParseProbability reads a number in [0, 1].
func ParseProbability(s string) (float64, error) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(x) {
		return 0, errors.New("want a probability between 0 and 1, got " + strconv.Quote(s))
	}
	if x < 0 || x > 1 {
		return 0, errors.New("probability " + s + " is outside [0, 1]")
	}
	return x, nil
}

func parsePositive(s string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !(x > 0) || math.IsInf(x, 0) {
		return 0, errors.New("want a positive number, got " + strconv.Quote(s))
	}
	return x, nil
}

func parseNodeName(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "n")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 1 || rest[0] == '0' || rest[0] == '+' {
		return 0, false
	}
	return i - 1, true
}

// ParseSelector reads the text form of a node selector: n3, leader,
// old-leader, follower, follower:K, random, random:K, all, connected, or
// a name an earlier action gave its nodes (as: NAME).
func ParseSelector(v string) (Selector, error) {
	s := Selector{Text: v}
	name, count, hasCount := strings.Cut(v, ":")
	switch name {
	case "leader":
		s.Kind = Leader
	case "follower":
		s.Kind, s.Count = RandomFollower, 1
	case "random":
		s.Kind, s.Count = Random, 1
	case "all":
		s.Kind = All
	case "old-leader":
		s.Kind = OldLeader
	case "connected":
		s.Kind = Connected
	default:
		if id, ok := parseNodeName(v); ok {
			s.Kind, s.IDs = Named, []int{id}
			return s, nil
		}
		if !hasCount && bindable(v) {
			s.Kind, s.Name = Bound, v
			return s, nil
		}
		return s, errors.New("want a node: n1, leader, old-leader, follower, random, random:K, follower:K, all, connected, " +
			"a name an earlier step gave with as:, or a list [n1, leader]; got " + strconv.Quote(v))
	}
	if hasCount {
		k, err := strconv.Atoi(count)
		if err != nil || k < 1 || (s.Kind != Random && s.Kind != RandomFollower) {
			return s, errors.New("only random:K and follower:K take a count (K at least 1); got " + strconv.Quote(v))
		}
		s.Count = k
	}
	return s, nil
}

// selectorWords are the selectors that are not node names or bound names.
var selectorWords = []string{"leader", "old-leader", "follower", "random", "all", "connected"}

// bindable reports whether name can name nodes (as: name): a lower-case
// word of letters, digits, - and _, starting with a letter, that is neither
// a selector word nor a node name.
func bindable(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' || slices.Contains(selectorWords, name) {
		return false
	}
	if rest, ok := strings.CutPrefix(name, "n"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
		return false // a node's name, or what looks like one (n0)
	}
	return strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
}

// Count writes n and the noun, singular for exactly 1: "1 node", "3 nodes".
// Every count raftsim prints in words goes through it.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Hours writes h hours in words, with up to 6 significant digits: "1 hour",
// "0.5 hours", "20 hours".
func Hours(h float64) string {
	text := strconv.FormatFloat(h, 'g', 6, 64)
	if text == "1" {
		return "1 hour"
	}
	return text + " hours"
}
