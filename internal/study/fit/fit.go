package fit

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/optimize"

	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Problem is a fit to do.
type Problem struct {
	// Scenario is the scenario as loaded, and Overrides the command line's
	// changes to it; --trials sets how many trials each candidate runs per
	// group, --seed their seeds. The overrides must leave the fitted
	// components alone.
	Scenario  *scenarios.Scenario
	Overrides scenarios.Overrides
	// Groups are what was observed: all samples, or all targets.
	Groups []Group
	// Fit lists the components to estimate (always the latency), Families
	// the latency families to try; the best is kept.
	Fit      []Component
	Families []sim.DistKind
	// Bootstrap is the number of bootstrap replicates for the uncertainty;
	// 0 skips it.
	Bootstrap int
	Workers   int
	// Progress, if set, is told how many simulated trials are done, of at
	// most total, from any goroutine.
	Progress func(done, total int)
}

// Limits of a fit.
const (
	MaxGroups    = 20
	MaxBootstrap = 10000
)

// seedSalt keeps the fit's trial seeds apart from those of raftsim run
// with the same scenario seed, so that samples written by run are never
// the very trials the fit simulates.
const seedSalt = 0x4669745472696173 // "FitTrias"

// Search effort: the coarse grid's points per location coordinate and
// per shape, and the Nelder–Mead evaluations allowed per dimension.
const (
	gridLocations = 13
	gridShapes    = 4
	nmPerDim      = 25
)

// Result is a fit.
type Result struct {
	Distance string  // what was minimised, in words
	Value    float64 // its value at the fit
	Family   sim.DistKind
	// Fitted holds the fitted distribution of each component, in the
	// order of Problem.Fit.
	Fitted    []Fitted
	Estimates []Estimate
	// Families holds the distance each family tried reached.
	Families []FamilyFit
	Groups   []GroupFit
	// Scenario is the scenario with the fitted network, validated.
	Scenario    *scenarios.Scenario
	Trials      int    // simulated trials per group and candidate
	Seed        uint64 // the scenario seed (the fit's trial seeds derive from it)
	Bootstrap   int
	Evaluations int // candidates simulated
	// Off lists the components fitted that the best fit leaves out: with
	// them the distance was no smaller (each keeps the scenario's own
	// value, or none).
	Off []Component
	Health
}

// Health says how far a fit can be trusted: whether its search ended by
// its convergence test, which of its estimates sit on an end of the
// range searched, and whether the best model is consistent with the
// observations at the significance level Level.
type Health struct {
	// Converged says that the search of the best family settled: its last
	// Nelder–Mead run, a restart from the best point met, met its
	// convergence test, or ended lower than it began by no more than the
	// distance varies by chance (its standard deviation over resamples of
	// the observations and trials at the fit). False when it stopped at its
	// limit of evaluations still improving beyond chance.
	Converged bool
	Bounds    []Bound
	// Level is the significance level of the consistency test, and
	// Consistent whether no group rejects the best model at it: for
	// samples, each group's KS p-value is at least Level; for targets,
	// each figure lies inside the central 1-Level of what the statistic
	// takes over resamples of the fitted model's trials.
	Level      float64
	Consistent bool
	// Nested holds the fits over fewer components that the search started
	// from, each from the best of those nested in it, smallest first: the
	// fit never ends above the best of them.
	Nested []NestedFit
}

// Bound is an estimate at an end of the range the search may take.
type Bound struct {
	Coordinate string // such as "latency mean", "latency spread", "persist"
	Upper      bool
	Text       string // what it means, in words
}

// NestedFit is the best fit over some of the components.
type NestedFit struct {
	Components []Component
	Distance   float64
}

// Level is the significance level at which a fit is tested for
// consistency with its observations.
const Level = 0.05

// Fitted is the fitted distribution of a component.
type Fitted struct {
	Component Component
	Dist      sim.Dist
}

// Estimate is a fitted parameter with its bootstrap uncertainty: the
// standard deviation and the 95% percentile interval of the replicates'
// values (NaN without a bootstrap).
type Estimate struct {
	Parameter
	SD, Lo, Hi float64
}

// FamilyFit is the distance a latency family reached.
type FamilyFit struct {
	Family   sim.DistKind
	Distance float64
}

