#!/usr/bin/env bash
# tritune set-up on a fresh Debian/Ubuntu machine.  Idempotent: safe to run again.
#   1. Debian packages (as root: installed; otherwise: the exact apt-get line is printed and we stop)
#   2. .venv from requirements.txt (pinned)
#   3. configure + build into build/ (Release)
# Options: --no-build (packages and venv only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD=1
for a in "$@"; do
  case "$a" in
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

PKGS="cmake gcc g++ make pkg-config python3 python3-venv libhwloc-dev hwloc libpfm4-dev libopenblas-dev
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user clang-14 libclang-rt-14-dev"
# clang-14 + libclang-rt-14-dev: libFuzzer and the clang sanitizers (scripts/fuzz.sh, build-asan/);
# ThreadSanitizer (build-tsan/) uses gcc's libtsan, which comes with gcc

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages. Run as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 3
  fi
fi

# Python venv with pinned requirements; re-installed only when requirements.txt changes.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
REQ_HASH=$(sha256sum requirements.txt | cut -c1-16)
if [ "$(cat .venv/.req-hash 2>/dev/null)" != "$REQ_HASH" ]; then
  echo "setup: installing Python requirements into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$REQ_HASH" > .venv/.req-hash
fi

if [ "$BUILD" = 1 ]; then
  if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTRITUNE_PYTHON="$ROOT/.venv/bin/python" > /tmp/tritune-configure.$$ 2>&1; then
    cat /tmp/tritune-configure.$$ >&2; rm -f /tmp/tritune-configure.$$
    echo "setup: cmake configure failed" >&2
    exit 3
  fi
  rm -f /tmp/tritune-configure.$$
  if ! cmake --build build -j"$(nproc)" > build/build.log 2>&1; then
    grep -E "error|Error" build/build.log | head -30 >&2
    echo "setup: build failed (full log: build/build.log)" >&2
    exit 3
  fi
  grep -E "warning:" build/build.log >&2 || true
  echo "setup: built build/bin/tritune" >&2
fi
