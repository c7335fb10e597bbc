package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/internal/study/tune"
	"github.com/raftsim/raftsim/scenarios"
)

// report builds tune's report from every setting's outcome.
func (p *tunePlan) report(outcomes []tune.Outcome) (*report.Tune, error) {
	m, cl := p.model, p.cluster
	s0 := p.cells[0]
	rep := &report.Tune{Version: m.Version, ClusterSize: cl.Size, PreVote: cl.PreVote, Model: modelReport(p),
		Goals:  report.TuneGoals{FailoverP99Ms: report.Num(float64(p.goals.FailoverP99) / 1e6), LeaderChangesPerDay: report.Num(p.goals.LeaderChangesPerDay)},
		Trials: s0.Trials, Seed: s0.Seed, SteadyHours: report.Num(p.steady.Hours()), MaxSteadyHours: report.Num(p.maxSteady.Hours()),
		Current: report.TuneSet{HeartbeatMs: p.current.Heartbeat.Milliseconds(), ElectionTimeoutMs: p.current.Election.Milliseconds(), From: p.currentFrom},
		Notes:   append([]string{}, p.notes...)}
	for _, mb := range m.Members {
		tm := report.TuneMember{ID: mb.ID}
		for _, s := range mb.Scrapes {
			tm.Scrapes = append(tm.Scrapes, s.Source)
		}
		rep.Members = append(rep.Members, tm)
	}
	if p.saved {
		rep.Scenario = cl.Path()
	}
	best, js := p.goals.Recommend(outcomes)
	open := p.goals.NeedMore(outcomes) // still undecided at --max-steady-time
	unbounded := false
	for i, st := range p.settings {
		rep.Settings = append(rep.Settings, p.cellReport(st, &outcomes[i], js[i], i == best))
		if slices.Contains(open, i) {
			rep.Settings[i].Undecided = p.goals.Undecided(&outcomes[i])
		}
		unbounded = unbounded || math.IsInf(outcomes[i].P99CI[1], 1)
	}
	if unbounded {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s cannot bound a p99 from above (its 95%% interval needs about 460 trials), so no setting can be shown to meet --failover-p99: use --trials 1000 or more",
			scenarios.Count(s0.Trials, "trial", "trials")))
	}
	if best >= 0 {
		r := rep.Settings[best]
		rep.Recommended = &r
		rep.EtcdFlags, rep.EtcdEnv = p.settings[best].Flags(), p.settings[best].Env()
	} else {
		rep.NoRecommendation = p.noRecommendation(outcomes, js)
	}
	if err := p.observed(rep, outcomes); err != nil {
		return nil, err
	}
	return rep, nil
}

// cellReport is one setting's row.
func (p *tunePlan) cellReport(st tune.Setting, o *tune.Outcome, j tune.Judgement, recommended bool) report.TuneCell {
	num := func(x float64) report.Num { return report.Num(x) }
	pair := func(x [2]float64) [2]report.Num { return [2]report.Num{num(x[0]), num(x[1])} }
	c := report.TuneCell{HeartbeatMs: st.Heartbeat.Milliseconds(), ElectionTimeoutMs: st.Election.Milliseconds(), Current: st == p.current,
		Trials: o.Trials, Measured: o.Measured, Failed: o.Failed,
		FailoverP50Ms: num(o.P50), FailoverP50MsCI: pair(o.P50CI), FailoverP99Ms: num(o.P99), FailoverP99MsCI: pair(o.P99CI),
		SteadyHours: num(o.SteadyHours), LeaderChanges: o.LeaderChanges, NeedlessElections: o.Needless,
		FailoverVerdict: j.Failover.String(), LeaderChangesVerdict: j.Changes.String(), Meets: j.Meets, Margin: num(j.Margin), Recommended: recommended}
	c.LeaderChangesPerDay, c.LeaderChangesPerDayCI = perDay(o, o.LeaderChanges)
	c.NeedlessElectionsPerDay, c.NeedlessElectionsPerDayCI = perDay(o, o.Needless)
	if p.saved {
		i := slices.Index(p.settings, st)
		s := p.cells[i]
		words := append([]string{"raftsim", "run", p.cluster.Path()}, p.overrides[i].Args()...)
		words = append(words, "--trials", strconv.Itoa(s.Trials), "--seed", strconv.FormatUint(s.Seed, 10))
		c.Replay = commandLine(append(words, steadyArgs(p.steady)...)...)
	}
	return c
}

