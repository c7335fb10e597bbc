package swarm

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Level is the probability per trial below which an honest Raft node
// misses the converge_within the swarm sets.
const Level = 1e-9

// MaxWithin is the longest converge_within the swarm sets: a configuration
// that needs longer gets no liveness expectation.
const MaxWithin = 10 * time.Minute

// Bound is the converge_within of a configuration, and the terms of
// [Converge]'s derivation it rests on.
type Bound struct {
	// Within is the bound, or 0 when the configuration has no reasonable
	// one; Why then says why not.
	Within time.Duration
	Why    string

	Tail     float64       // ε: the latency tail the bound rests on
	Latency  time.Duration // ℓ: a message arrives within it, but with probability Late
	Late     float64       // λ: the probability that a message is lost or later than ℓ
	Width    time.Duration // w: the width of the election timeout range
	PerRound float64       // p: the probability that a round elects a leader, at least
	Round    time.Duration // R: the longest a round takes
	Rounds   int           // k: rounds enough to fail in all with probability below level/2
	Warmup   time.Duration // A: the time before the rounds count
	Level    float64       // the probability of a miss it was derived for
}

// String says in a line what the bound is and what it rests on.
func (b Bound) String() string {
	if b.Within == 0 {
		return "none: " + b.Why
	}
	return fmt.Sprintf("%s: %s of warm-up, then %s of %s, each electing a leader with probability %.3g or more (a miss below %g)",
		msText(b.Within), msText(b.Warmup), scenarios.Count(b.Rounds, "round", "rounds"), msText(b.Round), b.PerRound, b.Level)
}

// msText prints d rounded to the millisecond.
func msText(d time.Duration) string { return scenarios.FormatDuration(d.Round(time.Millisecond)) }

// tails are the latency tails ε a bound may rest on: [Converge] takes the
// one that gives the shortest bound, since each gives a bound that holds.
var tails = []float64{1e-2, 1e-4, 1e-6}

// Converge returns the converge_within of the configuration s, derived so
// that an honest Raft node misses it with probability below level, or none
// when no bound up to [MaxWithin] can be derived. s is a configuration the
// swarm draws (its weather healed at the last step, for good); overrides of
// its cluster and network enter the bound.
//
// The derivation follows the split-vote analysis of Ongaro's thesis
// (chapter 9): an election succeeds when one candidate stands so far ahead
// of the others that its RequestVote reaches them before they stand
// themselves, which the randomized timeout makes likely once the range's
// width w is large against the time a message takes. It counts rounds: in
// each, every node's timer fires after a fresh uniform draw. With n nodes,
// a majority m = ⌊n/2⌋+1 and the range [a, b]:
//
//   - A message's one-way time D is its latency (plus processing and the
//     disk write, when set). ℓ is a time D exceeds with probability ε at
//     most; a message later than ℓ counts as lost, so a message is lost or
//     late with probability λ = L + ε under loss L (L + 4ε on FIFO links,
//     where a message may wait behind those sent before it on its link).
//   - Lead. Node j's candidacy begins when its timer fires, at x, plus a
//     shift: with reset_timer_on_step_down its timer may have started one
//     one-way time after the others' (a stale candidate's term resets it:
//     the lockstep of issue 24), and with Pre-Vote it stands only once m−1
//     pre-vote grants are back, T_j later. Node i's own candidacy begins at
//     X_i + T_i (T_i its pre-vote, 0 without). j wins the race when every
//     other node's candidacy begins after j's request reached it:
//     X_i > x + shift + V_i, with V_i = D_ji − T_i. Timers are uniform over
//     the range, independent, so
//     lead = E_shift ∫₀^w (1/w) (E_V[clamp₀¹(1 − (x+shift+jitter+V)/w)])^(n−1) dx,
//     the timer jitter at its 1−ε quantile. Races won by different nodes are
//     disjoint events. T_j is bounded above and T_i below through the round
//     trips of m−1 of n−1 voters (two one-way times each, as order
//     statistics); each distribution stands as 16 points, each at or above
//     the quantile it stands for, and the integral takes each step's right
//     end: every approximation errs towards a smaller lead.
//   - Eligibility. A winner's log must be at least as up-to-date as a
//     majority's. With every log different, the node of rank r (the most
//     up-to-date first) can win with the votes of the n−r nodes behind it
//     and needs m−1 of them, each answering in time with probability
//     q = (1−λ)² (request and reply; (1−λ)⁴ with Pre-Vote). Only ranks
//     r ≤ n−m+1 can win: E = Σ_r P(Binomial(n−r, q) ≥ m−1).
//   - A round elects a leader with probability p ≥ lead·E·(1−2ε): a lower
//     bound, since it asks that nobody else stand before j's request comes
//     and that the logs be as unhelpful as they can be. A round lasts at most
//     R = b + shift + jitter + 2ℓ (the last timer, the request, the reply),
//     the shift at its 1−ε quantile, and k rounds all fail with probability
//     (1−p)^k ≤ level/2.
//   - Warm-up A before the rounds count: the longest a pause outlasts the
//     last step; an old leader deposed by a higher term steps down once a
//     refusal of one of its heartbeats gets through (enough heartbeats that
//     all fail with probability below level/2); the minimum timeout, during
//     which sticky followers still ignore candidates; and one round in which
//     terms even out.
//
// converge_within = A + k·R, rounded up to the millisecond, from the tail ε
// (1e-2, 1e-4 or 1e-6) that gives the shortest. The package's tests check
// it against the simulator: bounds derived the same way for a miss below
// 0.1 (0.01 in the long suite) are missed far less often than that. A
// configuration whose range is narrower than the lead a candidate needs
// has p = 0, and one whose bound would exceed MaxWithin, such as that of
// issue 24 (a 16ms range against one-way times up to 14ms, with the reset:
// p ≈ 0.002, 9,004 rounds), gets none.
func Converge(s *scenarios.Scenario, level float64) Bound { return convergeLate(s, level, 0) }

