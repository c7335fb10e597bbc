package scenarios

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// Limits on the data files of empirical distributions.
const (
	MaxDataFileBytes = 16 << 20  // a data file's size
	MaxDataRows      = 1_000_000 // values or buckets in one file
	MaxMixParts      = 100       // parts of one mixture
)

// DataFile is a file an empirical distribution was read from: the origin
// ([sim.Dist.Origin]) of every distribution [ParseDist] or
// [EmpiricalDist] makes.
type DataFile struct {
	// Name is the file as written (empirical:NAME); Path where it was
	// read: Name, relative to the directory of the scenario file that
	// names it. [FormatDist] names it by Path, as command lines do.
	Name, Path string
	// SHA256 is the hex SHA-256 of its content.
	SHA256 string
}

// dataFiles reads the files that empirical:FILE names: a relative FILE
// from dir (the working directory when ""), through read (the file
// system when nil).
type dataFiles struct {
	dir  string
	read func(path string) ([]byte, error)
}

// filesOf returns where the scenario file named source reads its data
// files from: its own directory. A built-in scenario's are read from the
// working directory.
func filesOf(source string) dataFiles {
	if strings.HasPrefix(source, builtinPrefix) {
		return dataFiles{}
	}
	return dataFiles{dir: filepath.Dir(source)}
}

// empirical reads empirical:name.
func (f dataFiles) empirical(name string) (sim.Dist, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return sim.Dist{}, errors.New("empirical: want a file name: empirical:FILE, a CSV of values or histogram buckets")
	}
	path := name
	if f.dir != "" && !filepath.IsAbs(name) {
		path = filepath.Join(f.dir, name)
	}
	read := f.read
	if read == nil {
		read = readDataFile
	}
	data, err := read(path)
	if err != nil {
		return sim.Dist{}, err
	}
	return empiricalDist(name, path, data)
}

// readDataFile reads a regular file of at most [MaxDataFileBytes]. Errors
// name the file.
func readDataFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDataFileBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %v", path, unwrapPath(err))
	case len(data) > MaxDataFileBytes:
		return nil, fmt.Errorf("%s: larger than %d MiB: bin the values into a histogram (le,count)", path, MaxDataFileBytes>>20)
	}
	return data, nil
}

// unwrapPath returns a path error's cause, so that the path is said once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// EmpiricalDist returns the distribution of data, the content of the CSV
// file name (relative to the working directory), whose text form is then
// empirical:name: what a program that writes data to name and reads it
// back with [ParseDist] gets. The file holds either
//
//   - values: one column of durations, one a line, each with its unit
//     (7ms, 1.5s). A header line may name the column; a name ending in a
//     unit (fsync_ms, latency_seconds; ns, us, ms, s or seconds) lets the
//     values be plain numbers in that unit. Draws pick one of the values,
//     each as often as it occurs;
//   - a histogram: the header le,count and one line per bucket, as
//     Prometheus writes them: le, the bucket's upper bound, in seconds
//     (0.001; a duration with its unit is read as such), increasing, the
//     last may be +Inf; count, the number of observations at or below le
//     (cumulative), never decreasing. Draws pick a bucket by its share of
//     the observations and a point uniformly within it, from the bound
//     below (0 for the first) to le. Observations in +Inf, above the
//     largest bound B, are drawn from [B, B·r], r the ratio of the last two
//     bounds (2 when there is one): one more bucket of the same layout, as
//     the true tail is unknown (etcd's buckets double, so r is 2).
//
// Blank lines and lines starting with # are left out. Errors name the
// file, the line and the column.
func EmpiricalDist(name string, data []byte) (sim.Dist, error) {
	return empiricalDist(name, name, data)
}

