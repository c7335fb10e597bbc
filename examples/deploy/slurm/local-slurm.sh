#!/bin/bash
# Runs shards.sbatch and merge.sbatch, unchanged, on a single-node Slurm
# that it starts on this machine for the purpose (munged, slurmctld and
# slurmd, with a minimal slurm.conf, all in a temporary directory, on free
# ports of 127.0.0.1), waits for them, and checks that the merged table and
# plot are byte for byte what the unsharded command prints and draws. It
# stops everything it started and removes its directory on success,
# failure and interrupt alike.
#
#   bash examples/deploy/slurm/local-slurm.sh
#
# The jobs run 1,000,000 trials per cell, hours of work; to check the
# jobs rather than the sweep, the raftsim they find first on the PATH is a
# wrapper that gives sweeps --trials=$TRIALS and --steady-time=1m (TRIALS=0
# runs the jobs' own counts). The unsharded command runs through the same
# wrapper.
#
# Environment: TRIALS (default 20), TIMEOUT (seconds to wait for the jobs,
# default 600). Needs munged, slurmctld, slurmd and the Slurm clients
# (Debian: apt-get install slurm-wlm munge) and raftsim on the PATH.
#
# Exit status: 0 the merge matches; 1 a job failed, the jobs did not end
# within TIMEOUT, or the merge differs; 2 the cluster could not be started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TRIALS=${TRIALS:-20}
TIMEOUT=${TIMEOUT:-600}
start_time=$SECONDS

say() { echo "local-slurm: $*" >&2; }
fail() { # fail STATUS MESSAGE...
	local status=$1
	shift
	say "$*"
	exit "$status"
}

for prog in munged slurmctld slurmd sbatch scontrol squeue scancel raftsim; do
	command -v "$prog" >/dev/null || fail 2 "$prog is not on the PATH (Debian: apt-get install slurm-wlm munge; raftsim: go install ./cmd/raftsim)"
done
case $TRIALS in '' | *[!0-9]*) fail 2 "TRIALS=$TRIALS: want a whole number" ;; esac
case $TIMEOUT in '' | *[!0-9]* | 0) fail 2 "TIMEOUT=$TIMEOUT: want a number of seconds above 0" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/raftsim-slurm.XXXXXX")
conf=$work/slurm.conf
# Every process of this cluster — the daemons, and through sbatch the
# jobs' — carries this variable, by which cleanup finds what is left.
marker="RAFTSIM_LOCAL_SLURM=$work"
daemons=()
jobs_submitted=""

# cleanup stops the jobs, the daemons and whatever they left, then removes
# the directory. Each wait is bounded.
cleanup() {
	local status=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "$jobs_submitted" ] && [ -S "$work/munge/socket" ]; then
		# shellcheck disable=SC2086
		timeout 10 scancel $jobs_submitted 2>/dev/null
		for _ in $(seq 100); do
			[ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
	# The daemons run in the foreground, as this script's children: it
	# stops them and reaps them.
	for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null; done
	for _ in $(seq 100); do
		alive=0
		for pid in "${daemons[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	# Whatever still runs — a daemon that would not stop, slurmstepd, a job
	# step — is ended by its id, found by the marker in its environment.
	for proc in /proc/[0-9]*; do
		pid=${proc#/proc/}
		[ "$pid" = $$ ] && continue
		if { tr '\0' '\n' <"$proc/environ" | grep -qxF "$marker"; } 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null
		fi
	done
	for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# show_logs prints the end of the daemons' logs, for a failure.
show_logs() {
	for log in "$work"/log/*.log "$work"/munge/log; do
		[ -s "$log" ] || continue
		echo "--- the end of $(basename "$log"):" >&2
		tail -n 15 "$log" >&2
	done
}

# free_port prints a TCP port of 20000-59999 that no socket uses now.
free_port() {
	local port used="" local_addr
	while read -r _ local_addr _; do
		used="$used $((16#${local_addr##*:})) "
	done < <(tail -q -n +2 /proc/net/tcp /proc/net/tcp6 2>/dev/null)
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		case $used in *" $port "*) continue ;; esac
		echo "$port"
		return
	done
	fail 2 "no free TCP port found"
}

mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/bin" "$work/jobs/results" "$work/unsharded/results"
# munged wants every directory above its socket open to all (execute); the
# key in it is readable by its owner only.
chmod 711 "$work"
chmod 755 "$work/munge"

# The raftsim of the jobs and of the unsharded command.
real=$(command -v raftsim)
if [ "$TRIALS" != 0 ]; then
	cat >"$work/bin/raftsim" <<EOF
#!/bin/sh
# raftsim with few trials, for local-slurm.sh: sweeps, runs and checks get
# --trials=$TRIALS --steady-time=1m after their own flags (the last wins).
case "\$1" in
sweep | run | check) exec "$real" "\$@" --trials=$TRIALS --steady-time=1m ;;
esac
exec "$real" "\$@"
EOF
	chmod +x "$work/bin/raftsim"
	export PATH="$work/bin:$PATH"
fi

# MUNGE, with a key of its own and a socket in the directory.
dd if=/dev/urandom of="$work/munge/key" bs=1024 count=1 2>/dev/null
chmod 400 "$work/munge/key"
env "$marker" munged --foreground --socket="$work/munge/socket" --key-file="$work/munge/key" \
	--pid-file="$work/munge/pid" --log-file="$work/munge/log" --seed-file="$work/munge/seed" 2>>"$work/munge/log" &
daemons+=($!)
for _ in $(seq 100); do
	[ -S "$work/munge/socket" ] && break
	kill -0 "${daemons[0]}" 2>/dev/null || break
	sleep 0.1
done
[ -S "$work/munge/socket" ] || { show_logs; fail 2 "munged made no socket within 10s"; }

# slurm.conf: one node, this machine (slurmctld insists on its own short
# host name), on 127.0.0.1. It declares at least
# the 2 CPUs a shard asks for (config_overrides lets a smaller machine
# run them anyway) and the machine's memory, and tracks processes without
# cgroups, which a container may not have.
node=$(hostname -s)
user=$(id -un)
cpus=$(nproc)
[ "$cpus" -ge 2 ] || cpus=2
memory=$(awk '/^MemTotal:/ { print int($2 / 1024) - 256 }' /proc/meminfo)
ctld_port=$(free_port)
slurmd_port=$(free_port)
cat >"$conf" <<EOF
ClusterName=raftsimlocal
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"

env "$marker" slurmctld -D -i -f "$conf" >"$work/log/slurmctld.out" 2>&1 &
daemons+=($!)
env "$marker" slurmd -D -N "$node" -f "$conf" >"$work/log/slurmd.out" 2>&1 &
daemons+=($!)
up_by=$((SECONDS + 60))
state=""
while [ $SECONDS -lt $up_by ]; do
	state=$(timeout 5 scontrol show node "$node" 2>/dev/null | sed -n 's/.*State=\([A-Z+_]*\).*/\1/p' || true)
	case $state in IDLE*) break ;; esac
	for pid in "${daemons[@]}"; do kill -0 "$pid" 2>/dev/null || { show_logs; fail 2 "a Slurm daemon exited at start"; }; done
	sleep 0.2
done
case $state in IDLE*) ;; *) show_logs; fail 2 "the node is ${state:-unknown} after 60s, not IDLE" ;; esac
say "a Slurm of one node ($cpus CPUs) runs in $work (slurmctld on port $ctld_port)"