// GroupFit is how well the fit matches one group.
type GroupFit struct {
	Group
	// Simulated are the fitted model's times (ms, sorted, +Inf for no
	// leader), of the trials whose measurement began.
	Simulated []float64
	// Samples: the group's share of the distance, and the two-sample
	// Kolmogorov–Smirnov statistic and its asymptotic p-value.
	CvM, KS, PValue float64
	// Targets: the simulated value of each target, and the central
	// 1-Level of the values it takes over resamples of the fitted model's
	// trials: what a figure from as many trials of the model could be.
	Achieved  []float64
	Plausible [][2]float64
}

// NoLeader returns how many of the group's trials found no leader.
func (g *GroupFit) NoLeader() int { return countInf(g.Times) }

func countInf(xs []float64) int {
	n := 0
	for _, x := range xs {
		if math.IsInf(x, 1) {
			n++
		}
	}
	return n
}

// Run fits p.
func Run(p *Problem) (*Result, error) {
	f, err := newFitter(p)
	if err != nil {
		return nil, err
	}
	res := &Result{Distance: DistanceSamples, Trials: f.trials, Seed: f.seed ^ seedSalt, Bootstrap: p.Bootstrap}
	if f.targets {
		res.Distance = DistanceTargets
	}
	var best *found
	for _, fam := range p.Families {
		fd := f.fitComponents(fam, p.Fit, map[string]*found{})
		if f.err != nil {
			return nil, f.err
		}
		res.Families = append(res.Families, FamilyFit{fam, fd.e.d})
		if best == nil || fd.e.d < best.e.d {
			best = fd
		}
	}
	sp := best.sp
	res.Family, res.Value = sp.family, best.e.d
	comps, dists := sp.dists(best.z)
	for i, c := range comps {
		res.Fitted = append(res.Fitted, Fitted{c, dists[i]})
	}
	for _, c := range sp.comps {
		if !slices.Contains(comps, c) {
			res.Off = append(res.Off, c)
		}
	}
	boot := f.bootstrap(best, p.Bootstrap)
	if f.err != nil {
		return nil, f.err
	}
	for i, prm := range sp.parameters(best.z) {
		e := Estimate{Parameter: prm, SD: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
		if len(boot) > 0 {
			vals := make([]float64, len(boot))
			for b := range boot {
				vals[b] = boot[b][i].Value
			}
			e.SD, e.Lo, e.Hi = spread(vals)
		}
		res.Estimates = append(res.Estimates, e)
	}
	for gi := range f.groups {
		g := GroupFit{Group: f.groups[gi], Simulated: best.e.sims[gi].x, CvM: math.NaN(), KS: math.NaN(), PValue: math.NaN()}
		simW := weighted{x: g.Simulated}
		if f.targets {
			for _, t := range g.Targets {
				g.Achieved = append(g.Achieved, statistic(t.Stat, simW))
				g.Plausible = append(g.Plausible, f.plausible(t.Stat, best.e.sims[gi], gi))
			}
		} else {
			g.CvM, g.KS = compare(weighted{x: g.Times}, simW)
			g.PValue = stats.KSPValue(g.KS, float64(len(g.Times)), float64(len(g.Simulated)))
		}
		res.Groups = append(res.Groups, g)
	}
	res.Health = health(best, res.Groups, f.chance(best))
	o := f.p.Overrides
	for _, fd := range res.Fitted {
		if err := o.Set(fd.Component.Flag(), scenarios.FormatDist(fd.Dist)); err != nil {
			return nil, err
		}
	}
	if res.Scenario, err = o.Apply(p.Scenario); err != nil {
		return nil, err
	}
	res.Evaluations = f.evaluations
	if p.Progress != nil {
		p.Progress(f.budget, f.budget)
	}
	return res, nil
}

// health judges the best fit: its search's end (against chance, how much
// the distance varies by chance alone), its bounds, and its consistency
// with the observations at [Level].
func health(best *found, groups []GroupFit, chance float64) Health {
	h := Health{Converged: !best.stopped || best.gain <= chance, Bounds: best.sp.bounds(best.z), Level: Level, Consistent: true}
	for n := best.from; n != nil; n = n.from {
		h.Nested = append([]NestedFit{{Components: n.sp.comps, Distance: n.e.d}}, h.Nested...)
	}
	for _, g := range groups {
		if len(g.Targets) == 0 {
			h.Consistent = h.Consistent && g.PValue >= Level
			continue
		}
		for i, t := range g.Targets {
			r := g.Plausible[i]
			h.Consistent = h.Consistent && t.Value >= r[0] && t.Value <= r[1]
		}
	}
	return h
}

// spread returns the standard deviation and the 2.5% and 97.5% quantiles
// of xs.
func spread(xs []float64) (sd, lo, hi float64) {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	q := func(p float64) float64 { return xs[int(math.Round(p*float64(len(xs)-1)))] }
	return sd, q(0.025), q(0.975)
}

// fitter holds what a fit's searches share: the groups, each group's
// scenario overrides, and every candidate simulated so far.
type fitter struct {
	p         *Problem
	groups    []Group
	over      []scenarios.Overrides // of each group: the command line's and the group's conditions
	targets   bool
	trials    int
	seed      uint64
	scenarios []*scenarios.Scenario // of each group, with the scenario's own network
	scale     float64               // typical time to leader, ms
	cache     map[string]*eval      // by key; looked up only
	// points are the candidates met in each space, in the order met, each
	// once: the bootstrap's design takes those near the fit.
	points []point
	met    map[pointKey]bool // looked up only
	// evaluations counts the candidates simulated; done their trials, of
	// at most budget.
	evaluations, done, budget int
	err                       error // the first error of a simulation
}

// Work returns what fitting p will simulate at most: the scenario of each
// group, under its conditions and with the scenario's own network (the
// fit's candidates vary it), and how many trials of each, for an estimate
// of its cost before it starts.
func Work(p *Problem) (groups []*scenarios.Scenario, trialsEach int, err error) {
	f, err := newFitter(p)
	if err != nil {
		return nil, 0, err
	}
	return f.scenarios, f.budget / len(f.groups), nil
}

func newFitter(p *Problem) (*fitter, error) {
	if len(p.Groups) == 0 {
		return nil, errors.New("nothing to fit: give samples or targets")
	}
	if len(p.Groups) > MaxGroups {
		return nil, fmt.Errorf("%d groups of trials: at most %d", len(p.Groups), MaxGroups)
	}
	if len(p.Fit) == 0 || p.Fit[0] != Latency || len(p.Families) == 0 {
		return nil, errors.New("fit: want the latency first among the components, and a family")
	}
	if p.Bootstrap < 0 || p.Bootstrap > MaxBootstrap {
		return nil, fmt.Errorf("bootstrap of %d replicates: want 0 to %d", p.Bootstrap, MaxBootstrap)
	}
	for _, c := range p.Fit {
		if p.Overrides.Text(c.Flag()) != "" {
			return nil, fmt.Errorf("--%s: the fit estimates it; leave the flag out, or %s out of --fit", c.Flag(), c)
		}
	}
	f := &fitter{p: p, groups: p.Groups, targets: len(p.Groups[0].Targets) > 0, cache: map[string]*eval{}, met: map[pointKey]bool{}, scale: math.Inf(1)}
	for _, g := range p.Groups {
		if (len(g.Targets) > 0) != f.targets {
			return nil, errors.New("fit to samples or to targets, not both")
		}
		if !f.targets && len(g.Times) < MinRows {
			return nil, fmt.Errorf("%s: %d trials; a group needs at least %d", g.Label, len(g.Times), MinRows)
		}
		o := p.Overrides
		for _, c := range g.Conditions {
			if err := o.Set(c.Flag, c.Text); err != nil {
				return nil, fmt.Errorf("%s: --%s %s: %v", g.Label, c.Flag, c.Text, err)
			}
		}
		s, err := o.Apply(p.Scenario)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", g.Label, err)
		}
		f.trials, f.seed = s.Trials, s.Seed^seedSalt
		f.over = append(f.over, o)
		f.scenarios = append(f.scenarios, s)
		for _, t := range g.Targets {
			f.scale = math.Min(f.scale, t.Value)
		}
		if !f.targets {
			f.scale = math.Min(f.scale, g.Times[len(g.Times)/2])
		}
	}
	if math.IsInf(f.scale, 1) {
		return nil, errors.New("no group has a median time to leader: most of its trials found no leader")
	}
	dim := newSpace(sim.Uniform, p.Fit, 1).dim()
	f.budget = f.trials * len(f.groups) * (len(p.Families)*searchEvals(p.Fit) + bootstrapEvals(dim, p.Bootstrap))
	return f, nil
}

