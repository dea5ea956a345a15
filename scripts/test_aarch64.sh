#!/usr/bin/env bash
# Run `tritune verify` for the aarch64 build under qemu-aarch64 on two CPU
# models: cortex-a72 (ARMv8.0: NEON, no dot product) and cortex-a76
# (ARMv8.2 with dotprod).  Fails on any mismatch, and checks that the
# neondot variants are skipped on the a72 and run (and pass) on the a76.
#
#   scripts/test_aarch64.sh [TRITUNE]     default TRITUNE = build-aarch64/bin/tritune
#
# Extra arguments for verify can be given in TT_VERIFY_ARGS (e.g. "--variant '*tl2*'").
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build-aarch64/bin/tritune}
QEMU=${QEMU:-qemu-aarch64}
if [ ! -x "$BIN" ]; then echo "test_aarch64: $BIN not found (run scripts/build_aarch64.sh)" >&2; exit 2; fi
if ! command -v "$QEMU" >/dev/null; then echo "test_aarch64: $QEMU not found (apt-get install qemu-user)" >&2; exit 2; fi
fail=0
for cpu in cortex-a72 cortex-a76; do
    all=$(eval "$QEMU -cpu $cpu -L /usr/aarch64-linux-gnu $BIN verify --json ${TT_VERIFY_ARGS:-}" 2>&1)
    rc=$?
    rows=$(printf '%s\n' "$all" | grep '"kind":"verify"')
    ndot=$(printf '%s\n' "$rows" | grep -c '"isa":"neondot"')
    ndot_run=$(printf '%s\n' "$rows" | grep '"isa":"neondot"' | grep -c '"status":"pass"')
    ndot_skip=$(printf '%s\n' "$rows" | grep '"isa":"neondot"' | grep -c '"status":"skipped"')
    nneon=$(printf '%s\n' "$rows" | grep '"isa":"neon"' | grep -c '"status":"pass"')
    npass=$(printf '%s\n' "$rows" | grep -c '"status":"pass"')
    nfail=$(printf '%s\n' "$rows" | grep -c '"status":"FAIL"')
    out=$(printf '%s\n' "$all" | grep -v '"status":"pass"\|"status":"skipped"\|"kind":"context"')
    echo "test_aarch64: -cpu $cpu: $npass passed, $nfail failed (neon passed $nneon; neondot passed $ndot_run, skipped $ndot_skip of $ndot)"
    if [ $rc -ne 0 ] || [ "$nfail" -ne 0 ] || [ "$npass" -eq 0 ]; then
        printf '%s\n' "$out" >&2
        echo "test_aarch64: FAIL: verify on $cpu exited $rc" >&2
        fail=1
    fi
    if [ "$nneon" -eq 0 ]; then echo "test_aarch64: FAIL: no neon variant ran on $cpu" >&2; fail=1; fi
    if [ "$ndot" -eq 0 ]; then echo "test_aarch64: FAIL: no neondot variants in the table" >&2; fail=1; fi
    if [ $cpu = cortex-a72 ] && { [ "$ndot_run" -ne 0 ] || [ "$ndot_skip" -ne "$ndot" ]; }; then
        echo "test_aarch64: FAIL: neondot variants must be skipped on $cpu (no dotprod)" >&2; fail=1
    fi
    if [ $cpu = cortex-a76 ] && [ "$ndot_run" -ne "$ndot" ]; then
        echo "test_aarch64: FAIL: every neondot variant must run and pass on $cpu" >&2; fail=1
    fi
done
exit $fail
