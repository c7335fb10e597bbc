package scenarios

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/sim"
)

const ms = time.Millisecond

func bucket(lo, hi time.Duration, weight float64) sim.Bucket {
	return sim.Bucket{Lo: lo, Hi: hi, Weight: weight}
}

func TestEmpiricalDist(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		want       []sim.Bucket // weights as shares
	}{
		{"values with units", "7ms\n8ms\n7ms\n1.5s\n", []sim.Bucket{bucket(7*ms, 7*ms, 0.5), bucket(8*ms, 8*ms, 0.25), bucket(1500*ms, 1500*ms, 0.25)}},
		{"a header with a unit", "fsync_ms\n1\n3.5\n# a comment\n\n2us\n", []sim.Bucket{bucket(2*time.Microsecond, 2*time.Microsecond, 1.0/3), bucket(ms, ms, 1.0/3), bucket(3500*time.Microsecond, 3500*time.Microsecond, 1.0/3)}},
		{"a header in seconds", "latency_seconds\n0.25\n", []sim.Bucket{bucket(250*ms, 250*ms, 1)}},
		{"a header without a unit", "latency\n0\n4ms\n", []sim.Bucket{bucket(0, 0, 0.5), bucket(4*ms, 4*ms, 0.5)}},
		{"a histogram", "le,count\n0.001,1\n0.002,1\n0.004,4\n", []sim.Bucket{bucket(0, ms, 0.25), bucket(2*ms, 4*ms, 0.75)}},
		{"a histogram with spaces and units", " LE , Count \n 1ms , 2\n0.004, 4 \n", []sim.Bucket{bucket(0, ms, 0.5), bucket(ms, 4*ms, 0.5)}},
		{"+Inf: one more bucket of the last ratio", "le,count\n0.5,0\n1,3\n+Inf,4\n", []sim.Bucket{bucket(500*ms, time.Second, 0.75), bucket(time.Second, 2*time.Second, 0.25)}},
		{"+Inf after one bound: twice it", "le,count\n0.25,1\n+Inf,2\n", []sim.Bucket{bucket(0, 250*ms, 0.5), bucket(250*ms, 500*ms, 0.5)}},
		{"+Inf with nothing in it", "le,count\n0.001,10\n0.002,10\n+Inf,10\n", []sim.Bucket{bucket(0, ms, 1)}},
	} {
		d, err := EmpiricalDist("x.csv", []byte(tt.data))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		got := d.Buckets()
		if !slices.EqualFunc(got, tt.want, func(a, b sim.Bucket) bool {
			return a.Lo == b.Lo && a.Hi == b.Hi && math.Abs(a.Weight-b.Weight) < 1e-12
		}) {
			t.Errorf("%s: got buckets %v, want %v", tt.name, got, tt.want)
		}
		if got := FormatDist(d); got != "empirical:x.csv" {
			t.Errorf("%s: FormatDist: got %q, want empirical:x.csv", tt.name, got)
		}
	}
}

// TestFormatKind checks the text of a distribution's kind alone, which
// raftsim fit uses to name the families it fits.
func TestFormatKind(t *testing.T) {
	if got := FormatDist(sim.Dist{Kind: sim.Empirical}); got != "empirical:" {
		t.Errorf("got %q, want empirical:", got)
	}
	if got := FormatDist(sim.Dist{Kind: sim.Mixture}); got != "mix:" {
		t.Errorf("got %q, want mix:", got)
	}
}

