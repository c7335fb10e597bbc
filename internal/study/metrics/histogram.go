package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Histogram is a Prometheus histogram of durations: the number of
// observations at or below each upper bound, in seconds.
type Histogram struct {
	Bounds []float64 // increasing; the last is +Inf
	Counts []float64 // cumulative: Counts[i] observations at or below Bounds[i]
	Sum    float64   // of the observations, in seconds
}

// Count returns the number of observations.
func (h Histogram) Count() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// histogramOf reads a series of a histogram family, adding the +Inf
// bucket when the exposition leaves it out.
func histogramOf(m *dto.Metric) (Histogram, error) {
	hp := m.GetHistogram()
	if hp == nil {
		return Histogram{}, errors.New("not a histogram")
	}
	var h Histogram
	buckets := slices.Clone(hp.GetBucket())
	slices.SortStableFunc(buckets, func(a, b *dto.Bucket) int {
		return cmp.Compare(a.GetUpperBound(), b.GetUpperBound())
	})
	for _, b := range buckets {
		count := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			count = b.GetCumulativeCountFloat()
		}
		h.Bounds, h.Counts = append(h.Bounds, b.GetUpperBound()), append(h.Counts, count)
	}
	if n := len(h.Bounds); n == 0 || !math.IsInf(h.Bounds[n-1], 1) {
		total := float64(hp.GetSampleCount())
		if hp.SampleCountFloat != nil {
			total = hp.GetSampleCountFloat()
		}
		h.Bounds, h.Counts = append(h.Bounds, math.Inf(1)), append(h.Counts, total)
	}
	h.Sum = hp.GetSampleSum()
	return h, h.check()
}

// check refuses a histogram that no Prometheus client writes.
func (h Histogram) check() error {
	for i := range h.Bounds {
		switch {
		case math.IsNaN(h.Bounds[i]) || h.Bounds[i] < 0:
			return fmt.Errorf("a bucket's bound is %v", h.Bounds[i])
		case i > 0 && h.Bounds[i] == h.Bounds[i-1]:
			return fmt.Errorf("two buckets with le=%v", h.Bounds[i])
		case !(h.Counts[i] >= 0) || math.IsInf(h.Counts[i], 0):
			return fmt.Errorf("a count of %v", h.Counts[i])
		case i > 0 && h.Counts[i] < h.Counts[i-1]:
			return fmt.Errorf("the count at le=%v is below the one before: counts are cumulative", h.Bounds[i])
		}
	}
	return nil
}

// Add returns the histogram of the observations of h and o, which must
// have the same buckets.
func (h Histogram) Add(o Histogram) (Histogram, error) {
	if !slices.Equal(h.Bounds, o.Bounds) {
		return Histogram{}, errors.New("the histograms have different buckets")
	}
	sum := Histogram{Bounds: slices.Clone(h.Bounds), Counts: slices.Clone(h.Counts), Sum: h.Sum + o.Sum}
	for i := range sum.Counts {
		sum.Counts[i] += o.Counts[i]
	}
	return sum, nil
}

// Since returns the histogram of the observations made after earlier, a
// scrape of the same series: the counts' differences. A count that went
// down (the member restarted in between) is an error; the later histogram
// alone holds the observations since the restart.
func (h Histogram) Since(earlier Histogram) (Histogram, error) {
	if !slices.Equal(h.Bounds, earlier.Bounds) {
		return Histogram{}, errors.New("the histograms have different buckets")
	}
	d := Histogram{Bounds: slices.Clone(h.Bounds), Counts: slices.Clone(h.Counts), Sum: h.Sum - earlier.Sum}
	for i := range d.Counts {
		if d.Counts[i] -= earlier.Counts[i]; d.Counts[i] < 0 {
			return Histogram{}, errors.New("a count went down between the scrapes: the member restarted")
		}
	}
	return d, d.check()
}

// Scale returns h with every bound multiplied by f: 0.5 turns round
// trips into one-way times.
func (h Histogram) Scale(f float64) Histogram {
	s := Histogram{Bounds: slices.Clone(h.Bounds), Counts: slices.Clone(h.Counts), Sum: h.Sum * f}
	for i := range s.Bounds {
		s.Bounds[i] *= f
	}
	return s
}

// CSV returns h as the histogram file of an empirical distribution
// ([scenarios.EmpiricalDist]): the header le,count and a line per bucket,
// le in seconds.
func (h Histogram) CSV() []byte {
	var b strings.Builder
	b.WriteString("le,count\n")
	for i, le := range h.Bounds {
		text := "+Inf"
		if !math.IsInf(le, 1) {
			text = strconv.FormatFloat(le, 'g', -1, 64)
		}
		b.WriteString(text + "," + strconv.FormatFloat(h.Counts[i], 'g', -1, 64) + "\n")
	}
	return []byte(b.String())
}

// Dist returns h as an empirical distribution whose text form is
// empirical:name: write [Histogram.CSV] to name for a scenario or a replay
// command to read it again. A histogram without observations is an error.
func (h Histogram) Dist(name string) (sim.Dist, error) {
	return scenarios.EmpiricalDist(name, h.CSV())
}

