#!/usr/bin/env bash
# Stain, scale and stain-transfer views in extraction (--augment flip,hed:N,scale:N,transfer:N):
# rows and their order, groups carried, the cache reused, the same seed giving the same bytes and another seed other
# jittered rows (mirrors unchanged), bad lists refused; then train and experiment on them.
. "$(dirname "$0")/lib.sh"

need "$MODEL" "$ARIA"
mkdir -p "$WORK/data/Benign" "$WORK/data/Pro"
for f in $(ls "$ARIA/Benign" | head -4); do ln -s "$ARIA/Benign/$f" "$WORK/data/Benign/$f"; done
for f in $(ls "$ARIA/Pro" | head -4); do ln -s "$ARIA/Pro/$f" "$WORK/data/Pro/$f"; done

X=(extract --backbone "$MODEL" --data "$WORK/data" --batch 8)
expect 2 "unknown view" -- "$BIN" "${X[@]}" --augment flip,stain --out "$WORK/bad"
stderr_has "'stain' is not a view" "the bad item named"
expect 2 "too many draws" -- "$BIN" "${X[@]}" --augment hed:9 --out "$WORK/bad"
expect 2 "none with others" -- "$BIN" "${X[@]}" --augment none,hed --out "$WORK/bad"
[ ! -e "$WORK/bad" ] && ok || fail "nothing written on a usage error"

# 8 images x (original + 2 mirrors + 2 HED + 1 scale) = 48 rows.
expect 0 "extract with stain and scale views" -- "$BIN" --seed 3 "${X[@]}" --augment flip,hed:2,scale \
    --cache "$WORK/cache" --out "$WORK/f1"
stderr_has "48 rows x 1 backbones" "rows per image"
grep -q '"augment": "flip,hed:2:0.05,scale:1:0.1"' "$WORK/f1/extract.json" && ok || fail "extract.json names the views"
views=$(tail -n +2 "$WORK/f1/index.csv" | head -6 | cut -d, -f6 | tr '\n' ' ')
[ "$views" = "original hmirror vmirror hed1 hed2 scale1 " ] && ok || fail "views in order: $views"
# Every view of an image carries the image's group (so no split separates them).
[ "$(tail -n +2 "$WORK/f1/index.csv" | cut -d, -f2,5 | sort -u | wc -l)" = 8 ] && ok || fail "one group per image"

expect 0 "again from the cache" -- "$BIN" --seed 3 "${X[@]}" --augment flip,hed:2,scale \
    --cache "$WORK/cache" --out "$WORK/f2"
stderr_has "0 computed, 48 from cache" "every row cached"
cmp -s "$WORK/f1/googlenet-bvlc.npy" "$WORK/f2/googlenet-bvlc.npy" && ok || fail "same bytes from the cache"
expect 0 "again without a cache" -- "$BIN" --seed 3 "${X[@]}" --augment flip,hed:2,scale \
    --no-cache --out "$WORK/f3"
cmp -s "$WORK/f1/googlenet-bvlc.npy" "$WORK/f3/googlenet-bvlc.npy" && ok || fail "same seed, same rows computed afresh"

# Another seed: the original and mirrors come from the cache, the jittered views are new.
expect 0 "another seed" -- "$BIN" --seed 4 "${X[@]}" --augment flip,hed:2,scale \
    --cache "$WORK/cache" --out "$WORK/f4"
stderr_has "24 computed, 24 from cache" "only the jittered views depend on the seed"
cmp -s "$WORK/f1/googlenet-bvlc.npy" "$WORK/f4/googlenet-bvlc.npy" && fail "another seed, other rows" || ok
# A stronger jitter is another cache entry, not a stale one.
expect 0 "stronger jitter" -- "$BIN" --seed 3 "${X[@]}" --augment flip,hed:2:0.2,scale \
    --cache "$WORK/cache" --out "$WORK/f5"