// searchEvals bounds the candidates one family's search over comps
// simulates, the searches over the components nested in them included.
func searchEvals(comps []Component) int {
	dim := newSpace(sim.Uniform, comps, 1).dim()
	if len(comps) == 1 {
		return gridLocations*gridShapes + nmPerDim*dim
	}
	n := 4*(len(comps)-1) + nmPerDim*dim
	for _, sub := range nestedIn(comps) {
		n += searchEvals(sub)
	}
	return n
}

// nestedIn returns the sets of components with one fewer than comps, the
// latency always kept.
func nestedIn(comps []Component) [][]Component {
	var out [][]Component
	for i := 1; i < len(comps); i++ {
		out = append(out, slices.Delete(slices.Clone(comps), i, i+1))
	}
	return out
}

// eval is one candidate, simulated.
type eval struct {
	comps []Component // those switched on, in the space's order
	dists []sim.Dist  // of each of comps
	sims  []simulated // of each group
	d     float64     // the distance to the observations
}

// point is a candidate met at z of a space.
type point struct {
	sp *space
	z  []float64
	e  *eval
}

type pointKey struct {
	sp  *space
	key string
}

// simulated are a candidate's trials of one group that began: their trial
// indexes and times in increasing order of time (ties by index).
type simulated struct {
	order []int32
	x     []float64 // ms; +Inf for no leader
}