// ConvergeEtcd is [Converge] for etcd's raft with ticks of tick. Its
// follower restarts its timer on any message of a higher term, as
// reset_timer_on_step_down does; its timeouts are whole ticks, the longest
// one tick short of the range's end; and its timers fire on ticks, so a
// candidate's may fire up to a tick after the uniform draw the lead
// counts with and a voter's up to a tick before: two ticks of timer
// jitter, beside the scenario's.
func ConvergeEtcd(s *scenarios.Scenario, level float64, tick time.Duration) Bound {
	e := *s
	e.Cluster.Options.ResetTimerOnStepDown = true
	e.Cluster.ElectionTimeout.Max = max(e.Cluster.ElectionTimeout.Min, e.Cluster.ElectionTimeout.Max-tick)
	return convergeLate(&e, level, 2*tick)
}

// convergeLate is [Converge] with timers that may fire up to slack after
// their draw, beyond the scenario's timer jitter.
func convergeLate(s *scenarios.Scenario, level float64, slack time.Duration) Bound {
	var best Bound
	paused := residualPause(s)
	for i, eps := range tails {
		b := converge(s, level, eps, paused, slack)
		switch {
		case i == 0,
			b.Within > 0 && (best.Within == 0 || b.Within < best.Within),
			b.Within == 0 && best.Within == 0 && b.PerRound > best.PerRound:
			best = b
		}
	}
	if best.Within == 0 && best.Why == "" {
		best.Why = fmt.Sprintf("a miss below %g needs more than %s (%s of %s, each electing a leader with probability %.3g or more)",
			level, scenarios.FormatDuration(MaxWithin), scenarios.Count(best.Rounds, "round", "rounds"), msText(best.Round), best.PerRound)
	}
	return best
}

