#!/usr/bin/env bash
# Tune a fleet on Slurm: one job array per partition (node type), then a merge job that runs when
# every array has succeeded (--dependency=afterok).  Results go to a shared directory.
#
#   scripts/slurm/fleet.sh --out /shared/tritune-fleet --partition cpu_a --partition cpu_b \
#       [--tasks N] [--merge-args "--allow-mixed-generators"] [--sbatch-args "--time=02:00:00 -A acct"] \
#       -- --quick
#
# --partition P[:VAR=value,...]  a partition to tune (repeat); optional environment for its tasks only
# --tasks N                      array tasks per partition (default 1; tasks landing on one node type
#                                merge into one machine entry)
# --out DIR                      shared results directory (TT_OUT/raw/..., TT_OUT/merged/)
# after "--": the ./tune.sh arguments of every task (default --quick)
# Prints the job ids (array jobs, then the merge job) on stdout, one per line.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
parts=(); out=""; tasks=1; merge_args=""; sbatch_args=""; tune_args="--quick"
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --partition) parts+=("${2:?--partition wants a name}"); shift 2 ;;
    --out) out=${2:?--out wants a directory}; shift 2 ;;
    --tasks) tasks=${2:?}; shift 2 ;;
    --merge-args) merge_args=$2; shift 2 ;;
    --sbatch-args) sbatch_args=$2; shift 2 ;;
    --) shift; tune_args="$*"; break ;;
    -h|--help) usage ;;
    *) echo "fleet.sh: unknown option $1" >&2; usage ;;
  esac
done
[ -n "$out" ] || { echo "fleet.sh: --out DIR is required" >&2; exit 2; }
[ ${#parts[@]} -gt 0 ] || { echo "fleet.sh: name at least one --partition" >&2; exit 2; }
case "$tasks" in ''|*[!0-9]*|0) echo "fleet.sh: --tasks wants a positive integer" >&2; exit 2 ;; esac
command -v sbatch >/dev/null || { echo "fleet.sh: sbatch not found (is this a Slurm login node?)" >&2; exit 3; }
mkdir -p "$out/raw" || exit 3
out=$(cd "$out" && pwd)
./scripts/setup.sh >&2   # build once here; the tasks find it done
ids=()
for spec in "${parts[@]}"; do
  p=${spec%%:*}; envs=""
  [ "$spec" != "$p" ] && envs=${spec#*:} && envs=${envs//,/ }
  # shellcheck disable=SC2086
  # the settings travel in the environment (--export=ALL): values may hold commas (--threads 1,2)
  id=$(TT_REPO="$REPO" TT_OUT="$out" TT_TUNE_ARGS="$tune_args" TT_TASK_ENV="$envs" \
       sbatch --parsable --partition="$p" --array=0-$((tasks - 1)) --chdir="$out" --export=ALL $sbatch_args \
         scripts/slurm/tune_array.sbatch) || { echo "fleet.sh: sbatch failed for partition $p" >&2; exit 3; }
  id=${id%%;*}
  echo "fleet.sh: partition $p: job array $id ($tasks task(s))" >&2
  ids+=("$id")
done
dep=$(IFS=:; echo "${ids[*]}")
# shellcheck disable=SC2086
mid=$(TT_REPO="$REPO" TT_OUT="$out" TT_MERGE_ARGS="$merge_args" \
      sbatch --parsable --dependency=afterok:"$dep" --partition="${parts[0]%%:*}" --chdir="$out" --export=ALL \
        $sbatch_args scripts/slurm/merge.sbatch) ||
  { echo "fleet.sh: sbatch of the merge job failed" >&2; exit 3; }
mid=${mid%%;*}
echo "fleet.sh: merge job $mid (after $dep): $out/merged/fleet.json and report.md" >&2
printf '%s\n' "${ids[@]}" "$mid"
