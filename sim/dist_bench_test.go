package sim

import (
	"testing"
	"time"
)

// BenchmarkDistSample measures one draw of each kind a built-in scenario
// uses, the simulator's hot path once per message and timer: a new kind
// must not slow the others.
func BenchmarkDistSample(b *testing.B) {
	ln, _ := NewDist(LogNormal, 2*time.Millisecond, time.Millisecond)
	ex, _ := NewDist(Exp, time.Millisecond, 3*time.Millisecond)
	for _, bb := range []struct {
		name string
		d    Dist
	}{{"const", ConstDist(time.Millisecond)}, {"uniform", UniformDist(5*time.Millisecond, 10*time.Millisecond)}, {"exp", ex}, {"lognormal", ln}} {
		b.Run(bb.name, func(b *testing.B) {
			r := NewRand(1)
			var sum time.Duration
			for i := 0; i < b.N; i++ {
				sum += bb.d.Sample(r)
			}
			if sum < 0 {
				b.Fatal(sum)
			}
		})
	}
}