// converge is the bound that rests on the latency tail eps, for a
// timeline whose pauses outlast its last step by paused, with timers up
// to slack after their draw.
func converge(s *scenarios.Scenario, level, eps float64, paused, slack time.Duration) Bound {
	c, nw := &s.Cluster, &s.Network
	n := c.Nodes
	b := Bound{Tail: eps, Level: level, Width: c.ElectionTimeout.Max - c.ElectionTimeout.Min}
	parts := []sim.Dist{nw.Latency}
	for _, d := range []*sim.Dist{c.Processing, c.Persist} {
		if d != nil {
			parts = append(parts, *d)
		}
	}
	late := eps
	if nw.FIFO {
		late *= 4
	}
	b.Late = min(1, nw.Loss+late)
	oneWay := grid(func(v float64) time.Duration { return upper(parts, v) }, eps)
	b.Latency = oneWay[len(oneWay)-1]
	jitter, msgs := slack, 2.0
	if c.TimerJitter != nil {
		jitter += c.TimerJitter.Quantile(1 - eps)
	}
	// shift: how far behind the others the candidate's RequestVote leaves:
	// its timer's offset (reset_timer_on_step_down: a one-way time) and, with
	// Pre-Vote, the time until m-1 pre-vote grants are back. Each takes its
	// share of the tail, so that the sum of their points is at or above the
	// quantile it stands for.
	reset, preVote := c.Options.ResetTimerOnStepDown, c.Options.PreVote
	share := 1.0
	if reset && preVote {
		share = 2
	}
	shift := grid(func(v float64) time.Duration {
		var d time.Duration
		if reset {
			d += upper(parts, v/share)
		}
		if preVote {
			d += grantsBy(parts, n, v/share)
		}
		return d
	}, eps)
	// voter: how much later than the candidate's a voter's own candidacy
	// must begin for the request to reach it first: the request's one-way
	// time, less, with Pre-Vote, the time the voter's own pre-vote takes.
	voter := oneWay
	if preVote {
		msgs = 4
		voter = grid(func(v float64) time.Duration {
			return upper(parts, v/2) - grantsNotBefore(parts, n, v/2)
		}, eps)
	}
	b.Round = c.ElectionTimeout.Max + shift[len(shift)-1] + jitter + 2*b.Latency
	q := math.Pow(1-b.Late, msgs)
	b.PerRound = 1 // one node elects itself when its timer fires
	if n > 1 {
		b.PerRound = 0 // with every timer alike, only chance breaks the tie
	}
	if n > 1 && b.Width > 0 {
		// The shift and a voter's time exceed their last points with
		// probability eps each; a request later than ℓ counts as lost in q.
		b.PerRound = (1 - 2*eps) * lead(n, b.Width, shift, jitter, voter) * eligible(n, q)
	}
	if b.PerRound <= 0 {
		b.Why = fmt.Sprintf("the election timeout range (%s wide) is narrower than the lead a candidate needs (one-way times up to %s; %s)",
			scenarios.FormatDuration(b.Width), msText(b.Latency), leadWords(c.Options.PreVote, c.Options.ResetTimerOnStepDown))
		return b
	}
	b.Rounds = rounds(b.PerRound, level/2)
	beats := rounds(math.Pow(1-b.Late, 2), level/2)
	b.Warmup = paused + time.Duration(beats)*c.HeartbeatInterval() + 2*b.Latency + c.ElectionTimeout.Min + b.Round
	if total := float64(b.Warmup) + float64(b.Rounds)*float64(b.Round); total <= float64(MaxWithin) {
		b.Within = (time.Duration(total) + time.Millisecond - 1).Truncate(time.Millisecond)
	}
	return b
}

// leadWords says what the lead a candidate needs is made of.
func leadWords(preVote, reset bool) string {
	switch {
	case preVote && reset:
		return "a pre-vote round trip, the request, and a timer started a one-way time late"
	case preVote:
		return "a pre-vote round trip and the request"
	case reset:
		return "the request, and a timer started a one-way time late"
	}
	return "the request"
}

// rounds returns the fewest tries, each succeeding with probability p,
// after which all fail with probability at most miss (a huge number when
// p is tiny: the caller compares the time they take with MaxWithin).
func rounds(p, miss float64) int {
	if p >= 1 {
		return 1
	}
	return int(min(math.Ceil(math.Log(miss)/math.Log1p(-p)), 1<<40))
}

