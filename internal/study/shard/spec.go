package shard

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Spec is shard K of N (K from 1 to N).
type Spec struct {
	K int `json:"k"`
	N int `json:"n"`
}

// MaxShards bounds N.
const MaxShards = 100000

// The environment variables auto/N reads K from.
const (
	// EnvKubernetes is a Kubernetes Indexed Job's completion index, from 0.
	EnvKubernetes = "JOB_COMPLETION_INDEX"
	// EnvSlurm is a Slurm job array's task ID; EnvSlurmMin is the array's
	// smallest ID, EnvSlurmStep its step (1 when unset) and EnvSlurmCount
	// its number of tasks, which must be N when set.
	EnvSlurm      = "SLURM_ARRAY_TASK_ID"
	EnvSlurmMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmStep  = "SLURM_ARRAY_TASK_STEP"
	EnvSlurmCount = "SLURM_ARRAY_TASK_COUNT"
)

func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// Parse reads a --shard value: K/N, or auto/N, which takes K from the
// environment (getenv): from [EnvKubernetes] plus 1 when it is set, else
// from the Slurm array task's place in its array, (ID - MIN) / STEP + 1,
// where the array must have N tasks.
func Parse(text string, getenv func(string) string) (Spec, error) {
	k, n, ok := strings.Cut(text, "/")
	var s Spec
	var err error
	if ok {
		s.N, err = strconv.Atoi(n)
	}
	if !ok || err != nil || s.N < 1 || s.N > MaxShards {
		return Spec{}, fmt.Errorf("%q: want K/N (shard K of N, from 1/N to N/N, N at most %d) or auto/N", text, MaxShards)
	}
	if k != "auto" {
		if s.K, err = strconv.Atoi(k); err != nil || s.K < 1 || s.K > s.N {
			return Spec{}, fmt.Errorf("%q: want K from 1 to %d (shards count from 1), or auto", text, s.N)
		}
		return s, nil
	}
	if s.K, err = autoK(getenv, s.N); err != nil {
		return Spec{}, fmt.Errorf("%s: %v", text, err)
	}
	if s.K > s.N {
		return Spec{}, fmt.Errorf("%s: the environment makes this shard %d, but there are %d shards: run %d tasks or give auto/N with N at least %d",
			text, s.K, s.N, s.N, s.K)
	}
	return s, nil
}

// autoK returns K as the environment says it, for n shards.
func autoK(getenv func(string) string, n int) (int, error) {
	num := func(name string, lo int) (int, error) {
		v, err := strconv.Atoi(getenv(name))
		if err != nil || v < lo {
			return 0, fmt.Errorf("%s=%q: want a whole number from %d", name, getenv(name), lo)
		}
		return v, nil
	}
	if getenv(EnvKubernetes) != "" {
		i, err := num(EnvKubernetes, 0)
		return i + 1, err
	}
	if getenv(EnvSlurm) == "" {
		return 0, fmt.Errorf("neither %s (a Kubernetes Indexed Job) nor %s (a Slurm job array) is set: give the shard as K/N", EnvKubernetes, EnvSlurm)
	}
	id, err := num(EnvSlurm, 0)
	if err != nil {
		return 0, err
	}
	if getenv(EnvSlurmMin) == "" {
		return 0, fmt.Errorf("%s is set but %s, the array's smallest task ID, is not", EnvSlurm, EnvSlurmMin)
	}
	lo, err := num(EnvSlurmMin, 0)
	if err != nil {
		return 0, err
	}
	step := 1
	if getenv(EnvSlurmStep) != "" {
		if step, err = num(EnvSlurmStep, 1); err != nil {
			return 0, err
		}
	}
	if c := getenv(EnvSlurmCount); c != "" && c != strconv.Itoa(n) {
		return 0, fmt.Errorf("the job array has %s=%s tasks, but there are %d shards: make them equal", EnvSlurmCount, c, n)
	}
	if id < lo || (id-lo)%step != 0 {
		return 0, fmt.Errorf("%s=%d is not in the array %d, %d, %d, ... (%s, %s)", EnvSlurm, id, lo, lo+step, lo+2*step, EnvSlurmMin, EnvSlurmStep)
	}
	return (id-lo)/step + 1, nil
}

// Slice returns the units lo to hi-1 of a cell's total that shard s runs:
// the total is cut into N consecutive slices, slice i running from
// ⌊i·total/N⌋ to ⌊(i+1)·total/N⌋, and shard K takes slice (K-1+cell) mod N.
// The slices of every shard together are the total, each unit once.
func (s Spec) Slice(cell, total int) (lo, hi int) {
	i := (s.K - 1 + cell%s.N) % s.N
	return s.cut(i, total), s.cut(i+1, total)
}

// cut returns ⌊i·total/N⌋ for 0 ≤ i ≤ N, without overflow.
func (s Spec) cut(i, total int) int {
	hi, lo := bits.Mul64(uint64(i), uint64(total))
	q, _ := bits.Div64(hi, lo, uint64(s.N)) // i·total < N·2^64: no overflow
	return int(q)
}

// Trial returns the index in the whole hunt of shard s's trial j: K-1+j·N.
func (s Spec) Trial(j int) int { return s.K - 1 + j*s.N }

// Trials returns how many of a hunt's first total trials are shard s's.
func (s Spec) Trials(total int) int {
	if total < s.K {
		return 0
	}
	return (total-s.K)/s.N + 1
}
