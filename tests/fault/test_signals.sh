#!/usr/bin/env bash
# SIGINT/SIGTERM mid-extract and mid-experiment: the previous outputs stay byte-identical, every
# cache entry is a complete row, and a re-run resumes from the cache ("N computed, M from cache")
# and ends with the same results as an uninterrupted run.
. "$(dirname "$0")/../cli/lib.sh"
need "$MODEL" "$ARIA"
# Job control: without it bash starts background commands with SIGINT ignored.
set -m

make_data "$WORK/small" 4
make_data "$WORK/data" 16
CACHE="$WORK/cache"
FEAT="$WORK/feat"
EXTRACT=(extract --backbone "$MODEL" --cache "$CACHE" --batch 8 --out "$FEAT")

cache_rows() { find "$CACHE" -name '*.npy' ! -name '.*' | wc -l; }
# Every cache entry is a whole row: one file size, and numpy reads [1024] finite floats.
cache_valid() {
    local sizes
    sizes=$(find "$CACHE" -name '*.npy' ! -name '.*' -printf '%s\n' | sort -u | wc -l)
    if [ "$sizes" = 1 ]; then ok; else fail "$1: cache entries of $sizes different sizes"; fi
    if with_numpy "$1: numpy reads each cache entry"; then
        /usr/bin/python3 - "$CACHE" <<'PY' && ok || fail "$1: a cache entry is not a whole finite row"
import sys, glob, os, numpy as np
for f in glob.glob(os.path.join(sys.argv[1], "**", "*.npy"), recursive=True):
    if os.path.basename(f).startswith("."): continue
    a = np.load(f)
    assert a.shape == (1024,) and a.dtype == np.float32 and np.isfinite(a).all(), f
PY
    fi
}

# interrupt SIGNAL MIN_ROWS WHAT -- command...: start it, wait until the cache holds MIN_ROWS
# rows (or 150 s), send SIGNAL, check it died of it.
interrupt() {
    local sig=$1 rows=$2 what=$3
    shift 4
    "$@" >"$WORK/bg.out" 2>"$WORK/bg.err" &
    local pid=$! waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$(cache_rows)" -lt "$rows" ] && [ $waited -lt 3000 ]; do
        sleep 0.05
        waited=$((waited + 1))
    done
    if ! kill -0 "$pid" 2>/dev/null; then
        fail "$what: finished before it could be interrupted"
        wait "$pid"
        return
    fi
    kill -"$sig" "$pid"
    wait "$pid"
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] && ! grep -q "AddressSanitizer\|runtime error" "$WORK/bg.err"; then
        ok
    else
        fail "$what: exit $rc after SIG$sig"
        head -5 "$WORK/bg.err"
    fi
}

# Previous outputs: 8 images.
expect 0 "extract (previous)" -- "$BIN" --threads 1 "${EXTRACT[@]}" --data "$WORK/small"
stderr_has "8 computed, 0 from cache" "first extract computes"
cp -a "$FEAT" "$WORK/feat.before"

# 32 images x 3 views = 96 rows; interrupted after 16 new rows, then again after 40.
interrupt INT 24 "extract SIGINT" -- "$BIN" --threads 1 "${EXTRACT[@]}" --data "$WORK/data" --augment flip
same_files "$FEAT" "$WORK/feat.before" "extract SIGINT"
cache_valid "extract SIGINT"
interrupt TERM 48 "extract SIGTERM" -- "$BIN" --threads 1 "${EXTRACT[@]}" --data "$WORK/data" --augment flip
same_files "$FEAT" "$WORK/feat.before" "extract SIGTERM"
cache_valid "extract SIGTERM"
have=$(cache_rows)
expect 0 "extract resumes" -- "$BIN" --threads 2 "${EXTRACT[@]}" --data "$WORK/data" --augment flip
computed=$(sed -n 's/.*(\([0-9]*\) computed, \([0-9]*\) from cache).*/\1/p' "$WORK/err")
cached=$(sed -n 's/.*(\([0-9]*\) computed, \([0-9]*\) from cache).*/\2/p' "$WORK/err")
echo "  resume: $have rows cached before, $computed computed, $cached from cache"
[ -n "$computed" ] && [ "$((computed + cached))" = 96 ] && [ "$cached" -ge "$((have - 8))" ] && [ "$cached" -ge 40 ] \
    && ok || fail "the re-run resumes from the cache ($computed computed, $cached from cache, $have rows before)"
[ "$(tail -n +2 "$FEAT/index.csv" | wc -l)" = 96 ] && ok || fail "the resumed run writes the whole index"
cache_valid "after resume"

# Experiment: a previous report, then interrupted runs that would replace it.
STUDY=(experiment --features "$FEAT" --protocol grouped --folds 3 --latent 0.25 --report "$WORK/report")
expect 0 "experiment (previous)" -- "$BIN" --seed 3 "${STUDY[@]}" --epochs 5
cp -a "$WORK/report" "$WORK/report.before"
for sig in INT TERM; do
    "$BIN" --seed 3 "${STUDY[@]}" --epochs 100000 >"$WORK/bg.out" 2>"$WORK/bg.err" &
    pid=$!
    sleep 3
    if kill -0 "$pid" 2>/dev/null; then
        kill -$sig "$pid"
        wait "$pid"
        rc=$?
        [ "$rc" -gt 1 ] && ok || fail "experiment SIG$sig: exit $rc"
    else
        wait "$pid"
        fail "experiment finished before SIG$sig"
    fi
    same_files "$WORK/report" "$WORK/report.before" "experiment SIG$sig"
    no_temp_left "$WORK/report" "experiment SIG$sig"
done
expect 0 "experiment re-run" -- "$BIN" --seed 3 "${STUDY[@]}" --epochs 5
cmp -s "$WORK/report/results.json" "$WORK/report.before/results.json" && ok \
    || fail "the re-run gives the same results.json"
finish
