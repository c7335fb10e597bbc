package fit

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/raftsim/raftsim/sim"
)

// The bootstrap's design: the scan along each coordinate doubles its step
// from scanFirst at most scanSteps times; noiseReplicates replicates at the
// fit measure how much the distance varies by chance alone, and the scan
// stops where the distance has risen by riseSDs times that.
const (
	scanFirst       = 1.0 / 32
	scanSteps       = 5
	noiseReplicates = 50
	riseSDs         = 4
	bootPurpose     = 0x426f6f7473747261 // "Bootstra"
)

// bootstrapEvals bounds the candidates the bootstrap simulates.
func bootstrapEvals(dim, replicates int) int {
	if replicates == 0 {
		return 0
	}
	return 2*dim*scanSteps + designPoints(dim)
}

// designPoints is the number of points of the design around the fit: a
// 3×3 grid in two dimensions, the centre and the corners of the box in
// more.
func designPoints(dim int) int {
	if dim <= 2 {
		n := 1
		for range dim {
			n *= 3
		}
		return n
	}
	return 1 + 1<<dim
}

// bootstrap returns the parameters of each bootstrap replicate around the
// fit center of sp (nil for none). A replicate resamples, with
// replacement, every group's measurements and the simulated trials (the
// same trial indexes at every candidate), and for targets also the target
// itself, as if it were the statistic of as many trials of the fitted
// model. Its fit is the minimum of a quadratic fitted by least squares to
// its distance over a design of candidates around the fit (a box
// reaching, along each coordinate, to where the distance has risen well
// beyond chance), taken relative to that quadratic's minimum for the data
// as they are.
func (f *fitter) bootstrap(fit *found, replicates int) [][]Parameter {
	if replicates == 0 {
		return nil
	}
	sp, center, cz := fit.sp, fit.e, fit.z
	r := sim.NewRand(sim.Mix(f.seed ^ bootPurpose))
	noise := make([]float64, noiseReplicates)
	for i := range noise {
		dataW, simW, scale := f.resample(r, center)
		noise[i] = f.distance(center.sims, dataW, simW, scale)
	}
	sd, _, _ := spread(noise)
	rise := math.Max(riseSDs*sd, 1e-9)

	// The box, coordinate by coordinate.
	d := sp.dim()
	lo, hi := slices.Clone(cz), slices.Clone(cz)
	for i := range d {
		for _, side := range []float64{-1, 1} {
			for step, delta := 0, scanFirst; step < scanSteps; step, delta = step+1, delta*2 {
				z := slices.Clone(cz)
				z[i] = math.Min(1, math.Max(0, z[i]+side*delta))
				if z[i] == cz[i] {
					break
				}
				lo[i], hi[i] = math.Min(lo[i], z[i]), math.Max(hi[i], z[i])
				if e := f.evaluate(sp, z); e.d-center.d >= rise || z[i] == 0 || z[i] == 1 {
					break
				}
			}
		}
	}
	// The design: a grid or the corners of the box, and every candidate
	// met inside it.
	mid, half := make([]float64, d), make([]float64, d)
	for i := range d {
		mid[i], half[i] = (lo[i]+hi[i])/2, math.Max((hi[i]-lo[i])/2, 1e-9)
	}
	for k := range designPoints(d) {
		z := slices.Clone(cz)
		if d <= 2 {
			for i, m := 0, k; i < d; i, m = i+1, m/3 {
				z[i] = mid[i] + float64(m%3-1)*half[i]
			}
		} else if k > 0 {
			for i := range d {
				z[i] = mid[i] + float64(2*((k-1)>>i&1)-1)*half[i]
			}
		}
		f.evaluate(sp, z)
	}
	var design []point
	for _, p := range f.points {
		inside := p.sp == sp
		for i := range d {
			inside = inside && p.z[i] >= lo[i]-1e-12 && p.z[i] <= hi[i]+1e-12
		}
		if inside {
			design = append(design, p)
		}
	}
	surface := newQuadratic(design, mid, half)

	// A replicate's fit is the fit moved by as much as the replicate's
	// minimum lies from the minimum the same method finds for the data as
	// they are, so that the surrogate's own bias cancels. The method is the
	// quadratic's minimum, or where it has none, the best design point.
	best := func(y []float64) []float64 { return design[slices.Index(y, slices.Min(y))].z }
	y := make([]float64, len(design))
	for k, p := range design {
		y[k] = p.e.d
	}
	baseBest := best(y)
	baseSmooth, smooth := surface.minimum(y)
	out := make([][]Parameter, replicates)
	for b := range out {
		dataW, simW, scale := f.resample(r, center)
		for k, p := range design {
			y[k] = f.distance(p.e.sims, dataW, simW, scale)
		}
		z, base := best(y), baseBest
		if zs, ok := surface.minimum(y); ok && smooth {
			z, base = zs, baseSmooth
		}
		moved := make([]float64, d)
		for i := range d {
			moved[i] = math.Min(1, math.Max(0, cz[i]+z[i]-base[i]))
		}
		out[b] = sp.parameters(moved)
	}
	return out
}

