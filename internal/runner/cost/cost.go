// Package cost estimates what a command's trials will cost on this
// machine, in wall-clock time and memory, before it runs them: from a
// short calibration that runs a few of the same trials and measures them.
// A cluster too large to calibrate at its own size in about a second is
// calibrated at smaller sizes, and its cost extrapolated along the power
// law those sizes show.
//
// cost reads the wall clock and the Go runtime's memory statistics: its
// estimates decide only what raftsim says before it starts, and whether
// it starts at all, never an outcome of a trial.
package cost

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/internal/trial/simulated"
	"github.com/raftsim/raftsim/scenarios"
)

// A Unit is work of one kind: Count trials of Scenario, or, when Steady is
// above 0, Count steady-state runs of that length.
type Unit struct {
	Scenario *scenarios.Scenario // valid
	Steady   time.Duration
	Count    int
}

// Estimate is what a command's work will cost.
type Estimate struct {
	Time      time.Duration // wall clock, at the workers given
	Memory    uint64        // bytes the process holds at its peak
	PerWorker uint64        // bytes one worker's trial holds at its peak
	// Basis says how the estimate was measured, in words.
	Basis string
}

// Calibration limits: about the wall-clock time the largest clusters'
// measurements may take (the units sampled besides them take a quarter
// more at most), the units sampled, and the smallest cluster a ladder
// starts from.
const (
	budget   = time.Second
	sampled  = 8
	ladderLo = 64
	// steadySample is the virtual time a steady-state run is measured
	// over; its cost is taken as proportional to virtual time.
	steadySample = 10 * time.Second
)

// peakFactor is how much more memory a process holds at its peak than its
// drivers hold after a trial: the garbage a trial makes before the
// collector runs. Measured with leader-crash at 1000 to 4000 nodes: the
// peak resident memory was 1.2 to 1.5 times the live heap.
const peakFactor = 1.5

// point is a measurement: a unit's time and memory at a cluster size.
type point struct {
	nodes int
	time  float64 // seconds per trial (or per second of steady state)
	bytes float64 // bytes a worker holds
}

// Calibrate estimates units on workers parallel workers.
func Calibrate(units []Unit, workers int) Estimate {
	var work []int // the units with any work, by index
	for i, u := range units {
		if u.Count > 0 {
			work = append(work, i)
		}
	}
	if len(work) == 0 {
		return Estimate{Basis: "nothing to run"}
	}
	// The largest cluster of each kind first (trials, steady state): when
	// the work is small at its cost, that is enough; else sample up to
	// sampled units more, evenly.
	bySize := func(a, b int) int { return units[a].Scenario.Cluster.Nodes - units[b].Scenario.Cluster.Nodes }
	var picks []int
	for _, steady := range []bool{false, true} {
		kind := slices.DeleteFunc(slices.Clone(work), func(i int) bool { return (units[i].Steady > 0) != steady })
		if len(kind) > 0 {
			picks = append(picks, slices.MaxFunc(kind, bySize))
		}
	}
	measured := map[int][]point{} // by unit index; looked up only
	basis := ""
	for k, i := range picks {
		pts, how := calibrate(&units[i], budget/time.Duration(len(picks)))
		measured[i] = pts
		if k == 0 {
			basis = how
		}
	}
	if e := estimate(units, work, picks, measured, workers); e.Time > quick {
		for k := range min(sampled, len(work)) {
			if i := work[k*len(work)/min(sampled, len(work))]; !slices.Contains(picks, i) {
				measured[i], _ = calibrate(&units[i], budget/(4*sampled))
				picks = append(picks, i)
			}
		}
	}
	e := estimate(units, work, picks, measured, workers)
	e.Basis = basis
	return e
}

// quick is the estimate under which the largest clusters' calibration
// alone will do: well under the minute over which a command says what its
// work will cost.
const quick = 10 * time.Second

// estimate costs the units with work from the measurements of the units
// picked: each from the picked unit of its kind nearest in size.
func estimate(units []Unit, work, picks []int, measured map[int][]point, workers int) Estimate {
	var cpu, worker float64
	most := 0 // the most units of one kind, which as many workers share
	for _, i := range work {
		u := &units[i]
		ref := picks[0]
		for _, j := range picks { // the sampled unit of the nearest size and kind
			if closer(u, &units[j], &units[ref]) {
				ref = j
			}
		}
		t, b := at(measured[ref], u.Scenario.Cluster.Nodes)
		if u.Steady > 0 {
			t *= u.Steady.Seconds()
		}
		cpu += t * float64(u.Count)
		worker = math.Max(worker, b)
		most = max(most, u.Count)
	}
	w := max(1, min(workers, runtime.NumCPU()))
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	return Estimate{
		Time:      time.Duration(cpu / float64(w) * 1e9),
		PerWorker: uint64(peakFactor * worker),
		Memory:    uint64(peakFactor * (float64(base.HeapAlloc) + float64(min(workers, most))*worker)),
	}
}

