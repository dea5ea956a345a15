#!/usr/bin/env bash
# tritune: all tests.  Runs set-up itself, so it works on a fresh clone.
#   1. set-up and Release build (scripts/setup.sh)
#   2. the generated kernels match the generator (determinism check)
#   3. ctest: table-driven verify of every variant, formats, dispatch, decoder, CLI bad input
#   4. pytest: generator and tuner
#   5. the C tests again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/: clang-14,
#      with libFuzzer coverage, so the same build holds the fuzz harnesses)
#   6. fuzzing (scripts/fuzz.sh): every committed corpus and regression input once, then 5 s per target
#   7. ThreadSanitizer (build-tsan/): the pool, the kernel runner (test_dispatch) and the decoder
#   8. aarch64: cross-build; `tritune verify` and the C tests under qemu, CPU models with and without dotprod
# Ends with one line "N passed, N failed" counting the steps.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
step() {  # step <name> <command...>
  local name=$1; shift
  echo "=== $name" >&2
  local t0=$SECONDS
  if "$@"; then passed=$((passed+1)); echo "--- ok: $name ($((SECONDS-t0)) s)" >&2
  else failed=$((failed+1)); failures+=("$name"); echo "--- FAILED: $name" >&2; fi
}

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
PY=.venv/bin/python
J=$(nproc)

step "generated kernels are up to date" \
  $PY -m codegen.gen --arch x86_64 --out kernels_generated/x86_64 --check
step "ctest (Release)" ctest --test-dir build --output-on-failure -j"$J"
step "pytest" $PY -m pytest -q tests/python

asan() {
  TRITUNE_PYTHON="$PWD/$PY" ./scripts/fuzz.sh --configure &&
  { cmake --build build-asan -j"$J" > build-asan/build.log 2>&1 ||
    { grep -E "error" build-asan/build.log | head -20 >&2; false; }; } &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$J"
}
step "ctest under ASan+UBSan" asan
step "fuzz: committed inputs replayed, then 5 s per target" ./scripts/fuzz.sh --no-build all 5

tsan() {  # a short sample (TT_TEST_QUICK): races do not depend on which kernel variant runs
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRITUNE_SANITIZE=thread \
        -DTRITUNE_PYTHON="$PWD/$PY" >/dev/null &&
  { cmake --build build-tsan -j"$J" --target test_pool test_dispatch test_decode > build-tsan/build.log 2>&1 ||
    { grep -E "error" build-tsan/build.log | head -20 >&2; false; }; } &&
  for t in test_pool test_dispatch test_decode; do
    TT_TEST_QUICK=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/$t ||
      { echo "FAILED under ThreadSanitizer: $t" >&2; return 1; }
  done
}
step "ThreadSanitizer: pool, kernel runner, decoder" tsan

if [ -x scripts/build_aarch64.sh ] && [ -x scripts/test_aarch64.sh ]; then
  step "aarch64 cross-build (harness and C tests)" env TRITUNE_AARCH64_TARGETS=all ./scripts/build_aarch64.sh
  step "aarch64 verify under qemu (with and without dotprod)" ./scripts/test_aarch64.sh
  a64_ctests() {  # the C tests (decoder included) under qemu, on both CPU models
    local rc=0 cpu t
    for cpu in cortex-a72 cortex-a76; do
      for t in build-aarch64/tests/test_*; do
        qemu-aarch64 -cpu $cpu -L /usr/aarch64-linux-gnu "$t" || { echo "FAILED under qemu -cpu $cpu: $t" >&2; rc=1; }
      done
    done
    return $rc
  }
  step "aarch64 C tests under qemu" a64_ctests
fi

if [ $failed -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}" >&2; fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
