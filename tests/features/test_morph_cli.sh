#!/usr/bin/env bash
# The morphometric features as a feature set, end to end on 8 Aria 2021 fields: `cells --crops`
# writes each crop's scale (cell_px, red_cell_px); `extract --backbone morphometry` writes a
# 23-column set (alone, and beside GoogLeNet's), cached by version, image, view and scale (a
# re-run computes nothing; another scale recomputes); `experiment` runs it alone and fused;
# `train --backbone morphometry` records it without a file; `cells --model` and `predict` use
# it (a crop file carries no scale: predict measures it in crop units); and a manifest with a
# bad scale is refused naming the line.
. "$(dirname "$0")/../cli/lib.sh"

need "$ARIA" "$MODEL"
mkdir -p "$WORK/fields/Benign" "$WORK/fields/Pro"
for c in Benign Pro; do
    ls "$ARIA/$c" | head -4 | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/fields/$c/$f"; done
done

expect 0 "cell crops" -- "$BIN" cells --crops "$WORK/crops" --data "$WORK/fields" --positive Pro
M="$WORK/crops/manifest.csv"
head -1 "$M" | grep -q "cell_px,red_cell_px" && ok || fail "crop manifest lacks the scale columns"
# every crop of a field has the field's scale: some known, none negative
awk -F, 'NR > 1 && $5 > 0 {n++} END {exit !(n == NR - 1)}' "$M" && ok || fail "cell_px on every crop"

X=(extract --data "$M" --augment flip --cache "$WORK/cache" --near-duplicates off)
expect 0 "extract morphometry" -- "$BIN" "${X[@]}" --backbone morphometry --out "$WORK/feat-m"
stderr_has "0 from cache" "first extraction computes"
file_has "$WORK/feat-m/extract.json" '"name": "morphometry"' "extract.json names the set"
file_has "$WORK/feat-m/extract.json" '"tap": "morphometry-1"' "extract.json gives the version"
rows=$(($(wc -l < "$M") - 1))
if have_numpy; then
    /usr/bin/python3 - "$WORK/feat-m/morphometry.npy" "$((3 * rows))" <<'EOF' && ok || fail "morphometry.npy shape or values"
import sys, numpy as np
a = np.load(sys.argv[1])
assert a.shape == (int(sys.argv[2]), 23), a.shape
assert np.isfinite(a).all()
assert (a[:, 0] == 1).mean() > 0.8          # most crops hold a measurable cell
assert np.isclose(a[::3, 2:], a[1::3, 2:], rtol=0.05, atol=1e-3).mean() > 0.8  # mirrors: ~same
EOF
else
    skip "morphometry.npy contents" "no numpy"
fi
expect 0 "extract again" -- "$BIN" "${X[@]}" --backbone morphometry --out "$WORK/feat-m2"
stderr_has "(0 computed" "a re-run is served by the cache"
cmp -s "$WORK/feat-m/morphometry.npy" "$WORK/feat-m2/morphometry.npy" && ok || fail "cached rows differ"
# another scale is another row: the first crop told twice the white-cell size
awk -F, 'BEGIN {OFS = ","} NR == 1 {for (i = 1; i <= NF; i++) if ($i == "cell_px") c = i}
    NR == 2 {$c = 2 * $c} {print}' "$M" > "$WORK/crops/scaled.csv"
X2=(extract --data "$WORK/crops/scaled.csv" --augment none --cache "$WORK/cache" --near-duplicates off)
expect 0 "extract with one scale changed" -- "$BIN" "${X2[@]}" --backbone morphometry --out "$WORK/feat-s"
stderr_has "(1 computed" "only the row whose scale changed is computed"

# beside a network: two sets, experiment alone (Exp 1) and fused (Exp 2)
expect 0 "extract both" -- "$BIN" "${X[@]}" --backbone morphometry --backbone "$MODEL" --out "$WORK/feat-b"
[ -s "$WORK/feat-b/morphometry.npy" ] && [ -s "$WORK/feat-b/googlenet-bvlc.npy" ] && ok || fail "two sets"
expect 0 "experiment, morphometry alone and fused" -- "$BIN" experiment --features "$WORK/feat-b" \
    --protocol grouped --folds 2 --latent 0.25 --epochs 20 --report "$WORK/study"
file_has "$WORK/study/table1.md" "morphometry" "Table 1 has a morphometry row"

# a cell model on morphometry: no ONNX file recorded, none needed to use it
expect 0 "train" -- "$BIN" --seed 2 train --data "$M" --backbone morphometry --augment none \
    --latent none --calibration-folds 2 --near-duplicates off --cache "$WORK/cache" --out "$WORK/m.blastscan"
stderr_has "23 features" "train fits on the 23 columns"
expect 0 "cells --model" -- "$BIN" cells --model "$WORK/m.blastscan" --backbone-dir /nonexistent \
    --format csv "$WORK/fields/Pro"
[ "$(grep -c ',\(ALL\|healthy\),' "$WORK/out")" -ge 4 ] && ok || fail "cells classified"
first=$(awk -F, 'NR == 2 {print $1}' "$M")
expect 0 "predict a crop" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir /nonexistent \
    "$WORK/crops/$first"

printf 'path,label,red_cell_px\n%s,1,-2\n' "$first" > "$WORK/crops/bad.csv"
expect 1 "a negative scale" -- "$BIN" extract --data "$WORK/crops/bad.csv" --backbone morphometry \
    --no-cache --out "$WORK/feat-bad"
stderr_has "bad.csv:2: red_cell_px" "the message names the line and column"
[ ! -e "$WORK/feat-bad/index.csv" ] && ok || fail "nothing written for a bad manifest"
finish