func empiricalDist(name, path string, data []byte) (sim.Dist, error) {
	buckets, err := readTable(path, data)
	if err != nil {
		return sim.Dist{}, err
	}
	sum := sha256.Sum256(data)
	d, err := sim.NewEmpirical(buckets, &DataFile{Name: name, Path: path, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return sim.Dist{}, fmt.Errorf("%s: %v", path, err)
	}
	return d, nil
}

// tableReader reads the lines of a data file, saying where an error is.
type tableReader struct {
	path string
	r    *csv.Reader
	line int // of the record last read
}

func (t *tableReader) next() ([]string, error) {
	rec, err := t.r.Read()
	if err == io.EOF {
		return nil, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%s:%d: not CSV: %v", t.path, pe.Line, pe.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", t.path, err)
	}
	t.line, _ = t.r.FieldPos(0)
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, nil
}

func (t *tableReader) errorf(column, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", t.path, t.line, column, fmt.Sprintf(format, args...))
}

// readTable reads a data file's values or histogram as buckets.
func readTable(path string, data []byte) ([]sim.Bucket, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment, cr.FieldsPerRecord, cr.ReuseRecord = '#', -1, true
	t := &tableReader{path: path, r: cr}
	first, err := t.next()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: no values: want one column of durations, or a histogram with the header le,count", path)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case len(first) == 2 && strings.EqualFold(first[0], "le") && strings.EqualFold(first[1], "count"):
		return t.histogram()
	case len(first) != 1:
		return nil, t.errorf("line", "%d columns: want one column of durations, or a histogram with the header le,count", len(first))
	}
	column, unit := "value", time.Duration(0)
	var values []time.Duration
	if isValue(first[0]) {
		v, err := parseValue(first[0], 0)
		if err != nil {
			return nil, t.errorf(column, "%v", err)
		}
		values = append(values, v)
	} else {
		column, unit = first[0], unitOf(first[0])
	}
	return t.values(values, column, unit)
}

// isValue says whether text is a number or a duration, not a header.
func isValue(text string) bool {
	if _, err := strconv.ParseFloat(text, 64); err == nil {
		return true
	}
	_, err := ParseDuration(text)
	return err == nil
}

// unitOf returns the unit a column's name ends in, or 0.
func unitOf(column string) time.Duration {
	name := strings.ToLower(column)
	if i := strings.LastIndexAny(name, "_- "); i >= 0 {
		name = name[i+1:]
	}
	switch name {
	case "ns":
		return time.Nanosecond
	case "us", "µs":
		return time.Microsecond
	case "ms":
		return time.Millisecond
	case "s", "seconds":
		return time.Second
	}
	return 0
}

// parseValue reads a duration with its unit, or a plain number of unit
// when unit is above 0.
func parseValue(text string, unit time.Duration) (time.Duration, error) {
	x, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return ParseDuration(text)
	}
	switch {
	case unit == 0 && x == 0:
		return 0, nil
	case unit == 0:
		return 0, fmt.Errorf("%s has no unit: write %sms, or name the unit in the header (such as fsync_ms)", text, text)
	case math.IsNaN(x) || x < 0:
		return 0, fmt.Errorf("%s is not a duration of 0 or more", text)
	case x*float64(unit) >= math.MaxInt64:
		return 0, fmt.Errorf("%s is too long a duration", text)
	}
	return time.Duration(math.Round(x * float64(unit))), nil
}

// values reads the rest of a file of values.
func (t *tableReader) values(values []time.Duration, column string, unit time.Duration) ([]sim.Bucket, error) {
	for {
		rec, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 1 {
			return nil, t.errorf("line", "%d columns: a file of values has one", len(rec))
		}
		v, err := parseValue(rec[0], unit)
		if err != nil {
			return nil, t.errorf(column, "%v", err)
		}
		if values = append(values, v); len(values) > MaxDataRows {
			return nil, t.errorf(column, "more than %d values: bin them into a histogram (le,count)", MaxDataRows)
		}
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: a header and no values", t.path)
	}
	slices.Sort(values)
	var buckets []sim.Bucket
	for i := 0; i < len(values); {
		j := i
		for j < len(values) && values[j] == values[i] {
			j++
		}
		buckets = append(buckets, sim.Bucket{Lo: values[i], Hi: values[i], Weight: float64(j - i)})
		i = j
	}
	return buckets, nil
}