func TestEmpiricalDistErrors(t *testing.T) {
	for _, tt := range []struct {
		data, want string
	}{
		{"", "x.csv: no values"},
		{"# only a comment\n", "x.csv: no values"},
		{"latency_ms\n", "x.csv: a header and no values"},
		{"7ms\n9\n", "x.csv:2: value: 9 has no unit: write 9ms, or name the unit in the header"},
		{"7\n", "x.csv:1: value: 7 has no unit"},
		{"fsync_ms\n1\n-2\n", "x.csv:3: fsync_ms: -2 is not a duration of 0 or more"},
		{"fsync_ms\n1\nNaN\n", "x.csv:3: fsync_ms: NaN is not a duration"},
		{"fsync_ms\n1e300\n", "x.csv:2: fsync_ms: 1e300 is too long a duration"},
		{"7ms\nfast\n", `x.csv:2: value: "fast" is not a duration`},
		{"7ms,8ms\n", "x.csv:1: line: 2 columns: want one column of durations, or a histogram with the header le,count"},
		{"7ms\n8ms,9ms\n", "x.csv:2: line: 2 columns: a file of values has one"},
		{"7ms\n\"8ms\n", "x.csv:2: not CSV:"},
		{"le,count\n", "x.csv: a histogram without a bucket of finite le"},
		{"le,count\n+Inf,3\n", "x.csv: a histogram without a bucket of finite le"},
		{"le,count\n0.001,0\n+Inf,0\n", "x.csv: no observations (every count is 0)"},
		{"le,count\n0.001,1\n0.001,2\n", "x.csv:3: le: 0.001 is not above the bucket before (0.001): bounds increase"},
		{"le,count\n0.002,1\n0.001,2\n", "x.csv:3: le: 0.001 is not above the bucket before (0.002)"},
		{"le,count\n0.001,5\n0.002,3\n", "x.csv:3: count: 3 is below the bucket before (5): counts are cumulative"},
		{"le,count\n0.001,5\n+Inf,6\n0.004,7\n", "x.csv:4: le: a bucket after +Inf: +Inf is the last"},
		{"le,count\nsoon,5\n", `x.csv:2: le: "soon" is not a bound: a number of seconds`},
		{"le,count\n-1,5\n", "x.csv:2: le: -1 is not a bound from 0 to"},
		{"le,count\n1e300,5\n", "x.csv:2: le: 1e300 is not a bound from 0 to"},
		{"le,count\n0.001,many\n", `x.csv:2: count: "many" is not a count of observations`},
		{"le,count\n0.001,-1\n", `x.csv:2: count: "-1" is not a count of observations`},
		{"le,count\n0.001,Inf\n", `x.csv:2: count: "Inf" is not a count of observations`},
		{"le,count\n0.001\n", "x.csv:2: line: 1 columns: want le,count"},
	} {
		d, err := EmpiricalDist("x.csv", []byte(tt.data))
		if err == nil {
			t.Errorf("%q: got %v, want the error %q", tt.data, d.Buckets(), tt.want)
		} else if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: got the error %q, want %q", tt.data, err, tt.want)
		}
	}
}

