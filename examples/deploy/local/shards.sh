#!/bin/sh
# The single-machine equivalent of the Kubernetes Job and the Slurm array:
# the same sweep, with 100,000 trials per cell, in 8 shards run 2 at a
# time by xargs -P, then the merge. A shard whose partial result exists is
# not run again, so an interrupted sweep resumes where it stopped. See
# ../README.md.
set -eu
N=8
P=2
mkdir -p results

for k in $(seq 1 $N); do test -e results/part-$k.json || echo $k; done |
  xargs -P $P -I{} raftsim sweep leader-crash \
    --election-timeout=50ms-100ms,100ms-200ms,150ms-300ms,300ms-600ms \
    --nodes=3,5,7 --loss=0,0.01 --options=none,prevote+check-quorum \
    --trials=100000 --plot=results/leader-crash.svg \
    --workers=1 --shard={}/$N --out=results/part-{}.json

raftsim merge results/part-*.json --out=results/leader-crash.txt