// histogram reads the buckets of a histogram after its header.
func (t *tableReader) histogram() ([]sim.Bucket, error) {
	type row struct {
		le    float64 // seconds; +Inf
		count float64
	}
	var rows []row
	for {
		rec, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 2 {
			return nil, t.errorf("line", "%d columns: want le,count", len(rec))
		}
		le, err := parseBound(rec[0])
		if err != nil {
			return nil, t.errorf("le", "%v", err)
		}
		count, err := strconv.ParseFloat(rec[1], 64)
		if err != nil || !(count >= 0) || math.IsInf(count, 0) {
			return nil, t.errorf("count", "%q is not a count of observations (a number of 0 or more)", rec[1])
		}
		if n := len(rows); n > 0 {
			switch prev := rows[n-1]; {
			case math.IsInf(prev.le, 1):
				return nil, t.errorf("le", "a bucket after +Inf: +Inf is the last")
			case le <= prev.le:
				return nil, t.errorf("le", "%s is not above the bucket before (%s): bounds increase", rec[0], formatSeconds(prev.le))
			case count < prev.count:
				return nil, t.errorf("count", "%s is below the bucket before (%s): counts are cumulative, as Prometheus writes them (the observations at or below le)",
					rec[1], strconv.FormatFloat(prev.count, 'g', -1, 64))
			}
		}
		if rows = append(rows, row{le, count}); len(rows) > MaxDataRows {
			return nil, t.errorf("le", "more than %d buckets", MaxDataRows)
		}
	}
	finite := len(rows)
	if finite > 0 && math.IsInf(rows[finite-1].le, 1) {
		finite--
	}
	switch {
	case finite == 0:
		return nil, fmt.Errorf("%s: a histogram without a bucket of finite le", t.path)
	case rows[len(rows)-1].count == 0:
		return nil, fmt.Errorf("%s: no observations (every count is 0)", t.path)
	}
	var buckets []sim.Bucket
	lo, below := time.Duration(0), 0.0
	for i, r := range rows {
		hi := seconds(r.le)
		if i == finite { // +Inf: one more bucket of the same ratio
			ratio := 2.0
			if finite > 1 && rows[finite-2].le > 0 {
				ratio = rows[finite-1].le / rows[finite-2].le
			}
			hi = seconds(rows[finite-1].le * ratio)
		}
		buckets = append(buckets, sim.Bucket{Lo: lo, Hi: hi, Weight: r.count - below})
		lo, below = hi, r.count
	}
	return buckets, nil
}

// maxBound is the largest finite le, in seconds: about 292 years, the
// longest time.Duration.
const maxBound = float64(math.MaxInt64) / 1e9

// parseBound reads a bucket's le: seconds, +Inf, or a duration with its
// unit.
func parseBound(text string) (float64, error) {
	switch strings.ToLower(strings.TrimPrefix(text, "+")) {
	case "inf":
		return math.Inf(1), nil
	}
	x, err := strconv.ParseFloat(text, 64)
	if err != nil {
		d, derr := ParseDuration(text)
		if derr != nil {
			return 0, fmt.Errorf("%q is not a bound: a number of seconds (0.005, as Prometheus writes them), +Inf, or a duration with its unit (5ms)", text)
		}
		return d.Seconds(), nil
	}
	if math.IsNaN(x) || x < 0 || x > maxBound {
		return 0, fmt.Errorf("%s is not a bound from 0 to %.0f seconds", text, maxBound)
	}
	return x, nil
}

// seconds converts seconds to a duration, saturating.
func seconds(x float64) time.Duration {
	if ns := x * 1e9; ns < math.MaxInt64 {
		return time.Duration(math.Round(ns))
	}
	return math.MaxInt64
}