// gridPoints is how many durations stand for a distribution.
const gridPoints = 16

// grid returns gridPoints durations, ascending, that stand for a
// distribution, each equally likely: point k is quantile(v), a duration
// exceeded with probability v at most, for v = 1-(k+1)/G, and the last for
// v = eps. Each point is at or above the part of the distribution it
// stands for (but the tail beyond the last), so an expectation over the
// points errs towards longer times.
func grid(quantile func(v float64) time.Duration, eps float64) []time.Duration {
	out := make([]time.Duration, gridPoints)
	for k := range out {
		out[k] = quantile(max(1-float64(k+1)/gridPoints, eps))
	}
	return out
}

// upper returns a duration that the sum of independent draws from parts
// exceeds with probability v at most: the sum of their 1-v/j quantiles.
func upper(parts []sim.Dist, v float64) time.Duration {
	var d time.Duration
	for _, p := range parts {
		d += p.Quantile(1 - v/float64(len(parts)))
	}
	return d
}

// lower returns a duration that the sum of independent draws from parts
// falls below with probability v at most.
func lower(parts []sim.Dist, v float64) time.Duration {
	var d time.Duration
	for _, p := range parts {
		d += p.Quantile(v / float64(len(parts)))
	}
	return d
}

// grantsBy returns a time by which a pre-candidate of a cluster of n has
// m-1 pre-vote replies back, but with probability v (when none is lost:
// losses count in q). Round trips, two one-way times each, are below
// 2·upper(u) each with probability 1-(1-u)·2·... at least g = (1-j(1-u))²
// for j parts, and independent, so m-1 of the n-1 are back by then but
// with probability P(Binomial(n-1, g) < m-1).
func grantsBy(parts []sim.Dist, n int, v float64) time.Duration {
	j := float64(len(parts))
	u := memo(searchKey{n, len(parts), v, true}, func() float64 {
		m := raft.Majority(n)
		return search(func(u float64) bool {
			g := max(0, 1-j*(1-u))
			return 1-atLeast(n-1, m-1, g*g) <= v
		}, true)
	})
	return 2 * upper(parts, (1-u)*j)
}

// grantsNotBefore returns a time before which a pre-candidate of a cluster
// of n has not m-1 pre-vote replies back, but with probability v: a round
// trip is shorter than 2·lower(w) with probability 2w at most (one of its
// two messages must be), so m-1 of the n-1 are back before it with
// probability P(Binomial(n-1, 2w) ≥ m-1) at most.
func grantsNotBefore(parts []sim.Dist, n int, v float64) time.Duration {
	w := memo(searchKey{n, len(parts), v, false}, func() float64 {
		m := raft.Majority(n)
		return search(func(w float64) bool {
			return atLeast(n-1, m-1, min(1, 2*w)) <= v
		}, false)
	})
	return 2 * lower(parts, w)
}

// searchKey is what the searches of grantsBy and grantsNotBefore depend
// on: not the distributions, only the cluster size, how many parts a
// one-way time has, and the tail.
type searchKey struct {
	n, parts int
	v        float64
	by       bool
}

// searches holds the searches' answers: every bound asks the same few (the
// tails come from the grid and the tails list), and each costs more than
// the rest of a bound. A cache of a pure function: the answer is the same
// whether or not it is cached.
var searches sync.Map // searchKey → float64

func memo(k searchKey, f func() float64) float64 {
	if u, ok := searches.Load(k); ok {
		return u.(float64)
	}
	u := f()
	searches.Store(k, u)
	return u
}

// search returns, to within 2^-40, the point of [0, 1] where ok changes:
// the smallest u for which ok holds when rising (ok holds above it), else
// the largest (ok holds below it).
func search(ok func(u float64) bool, rising bool) float64 {
	lo, hi := 0.0, 1.0
	for range 40 {
		mid := (lo + hi) / 2
		if ok(mid) == rising {
			hi = mid
		} else {
			lo = mid
		}
	}
	if rising {
		return hi
	}
	return lo
}

