package scenarios

import (
	"testing"
	"time"
)

func TestParseDist(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"7ms", "const:7ms"},
		{"const:7ms", "const:7ms"},
		{"uniform:5ms-10ms", "uniform:5ms-10ms"},
		{"uniform:5-10ms", "uniform:5ms-10ms"},
		{"uniform:0-50ms", "uniform:0s-50ms"},
		{"normal:7ms,2ms", "normal:7ms,2ms"},
		{"exp:7ms", "exp:7ms"},
		{"exp:5ms,7ms", "exp:5ms,7ms"},
		{"lognormal:7ms,2ms", "lognormal:7ms,2ms"},
		{"uniform:1.5ms-2s", "uniform:1500us-2s"},
	}
	for _, tt := range tests {
		d, err := ParseDist(tt.in)
		if err != nil {
			t.Errorf("ParseDist(%q): %v", tt.in, err)
			continue
		}
		if got := FormatDist(d); got != tt.want {
			t.Errorf("FormatDist(ParseDist(%q)) = %q, want %q", tt.in, got, tt.want)
		}
		again, err := ParseDist(FormatDist(d))
		if err != nil || again != d {
			t.Errorf("ParseDist(%q) does not round-trip: %v, %v", FormatDist(d), again, err)
		}
	}
}

func TestParseDistErrors(t *testing.T) {
	for _, in := range []string{"", "7", "fast", "uniform:10ms-5ms", "normal:7ms", "exp:7ms,5ms",
		"lognormal:0,1ms", "gamma:1ms", "const:-1ms", "uniform:-5ms-1ms", "normal:1ms,x"} {
		if d, err := ParseDist(in); err == nil {
			t.Errorf("ParseDist(%q) = %v, want an error", in, FormatDist(d))
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in       string
		min, max time.Duration
	}{
		{"150ms-300ms", 150 * time.Millisecond, 300 * time.Millisecond},
		{"150-300ms", 150 * time.Millisecond, 300 * time.Millisecond},
		{"500ms-1s", 500 * time.Millisecond, time.Second},
		{"150ms", 150 * time.Millisecond, 150 * time.Millisecond},
		{"0-50ms", 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.in)
		if err != nil || r.Min != tt.min || r.Max != tt.max {
			t.Errorf("ParseRange(%q) = %v, %v; want %v-%v", tt.in, r, err, tt.min, tt.max)
		}
	}
	for _, in := range []string{"300ms-150ms", "a-b", "-", "150ms-", "1.5-2"} {
		if r, err := ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) = %v, want an error", in, r)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 1500 * time.Millisecond: "1500ms", 7 * time.Millisecond: "7ms",
		1500 * time.Microsecond: "1500us", 12: "12ns", 90 * time.Second: "90s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatSpan(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{5003872672, "5.004s"}, {time.Second, "1s"}, {1234567, "1.235ms"}, {150 * time.Millisecond, "150ms"}, {999, "1µs"}, {0, "0s"},
	} {
		if got := FormatSpan(tt.d); got != tt.want {
			t.Errorf("FormatSpan(%d): got %q, want %q", int64(tt.d), got, tt.want)
		}
	}
}