// chanceReplicates is how many resamples measure how much the distance at
// the fit varies by chance; chancePurpose seeds them.
const (
	chanceReplicates = 50
	chancePurpose    = 0x4368616e63657321 // "Chances!"
)

// chance returns the standard deviation of the distance at the fit over
// resamples of the observations and the simulated trials: how much it
// varies by chance alone.
func (f *fitter) chance(fit *found) float64 {
	r := sim.NewRand(sim.Mix(f.seed ^ chancePurpose))
	ds := make([]float64, chanceReplicates)
	for i := range ds {
		dataW, simW, scale := f.resample(r, fit.e)
		ds[i] = f.distance(fit.e.sims, dataW, simW, scale)
	}
	sd, _, _ := spread(ds)
	return sd
}

// plausibleDraws is how many resamples of the fitted model's trials give
// the range a published figure may take; plausiblePurpose seeds them.
const (
	plausibleDraws   = 1000
	plausiblePurpose = 0x506c61757369626c // "Plausibl"
)

// plausible returns the central 1-[Level] of the values stat takes over
// resamples of sm, the fitted model's trials of group gi: where a figure
// computed from as many trials of the model falls but for a chance of
// Level.
func (f *fitter) plausible(stat Stat, sm simulated, gi int) [2]float64 {
	if stat == Max {
		return plausibleMax(sm.x)
	}
	r := sim.NewRand(sim.Mix(f.seed ^ plausiblePurpose ^ uint64(gi)<<32 ^ uint64(stat)))
	vals := make([]float64, 0, plausibleDraws)
	w := make([]float64, len(sm.x))
	for range plausibleDraws {
		clear(w)
		for range len(sm.x) {
			w[r.Intn(len(sm.x))]++
		}
		if v := statistic(stat, weighted{sm.x, w}); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return [2]float64{math.NaN(), math.NaN()}
	}
	slices.Sort(vals)
	q := func(p float64) float64 { return vals[int(math.Round(p*float64(len(vals)-1)))] }
	return [2]float64{q(Level / 2), q(1 - Level/2)}
}

// plausibleMax is [plausible] for the maximum, which resamples cannot
// judge (no resample's maximum exceeds the trials' own): the largest of n
// trials of the model, n as many as found a leader, lies below the x with
// F(x) = (Level/2)^(1/n) only with probability Level/2, F the model's
// distribution as its trials show it; how far above their own largest it
// may go, they cannot tell (+Inf).
func plausibleMax(x []float64) [2]float64 {
	n := 0
	for n < len(x) && !math.IsInf(x[n], 1) {
		n++
	}
	if n == 0 {
		return [2]float64{math.NaN(), math.NaN()}
	}
	p := math.Pow(Level/2, 1/float64(n))
	return [2]float64{x[max(0, int(math.Ceil(p*float64(n)))-1)], math.Inf(1)}
}