func formatSeconds(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// parseMix reads the parts of mix:W*DIST+W*DIST...
func parseMix(args string, files dataFiles) (sim.Dist, error) {
	texts := splitMix(args)
	if len(texts) > MaxMixParts {
		return sim.Dist{}, fmt.Errorf("mix: %d parts; at most %d", len(texts), MaxMixParts)
	}
	var weights []float64
	var parts []sim.Dist
	for i, text := range texts {
		w, dist, ok := strings.Cut(text, "*")
		x, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if !ok || err != nil || !(x > 0 && x <= 1) {
			return sim.Dist{}, fmt.Errorf("mix: part %d, %q: want WEIGHT*DISTRIBUTION, a weight above 0 and at most 1 (mix:0.999*lognormal:2ms,1ms+0.001*uniform:1s-4s)", i+1, text)
		}
		d, err := parseDist(dist, files, true)
		if err != nil {
			return sim.Dist{}, fmt.Errorf("mix: part %d: %v", i+1, err)
		}
		weights, parts = append(weights, x), append(parts, d)
	}
	d, err := sim.NewMix(weights, parts)
	if errors.Is(err, sim.ErrMixWeights) {
		var sum float64
		for _, w := range weights {
			sum += w
		}
		err = fmt.Errorf("mix: the weights add up to %s, want 1 (within %g)", strconv.FormatFloat(sum, 'g', -1, 64), sim.MixTolerance)
	}
	return d, err
}

// splitMix splits the parts of a mixture at each + that a weight and *
// follow, so that + within a part (exp:+5ms,7ms) stays in it.
func splitMix(args string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(args); i++ {
		if args[i] == '+' && startsWeight(args[i+1:]) {
			parts = append(parts, args[start:i])
			start = i + 1
		}
	}
	return append(parts, args[start:])
}

// startsWeight says whether s starts with a number and *.
func startsWeight(s string) bool {
	w, _, ok := strings.Cut(s, "*")
	_, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
	return ok && err == nil
}

// dataPath names a data file as read from the working directory.
func dataPath(f *DataFile) string { return f.Path }

// absolutePath names a data file by its absolute path, so that a scenario
// file written anywhere reads it again ([Scenario.YAML]).
func absolutePath(f *DataFile) string {
	if abs, err := filepath.Abs(f.Path); err == nil {
		return abs
	}
	return f.Path
}

// DataFiles returns the files the empirical distributions of s were read
// from, each once, sorted by path and content: what s depends on besides
// its own text.
func (s *Scenario) DataFiles() []DataFile {
	var out []DataFile
	var add func(d *sim.Dist)
	add = func(d *sim.Dist) {
		if f, ok := d.Origin().(*DataFile); ok {
			out = append(out, *f)
		}
		_, parts := d.Parts()
		for i := range parts {
			add(&parts[i])
		}
	}
	s.visitDists(add)
	slices.SortFunc(out, func(a, b DataFile) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.SHA256, b.SHA256)
	})
	return slices.CompactFunc(out, func(a, b DataFile) bool { return a.Path == b.Path && a.SHA256 == b.SHA256 })
}

// visitDists calls visit with every distribution of s.
func (s *Scenario) visitDists(visit func(*sim.Dist)) {
	c := &s.Cluster
	for _, d := range []*sim.Dist{&s.Network.Latency, c.Persist, c.TimerJitter, c.Processing} {
		if d != nil {
			visit(d)
		}
	}
	for i := range c.Start {
		visit(&c.Start[i])
	}
	for _, l := range s.Network.Links {
		if l.Latency != nil {
			visit(l.Latency)
		}
	}
	for i := range s.Sweep.Latency {
		visit(&s.Sweep.Latency[i])
	}
	var steps func([]Step)
	steps = func(sts []Step) {
		for i := range sts {
			st := &sts[i]
			visit(&st.Delay)
			for j := range st.Actions {
				a := &st.Actions[j]
				visit(&a.For)
				if a.RestartAfter != nil {
					visit(a.RestartAfter)
				}
			}
			steps(st.Steps)
		}
	}
	steps(s.Faults)
	steps(s.Steady.Faults)
}