// TestEmpiricalHistogramQuantiles samples a histogram with the issue's
// heavy fsync tail and checks the quantiles of the draws against the
// histogram's: within each bucket draws spread uniformly, and the 0.1% at
// 1-4s stays.
func TestEmpiricalHistogramQuantiles(t *testing.T) {
	// etcd's WAL fsync buckets, 1ms to 8.192s, doubling.
	data := "le,count\n0.001,0\n0.002,9000\n0.004,9990\n0.008,9990\n0.016,9990\n0.032,9990\n0.064,9990\n" +
		"0.128,9990\n0.256,9990\n0.512,9990\n1.024,9991\n2.048,9995\n4.096,10000\n8.192,10000\n+Inf,10000\n"
	d, err := EmpiricalDist("fsync.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	r := sim.NewRand(21)
	const n = 1000000
	draws := make([]time.Duration, n)
	for i := range draws {
		draws[i] = d.Sample(r)
	}
	slices.Sort(draws)
	// The histogram's distribution function, linear within buckets.
	for _, q := range []struct {
		at   time.Duration
		want float64
	}{{1500 * time.Microsecond, 0.45}, {2 * ms, 0.9}, {3 * ms, 0.9495}, {time.Second, 0.999}, {1536 * ms, 0.9993}, {3072 * ms, 0.99975}} {
		k, _ := slices.BinarySearch(draws, q.at+1)
		p := q.want
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(float64(k)-n*p) > 5*sd {
			t.Errorf("draws at or below %v: %d, want about %.0f (±%.0f)", q.at, k, n*p, 5*sd)
		}
	}
	if lo, hi := draws[0], draws[n-1]; lo < ms || hi > 4096*ms {
		t.Errorf("draws span [%v, %v], want within [1ms, 4.096s]", lo, hi)
	}
}

func TestParseMix(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s", "mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s"},
		{"mix: 0.5 * 7ms + 0.5 * exp:+5ms,7ms", "mix:0.5*const:7ms+0.5*exp:5ms,7ms"},
		{"mix:1*uniform:1-2ms", "mix:1*uniform:1ms-2ms"},
		{"mix:0.25*1ms+0.25*2ms+0.5*3ms", "mix:0.25*const:1ms+0.25*const:2ms+0.5*const:3ms"},
		{"mix:0.3333333*1ms+0.3333333*2ms+0.3333334*3ms", "mix:0.3333333*const:1ms+0.3333333*const:2ms+0.3333334*const:3ms"},
	} {
		d, err := ParseDist(tt.in)
		if err != nil {
			t.Errorf("ParseDist(%q): %v", tt.in, err)
			continue
		}
		if got := FormatDist(d); got != tt.want {
			t.Errorf("FormatDist(ParseDist(%q)): got %q, want %q", tt.in, got, tt.want)
		}
		again, err := ParseDist(FormatDist(d))
		if err != nil || FormatDist(again) != tt.want || again.Mean() != d.Mean() {
			t.Errorf("ParseDist(%q) does not round-trip: %v, %v", FormatDist(d), FormatDist(again), err)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"mix:", "mix: part 1, \"\": want WEIGHT*DISTRIBUTION"},
		{"mix:0.5*1ms+0.4*2ms", "mix: the weights add up to 0.9, want 1 (within 1e-06)"},
		{"mix:0.5*1ms+0.5*mix:1*2ms", "mix: part 2: mix: a part of a mixture cannot be a mixture"},
		{"mix:1.5*1ms", "mix: part 1, \"1.5*1ms\": want WEIGHT*DISTRIBUTION, a weight above 0 and at most 1"},
		{"mix:0*1ms+1*2ms", "mix: part 1, \"0*1ms\""},
		{"mix:1ms", "mix: part 1, \"1ms\""},
		{"mix:0.5*1ms+0.5*gamma:1ms", "mix: part 2: unknown distribution \"gamma\""},
		{"mix:0.5*1ms+0.5*uniform:2ms-1ms", "mix: part 2: range \"2ms-1ms\": minimum is above maximum"},
		{"mix:" + strings.Repeat("0.01*1ms+", 100) + "0*1ms", "mix: 101 parts; at most 100"},
	} {
		if d, err := ParseDist(tt.in); err == nil {
			t.Errorf("ParseDist(%q) = %s, want an error", tt.in, FormatDist(d))
		} else if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseDist(%q): got the error %q, want %q", tt.in, err, tt.want)
		}
	}
}