// resample draws one bootstrap replicate's weights: of each group's
// measurements (by sorted position), of the simulated trials (by trial
// index), and for targets a factor for each target.
func (f *fitter) resample(r *sim.Rand, center *eval) (dataW, simW, scale [][]float64) {
	draw := func(n int) []float64 {
		w := make([]float64, n)
		for range n {
			w[r.Intn(n)]++
		}
		return w
	}
	for gi, g := range f.groups {
		simW = append(simW, draw(f.trials))
		if !f.targets {
			dataW = append(dataW, draw(len(g.Times)))
			continue
		}
		// The target's own chance: the ratio of the statistic of another
		// resample of the fitted model's trials to the statistic of all.
		other := draw(f.trials)
		sm := center.sims[gi]
		w := make([]float64, len(sm.order))
		for j, i := range sm.order {
			w[j] = other[i]
		}
		factors := make([]float64, len(g.Targets))
		for ti, t := range g.Targets {
			factors[ti] = statistic(t.Stat, weighted{sm.x, w}) / statistic(t.Stat, weighted{x: sm.x})
			if math.IsNaN(factors[ti]) || factors[ti] <= 0 {
				factors[ti] = 1
			}
		}
		scale = append(scale, factors)
	}
	return dataW, simW, scale
}

// quadratic fits y ≈ c + bᵀu + uᵀAu by least squares over a design, in
// coordinates u = (z − mid)/half that are within [−1, 1] over the box.
type quadratic struct {
	mid, half []float64
	solve     *mat.Dense // (XᵀX)⁻¹Xᵀ: the coefficients of y
}

// newQuadratic prepares the fit over the design's points; nil when the
// design cannot determine a quadratic.
func newQuadratic(design []point, mid, half []float64) *quadratic {
	d := len(mid)
	q := 1 + d + d*(d+1)/2
	if len(design) < q+2 {
		return nil
	}
	x := mat.NewDense(len(design), q, nil)
	for k, p := range design {
		u := make([]float64, d)
		for i := range d {
			u[i] = (p.z[i] - mid[i]) / half[i]
		}
		x.SetRow(k, features(u))
	}
	var xtx mat.SymDense
	xtx.SymOuterK(1, x.T())
	var ch mat.Cholesky
	if !ch.Factorize(&xtx) {
		return nil
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		return nil
	}
	solve := mat.NewDense(q, len(design), nil)
	solve.Mul(&inv, x.T())
	return &quadratic{mid: mid, half: half, solve: solve}
}

// features are the terms of a quadratic at u: 1, each u_i, each u_i·u_j
// (i ≤ j).
func features(u []float64) []float64 {
	out := append([]float64{1}, u...)
	for i := range u {
		for j := i; j < len(u); j++ {
			out = append(out, u[i]*u[j])
		}
	}
	return out
}

// minimum returns the point where the quadratic fitted to y is least,
// kept inside the box; false when the fit has no minimum (it is not
// convex) or there is no fit.
func (q *quadratic) minimum(y []float64) ([]float64, bool) {
	if q == nil {
		return nil, false
	}
	d := len(q.mid)
	var beta mat.VecDense
	beta.MulVec(q.solve, mat.NewVecDense(len(y), y))
	h := mat.NewSymDense(d, nil)
	g := mat.NewVecDense(d, nil)
	k := 1 + d
	for i := range d {
		g.SetVec(i, beta.AtVec(1+i))
		for j := i; j < d; j++ {
			c := beta.AtVec(k)
			if i == j {
				c *= 2
			}
			h.SetSym(i, j, c)
			k++
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(h) {
		return nil, false
	}
	var u mat.VecDense
	if err := ch.SolveVecTo(&u, g); err != nil {
		return nil, false
	}
	z := make([]float64, d)
	for i := range d {
		z[i] = q.mid[i] + math.Min(1, math.Max(-1, -u.AtVec(i)))*q.half[i]
	}
	return z, true
}
