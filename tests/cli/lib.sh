# lib.sh — helpers for the CLI tests: run blastscan, check exit codes and messages, and
# make sure no sanitizer report slipped through.
set -u
BIN=${BLASTSCAN_BIN:?BLASTSCAN_BIN must point at the blastscan binary}
ASSETS=${BLASTSCAN_ASSETS:-${BLASTSCAN_DEFAULT_ASSETS:-../shared}}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/blastscan-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
PASSED=0

fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
ok() { PASSED=$((PASSED + 1)); }

# expect CODE DESCRIPTION -- command...: runs it, checks the exit code, keeps stdout/stderr.
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$WORK/out" 2>"$WORK/err"
    local got=$?
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$WORK/err"; then
        fail "$what: sanitizer report"; cat "$WORK/err"; return
    fi
    if [ "$got" != "$want" ]; then
        fail "$what: exit $got, expected $want"; sed 's/^/  stderr: /' "$WORK/err" | head -5; return
    fi
    ok
}

# stderr_has TEXT DESCRIPTION: the last command's stderr contains TEXT.
stderr_has() { if grep -qF -- "$1" "$WORK/err"; then ok; else fail "$2: stderr lacks '$1'"; sed 's/^/  stderr: /' "$WORK/err" | head -5; fi; }
stdout_has() { if grep -qF -- "$1" "$WORK/out"; then ok; else fail "$2: stdout lacks '$1'"; fi; }

have_numpy() { /usr/bin/python3 -c 'import numpy' 2>/dev/null; }

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