// closer reports whether a is nearer to u than b is: the same kind first
// (trials or steady state), then the nearest cluster size.
func closer(u, a, b *Unit) bool {
	if (a.Steady > 0) != (b.Steady > 0) {
		return (a.Steady > 0) == (u.Steady > 0)
	}
	d := func(x *Unit) float64 {
		return math.Abs(math.Log(float64(x.Scenario.Cluster.Nodes) / float64(u.Scenario.Cluster.Nodes)))
	}
	return d(a) < d(b)
}

// calibrate measures u at its own cluster size when a trial there fits
// the budget, else at smaller sizes, doubling from ladderLo nodes while
// the next size's trial should fit what is left of it; it returns the
// points measured, largest last, and says how in words.
func calibrate(u *Unit, budget time.Duration) ([]point, string) {
	n := u.Scenario.Cluster.Nodes
	what := "trial"
	if u.Steady > 0 {
		what = "steady-state run"
	}
	if n <= ladderLo {
		p, _ := measure(u, n, budget)
		return []point{p}, fmt.Sprintf("measured on %ss of %s", what, scenarios.Count(n, "node", "nodes"))
	}
	begin := time.Now()
	var pts []point
	for size := ladderLo; ; size = min(2*size, n) {
		left := budget - time.Since(begin)
		if len(pts) > 0 {
			next, _ := at(pts, size)
			if u.Steady > 0 {
				next *= steadySample.Seconds()
			}
			if time.Duration(next*1e9) > left {
				break
			}
		}
		if p, ok := measure(u, size, left); ok {
			pts = append(pts, p)
		}
		if size == n {
			break
		}
	}
	switch {
	case len(pts) == 0:
		p, _ := measure(u, n, 0) // no smaller cluster is valid: this one must do
		return []point{p}, fmt.Sprintf("measured on a %s of %s", what, scenarios.Count(n, "node", "nodes"))
	case pts[len(pts)-1].nodes == n:
		return pts, fmt.Sprintf("measured on %ss of %s", what, scenarios.Count(n, "node", "nodes"))
	}
	sizes := ""
	for i, p := range pts[max(0, len(pts)-2):] {
		if i > 0 {
			sizes += " and "
		}
		sizes += strconv.Itoa(p.nodes)
	}
	return pts, fmt.Sprintf("extrapolated to %s from %ss of %s nodes: a rough estimate", scenarios.Count(n, "node", "nodes"), what, sizes)
}

// measure runs u's trials (or a steady-state run of steadySample) at
// nodes nodes, one at least, more while they take under 5ms together and
// under the budget, and returns the time per trial (per second of steady
// state) and the bytes a driver holds; false when the scenario is not
// valid at that size.
func measure(u *Unit, nodes int, budget time.Duration) (point, bool) {
	s := u.Scenario
	if nodes != s.Cluster.Nodes {
		var o scenarios.Overrides
		if o.Set("nodes", strconv.Itoa(nodes)) != nil {
			return point{}, false
		}
		var err error
		if s, err = o.Apply(s); err != nil {
			return point{}, false
		}
	}
	plan := trial.NewPlan(s)
	if u.Steady > 0 {
		var err error
		if plan, err = trial.NewSteadyPlan(s, steadySample); err != nil {
			return point{}, false
		}
	}
	// Memory: the live heap a driver holds after its first trial, most of
	// it its nodes' state, which it keeps for every trial.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	begin := time.Now()
	d := simulated.NewDriver(plan)
	d.Run(trial.Seed(s.Seed, 0))
	first := time.Since(begin)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := math.Max(0, float64(after.HeapAlloc)-float64(before.HeapAlloc))
	runs, more := 1, time.Now()
	for runs < 20 && first+time.Since(more) < min(budget, 5*time.Millisecond) {
		d.Run(trial.Seed(s.Seed, runs))
		runs++
	}
	took := (first + time.Since(more)).Seconds() / float64(runs)
	runtime.KeepAlive(d)
	if u.Steady > 0 {
		took /= steadySample.Seconds()
	}
	return point{nodes: nodes, time: took, bytes: held}, true
}

