#!/usr/bin/env bash
# Cross-compile the whole harness for aarch64 into build-aarch64/bin/tritune
# (kernels generated for --arch aarch64 into kernels_generated/aarch64).
#
#   scripts/build_aarch64.sh [BUILD_DIR]      default BUILD_DIR = build-aarch64
#
# Environment: TRITUNE_PYTHON (default .venv/bin/python), JOBS (default 2),
# TRITUNE_AARCH64_TARGETS (default "tritune"; "all" also builds the C tests).
# Needs gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-aarch64}
PY=${TRITUNE_PYTHON:-$PWD/.venv/bin/python}
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    echo "build_aarch64: aarch64-linux-gnu-gcc not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2
    exit 2
fi
cmake -S . -B "$B" -DCMAKE_TOOLCHAIN_FILE="$PWD/scripts/aarch64-toolchain.cmake" \
    -DTRITUNE_PYTHON="$PY" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"${JOBS:-2}" --target "${TRITUNE_AARCH64_TARGETS:-tritune}"
file "$B/bin/tritune" 2>/dev/null | grep -q aarch64 || { echo "build_aarch64: $B/bin/tritune is not an aarch64 binary" >&2; exit 1; }
echo "build_aarch64: $B/bin/tritune"