// noRecommendation says why no setting meets the goals, and what comes
// nearest on each side: the fastest failover among settings not shown to
// change leader too often, and the fewest leader changes among settings
// not shown to fail over too slowly.
func (p *tunePlan) noRecommendation(outcomes []tune.Outcome, js []tune.Judgement) string {
	changes := func(i int) float64 { return first(outcomes[i].PerDay(outcomes[i].LeaderChanges)) }
	fast, calm := -1, -1
	for i := range outcomes {
		if !outcomes[i].Clean() {
			continue
		}
		if js[i].Changes != sweep.Above && (fast < 0 || outcomes[i].P99 < outcomes[fast].P99) {
			fast = i
		}
		if js[i].Failover != sweep.Above && (calm < 0 || changes(i) < changes(calm)) {
			calm = i
		}
	}
	var parts []string
	if fast >= 0 {
		o := &outcomes[fast]
		text := fmt.Sprintf("of the settings not shown to change leader too often, %s fails over fastest, p99 %.0f [%.0f, %s] ms", p.settings[fast], o.P99, o.P99CI[0], ciEnd(o.P99CI[1]))
		if d := roundUp(o.P99CI[1]); d > 0 && js[fast].Failover != sweep.Below {
			text += fmt.Sprintf(" (--failover-p99 %s would admit it)", scenarios.FormatDuration(d))
		}
		if js[fast].Changes == sweep.Undecided {
			text += "; its leader changes are not yet shown within the goal: " + p.goals.Undecided(o)
		}
		parts = append(parts, text)
	}
	if calm >= 0 && calm != fast {
		o := &outcomes[calm]
		r, lo, hi := o.PerDay(o.LeaderChanges)
		parts = append(parts, fmt.Sprintf("of the settings not shown to fail over too slowly, %s changes leader least, %.2f [%.2f, %.2f] a day", p.settings[calm], r, lo, hi))
	}
	if len(parts) == 0 {
		return "no setting comes near either goal: relax them, or try other settings (--heartbeat-interval, --election-timeout)"
	}
	return "no setting is shown to meet both goals: " + strings.Join(parts, "; ")
}

func first(a, _, _ float64) float64 { return a }

func ciEnd(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "?"
	}
	return fmt.Sprintf("%.0f", x)
}

// roundUp rounds a time in ms up to a readable goal: the next 100ms.
func roundUp(ms float64) time.Duration {
	if math.IsInf(ms, 0) || math.IsNaN(ms) {
		return 0
	}
	return time.Duration(math.Ceil(ms/100)) * 100 * time.Millisecond
}

// observed compares the leader changes the cluster saw with the model's
// prediction at the current setting, given two scrapes of a member.
func (p *tunePlan) observed(rep *report.Tune, outcomes []tune.Outcome) error {
	obs, err := tune.ObservedOf(p.model.Members)
	if err != nil {
		return badUsage("--metrics: %v", err)
	}
	if obs == nil {
		rep.Notes = append(rep.Notes, "each member was scraped once: give two scrapes of each (--metrics taken at two times) to compare the leader changes the cluster saw with the model's")
		return nil
	}
	if p.cluster.Size != p.model.Size {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the cluster's leader changes are not compared with the model's: it has %d members, the model %d (--members)", p.model.Size, p.cluster.Size))
		return nil
	}
	i := slices.Index(p.settings, p.current)
	o := &outcomes[i]
	cmp := tune.Compare(obs, o.LeaderChanges, o.SteadyHours)
	ob := &report.TuneObserved{LeaderChanges: report.Num(obs.Changes), Hours: report.Num(obs.Hours), PValue: report.Num(cmp.P), Explains: cmp.Explains, Text: cmp.Text}
	r, lo, hi := obs.PerDay()
	ob.PerDay, ob.PerDayCI = report.Num(r), [2]report.Num{report.Num(lo), report.Num(hi)}
	ob.PredictedPerDay, ob.PredictedPerDayCI = poissonPerDay(o.LeaderChanges, o.SteadyHours)
	for _, e := range obs.Each {
		ob.Members = append(ob.Members, report.TuneObservedMember{ID: e.Member, LeaderChanges: report.Num(e.Changes), Hours: report.Num(e.Over.Hours()), Restarted: e.Restarted})
	}
	rep.Observed = ob
	return nil
}

// modelReport says what the model read from the metrics.
func modelReport(p *tunePlan) report.TuneModel {
	m := p.model
	q := func(h metrics.Histogram) report.Quantiles {
		return report.Quantiles{P50: report.Num(1e3 * h.Quantile(0.5)), P99: report.Num(1e3 * h.Quantile(0.99)), P999: report.Num(1e3 * h.Quantile(0.999))}
	}
	st := &m.Stalls
	lo, hi := st.CI95()
	r := report.TuneModel{OneWayMs: q(m.Network), RoundTrips: report.Num(m.Network.Count()), FsyncMs: q(m.Persist), Fsyncs: report.Num(m.Persist.Count()),
		Stalls: report.TuneStalls{FloorMs: report.Num(float64(st.Floor) / 1e6), Fraction: report.Num(st.Fraction), Count: report.Num(st.Count),
			MemberHours: report.Num(st.Hours), PerMemberHour: report.Num(st.PerHour()), PerMemberHourCI: [2]report.Num{report.Num(lo), report.Num(hi)},
			Window: st.Window, DurationMs: q(st.Tail)}}
	if p.cluster.PerLink() {
		for _, l := range m.Links {
			if l.From < l.To {
				from, to := scenarios.NodeName(l.From), scenarios.NodeName(l.To)
				r.Links = append(r.Links, report.TuneLink{From: from, To: to, Link: from + "<->" + to, OneWayMs: q(l.OneWay), RoundTrips: report.Num(l.OneWay.Count())})
			}
		}
	}
	return r
}