// at returns the time and bytes at a cluster of n nodes from points
// measured, largest last: the point itself; between two points, along
// the power law through them; beyond the largest, along the power law of
// the last two points for memory (counted exactly) and, for time, fitted
// by least squares (in logarithms) to the last three of 1ms or more, since
// single times on a loaded machine are noisy; the exponent kept from 1 to
// 3 for time and 1 to 2 for memory (a node keeps state about every other,
// no more); from one point, in proportion to n squared.
func at(pts []point, n int) (t, bytes float64) {
	if len(pts) == 0 {
		return 0, 0
	}
	i := 0
	for i+1 < len(pts) && pts[i+1].nodes <= n {
		i++
	}
	p := pts[i]
	if p.nodes == n {
		return p.time, p.bytes
	}
	var fitT, fitB []point
	switch {
	case i+1 < len(pts) && n > p.nodes: // between two points
		fitT, fitB = pts[i:i+2], pts[i:i+2]
	case n < p.nodes: // below the smallest
		fitT, fitB = pts[:min(2, len(pts))], pts[:min(2, len(pts))]
	default: // beyond the largest: memory is counted exactly, time is noisy
		fitB = pts[max(0, len(pts)-2):]
		for _, q := range pts[max(0, len(pts)-3):] {
			if q.time >= 1e-3 {
				fitT = append(fitT, q)
			}
		}
	}
	ratio := float64(n) / float64(p.nodes)
	return p.time * math.Pow(ratio, slope(fitT, func(q point) float64 { return q.time }, 1, 3)),
		p.bytes * math.Pow(ratio, slope(fitB, func(q point) float64 { return q.bytes }, 1, 2))
}

// slope returns the least-squares slope of log y against log nodes over
// pts, kept from lo to hi; 2 with fewer than two points.
func slope(pts []point, y func(point) float64, lo, hi float64) float64 {
	if len(pts) < 2 {
		return 2
	}
	var sx, sy, sxx, sxy float64
	for _, q := range pts {
		x, v := math.Log(float64(q.nodes)), math.Log(math.Max(y(q), 1e-12))
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	k := float64(len(pts))
	return clamp((k*sxy-sx*sy)/(k*sxx-sx*sx), lo, hi)
}

func clamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		return (lo + hi) / 2
	}
	return math.Min(hi, math.Max(lo, x))
}

// MachineMemory returns the memory this process may use: the machine's
// (Linux's /proc/meminfo), or its control group's limit when lower; 0
// when neither can be read.
func MachineMemory() uint64 {
	var total uint64
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
					total = kb * 1024
				}
			}
		}
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if data, err := os.ReadFile(path); err == nil {
			if limit, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err == nil && limit > 0 && (total == 0 || limit < total) {
				total = limit
			}
		}
	}
	return total
}

// ParseBytes reads a size such as 8GB, 512MB, 1.5GiB or 1000000 (bytes):
// the units B, KB (or K), MB, GB and TB are powers of 1000, KiB, MiB, GiB
// and TiB of 1024, in any case (kB, gb).
func ParseBytes(text string) (uint64, error) {
	t := strings.TrimSpace(text)
	i := strings.IndexFunc(t, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	x, err := strconv.ParseFloat(num, 64)
	scale, ok := map[string]float64{"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9, "T": 1e12, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[strings.ToUpper(unit)]
	if err != nil || !ok || x <= 0 || x*scale >= math.MaxUint64/2 {
		return 0, fmt.Errorf("%q: want a size above 0 such as 8GB, 512MB or 1.5GiB", text)
	}
	return uint64(x * scale), nil
}

// FormatBytes writes a size in the largest decimal unit it reaches, with
// two significant digits at least: 9.6 GB, 250 MB, 12 kB.
func FormatBytes(b uint64) string {
	x := float64(b)
	for _, u := range []string{"B", "kB", "MB", "GB"} {
		if x < 1000 {
			return strconv.FormatFloat(x, 'g', max(2, len(strconv.Itoa(int(x)))), 64) + " " + u
		}
		x /= 1000
	}
	return strconv.FormatFloat(x, 'g', max(2, len(strconv.Itoa(int(x)))), 64) + " TB"
}
