package tune

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/scenarios"
)

// Observed is the leader changes the cluster saw between two scrapes of
// its members (etcd_server_leader_changes_seen_total).
type Observed struct {
	// Each holds the changes each member with two scrapes saw, by
	// Members' order (members scraped once are left out).
	Each []MemberChanges
	// Changes and Hours are the cluster's: the member that saw the most
	// (a member counts the changes it saw; one cut off for a while sees
	// fewer), over its window.
	Changes, Hours float64
	// Restarted names the members that restarted in between: a restart
	// of the leader changes the leader, which the model of a healthy
	// cluster does not predict.
	Restarted []string
}

// MemberChanges is what one member saw between its first and last scrape.
type MemberChanges struct {
	Member string
	metrics.LeaderChanges
}

// ObservedOf reads the leader changes the members saw, or returns nil
// when no member was scraped twice.
func ObservedOf(members []Member) (*Observed, error) {
	o := &Observed{}
	for k := range members {
		m := &members[k]
		if len(m.Scrapes) < 2 {
			continue
		}
		lc, err := metrics.LeaderChangesBetween(m.First(), m.Last())
		if err != nil {
			return nil, err
		}
		o.Each = append(o.Each, MemberChanges{m.ID, lc})
		if lc.Restarted {
			o.Restarted = append(o.Restarted, m.ID)
		}
		if len(o.Each) == 1 || lc.Changes > o.Changes {
			o.Changes, o.Hours = lc.Changes, lc.Over.Hours()
		}
	}
	if len(o.Each) == 0 {
		return nil, nil
	}
	return o, nil
}

// PerDay returns the observed rate of leader changes a day, with its
// exact 95% Poisson interval.
func (o *Observed) PerDay() (rate, lo, hi float64) {
	days := o.Hours / 24
	lo, hi = stats.Poisson95(int64(math.Round(o.Changes)))
	return o.Changes / days, lo / days, hi / days
}

// Comparison is the observed rate of leader changes against the rate the
// model predicts at the cluster's current setting.
type Comparison struct {
	// P is the two-sided p-value of the observed and predicted counts
	// coming from one rate (the conditional binomial test of two Poisson
	// counts); Explains says it is 0.05 or more.
	P        float64
	Explains bool
	Text     string
}

// Compare tests whether the observed leader changes and those predicted
// (predicted changes in hours of simulated steady state) could come from
// one rate: given n changes in all, the observed count is binomial with
// the observed window's share of the time.
func Compare(o *Observed, predicted int64, hours float64) Comparison {
	x := math.Round(o.Changes)
	n := x + float64(predicted)
	c := Comparison{P: 1}
	if n > 0 {
		b := distuv.Binomial{N: n, P: o.Hours / (o.Hours + hours)}
		below, above := b.CDF(x), 1-b.CDF(x-1)
		c.P = min(1, 2*min(below, above))
	}
	c.Explains = c.P >= 0.05
	rate, lo, hi := o.PerDay()
	prate, plo, phi := float64(predicted)/hours*24, 0.0, 0.0
	if hours > 0 {
		l, h := stats.Poisson95(predicted)
		plo, phi = l/hours*24, h/hours*24
	}
	obs := fmt.Sprintf("observed %s in %s (%.3g [%.3g, %.3g] a day), predicted %.3g [%.3g, %.3g] a day at the current setting (p = %.3g)",
		scenarios.Count(int(x), "leader change", "leader changes"), hoursText(o.Hours), rate, lo, hi, prate, plo, phi, c.P)
	switch {
	case c.Explains:
		c.Text = "the model explains what the cluster does: " + obs
	case rate > prate:
		c.Text = "the model does not explain what the cluster does: it changes leader more often than the model predicts: " + obs +
			"; something the metrics do not show is at work (a member restarted or was stopped, CPU starvation, a network partition, a slow disk other than the WAL's)"
	default:
		c.Text = "the model does not explain what the cluster does: it changes leader less often than the model predicts: " + obs +
			"; the model is too pessimistic (its network or disk is slower than the cluster's was in the window)"
	}
	if len(o.Restarted) > 0 {
		c.Text += fmt.Sprintf("; %d of the members restarted in between (%v): a restart of the leader changes the leader, which the model of a healthy cluster does not predict",
			len(o.Restarted), o.Restarted)
	}
	return c
}

// hoursText writes a span of hours readably: 32s, 45m, 3.2h.
func hoursText(h float64) string {
	switch {
	case h < 1.0/60:
		return fmt.Sprintf("%.0fs", h*3600)
	case h < 1:
		return fmt.Sprintf("%.0fm", h*60)
	}
	return fmt.Sprintf("%.3gh", h)
}
