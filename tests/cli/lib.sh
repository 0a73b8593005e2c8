# lib.sh — the one harness of the shell tests (tests/*/*.sh): run blastscan, check exit codes and
# messages, make sure no sanitizer report slipped through, say what was skipped and why, and the
# shared set-up of the fault tests (a tiny Aria 2021 dataset, tmpfs mounts undone on exit).
# Not for: deciding what a test checks; each test says that in its own header.
#
# A test sources it, checks with `expect`/`ok`/`fail`, and ends with `finish` (its exit status).
# A part that cannot run here calls `skip PART WHY` (prints "SKIP: PART: WHY", the rest runs);
# a test that cannot run at all calls `need PATH...` or `skip_all WHY` (prints "SKIP: WHY", exit
# 77, which ctest shows as skipped — or exit 1 if a check had already failed).
# shellcheck shell=bash disable=SC2034  # (the variables are for the tests that source this)
set -u
BIN=${BLASTSCAN_BIN:?BLASTSCAN_BIN must point at the blastscan binary}
ASSETS=${BLASTSCAN_ASSETS:-${BLASTSCAN_DEFAULT_ASSETS:-../shared}}
MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/blastscan-cli-XXXXXX")
MOUNTS=()
FAILED=0
PASSED=0
SKIPPED=0

cleanup() {
    local m
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
ok() { PASSED=$((PASSED + 1)); }

finish() {
    echo "$PASSED passed, $FAILED failed, $SKIPPED part(s) skipped"
    [ "$FAILED" -eq 0 ]
}

# skip PART WHY: PART of the test is not run here; said, and counted by finish.
skip() { echo "SKIP: $1: $2"; SKIPPED=$((SKIPPED + 1)); }
# skip_all WHY: nothing more can run: exit 77 (skipped), or 1 if a check already failed.
skip_all() {
    echo "SKIP: $*"
    if [ "$FAILED" -gt 0 ]; then finish; exit 1; fi
    exit 77
}
# need PATH...: skip the rest of the test unless every asset exists.
need() {
    local p
    for p; do [ -e "$p" ] || skip_all "$p absent (BLASTSCAN_ASSETS names the assets folder)"; done
}

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
# file_has FILE TEXT DESCRIPTION: FILE contains TEXT.
file_has() { if grep -qF -- "$2" "$1"; then ok; else fail "$3: $1 lacks '$2'"; head -5 "$1" | sed 's/^/  /'; fi; }

have_numpy() { /usr/bin/python3 -c 'import numpy' 2>/dev/null; }
# with_numpy PART: true when numpy is there; otherwise PART is skipped (said) and false.
with_numpy() { have_numpy && return 0; skip "$1" "no numpy for /usr/bin/python3"; return 1; }

# ---- fault tests: data, mounts, leftovers ----

# make_data DIR N: N healthy + N ALL images of Aria 2021 (symlinks).
make_data() {
    mkdir -p "$1/Benign" "$1/Pro"
    local f
    for f in $(ls "$ARIA/Benign" | head -"$2"); do ln -s "$ARIA/Benign/$f" "$1/Benign/$f"; done
    for f in $(ls "$ARIA/Pro" | head -"$2"); do ln -s "$ARIA/Pro/$f" "$1/Pro/$f"; done
}

# small_cell_model DIR: a small GoogLeNet cell model as DIR/cells.blastscan (~10 s), trained on
# the crops (DIR/aria-crops) of 3 Benign and 3 Pro Aria fields (DIR/aria; 30 epochs, seed 3);
# DIR/models holds the backbone for --backbone-dir. Needs $MODEL and $ARIA.
small_cell_model() {
    make_data "$1/aria" 3
    mkdir -p "$1/models"
    ln -s "$MODEL" "$1/models/googlenet-bvlc.onnx"
    expect 0 "crops of Aria" -- "$BIN" cells --crops "$1/aria-crops" --data "$1/aria" --near-duplicates off
    expect 0 "train a cell model" -- "$BIN" --seed 3 train --data "$1/aria-crops/manifest.csv" --backbone "$MODEL" \
        --augment none --epochs 30 --calibration-folds 3 --near-duplicates off --no-cache --out "$1/cells.blastscan"
}

# mount_tmpfs DIR SIZE: a small tmpfs (root only), unmounted on exit; 1 if not permitted.
mount_tmpfs() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" blastscan-fault "$1" 2>/dev/null || return 1
    MOUNTS+=("$1")
}

# fill DIR: write until the file system is full.
fill() { dd if=/dev/zero of="$1/.filler" bs=4k >/dev/null 2>&1 || true; }

# no_temp_left DIR WHAT: no temporary file (.NAME.tmp.XXXXXX) survived a failed write.
no_temp_left() {
    local left
    left=$(find "$1" -name '.*.tmp.*' 2>/dev/null | head -3)
    if [ -z "$left" ]; then ok; else fail "$2: temporary files left: $left"; fi
}

# same_files DIR COPY WHAT: every file of COPY is still in DIR with the same bytes (new files,
# e.g. cache entries, may have been added).
same_files() {
    local f bad=""
    while IFS= read -r f; do
        cmp -s "$2/$f" "$1/$f" || bad="$bad $f"
    done < <(cd "$2" && find . -type f)
    if [ -z "$bad" ]; then ok; else fail "$3: previous outputs changed:$bad"; fi
}
