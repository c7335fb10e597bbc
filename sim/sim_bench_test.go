package sim

import (
	"testing"
	"time"
)

// benchMsg is a message of a typical size; the simulator never reads it.
type benchMsg struct {
	_ [10]uint64
}

// BenchmarkSimEcho measures the simulator's own cost per event: five nodes
// pass messages around, and each delivery re-arms the receiver's timer, as
// a heartbeat does, and sends one message on.
func BenchmarkSimEcho(b *testing.B) {
	s := New[benchMsg](5, 2)
	s.Reset(5, 2, 1)
	s.Net.SetDefault(Link{Latency: UniformDist(5*time.Millisecond, 10*time.Millisecond)})
	var m benchMsg
	for i := 0; i < 6; i++ {
		s.Send(i%5, (i+1)%5, &m)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := s.Next()
		switch e.Kind {
		case Deliver:
			s.SetTimer(e.Node, 0, s.LocalNow(e.Node)+200*time.Millisecond)
			s.Send(e.Node, (e.Node+1+i%4)%5, s.Message())
		case Timeout:
			s.Send(e.Node, (e.Node+1)%5, &m)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
