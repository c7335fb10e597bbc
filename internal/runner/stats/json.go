package stats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// summaryJSON is the exact state of a [Summary]: read back, it gives the
// same quantiles, means and standard deviations bit for bit, and merges as
// the original would.
type summaryJSON struct {
	N     int64  `json:"n"`
	Sum   string `json:"sum"`    // the exact sum, a decimal integer below 2^128
	SumSq string `json:"sum_sq"` // the exact sum of squares, likewise
	Min   int64  `json:"min"`
	Max   int64  `json:"max"`
	// Buckets lists the non-empty histogram buckets in increasing order,
	// separated by spaces, each as GAP or GAP:COUNT: the gap from the
	// previous bucket's number (the first: its number), and how many
	// samples it holds when more than one. A string, not a JSON array:
	// it is most of a partial result, and reads several times faster.
	Buckets string `json:"buckets"`
}

// MarshalJSON writes the summary's exact state:
//
//	{"n":4,"sum":"70","sum_sq":"1800","min":10,"max":30,"buckets":"10 10:2 10"}
//
// Bucket b holds the samples v with bucketOf(v) = b: values below 2048 have
// a bucket each, above, each power of two is cut into 1024 buckets.
func (s *Summary) MarshalJSON() ([]byte, error) {
	j := summaryJSON{N: s.n, Sum: int128(s.sum).String(), SumSq: int128(s.sumSq).String(), Min: s.min, Max: s.max}
	var b []byte
	last := 0
	for bucket, count := range s.buckets {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(bucket-last), 10)
		if count > 1 {
			b = strconv.AppendUint(append(b, ':'), count, 10)
		}
		last = bucket
	}
	j.Buckets = string(b)
	return json.Marshal(j)
}

// UnmarshalJSON reads what [Summary.MarshalJSON] writes. It checks that
// the state is one some samples could have made (counts add up, minimum
// and maximum lie in the first and last buckets, sums lie between what the
// minimum and the maximum allow), so a damaged file is an error, never a
// wrong statistic or a panic.
func (s *Summary) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j summaryJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("summary: %v", err)
	}
	var t Summary
	if err := t.setState(&j); err != nil {
		return fmt.Errorf("summary: %v", err)
	}
	*s = t
	return nil
}

var max128 = new(big.Int).Lsh(big.NewInt(1), 128)

func (s *Summary) setState(j *summaryJSON) error {
	sum, ok := new(big.Int).SetString(j.Sum, 10)
	if !ok || sum.Sign() < 0 || sum.Cmp(max128) >= 0 {
		return fmt.Errorf("sum %q: want a decimal integer from 0 to 2^128-1", j.Sum)
	}
	sumSq, ok := new(big.Int).SetString(j.SumSq, 10)
	if !ok || sumSq.Sign() < 0 || sumSq.Cmp(max128) >= 0 {
		return fmt.Errorf("sum_sq %q: want a decimal integer from 0 to 2^128-1", j.SumSq)
	}
	if j.N < 0 || j.Min < 0 || j.Min > j.Max {
		return fmt.Errorf("n %d, min %d, max %d: want n, min and max at least 0, min at most max", j.N, j.Min, j.Max)
	}
	if j.N == 0 {
		if j.Min != 0 || j.Max != 0 || sum.Sign() != 0 || sumSq.Sign() != 0 || j.Buckets != "" {
			return errors.New("no samples, but a minimum, maximum, sum or bucket")
		}
		return nil
	}
	s.n, s.min, s.max = j.N, j.Min, j.Max
	s.sum, s.sumSq = words(sum), words(sumSq)
	b, first, left := int64(-1), int64(-1), j.N
	for rest := j.Buckets; rest != "" || b < 0; {
		var item string
		item, rest, _ = strings.Cut(rest, " ")
		gapText, countText, hasCount := strings.Cut(item, ":")
		gap, err := strconv.ParseInt(gapText, 10, 64)
		count := int64(1)
		if err == nil && hasCount {
			count, err = strconv.ParseInt(countText, 10, 64)
		}
		switch {
		case err != nil:
			return fmt.Errorf("buckets: %q: want GAP or GAP:COUNT, whole numbers", item)
		case gap < 0 || gap == 0 && b >= 0 || gap >= numBuckets || max(b, 0)+gap >= numBuckets:
			return fmt.Errorf("buckets: gap %d after bucket %d: want buckets in increasing order, below %d", gap, max(b, 0), numBuckets)
		}
		b = max(b, 0) + gap
		if count < 1 || count > left {
			return fmt.Errorf("buckets: bucket %d holds %d samples: want from 1 to the %d of n not yet counted", b, count, left)
		}
		left -= count
		if first < 0 {
			first = b
		}
		c := &s.chunks[b/chunkSize]
		if *c == nil {
			*c = new([chunkSize]uint64)
		}
		(*c)[b%chunkSize] = uint64(count)
	}
	switch {
	case left != 0:
		return fmt.Errorf("buckets hold %d samples, n is %d", j.N-left, j.N)
	case int64(bucketOf(j.Min)) != first || int64(bucketOf(j.Max)) != b:
		return fmt.Errorf("min %d and max %d are not in the first and last buckets (%d, %d)", j.Min, j.Max, first, b)
	}
	n := big.NewInt(j.N)
	lo, hi := big.NewInt(j.Min), big.NewInt(j.Max)
	if sum.Cmp(new(big.Int).Mul(n, lo)) < 0 || sum.Cmp(new(big.Int).Mul(n, hi)) > 0 {
		return fmt.Errorf("sum %s: want from n·min to n·max", j.Sum)
	}
	lo.Mul(lo, lo)
	hi.Mul(hi, hi)
	if sumSq.Cmp(new(big.Int).Mul(n, lo)) < 0 || sumSq.Cmp(new(big.Int).Mul(n, hi)) > 0 {
		return fmt.Errorf("sum_sq %s: want from n·min² to n·max²", j.SumSq)
	}
	return nil
}

// words splits x, at least 0 and below 2^128, into its high and low 64 bits.
func words(x *big.Int) [2]uint64 {
	lo := new(big.Int).And(x, new(big.Int).SetUint64(^uint64(0)))
	return [2]uint64{new(big.Int).Rsh(x, 64).Uint64(), lo.Uint64()}
}
