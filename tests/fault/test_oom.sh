#!/usr/bin/env bash
# Out of memory: a batch too large for the address space (extract --batch 1024 under
# ulimit -v) is a clear error naming the model, exit 1, no crash. Sanitizer builds reserve
# terabytes of shadow memory and cannot run under ulimit -v: skipped visibly there.
. "$(dirname "$0")/../cli/lib.sh"
need "$MODEL" "$ARIA"

if ldd "$BIN" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    skip_all "$BIN is built with sanitizers, which cannot run under ulimit -v"
fi
make_data "$WORK/data" 2

# ulimit -v counts KiB. 2 GB of address space: the [1024,3,224,224] batch (616 MB) fits, its
# activations do not.
(
    ulimit -v 2000000
    "$BIN" --threads 2 extract --backbone "$MODEL" --data "$WORK/data" --batch 1024 --no-cache --out "$WORK/feat" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
)
rc=$(cat "$WORK/rc")
[ "$rc" = 1 ] && ok || { fail "extract --batch 1024 under ulimit -v: exit $rc, expected 1"; sed 's/^/  stderr: /' "$WORK/err" | head -5; }
stderr_has "out of memory" "the message says what happened"
stderr_has "googlenet-bvlc.onnx" "the message names the model"
grep -c "googlenet-bvlc.onnx" "$WORK/err" | grep -qx 1 && ok || fail "the model is named once"
[ ! -e "$WORK/feat/index.csv" ] && ok || fail "no feature folder claims to be complete"

# About 400 MB (400000 KiB): not even the 616 MB batch tensor can be allocated.
(
    ulimit -v 400000
    "$BIN" --threads 1 extract --backbone "$MODEL" --data "$WORK/data" --batch 1024 --no-cache --out "$WORK/feat" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
)
rc=$(cat "$WORK/rc")
[ "$rc" = 1 ] && ok || { fail "extract under a tiny ulimit -v: exit $rc, expected 1"; sed 's/^/  stderr: /' "$WORK/err" | head -5; }
grep -qi "memory" "$WORK/err" && ok || { fail "tiny ulimit: the message names memory"; head -3 "$WORK/err"; }
finish
