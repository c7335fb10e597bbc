package cost

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/scenarios"
)

func TestParseAndFormatBytes(t *testing.T) {
	for _, tt := range []struct {
		text string
		want uint64
	}{{"8GB", 8e9}, {"512MB", 512e6}, {"1.5GiB", 3 << 29}, {"1000000", 1e6}, {" 2 KiB ", 2048}, {"1kB", 1000}, {"8g", 8e9}} {
		if got, err := ParseBytes(tt.text); err != nil || got != tt.want {
			t.Errorf("%q: %d, %v; want %d", tt.text, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0GB", "-1MB", "8 gigs", "1e400"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, tt := range []struct {
		b    uint64
		want string
	}{{9.6e9, "9.6 GB"}, {250e6, "250 MB"}, {12345, "12 kB"}, {999, "999 B"}, {1.8e6, "1.8 MB"}} {
		if got := FormatBytes(tt.b); got != tt.want {
			t.Errorf("%d: %q, want %q", tt.b, got, tt.want)
		}
	}
}

// TestExtrapolation: beyond the points measured, the cost follows their
// power law; between them, the law through the two around.
func TestExtrapolation(t *testing.T) {
	law := func(n int) point { x := float64(n); return point{n, 1e-6 * x * x * x, 48 * x * x} }
	pts := []point{law(64), law(128), law(256), law(512)}
	for _, n := range []int{100, 512, 700, 10000} {
		tm, b := at(pts, n)
		want := law(n)
		if math.Abs(tm/want.time-1) > 1e-9 || math.Abs(b/want.bytes-1) > 1e-9 {
			t.Errorf("at %d: %g s, %g B; want %g, %g", n, tm, b, want.time, want.bytes)
		}
	}
	// The exponent is kept within bounds: a noisy jump does not send the
	// estimate to the moon.
	jump := []point{{256, 0.01, 1e6}, {512, 10, 8e6}}
	if tm, b := at(jump, 1024); tm > 10*8+1e-9 || b > 8e6*4+1e-3 {
		t.Errorf("at 1024 after a jump: %g s, %g B; want at most 80 s (exponent 3) and 3.2e7 B (exponent 2)", tm, b)
	}
}

// TestCalibrate: a small run is measured at its own size, with a time and
// memory above 0; steady-state runs are costed per second of steady
// state; and a cluster too large to run in the budget is calibrated on
// smaller ones and said to be extrapolated.
func TestCalibrate(t *testing.T) {
	s, err := scenarios.Builtin("leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	est := Calibrate([]Unit{{Scenario: s, Count: 1000}, {Scenario: s, Steady: 10 * time.Minute, Count: 6}}, 2)
	if est.Time <= 0 || est.Memory == 0 || est.PerWorker == 0 || est.Basis != "measured on trials of 5 nodes" {
		t.Errorf("leader-crash: %+v", est)
	}
	if none := Calibrate(nil, 2); none.Time != 0 || none.Memory != 0 {
		t.Errorf("no work: %+v", none)
	}
	var o scenarios.Overrides
	if err := o.Set("nodes", "10000"); err != nil {
		t.Fatal(err)
	}
	big, err := o.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	est = Calibrate([]Unit{{Scenario: big, Count: 1000}}, 2)
	if !strings.HasPrefix(est.Basis, "extrapolated to 10000 nodes from trials of ") || est.Time <= 0 || est.PerWorker == 0 {
		t.Errorf("10000 nodes: %+v; want an estimate extrapolated from smaller clusters", est)
	}
}

func TestMachineMemory(t *testing.T) {
	if m := MachineMemory(); m != 0 && m < 1<<20 {
		t.Errorf("machine memory %d bytes", m)
	}
}