// key names a candidate by its components' distributions.
func key(family sim.DistKind, comps []Component, dists []sim.Dist) string {
	parts := []string{FamilyName(family)}
	for i, d := range dists {
		parts = append(parts, comps[i].String()+"="+scenarios.FormatDist(d))
	}
	return strings.Join(parts, " ")
}

// evaluate simulates the candidate at z of sp (once: candidates are kept,
// and the same distributions met in another space are the same candidate)
// and returns it with its distance to the observations.
func (f *fitter) evaluate(sp *space, z []float64) *eval {
	z = sp.clamp(z)
	comps, dists := sp.dists(z)
	k := key(sp.family, comps, dists)
	e, ok := f.cache[k]
	if !ok {
		e = &eval{comps: comps, dists: dists}
		f.cache[k] = e
		f.evaluations++
		for gi := range f.groups {
			e.sims = append(e.sims, f.simulate(gi, comps, dists))
		}
		e.d = f.distance(e.sims, nil, nil, nil)
	}
	if pk := (pointKey{sp, k}); !f.met[pk] {
		f.met[pk] = true
		f.points = append(f.points, point{sp, z, e})
	}
	return e
}

// simulate runs the fit's trials of group gi with the given distributions.
func (f *fitter) simulate(gi int, comps []Component, dists []sim.Dist) simulated {
	o := f.over[gi]
	for i, c := range comps {
		if err := o.Set(c.Flag(), scenarios.FormatDist(dists[i])); err != nil && f.err == nil {
			f.err = err
		}
	}
	s, err := o.Apply(f.p.Scenario)
	if err != nil {
		if f.err == nil {
			f.err = fmt.Errorf("%s: %v", f.groups[gi].Label, err)
		}
		return simulated{}
	}
	times := make([]float64, f.trials)
	began := make([]bool, f.trials)
	base := f.done
	runner.Run(trial.NewPlan(s), runner.Options{Trials: f.trials, Seed: f.seed, Workers: f.p.Workers,
		Progress: func(n int) {
			if f.p.Progress != nil {
				f.p.Progress(base+n, f.budget)
			}
		},
		Trial: func(i int, r *trial.Result) {
			began[i] = r.Started
			times[i] = math.Inf(1)
			if r.Measured {
				times[i] = float64(r.TimeToLeader) / 1e6
			}
		}})
	f.done += f.trials
	var sm simulated
	for i, b := range began {
		if b {
			sm.order = append(sm.order, int32(i))
		}
	}
	slices.SortStableFunc(sm.order, func(a, b int32) int { return cmp.Compare(times[a], times[b]) })
	sm.x = make([]float64, len(sm.order))
	for j, i := range sm.order {
		sm.x[j] = times[i]
	}
	return sm
}

