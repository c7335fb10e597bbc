package fit

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Component is a part of the network model the fit estimates.
type Component uint8

// The components.
const (
	Latency Component = iota // one-way latency of every link: a family's two parameters
	Persist                  // disk write time: uniform, its mean and width
	Jitter                   // timer lateness: uniform from 0 to a maximum
	numComponents
)

var componentNames = [...]string{Latency: "latency", Persist: "persist", Jitter: "jitter"}

func (c Component) String() string { return componentNames[c] }

// Flag returns the scenario flag c sets: latency, persist or timer-jitter.
func (c Component) Flag() string {
	if c == Jitter {
		return "timer-jitter"
	}
	return c.String()
}

// ParseComponents reads a --fit list such as latency,persist,jitter. The
// latency is always fitted.
func ParseComponents(s string) ([]Component, error) {
	on := [numComponents]bool{Latency: true}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		found := false
		for c := range numComponents {
			if name == c.String() || name == c.Flag() {
				on[c], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown component %q (want latency, persist, jitter)", name)
		}
	}
	var out []Component
	for c := range numComponents {
		if on[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Families are the latency families --family auto tries, in the order
// that breaks ties.
var Families = []sim.DistKind{sim.Uniform, sim.Normal, sim.LogNormal, sim.Exp}

// ParseFamily reads a --family value: uniform, normal, lognormal, exp, or
// auto for all four.
func ParseFamily(s string) ([]sim.DistKind, error) {
	if s == "auto" {
		return Families, nil
	}
	for _, k := range Families {
		if FamilyName(k) == s {
			return []sim.DistKind{k}, nil
		}
	}
	return nil, fmt.Errorf("unknown family %q (want uniform, normal, lognormal, exp or auto)", s)
}

// FamilyName returns the name of a latency family as distributions write
// it: uniform, normal, lognormal, exp.
func FamilyName(k sim.DistKind) string {
	name, _, _ := strings.Cut(scenarios.FormatDist(sim.Dist{Kind: k}), ":")
	return name
}

// coord is one coordinate of the search: a location (log10 of a mean or
// maximum in ms) or a shape (a spread relative to the mean) of a
// component, between lo and hi. The optimiser sees every coordinate
// scaled to [0, 1].
type coord struct {
	comp   Component
	shape  bool
	lo, hi float64
}

// space is the search space of one latency family: the coordinates of
// each component fitted, and how a point of it becomes distributions.
type space struct {
	family sim.DistKind
	comps  []Component
	coords []coord
}

// newSpace returns the search space of family for comps, with locations
// (means, or the jitter's maximum) between scale/5000 and scale/5 ms,
// where scale is the smallest median time to leader: a leader election
// takes a timeout and then at least three one-way messages (a vote
// request, its reply and the first heartbeat), each perhaps with a disk
// write, so larger locations cannot fit, and their candidates, whose
// elections rarely succeed, are the slowest to simulate.
func newSpace(family sim.DistKind, comps []Component, scale float64) *space {
	sp := &space{family: family, comps: comps}
	hi := math.Log10(scale / 5)
	lo := hi - 3
	for _, c := range comps {
		sp.coords = append(sp.coords, coord{comp: c, lo: lo, hi: hi})
		switch {
		case c == Jitter:
		case c == Latency && family == sim.LogNormal:
			sp.coords = append(sp.coords, coord{comp: c, shape: true, lo: 0, hi: 2})
		case c == Latency && family == sim.Exp:
			sp.coords = append(sp.coords, coord{comp: c, shape: true, lo: 0.02, hi: 1})
		default:
			sp.coords = append(sp.coords, coord{comp: c, shape: true, lo: 0, hi: 1})
		}
	}
	return sp
}

func (sp *space) dim() int { return len(sp.coords) }

// has reports whether sp fits component c.
func (sp *space) has(c Component) bool { return slices.Contains(sp.comps, c) }

// clamp returns z with every coordinate clamped to [0, 1].
func (sp *space) clamp(z []float64) []float64 {
	out := make([]float64, len(z))
	for i, x := range z {
		out[i] = math.Min(1, math.Max(0, x))
	}
	return out
}

// value returns coordinate i of the point z, z[i] clamped to [0, 1].
func (sp *space) value(z []float64, i int) float64 {
	c := &sp.coords[i]
	return c.lo + math.Min(1, math.Max(0, z[i]))*(c.hi-c.lo)
}

// off reports whether coordinate i of z switches its component off: the
// location of a component other than the latency at its lower end. There
// the component keeps the scenario's own value (or none), so that every
// fit over fewer components is a point of the space.
func (sp *space) off(z []float64, i int) bool {
	c := &sp.coords[i]
	return c.comp != Latency && !c.shape && z[i] <= 0
}

// isOff reports whether component c is switched off at z.
func (sp *space) isOff(z []float64, c Component) bool {
	for i := range sp.coords {
		if sp.coords[i].comp == c && sp.off(z, i) {
			return true
		}
	}
	return false
}

// dists returns the components switched on at z, in sp.comps order, and
// the distribution of each, with durations rounded to three significant
// digits (1µs at least): finer steps change nothing a fit can see.
func (sp *space) dists(z []float64) (comps []Component, dists []sim.Dist) {
	for i := 0; i < len(z); {
		c := sp.coords[i].comp
		m := math.Pow(10, sp.value(z, i)) // ms
		off := sp.off(z, i)
		s := 0.0
		if i+1 < len(z) && sp.coords[i+1].comp == c && sp.coords[i+1].shape {
			s = sp.value(z, i+1)
			i++
		}
		i++
		if !off {
			comps, dists = append(comps, c), append(dists, componentDist(c, sp.family, m, s))
		}
	}
	return comps, dists
}

// embed returns the point of sp where the point z of the space in (whose
// components sp has too) lies: the components in lacks are off, their
// shapes in the middle of their ranges.
func (sp *space) embed(in *space, z []float64) []float64 {
	out := make([]float64, sp.dim())
	for i, c := range sp.coords {
		if c.shape {
			out[i] = 0.5
		}
		for j, d := range in.coords {
			if d.comp == c.comp && d.shape == c.shape {
				out[i] = z[j]
			}
		}
	}
	return out
}

// parameters returns the numbers of every component's distribution at z,
// in sp.comps order; a component switched off has zeros.
func (sp *space) parameters(z []float64) []Parameter {
	comps, dists := sp.dists(z)
	var out []Parameter
	for _, c := range sp.comps {
		d := sim.Dist{Kind: sim.Uniform}
		if c == Latency {
			d.Kind = sp.family
		}
		if j := slices.Index(comps, c); j >= 0 {
			d = dists[j]
		}
		out = append(out, parameters(c, d)...)
	}
	return out
}

// bounds returns the coordinates of z at an end of their ranges, with
// what each means.
func (sp *space) bounds(z []float64) []Bound {
	var out []Bound
	for i, c := range sp.coords {
		if z[i] > 0 && z[i] < 1 || sp.isOff(z, c.comp) {
			continue // a component off is not estimated: Result.Off lists it
		}
		b := Bound{Coordinate: c.comp.String() + " " + c.name(sp.family), Upper: z[i] >= 1}
		ms := math.Pow(10, c.lo)
		if b.Upper {
			ms = math.Pow(10, c.hi)
		}
		switch {
		case !c.shape && b.Upper:
			b.Text = fmt.Sprintf("%s at the search's largest, %.3gms (a fifth of the smallest median time to leader): the data may want more than a network delay can give",
				b.Coordinate, ms)
		case !c.shape:
			b.Text = fmt.Sprintf("%s at the search's smallest, %.3gms: the data may want less than the search allows", b.Coordinate, ms)
		case b.Upper:
			b.Text = fmt.Sprintf("%s at its widest (%s): the data may want a wider spread than the %s family has", b.Coordinate, c.widest(sp.family), FamilyName(sp.family))
		default:
			b.Text = fmt.Sprintf("%s at its narrowest: a constant %s", b.Coordinate, c.comp)
		}
		out = append(out, b)
	}
	return out
}

// name names the coordinate as bounds speak of it.
func (c *coord) name(family sim.DistKind) string {
	switch {
	case c.shape:
		return "spread"
	case c.comp == Jitter:
		return "max"
	}
	return "mean"
}

// widest says what the widest shape of a family is.
func (c *coord) widest(family sim.DistKind) string {
	switch {
	case c.comp != Latency || family == sim.Uniform || family == sim.Exp:
		return "its minimum at 0"
	case family == sim.Normal:
		return "its standard deviation equal to its mean"
	}
	return "its standard deviation twice its mean"
}

// componentDist returns the distribution of component c with mean (for
// the jitter: maximum) m ms and shape s.
func componentDist(c Component, family sim.DistKind, m, s float64) sim.Dist {
	mean := roundMs(m)
	var d sim.Dist
	var err error
	switch {
	case c == Jitter:
		d, err = sim.NewDist(sim.Uniform, 0, mean)
	case c == Persist || family == sim.Uniform:
		d, err = sim.NewDist(sim.Uniform, roundMs(m*(1-s)), roundMs(m*(1+s)))
	case family == sim.Exp:
		lo := min(roundMs(m*(1-s)), mean-time.Microsecond)
		d, err = sim.NewDist(sim.Exp, lo, mean)
	default: // normal and lognormal: mean and standard deviation
		d, err = sim.NewDist(family, mean, roundMs(m*s))
	}
	if err != nil {
		panic(fmt.Sprintf("fit: %v of %s (mean %gms, shape %g): %v", family, c, m, s, err))
	}
	return d
}

// roundMs rounds x ms to three significant digits, and to 1µs at least.
func roundMs(x float64) time.Duration {
	ns := x * 1e6
	if ns < 1e3 {
		return time.Microsecond
	}
	step := math.Pow(10, math.Floor(math.Log10(ns))-2)
	step = math.Max(step, 1e3)
	return time.Duration(math.Round(ns/step) * step)
}

// Parameter is one number of a fitted distribution, named as in its text
// form: uniform's min and max, normal's mean and sd, and so on.
type Parameter struct {
	Name  string  // such as "latency min"
	Value float64 // ms
}

// parameters returns the numbers of component c's distribution d; for the
// latency, its mean too.
func parameters(c Component, d sim.Dist) []Parameter {
	ms := func(x time.Duration) float64 { return float64(x) / 1e6 }
	p := func(name string, x time.Duration) Parameter { return Parameter{c.String() + " " + name, ms(x)} }
	var out []Parameter
	switch d.Kind {
	case sim.Uniform:
		if c == Jitter {
			return []Parameter{p("max", d.B)}
		}
		out = []Parameter{p("min", d.A), p("max", d.B)}
	case sim.Exp:
		return []Parameter{p("min", d.A), p("mean", d.B)}
	default:
		return []Parameter{p("mean", d.A), p("sd", d.B)}
	}
	if c == Latency {
		out = append(out, p("mean", d.Mean()))
	}
	return out
}

// msDuration converts x ms to a duration, to the nanosecond.
func msDuration(x float64) time.Duration { return time.Duration(math.Round(x * 1e6)) }
