#!/usr/bin/env bash
# End-to-end test of the Slurm fleet scripts on a single-node Slurm started here, on localhost:
# munged, slurmctld and slurmd with a private slurm.conf (two partitions on this node; the second
# masks AVX-512 off with TRITUNE_CPU_MASK so it fingerprints as another machine), then
# scripts/slurm/fleet.sh with a tiny tuning space, waiting for the merge job.  Stops what it started.
#
#   sudo scripts/slurm/selftest.sh [--dir /tmp/tritune-slurm] [--keep]
#
# Needs root (slurmd runs as root) and Debian's slurm-wlm and munge (installed when missing).
# Prints the job ids, the merged database's machines and the cross-machine report.
# Exit: 0 ok, 1 the fleet run failed, 2 bad usage, 3 environment (not root, daemons do not start).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
D=/tmp/tritune-slurm; KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) D=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "selftest: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "selftest: needs root (slurmd runs as root); run with sudo" >&2; exit 3; }
need=""
for p in slurm-wlm munge; do dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done
if [ -n "$need" ]; then
  echo "selftest: installing$need" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null; } ||
    { echo "selftest: cannot install$need" >&2; exit 3; }
fi

rm -rf "$D"; mkdir -p "$D"/{state,spool,log,munge,out}
chmod 700 "$D/munge"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$D/slurmctld.pid" ] && kill "$(cat "$D/slurmctld.pid")" 2>/dev/null || true
  [ -f "$D/slurmd.pid" ] && kill "$(cat "$D/slurmd.pid")" 2>/dev/null || true
  [ -f "$D/munged.pid" ] && kill "$(cat "$D/munged.pid")" 2>/dev/null || true
  return 0
}
[ "$KEEP" = 1 ] || trap stop EXIT

# munge with a private key and socket (the system's munge, if any, is left alone)
dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$D/munge/munge.key"
munged --force --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" --pid-file="$D/munged.pid" \
  --log-file="$D/log/munged.log" --seed-file="$D/munge/seed" ||
  { echo "selftest: munged did not start ($D/log/munged.log)" >&2; exit 3; }

H=$(hostname -s); CPUS=$(nproc); MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
cat > "$D/slurm.conf" <<CONF
# written by scripts/slurm/selftest.sh: a single-node cluster on localhost
ClusterName=tritune-selftest
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
MpiDefault=none
NodeName=$H NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=native Nodes=$H Default=YES MaxTime=INFINITE State=UP
PartitionName=noavx512 Nodes=$H MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$D/slurm.conf"
slurmctld -f "$SLURM_CONF" || { echo "selftest: slurmctld did not start ($D/log/slurmctld.log)" >&2; exit 3; }
slurmd -f "$SLURM_CONF" || { echo "selftest: slurmd did not start ($D/log/slurmd.log)" >&2; exit 3; }
t0=$SECONDS
until sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; do
  if [ $((SECONDS - t0)) -gt 60 ]; then
    echo "selftest: the node did not come up in 60 s" >&2; sinfo >&2 || true; tail -20 "$D/log/slurmctld.log" "$D/log/slurmd.log" >&2
    exit 3
  fi
  sleep 1
done
echo "selftest: Slurm is up in $((SECONDS - t0)) s:" >&2
sinfo >&2

# a tiny tuning space: the tiny test model's shapes, TL1, one thread, short measurements
ids=$(scripts/slurm/fleet.sh --out "$D/out" --partition native --partition noavx512:TRITUNE_CPU_MASK=43 \
        -- --model tiny --format tl1 --threads 1 --min-time 0.005 --stream-mib 64)
echo "selftest: job ids: $(echo $ids)" >&2
merge_id=$(echo "$ids" | tail -1)
t0=$SECONDS
while squeue -h -j "$(echo $ids | tr ' ' ,)" 2>/dev/null | grep -q .; do
  if [ $((SECONDS - t0)) -gt 900 ]; then echo "selftest: jobs still queued after 900 s" >&2; squeue >&2; exit 1; fi
  sleep 2
done
rc=0
for id in $ids; do
  st=$(scontrol show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' ')
  echo "selftest: job $id: $st" >&2
  case "$st" in *FAILED*|*CANCELLED*|*TIMEOUT*|*DEPENDENCY*|"") rc=1 ;; esac
done
for f in "$D"/out/*.out; do echo "--- $f" >&2; tail -5 "$f" >&2; done
if [ ! -f "$D/out/merged/fleet.json" ]; then echo "selftest: no merged database" >&2; exit 1; fi
python3 - "$D/out/merged/fleet.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
print(f"merged database {sys.argv[1]}: {len(f['machines'])} machine(s)")
for mid, d in f["machines"].items():
    print(f"  {mid}: features {d['machine']['features']}; {len(d['entries'])} entries")
if len(f["machines"]) != 2:
    sys.exit("expected two machines (native and AVX-512 masked)")
PY
[ $? = 0 ] || rc=1
cat "$D/out/merged/report.md"
exit $rc
