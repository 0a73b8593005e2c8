#!/usr/bin/env bash
# Unwritable output: tensor, extract, experiment and autoencoder fit asked to write (1) under a
# regular file (works for any user) and (2) into a read-only bind mount (root ignores permission
# bits, not a read-only mount; skipped visibly when mounting is not permitted) fail with exit 1
# and a message naming the path and the reason, and leave the previous outputs untouched.
. "$(dirname "$0")/../cli/lib.sh"
need "$MODEL" "$ARIA"

make_data "$WORK/data" 3
IMG=$(ls "$WORK"/data/Pro/* | head -1)
: >"$WORK/afile"
OUT="$WORK/prev"
mkdir -p "$OUT"

# Inputs for experiment and autoencoder fit.
expect 0 "extract (inputs)" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" --cache "$WORK/cache" \
    --out "$WORK/feat"
X="$WORK/feat/googlenet-bvlc.npy"

check_all() { # check_all DIR WHY: every command writing under DIR fails with WHY.
    local d=$1 why=$2
    expect 1 "tensor ($why)" -- "$BIN" tensor "$IMG" --size 32 --out "$d/t.npy"
    stderr_has "$d/t.npy" "tensor names the file ($why)"
    expect 1 "extract ($why)" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" --cache "$WORK/cache" \
        --out "$d/feat"
    stderr_has "$d/feat" "extract names the folder ($why)"
    expect 1 "extract, cache ($why)" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" --cache "$d/cache" \
        --out "$WORK/feat-x"
    stderr_has "$d/cache" "extract names the cache ($why)"
    expect 1 "experiment ($why)" -- "$BIN" experiment --features "$WORK/feat" --protocol paper --folds 2 \
        --latent none --report "$d/report"
    stderr_has "$d/report" "experiment names the folder ($why)"
    expect 1 "autoencoder fit ($why)" -- "$BIN" autoencoder fit --features "$X" --hidden 4 --epochs 1 --out "$d/ae.sae"
    stderr_has "$d/ae.sae" "autoencoder fit names the file ($why)"
}

check_all "$WORK/afile" "under a regular file"
stderr_has "Not a directory" "the reason is given"

# Read-only bind mount over a folder holding previous outputs.
"$BIN" tensor "$IMG" --size 32 --out "$OUT/t.npy" >/dev/null 2>&1
"$BIN" autoencoder fit --features "$X" --hidden 4 --epochs 1 --out "$OUT/ae.sae" >/dev/null 2>&1
"$BIN" experiment --features "$WORK/feat" --protocol paper --folds 2 --latent none --report "$OUT/report" >/dev/null 2>&1
cp -a "$OUT" "$WORK/before"
RO="$WORK/ro"
mkdir -p "$RO"
if mount --bind "$OUT" "$RO" 2>/dev/null; then
    MOUNTS+=("$RO")
    if mount -o remount,bind,ro "$RO" 2>/dev/null; then
        check_all "$RO" "read-only"
        stderr_has "Read-only file system" "the reason is given (read-only)"
        same_files "$OUT" "$WORK/before" "read-only"
    else
        skip "read-only mount" "cannot remount the bind mount read-only"
    fi
else
    skip "read-only mount" "cannot bind-mount (needs root)"
fi
finish