// leadSteps is how many steps the integral over the candidate's timer
// takes; each step takes the integrand at its right end, where it is
// smallest, so the integral errs low.
const leadSteps = 128

// lead is the probability that one given node, the candidate, wins the
// race of a round: every other node's candidacy begins after the
// candidate's RequestVote reached it. All timers are uniform over a range
// of width w; the candidate's request leaves one of shift (each equally
// likely) plus fixed after its timer fires, and a voter's candidacy must
// begin one of voter (ascending, each equally likely, independently per
// voter) after that. So
//
//	lead = E_shift ∫₀^w (1/w) (E_voter[clip₀¹(1 − (x+shift+fixed+voter)/w)])^(n−1) dx.
func lead(n int, w time.Duration, shift []time.Duration, fixed time.Duration, voter []time.Duration) float64 {
	W, G := float64(w), float64(len(voter))
	total, last := 0.0, 0.0
	for i, s := range shift {
		if i > 0 && s == shift[i-1] {
			total += last // the same shift gives the same integral
			continue
		}
		before := total
		// The voter points with y+v ≤ 0 count 1, those with 0 < y+v < w
		// count 1-(y+v)/w, the rest 0: as y grows, both bounds move down.
		lo, hi, sum := len(voter), len(voter), 0.0 // points [lo, hi) are in between; sum is theirs
		for i := 1; i <= leadSteps; i++ {
			y := W*float64(i)/leadSteps + float64(s+fixed)
			for lo > 0 && y+float64(voter[lo-1]) > 0 {
				lo--
				sum += float64(voter[lo])
			}
			for hi > lo && y+float64(voter[hi-1]) >= W {
				hi--
				sum -= float64(voter[hi])
			}
			if lo == hi && lo == 0 {
				break
			}
			a := (float64(lo) + float64(hi-lo)*(1-y/W) - sum/W) / G
			total += pow(a, n-1) / leadSteps
		}
		last = total - before
	}
	return total / float64(len(shift))
}

// pow is x^k for k ≥ 0, by squaring: math.Pow costs more than the rest
// of a bound.
func pow(x float64, k int) float64 {
	r := 1.0
	for ; k > 0; k >>= 1 {
		if k&1 == 1 {
			r *= x
		}
		x *= x
	}
	return r
}

// eligible is E: the sum, over the candidates that can win whatever the
// logs, of the probability that enough of the voters that would grant them
// answer in time.
func eligible(n int, q float64) float64 {
	m := raft.Majority(n)
	sum := 0.0
	for r := 1; r <= n-m+1; r++ {
		sum += atLeast(n-r, m-1, q)
	}
	return sum
}

// atLeast is P(Binomial(n, q) ≥ k).
func atLeast(n, k int, q float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || q <= 0:
		return 0
	case q >= 1:
		return 1
	}
	p, term := 0.0, math.Pow(1-q, float64(n)) // term: P(exactly i)
	for i := 0; i <= n; i++ {
		if i >= k {
			p += term
		}
		term *= float64(n-i) / float64(i+1) * q / (1 - q)
	}
	return min(p, 1)
}

// residualPause is the longest a pause of the timeline may last past its
// last step, where the swarm heals everything. Steps are all taken in
// full, skipped or not: Skip is for shrinking, and leaves the bound as
// drawn.
func residualPause(s *scenarios.Scenario) time.Duration {
	steps := s.Faults // the swarm's are flat: no repeats, no groups
	if slices.ContainsFunc(steps, func(st scenarios.Step) bool { return st.Repeat > 0 || len(st.Steps) > 0 }) {
		c := *s
		c.Skip = nil
		steps = c.Timeline()
	}
	var res, after time.Duration // after: from the step to the last
	for i := len(steps) - 1; i >= 0; i-- {
		for _, a := range steps[i].Actions {
			if a.Kind == scenarios.Pause {
				res = max(res, a.For.Quantile(1-1e-12)-after)
			}
		}
		after += steps[i].Delay.Quantile(0)
	}
	return res
}