// TestEmpiricalFiles reads empirical:FILE from a flag (relative to the
// working directory) and from a scenario file (relative to its directory),
// and checks that the canonical text names the file as written and reads
// the same data again.
func TestEmpiricalFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("exp/fsync.csv", "le,count\n0.001,90\n0.002,99\n+Inf,100\n")
	write("exp/rtt.csv", "rtt_ms\n1\n2\n")
	write("exp/s.yaml", "cluster:\n  persist: empirical:fsync.csv\nnetwork:\n  latency: mix:0.5*empirical:rtt.csv+0.5*1ms\n"+
		"  links:\n    - {from: n1, to: n2, latency: \"empirical:rtt.csv\"}\nfaults:\n  - crash: {nodes: n1, restart_after: \"empirical:rtt.csv\"}\n")
	write("exp/bad.yaml", "cluster:\n  nodes: 3\n  persist: empirical:missing.csv\n")
	t.Chdir(dir)

	s, err := Load("exp/s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The canonical text names the files as read from the working
	// directory, as command lines and replay commands do.
	if got, want := FormatDist(*s.Cluster.Persist), "empirical:"+filepath.Join("exp", "fsync.csv"); got != want {
		t.Errorf("persist: got %q, want %q", got, want)
	}
	if got, want := FormatDist(s.Network.Latency), "mix:0.5*empirical:"+filepath.Join("exp", "rtt.csv")+"+0.5*const:1ms"; got != want {
		t.Errorf("latency: got %q, want %q", got, want)
	}
	files := s.DataFiles()
	if len(files) != 2 || files[0].Path != filepath.Join("exp", "fsync.csv") || files[1].Path != filepath.Join("exp", "rtt.csv") ||
		files[1].Name != "rtt.csv" || len(files[0].SHA256) != 64 {
		t.Errorf("DataFiles: got %+v, want exp/fsync.csv and exp/rtt.csv once each", files)
	}
	// Written out anywhere, the scenario reads the same files again: it
	// names them by their absolute paths.
	abs := filepath.Join(dir, "exp", "fsync.csv")
	if text := string(s.YAML()); !strings.Contains(text, `persist: "empirical:`+abs+`"`) {
		t.Errorf("YAML does not name %s:\n%s", abs, text)
	}
	write("other/again.yaml", string(s.YAML()))
	again, err := Load("other/again.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(again.YAML()), string(s.YAML()); got != want {
		t.Errorf("the YAML of a scenario with data files does not round-trip:\n%s\nwant\n%s", got, want)
	}
	sums := func(fs []DataFile) (out []string) {
		for _, f := range fs {
			out = append(out, f.SHA256)
		}
		return out
	}
	if !slices.Equal(sums(again.DataFiles()), sums(files)) {
		t.Errorf("DataFiles after a round trip: got %+v, want %+v", again.DataFiles(), files)
	}

	// A flag reads from the working directory.
	var o Overrides
	if err := o.Set("persist", "empirical:exp/fsync.csv"); err != nil {
		t.Fatal(err)
	}
	if got, want := o.Args(), []string{"--persist", "empirical:exp/fsync.csv"}; !slices.Equal(got, want) {
		t.Errorf("Args: got %q, want %q", got, want)
	}
	if err := o.Set("persist", "empirical:fsync.csv"); err == nil || err.Error() != "fsync.csv: no such file or directory" {
		t.Errorf("a file that is not in the working directory: got %v", err)
	}
	_, err = Load("exp/bad.yaml")
	if want := "exp/bad.yaml:3: cluster.persist: " + filepath.Join("exp", "missing.csv") + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("a missing file: got %v, want %s", err, want)
	}
	if err := o.Set("persist", "empirical:exp"); err == nil || err.Error() != "exp: not a regular file" {
		t.Errorf("a directory: got %v", err)
	}
	if err := o.Set("persist", "empirical:"); err == nil || !strings.HasPrefix(err.Error(), "empirical: want a file name") {
		t.Errorf("no file: got %v", err)
	}
	write("big.csv", "v_ms\n"+strings.Repeat("1\n", MaxDataFileBytes/2+1))
	if err := o.Set("persist", "empirical:big.csv"); err == nil || !strings.HasPrefix(err.Error(), "big.csv: larger than 16 MiB") {
		t.Errorf("a file too large: got %v", err)
	}
}

// testFiles are the data files the fuzz tests read, instead of the disk.
var testFiles = map[string]string{
	"h.csv": "le,count\n0.001,5\n0.002,9\n+Inf,10\n",
	"v.csv": "ms\n1\n2\n",
}

func readTestFile(path string) ([]byte, error) {
	if text, ok := testFiles[path]; ok {
		return []byte(text), nil
	}
	return nil, os.ErrNotExist
}