// Link is the one-way latency of the directed link From → To between two
// scraped members (their indexes in the scrapes given).
type Link struct {
	From, To int
	OneWay   Histogram
}

// Links returns the one-way latency of each directed link between two of
// the members scraped that measured their round trips to each other, in
// the order of From, then To. A link's one-way time is half a round trip
// (the network is taken to be symmetric): both ends' histograms of the
// pair's round trips, added up and halved, for both directions.
func Links(scrapes []*Scrape) ([]Link, error) {
	var out []Link
	for i, a := range scrapes {
		for j, b := range scrapes {
			if i == j {
				continue
			}
			var rtt *Histogram
			for _, pair := range [][2]*Scrape{{a, b}, {b, a}} {
				h, ok := pair[0].roundTrip(pair[1].Member)
				switch {
				case !ok:
				case rtt == nil:
					rtt = &h
				default:
					sum, err := rtt.Add(h)
					if err != nil {
						return nil, fmt.Errorf("%s and %s: %v", a.Source, b.Source, err)
					}
					rtt = &sum
				}
			}
			if rtt != nil {
				out = append(out, Link{From: i, To: j, OneWay: rtt.Scale(0.5)})
			}
		}
	}
	return out, nil
}

// roundTrip returns s's round-trip histogram of the peer member.
func (s *Scrape) roundTrip(member string) (Histogram, bool) {
	if member == "" {
		return Histogram{}, false
	}
	i := slices.IndexFunc(s.RoundTrip, func(p Peer) bool { return p.To == member })
	if i < 0 {
		return Histogram{}, false
	}
	return s.RoundTrip[i].RTT, true
}

// Network returns the one-way latency of the whole network: every round
// trip any member scraped measured, to any peer, added up and halved.
func Network(scrapes []*Scrape) (Histogram, error) {
	var all []Histogram
	for _, s := range scrapes {
		for _, p := range s.RoundTrip {
			all = append(all, p.RTT)
		}
	}
	h, err := total(all, metricRoundTrip)
	return h.Scale(0.5), err
}

// Persist returns the disk's write time: the WAL fsync histograms of the
// members scraped, added up.
func Persist(scrapes []*Scrape) (Histogram, error) {
	var all []Histogram
	for _, s := range scrapes {
		if s.Fsync != nil {
			all = append(all, *s.Fsync)
		}
	}
	return total(all, metricFsync)
}

// total adds up histograms of the metric name.
func total(hs []Histogram, name string) (Histogram, error) {
	if len(hs) == 0 {
		return Histogram{}, fmt.Errorf("no member exposes %s", name)
	}
	sum := hs[0]
	for _, h := range hs[1:] {
		var err error
		if sum, err = sum.Add(h); err != nil {
			return Histogram{}, fmt.Errorf("%s: %v", name, err)
		}
	}
	if sum.Count() == 0 {
		return Histogram{}, fmt.Errorf("%s: no observations yet", name)
	}
	return sum, nil
}

// Quantile returns the q-quantile of h's observations in seconds, as the
// empirical distribution of [Histogram.Dist] draws them: within a bucket,
// uniformly from the bound below to its own (the +Inf bucket as one more
// bucket of the same ratio). NaN without observations.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Count()
	if total == 0 {
		return math.NaN()
	}
	want := q * total
	below, lo := 0.0, 0.0
	for i, c := range h.Counts {
		hi := h.Bounds[i]
		if math.IsInf(hi, 1) {
			hi = lo * lastRatio(h.Bounds)
		}
		if c >= want && c > below {
			return lo + (hi-lo)*(want-below)/(c-below)
		}
		below, lo = c, hi
	}
	return lo
}

// lastRatio is the ratio of the last two finite bounds (2 with one): how
// far above the largest bound the +Inf bucket's observations are drawn.
func lastRatio(bounds []float64) float64 {
	n := len(bounds)
	if n >= 3 && bounds[n-3] > 0 {
		return bounds[n-2] / bounds[n-3]
	}
	return 2
}

// Above returns the histogram of h's observations above bound (in
// seconds), which must be one of h's bounds or 0: a first bucket [0,
// bound] holding none, then h's buckets above it. Its [Histogram.Dist]
// draws only those observations.
func (h Histogram) Above(bound float64) (Histogram, error) {
	at := 0.0
	k := -1
	if bound > 0 {
		if k = slices.Index(h.Bounds, bound); k < 0 {
			return Histogram{}, fmt.Errorf("%g s is not a bucket's bound", bound)
		}
		at = h.Counts[k]
	}
	a := Histogram{Bounds: []float64{bound}, Counts: []float64{0}}
	for i := k + 1; i < len(h.Bounds); i++ {
		a.Bounds, a.Counts = append(a.Bounds, h.Bounds[i]), append(a.Counts, h.Counts[i]-at)
	}
	return a, nil
}

// BoundBelow returns the largest of h's finite bounds at or below x
// seconds, or 0 when none is.
func (h Histogram) BoundBelow(x float64) float64 {
	b := 0.0
	for _, le := range h.Bounds {
		if le <= x && !math.IsInf(le, 1) {
			b = le
		}
	}
	return b
}
