package live

import (
	"math"
	"time"

	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/sim"
)

// Overheads are what the proxy measured of a live cluster's costs beyond
// the scenario's latency: how long nodes took to answer an RPC (from the
// proxy handing it over to the answer's arrival back: the node's handling
// and two loopback hops), without and with a disk write, and how late the
// proxy's own timers delivered messages (Go timers and the operating
// system's scheduling, under the load of the cluster).
type Overheads struct {
	Answer     stats.Summary // ns
	AnswerSync stats.Summary // ns
	Late       stats.Summary // ns
}

// Merge adds o2's measurements to o.
func (o *Overheads) Merge(o2 *Overheads) {
	o.Answer.Merge(&o2.Answer)
	o.AnswerSync.Merge(&o2.AnswerSync)
	o.Late.Merge(&o2.Late)
}

// Model turns the overheads into the simulator's model of them, each a
// log-normal distribution with the measured mean and standard deviation
// (nil when nothing was measured):
//
//   - processing, the time a node takes to react to an input before what
//     it sends leaves: an RPC's answer time without a disk write plus the
//     delivery lateness, once per message;
//   - persist, the disk write: the answer time with a write, less the
//     answer time without;
//   - timer_jitter: the nodes' timers are late as the proxy's are.
func (o *Overheads) Model() (processing, persist, timerJitter *sim.Dist) {
	processing = logNormal(o.Answer.Mean()+o.Late.Mean(), math.Hypot(o.Answer.StdDev(), o.Late.StdDev()))
	persist = logNormal(o.AnswerSync.Mean()-o.Answer.Mean(), o.AnswerSync.StdDev())
	timerJitter = logNormal(o.Late.Mean(), o.Late.StdDev())
	return processing, persist, timerJitter
}

// logNormal returns the log-normal distribution of mean and sd (ns),
// rounded to the microsecond, or nil when mean is not positive.
func logNormal(mean, sd float64) *sim.Dist {
	if !(mean >= float64(time.Microsecond)) {
		return nil
	}
	us := func(x float64) time.Duration { return time.Duration(math.Round(x/1e3)) * time.Microsecond }
	d, err := sim.NewDist(sim.LogNormal, us(mean), us(sd))
	if err != nil {
		return nil
	}
	return &d
}