// distance returns the distance between the observations and the
// simulated groups sims. For a bootstrap replicate, dataW holds each
// group's data weights (by sorted position), simW each group's trial
// weights (by trial index), and scale each target's factor; nil means
// the observations as they are.
func (f *fitter) distance(sims []simulated, dataW, simW, scale [][]float64) float64 {
	total := 0.0
	for gi, g := range f.groups {
		sm := weighted{x: sims[gi].x}
		if simW != nil {
			sm.w = make([]float64, len(sims[gi].order))
			for j, i := range sims[gi].order {
				sm.w[j] = simW[gi][i]
			}
		}
		if f.targets {
			for ti, t := range g.Targets {
				target := t.Value
				if scale != nil {
					target *= scale[gi][ti]
				}
				total += targetLoss(statistic(t.Stat, sm), target)
			}
			continue
		}
		data := weighted{x: g.Times}
		if dataW != nil {
			data.w = dataW[gi]
		}
		cvm, _ := compare(data, sm)
		if math.IsNaN(cvm) {
			cvm = missLoss
		}
		total += cvm
	}
	return total
}

// found is the best candidate a search met: where in its space; whether
// the search's last Nelder–Mead run stopped at its limit of evaluations,
// and how much lower than it began it ended; from is the nested fit it
// started from (nil for the latency alone).
type found struct {
	point
	stopped bool
	gain    float64
	from    *found
}

// fitComponents fits family fam over comps, starting from the best of the
// fits over the components nested in comps (one fewer each, fitted the
// same way, and kept in memo by their names): the fit over more
// components begins where the best fit over fewer ended, with the others
// off, and so never ends worse.
func (f *fitter) fitComponents(fam sim.DistKind, comps []Component, memo map[string]*found) *found {
	name := fmt.Sprint(comps)
	if fd, ok := memo[name]; ok {
		return fd
	}
	var from *found
	for _, sub := range nestedIn(comps) {
		if fd := f.fitComponents(fam, sub, memo); from == nil || fd.e.d < from.e.d {
			from = fd
		}
	}
	fd := f.search(newSpace(fam, comps, f.scale), from)
	memo[name] = fd
	return fd
}

// search fits one latency family over sp's components: without a nested
// fit, from the best point of a coarse grid of the latency's location and
// shape; with one, from the nested fit and the best of a few locations of
// each component it lacks; then Nelder–Mead. It returns the best
// candidate met.
func (f *fitter) search(sp *space, from *found) *found {
	var best *found
	try := func(z []float64) *eval {
		z = sp.clamp(z)
		e := f.evaluate(sp, z)
		if best == nil || e.d < best.e.d {
			best = &found{point: point{sp, z, e}, from: from}
		}
		return e
	}
	if from == nil {
		z := make([]float64, sp.dim())
		for a := range gridLocations {
			for b := range gridShapes {
				z[0], z[1] = float64(a)/(gridLocations-1), (float64(b)+0.5)/gridShapes
				try(z)
			}
		}
	} else {
		try(sp.embed(from.sp, from.z))
		for i, c := range sp.coords {
			if c.shape || from.sp.has(c.comp) {
				continue
			}
			for a := range 4 {
				z := slices.Clone(best.z)
				z[i] = (float64(a) + 0.5) / 4
				try(z)
			}
		}
	}
	// Nelder–Mead, then once more from where it ended with a smaller
	// simplex: on a distance with chance in it, a restart finds what a
	// collapsed simplex missed. Whether the search converged is judged from
	// the restart: its status, and how much lower it ended than it began.
	var stopped bool
	var gain float64
	for _, size := range []float64{0.5, 0.25} {
		began := best.e.d
		r, err := optimize.Minimize(optimize.Problem{Func: func(x []float64) float64 { return try(x).d }},
			slices.Clone(best.z),
			&optimize.Settings{
				FuncEvaluations: nmPerDim * sp.dim() / 2,
				Converger:       &optimize.FunctionConverge{Absolute: 1e-6, Relative: 1e-2, Iterations: 8},
			},
			&optimize.NelderMead{SimplexSize: size / (gridLocations - 1)})
		if err != nil && f.err == nil {
			f.err = fmt.Errorf("optimiser: %v", err)
		}
		stopped, gain = err != nil || r.Status.Early(), began-best.e.d
	}
	best.stopped, best.gain = stopped, gain
	return best
}