# The unsharded command: the shards' raftsim command, without --shard and
# --out, printing its table; its plot goes to its own results/.
command=$(sed -n '/^raftsim /,/[^\\]$/p' "$here/shards.sbatch" | sed 's/\\$//' | tr '\n' ' ')
[ -n "$command" ] || fail 2 "shards.sbatch: no raftsim command"
(
	cd "$work/unsharded"
	# shellcheck disable=SC2034 # the command's own variables, for eval
	SLURM_CPUS_PER_TASK=1 SLURM_ARRAY_TASK_ID=0
	eval "set -- $command"
	args=()
	for word in "$@"; do
		case $word in --shard=* | --out=*) ;; *) args+=("$word") ;; esac
	done
	"${args[@]}" >expected.txt 2>stderr.txt
) || { cat "$work/unsharded/stderr.txt" >&2; fail 1 "the unsharded command failed"; }

# The jobs, submitted as the README says, from a directory with results/.
cd "$work/jobs"
shards=$(env "$marker" sbatch --parsable "$here/shards.sbatch") || { show_logs; fail 1 "sbatch shards.sbatch failed"; }
shards=${shards%%;*}
jobs_submitted=$shards
merge=$(env "$marker" sbatch --parsable --dependency=afterok:"$shards" "$here/merge.sbatch") || { show_logs; fail 1 "sbatch merge.sbatch failed"; }
merge=${merge%%;*}
jobs_submitted="$shards $merge"
say "submitted the array $shards and the merge $merge; waiting up to ${TIMEOUT}s"

deadline=$((SECONDS + TIMEOUT))
merge_state=""
last_report=$SECONDS
while [ $SECONDS -lt $deadline ]; do
	merge_state=$(timeout 5 scontrol show job "$merge" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1 || true)
	case $merge_state in
	COMPLETED | FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL | PREEMPTED | DEADLINE | BOOT_FAIL) break ;;
	esac
	if [ $((SECONDS - last_report)) -ge 15 ]; then
		done_tasks=$(timeout 5 scontrol show job "$shards" 2>/dev/null | grep -c 'JobState=COMPLETED' || true)
		say "$done_tasks shards done, the merge ${merge_state:-not known yet} ($((SECONDS - start_time))s)"
		last_report=$SECONDS
	fi
	sleep 1
done

tasks=$(timeout 5 scontrol show job "$shards" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort | uniq -c |
	while read -r count what; do printf ' %s %s,' "$count" "$what"; done || true)
tasks=${tasks%,}
if [ "$merge_state" != COMPLETED ]; then
	# The logs of the shards that did not complete, and the merge's.
	failed=$(timeout 5 scontrol show job -o "$shards" 2>/dev/null | grep -v 'JobState=COMPLETED' |
		sed -n 's/.*ArrayTaskId=\([0-9]*\).*/\1/p' || true)
	for log in $(for id in $failed; do echo "results/shard-$id.log"; done) results/merge.log; do
		[ -s "$log" ] || continue
		echo "--- the end of $log:" >&2
		tail -n 5 "$log" >&2
	done
	case $merge_state in
	PENDING | RUNNING | CONFIGURING | COMPLETING | "")
		show_logs
		fail 1 "the jobs did not end within ${TIMEOUT}s: the merge ${merge_state:-unknown}, shards:$tasks"
		;;
	esac
	fail 1 "the merge job ended $merge_state; shards:$tasks"
fi

# same FILE-OF-THE-UNSHARDED-COMMAND FILE-OF-THE-MERGE
same() {
	if ! cmp -s "$work/unsharded/$1" "$work/jobs/$2"; then
		diff -u "$work/unsharded/$1" "$work/jobs/$2" | head -n 40 >&2
		fail 1 "the merge's $2 differs from what the unsharded command wrote to $1"
	fi
}
same expected.txt results/leader-crash.txt
same results/leader-crash.svg results/leader-crash.svg
say "the shards (${tasks# }) and the merge ran on Slurm in $((SECONDS - start_time))s; the merged table and plot are byte for byte the unsharded command's"
