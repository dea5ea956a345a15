# The set-up the CLI test scripts share; source it first:
#   . "$(dirname "$0")/lib.sh"        (the script's $1 is the tritune binary)
# It sets T (the binary), PY (the project's Python when set up, else python3),
# tmp (a scratch folder removed at exit) and fails, and defines:
#   fail MESSAGE                                  count a failure, say why on stderr
#   expect_cmd CODE STDERR_PART -- COMMAND...     COMMAND exits CODE, its stderr holds STDERR_PART
#   expect CODE STDERR_PART -- TRITUNE_ARGS...    the same for "$T" TRITUNE_ARGS...
#   finish                                        the summary line; exits with the failure count
set -u
T=${1:?usage: $(basename "$0") path/to/tritune}
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

expect_cmd() {
    local code=$1 needle=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code ($(head -c 300 "$tmp/err"))"
    grep -qF -- "$needle" "$tmp/err" || fail "'$*': stderr lacks '$needle': $(head -c 300 "$tmp/err")"
}

expect() {
    local code=$1 needle=$2
    shift 3
    expect_cmd "$code" "$needle" -- "$T" "$@"
}

finish() {
    [ "$fails" -eq 0 ] || echo "$(basename "$0" .sh): $fails failure(s)" >&2
    exit "$fails"
}