// FuzzParseDist checks that any text either is refused or gives a
// distribution whose canonical text reads back to itself, with the same
// mean and largest value, and whose draws are durations of 0 or more.
func FuzzParseDist(f *testing.F) {
	for _, s := range []string{"7ms", "const:7ms", "uniform:5-10ms", "normal:7ms,2ms", "exp:5ms,7ms", "lognormal:7ms,2ms",
		"empirical:h.csv", "empirical:v.csv", "empirical:none.csv", "mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s",
		"mix:0.5*empirical:h.csv+0.5*exp:+1ms,2ms", "mix:0.5*mix:1*1ms+0.5*1ms", "mix:1e-3*1ms+0.999*2ms", "mix:+"} {
		f.Add(s)
	}
	files := dataFiles{read: readTestFile}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := parseDist(text, files, false)
		if err != nil {
			return
		}
		canon := FormatDist(d)
		again, err := parseDist(canon, files, false)
		if err != nil {
			t.Fatalf("%q reads as %q, which does not read back: %v", text, canon, err)
		}
		if got := FormatDist(again); got != canon || again.Mean() != d.Mean() || again.Max() != d.Max() {
			t.Fatalf("%q reads as %q, which reads back as %q (mean %v, max %v; want %v, %v)", text, canon, got, again.Mean(), again.Max(), d.Mean(), d.Max())
		}
		r := sim.NewRand(1)
		for i := 0; i < 20; i++ {
			if x := d.Sample(r); x < 0 || (d.Max() >= 0 && x > d.Max()) {
				t.Fatalf("%q drew %v, outside [0, %v]", canon, x, d.Max())
			}
		}
	})
}

// FuzzEmpiricalDist checks that any file content is refused with an error
// that names the file, or read as a distribution whose draws lie within
// its buckets.
func FuzzEmpiricalDist(f *testing.F) {
	for _, s := range []string{"7ms\n8ms\n", "fsync_ms\n1\n2.5\n", "le,count\n0.001,1\n0.002,5\n+Inf,6\n", "le,count\n1ms,0\n+inf,3\n",
		"# c\n\nlatency_seconds\n0.1\n", "le,count\n0.001,5\n0.002,3\n", "\"a\nb\",1\n", "le,count\n0,1\n+Inf,2\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := EmpiricalDist("f.csv", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("the error %q does not name the file", err)
			}
			return
		}
		buckets := d.Buckets()
		var total float64
		for _, b := range buckets {
			total += b.Weight
			if b.Lo < 0 || b.Lo > b.Hi || !(b.Weight > 0) {
				t.Fatalf("bucket %+v", b)
			}
		}
		if math.Abs(total-1) > 1e-9 {
			t.Fatalf("shares add up to %v", total)
		}
		r := sim.NewRand(2)
		for i := 0; i < 20; i++ {
			x := d.Sample(r)
			if !slices.ContainsFunc(buckets, func(b sim.Bucket) bool { return x >= b.Lo && x <= b.Hi }) {
				t.Fatalf("drew %v, in no bucket of %v", x, buckets)
			}
		}
	})
}

// TestParseWithData: data files held in memory are read where Parse would
// read them from disk (beside the scenario file), and parse to the same
// distributions; a name the map lacks is an error naming the file.
func TestParseWithData(t *testing.T) {
	yaml := []byte("cluster:\n  nodes: 3\n  persist: empirical:fsync.csv\nnetwork:\n  latency: empirical:rtt.csv\n")
	files := map[string][]byte{
		filepath.Join("tune", "fsync.csv"): []byte("le,count\n0.001,90\n0.002,99\n+Inf,100\n"),
		filepath.Join("tune", "rtt.csv"):   []byte("rtt_ms\n1\n2\n"),
	}
	s, err := ParseWithData(filepath.Join("tune", "etcd.yaml"), yaml, files)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	os.Mkdir("tune", 0o755)
	for path, data := range files {
		os.WriteFile(path, data, 0o644)
	}
	os.WriteFile(filepath.Join("tune", "etcd.yaml"), yaml, 0o644)
	disk, err := Load(filepath.Join("tune", "etcd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][2]sim.Dist{{*s.Cluster.Persist, *disk.Cluster.Persist}, {s.Network.Latency, disk.Network.Latency}} {
		if FormatDist(d[0]) != FormatDist(d[1]) || !reflect.DeepEqual(d[0], d[1]) {
			t.Errorf("in memory %s, on disk %s: they differ", FormatDist(d[0]), FormatDist(d[1]))
		}
	}
	delete(files, filepath.Join("tune", "rtt.csv"))
	if _, err := ParseWithData(filepath.Join("tune", "etcd.yaml"), yaml, files); err == nil || !strings.Contains(err.Error(), filepath.Join("tune", "rtt.csv")) {
		t.Errorf("a missing data file: %v", err)
	}
}
