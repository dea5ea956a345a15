#!/usr/bin/env bash
# tritune: fuzz the parsers with libFuzzer (clang-14), harnesses in tests/fuzz/.
#
#   scripts/fuzz.sh [--no-build] TARGET|all SECONDS   replay, then fuzz each target SECONDS
#   scripts/fuzz.sh --configure                       configure the build only (scripts/test.sh)
#
# Targets: config, tuning, cli, weightfile, weightfile_ck (the weight-file
# reader with the checksum recomputed after each mutation).  The build is
# build-asan/ (clang-14, ASan + UBSan, libFuzzer coverage; the same build
# runs the C tests under ASan in scripts/test.sh).
#
# Per target: 1. every committed input (tests/fuzz/corpus/<name>/ and
# tests/fuzz/regressions/<target>/) runs once: a crash there fails at once;
# 2. libFuzzer mutates for SECONDS, growing build-asan/fuzz/corpus/<target>/
# (not committed).  A crash leaves its input in build-asan/fuzz/crashes/<target>/:
# fix the bug, then commit the input to tests/fuzz/regressions/<target>/.
# Prints per target: executions, executions/s, corpus size, crashes.
# Exit 0 when no target crashed.  Long run: nice -n 19 scripts/fuzz.sh all 600
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${TRITUNE_FUZZ_BUILD:-build-asan}
ALL="config tuning cli weightfile weightfile_ck"
PY=${TRITUNE_PYTHON:-$PWD/.venv/bin/python}

configure() {
  if [ -f $BUILD/CMakeCache.txt ] && ! grep -q "^CMAKE_C_COMPILER:.*clang" $BUILD/CMakeCache.txt; then
    rm -rf $BUILD  # configured with another compiler before
  fi
  CC=clang-14 cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRITUNE_SANITIZE=ON -DTRITUNE_FUZZ=ON \
        -DTRITUNE_PYTHON="$PY" > /dev/null
}

build=1
case "${1:-}" in
  --configure) configure; exit $? ;;
  --no-build) build=0; shift ;;
  -h|--help|"") sed -n '2,20p' "$0"; exit 0 ;;
esac
[ $# = 2 ] || { echo "usage: scripts/fuzz.sh [--no-build] TARGET|all SECONDS (targets: $ALL)" >&2; exit 2; }
targets=$1; secs=$2
[ "$targets" = all ] && targets=$ALL
for t in $targets; do
  case " $ALL " in *" $t "*) ;; *) echo "fuzz.sh: unknown target '$t' ($ALL)" >&2; exit 2 ;; esac
done
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2; exit 2; }
command -v clang-14 >/dev/null || { echo "fuzz.sh: clang-14 missing (scripts/setup.sh installs it)" >&2; exit 3; }

if [ $build = 1 ]; then
  configure || exit 3
  cmake --build $BUILD -j"$(nproc)" --target fuzzers > $BUILD/fuzz-build.log 2>&1 ||
    { grep -E "error" $BUILD/fuzz-build.log | head -20 >&2; exit 3; }
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
summary=()
for t in $targets; do
  bin=$BUILD/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz.sh: $bin is not built" >&2; exit 3; }
  seeds=tests/fuzz/corpus/${t%_ck}
  regr=tests/fuzz/regressions/$t
  work=$BUILD/fuzz/corpus/$t
  crashes=$BUILD/fuzz/crashes/$t
  mkdir -p "$work" "$crashes"
  maxlen=4096
  case $t in weightfile*) maxlen=65536 ;; esac
  log=$BUILD/fuzz/$t.log
  # 1. replay every committed input once
  inputs=$(find "$seeds" "$regr" -type f 2>/dev/null | sort)
  if [ -n "$inputs" ] && ! "$bin" -rss_limit_mb=4096 -timeout=30 $inputs > "$log.replay" 2>&1; then
    echo "FAILED: fuzz_$t on a committed input:" >&2; grep -E "Running:|ERROR|property|SUMMARY" "$log.replay" | tail -8 >&2
    rc=1; summary+=("$(printf '%-14s replay FAILED' "$t")"); continue
  fi
  nin=$(printf '%s\n' $inputs | grep -c . || true)
  # 2. mutate for $secs seconds
  before=$(ls "$crashes" | wc -l)
  dirs=("$work" "$seeds"); [ -d "$regr" ] && dirs+=("$regr")
  "$bin" -max_total_time="$secs" -max_len=$maxlen -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
         -artifact_prefix="$crashes/" "${dirs[@]}" > "$log" 2>&1
  frc=$?
  execs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" | tail -1)
  rate=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$log" | grep -oE "[0-9]+$" | tail -1)
  corp=$(grep -oE "corp: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+")
  ncrash=$(( $(ls "$crashes" | wc -l) - before ))
  if [ $frc != 0 ]; then
    rc=1
    echo "FAILED: fuzz_$t found a crash (exit $frc); input in $crashes/:" >&2
    grep -E "ERROR|property|SUMMARY|Test unit written" "$log" | head -6 >&2
  fi
  summary+=("$(printf '%-14s %6s s %12s execs %8s/s   corpus %6s (%s committed)   crashes %s' "$t" "$secs" \
              "${execs:-?}" "${rate:-?}" "${corp:-?}" "$nin" "$ncrash")")
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $rc
