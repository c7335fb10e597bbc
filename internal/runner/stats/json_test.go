package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// state renders every statistic a summary gives, bit for bit.
func state(s *Summary) string {
	x, p := s.CDF()
	return fmt.Sprintf("%d %x %d %d %x %x %x %x %x %x %v %v", s.N(), math.Float64bits(s.Sum()), s.Min(), s.Max(),
		math.Float64bits(s.Mean()), math.Float64bits(s.StdDev()), math.Float64bits(s.Quantile(0.5)),
		math.Float64bits(s.Quantile(0.9)), math.Float64bits(s.Quantile(0.99)), math.Float64bits(s.Quantile(1)), x, p)
}

func roundTrip(t *testing.T, s *Summary) *Summary {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return &back
}

// TestSummaryJSONMerges: parts written as JSON, read back and merged give
// the whole summary, statistic for statistic and bit for bit, and the same
// JSON.
func TestSummaryJSONMerges(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	gens := map[string]func() int64{
		"small":   func() int64 { return r.Int64N(100) },
		"latency": func() int64 { return 150e6 + r.Int64N(150e6) },
		"huge":    func() int64 { return 1e16 + r.Int64N(1e15) }, // sums beyond 64 bits
	}
	for name, gen := range gens {
		var whole Summary
		parts := make([]Summary, 4)
		for i := 0; i < 5000; i++ {
			v := gen()
			whole.Add(v)
			parts[r.IntN(len(parts))].Add(v)
		}
		var merged Summary
		for i := range parts {
			merged.Merge(roundTrip(t, &parts[i]))
		}
		if got, want := state(&merged), state(&whole); got != want {
			t.Errorf("%s: parts through JSON, merged:\n%s\nwant\n%s", name, got, want)
		}
		a, _ := json.Marshal(&merged)
		b, _ := json.Marshal(&whole)
		if string(a) != string(b) {
			t.Errorf("%s: merged JSON differs from the whole's", name)
		}
	}
	var empty Summary
	if got := roundTrip(t, &empty); got.N() != 0 || !math.IsNaN(got.Mean()) {
		t.Errorf("empty summary read back with n %d, mean %v", got.N(), got.Mean())
	}
}

// TestSummaryJSONRefusesDamage: a state no samples could have made is an
// error naming what is wrong.
func TestSummaryJSONRefusesDamage(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"n":1,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":"5","extra":1}`, "unknown field"},
		{`{"n":2,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":"5"}`, "buckets hold 1 samples, n is 2"},
		{`{"n":1,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":"5:2"}`, "holds 2 samples"},
		{`{"n":1,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":"6"}`, "not in the first and last buckets"},
		{`{"n":1,"sum":"6","sum_sq":"25","min":5,"max":5,"buckets":"5"}`, "sum 6: want from n·min to n·max"},
		{`{"n":1,"sum":"5","sum_sq":"24","min":5,"max":5,"buckets":"5"}`, "sum_sq 24"},
		{`{"n":1,"sum":"-5","sum_sq":"25","min":5,"max":5,"buckets":"5"}`, "sum \"-5\""},
		{`{"n":1,"sum":"5","sum_sq":"x","min":5,"max":5,"buckets":"5"}`, "sum_sq \"x\""},
		{`{"n":2,"sum":"10","sum_sq":"50","min":5,"max":5,"buckets":"5 0"}`, "increasing order"},
		{`{"n":1,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":"99999999"}`, "increasing order"},
		{`{"n":1,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":"5:x"}`, `"5:x": want GAP or GAP:COUNT`},
		{`{"n":2,"sum":"10","sum_sq":"50","min":5,"max":5,"buckets":"5  0:1"}`, `"": want GAP or GAP:COUNT`},
		{`{"n":1,"sum":"5","sum_sq":"25","min":5,"max":5,"buckets":""}`, `"": want GAP or GAP:COUNT`},
		{`{"n":0,"sum":"0","sum_sq":"0","min":0,"max":3,"buckets":""}`, "no samples"},
		{`{"n":1,"sum":"5","sum_sq":"25","min":7,"max":5,"buckets":"5"}`, "min 7, max 5"},
		{`{"n":0,"sum":"0","sum_sq":"0","min":0,"max":0,"buckets":"0"}`, "no samples"},
		{`{"n":-1,"sum":"0","sum_sq":"0","min":0,"max":0,"buckets":""}`, "want n, min and max at least 0"},
		{`[1,2]`, "summary: json"},
	} {
		var s Summary
		err := json.Unmarshal([]byte(tt.in), &s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want one saying %q", tt.in, err, tt.want)
		}
	}
}

// FuzzSummaryJSON: any input either is refused or reads as a summary
// whose statistics lie within its minimum and maximum and whose JSON reads
// back to the same state.
func FuzzSummaryJSON(f *testing.F) {
	var s Summary
	for _, v := range []int64{0, 3, 3, 2047, 2048, 150e6, math.MaxInt64} {
		s.Add(v)
		data, _ := json.Marshal(&s)
		f.Add(data)
	}
	f.Add([]byte(`{"n":0,"sum":"0","sum_sq":"0","min":0,"max":0,"buckets":""}`))
	f.Add([]byte(`{"n":1,"sum":"340282366920938463463374607431768211455","sum_sq":"0","min":1,"max":1,"buckets":"1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Summary
		if json.Unmarshal(data, &s) != nil {
			return
		}
		if s.N() > 0 {
			for _, p := range []float64{0, 0.5, 0.99, 1} {
				if q := s.Quantile(p); q < float64(s.Min()) || q > float64(s.Max()) {
					t.Fatalf("p%g = %v outside [%d, %d]", p*100, q, s.Min(), s.Max())
				}
			}
			if m := s.Mean(); m < float64(s.Min()) || m > float64(s.Max()) {
				t.Fatalf("mean %v outside [%d, %d]", m, s.Min(), s.Max())
			}
		}
		if got, want := state(roundTrip(t, &s)), state(&s); got != want {
			t.Fatalf("read back:\n%s\nwant\n%s", got, want)
		}
	})
}