stderr_has "16 computed, 32 from cache" "the strength is part of the cache key"
# The flip-only rows are those of a flip-only run.
expect 0 "flip only" -- "$BIN" "${X[@]}" --augment flip --cache "$WORK/cache" --out "$WORK/flip"
stderr_has "0 computed, 24 from cache" "mirrors shared with the augmented runs"
grep -q '"augment": "flip"' "$WORK/flip/extract.json" && ok || fail "flip keeps its name"

expect 0 "experiment on jittered rows" -- "$BIN" --seed 3 experiment --features "$WORK/f1" \
    --protocol grouped --folds 2 --latent none --report "$WORK/study"
[ -s "$WORK/study/results.json" ] && ok || fail "experiment wrote results"
expect 0 "train with stain views" -- "$BIN" --seed 3 train --data "$WORK/data" --backbone "$MODEL" \
    --augment hed,scale --latent none --calibration-folds 2 --near-duplicates off \
    --cache "$WORK/cache" --batch 8 --out "$WORK/m.blastscan"
stderr_has "augment hed:1:0.05,scale:1:0.1" "train names the views"
expect 0 "predict with it" -- "$BIN" predict --model "$WORK/m.blastscan" "$WORK/data/Pro"

# Stain-transfer views (transfer[:N]): each image recoloured to another source's colours. One
# source has no other to take colours from; two sources: rows in order, recoloured (not the
# original), seeded (same seed, same bytes; the cache reused), and train records them.
expect 1 "transfer views need two sources" -- "$BIN" "${X[@]}" --augment transfer --out "$WORK/bad"
stderr_has "the transfer views need at least two sources" "the reason given"
mkdir -p "$WORK/src2/Benign" "$WORK/src2/Pro"
for f in $(ls "$ARIA/Benign" | tail -2); do ln -s "$ARIA/Benign/$f" "$WORK/src2/Benign/$f"; done
for f in $(ls "$ARIA/Pro" | tail -2); do ln -s "$ARIA/Pro/$f" "$WORK/src2/Pro/$f"; done
T=(extract --backbone "$MODEL" --data "$WORK/data" --data "$WORK/src2" --batch 8)
expect 0 "extract with transfer views" -- "$BIN" --seed 3 "${T[@]}" --augment flip,transfer:2 \
    --cache "$WORK/cache" --out "$WORK/t1"
stderr_has "60 rows x 1 backbones" "12 images x (original + 2 mirrors + 2 transfer views)"
stderr_has "36 computed, 24 from cache" "the first 8 images' original and mirrors from the cache"
grep -q '"augment": "flip,transfer:2"' "$WORK/t1/extract.json" && ok || fail "extract.json names the views"
views=$(tail -n +2 "$WORK/t1/index.csv" | head -5 | cut -d, -f6 | tr '\n' ' ')
[ "$views" = "original hmirror vmirror transfer1 transfer2 " ] && ok || fail "views in order: $views"
if with_numpy "transfer views differ from the originals"; then
    /usr/bin/python3 - "$WORK/t1/googlenet-bvlc.npy" <<'PY' && ok || fail "a transfer view is recoloured"
import sys
import numpy as np
x = np.load(sys.argv[1]).reshape(12, 5, -1)
assert all(np.abs(x[i, 3] - x[i, 0]).max() > 1e-3 for i in range(12))
PY
fi
expect 0 "transfer views again, no cache" -- "$BIN" --seed 3 "${T[@]}" --augment flip,transfer:2 \
    --no-cache --out "$WORK/t2"
cmp -s "$WORK/t1/googlenet-bvlc.npy" "$WORK/t2/googlenet-bvlc.npy" && ok || fail "same seed, same rows"
expect 0 "train with transfer views" -- "$BIN" --seed 3 train --data "$WORK/data" \
    --data "$WORK/src2" --backbone "$MODEL" --augment transfer --latent none \
    --calibration-folds 2 --near-duplicates off --cache "$WORK/cache" --batch 8 \
    --out "$WORK/mt.blastscan"
stderr_has "augment transfer:1" "train names the views"
expect 0 "predict with the transfer-trained model" -- "$BIN" predict --model "$WORK/mt.blastscan" \
    "$WORK/src2/Pro"
finish
