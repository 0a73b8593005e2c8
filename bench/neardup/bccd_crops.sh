#!/usr/bin/env bash
# bccd_crops.sh — single-cell crops from BCCD, the case of docs/near-duplicates.md: each WBC box
# of data/bccd/boxes.csv cut out as a square around the box (side = the box's longer side, moved
# inside the field, at most the field's height) and resized to 257×257 with the vips CLI.
# Writes OUT/crops/cNNN.png and OUT/manifest.csv (path,label,class); the labels alternate 0/1 by
# box order (BCCD has no ALL labels): a group holding both labels is then a false merge.
# Usage: bccd_crops.sh OUT [N]   (N = first N boxes only; default all 372)
set -euo pipefail
out=${1:?usage: bccd_crops.sh OUT [N]}
limit=${2:-0}
margin=${MARGIN:-100} # side of the square, % of the box's longer side
assets=${BLASTSCAN_ASSETS:-$(dirname "$0")/../../../shared}
bccd=$assets/data/bccd
mkdir -p "$out/crops"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "path,label,class" >"$out/manifest.csv"
i=0
while IFS=, read -r image class x0 y0 x1 y1; do
    [ "$class" = WBC ] || continue
    [ "$limit" -gt 0 ] && [ "$i" -ge "$limit" ] && break
    W=$(vipsheader -f width "$bccd/$image"); H=$(vipsheader -f height "$bccd/$image")
    w=$((x1 - x0)); h=$((y1 - y0)); s=$(((w > h ? w : h) * margin / 100))
    [ "$s" -gt "$H" ] && s=$H
    [ "$s" -gt "$W" ] && s=$W
    l=$(((x0 + x1 - s) / 2)); t=$(((y0 + y1 - s) / 2))
    [ "$l" -lt 0 ] && l=0; [ "$t" -lt 0 ] && t=0
    [ $((l + s)) -gt "$W" ] && l=$((W - s)); [ $((t + s)) -gt "$H" ] && t=$((H - s))
    name=$(printf 'c%03d.png' "$i")
    vips crop "$bccd/$image" "$tmp/c.v" "$l" "$t" "$s" "$s"
    vips thumbnail "$tmp/c.v" "$out/crops/$name" 257 --height 257 --size force
    if [ "${RECROP:-0}" = 1 ]; then
        # the same cell cut again 3–8 px away, gain 0.92 + offset 8, sensor noise σ 4
        sx=$((3 + i % 6)); sy=$((3 + (i / 6) % 6)); [ $((i % 2)) = 1 ] && sx=$((-sx))
        l2=$((l + sx)); t2=$((t - sy))
        [ "$l2" -lt 0 ] && l2=0; [ "$t2" -lt 0 ] && t2=0
        [ $((l2 + s)) -gt "$W" ] && l2=$((W - s)); [ $((t2 + s)) -gt "$H" ] && t2=$((H - s))
        vips crop "$bccd/$image" "$tmp/r.v" "$l2" "$t2" "$s" "$s"
        vips thumbnail "$tmp/r.v" "$tmp/r2.v" 257 --height 257 --size force
        vips linear "$tmp/r2.v" "$tmp/r3.v" 0.92 8
        vips gaussnoise "$tmp/n.v" 257 257 --sigma 4 --mean 0 --seed "$i"
        vips bandjoin "$tmp/n.v $tmp/n.v $tmp/n.v" "$tmp/n3.v"
        vips add "$tmp/r3.v" "$tmp/n3.v" "$tmp/r4.v"
        vips cast "$tmp/r4.v" "$out/crops/r${name#c}" uchar
        echo "crops/r${name#c},$((i % 2)),$((i % 2 ? 1 : 0))" | sed 's/,1$/,odd/; s/,0$/,even/' >>"$out/manifest.csv"
    fi
    echo "crops/$name,$((i % 2)),$((i % 2 ? 1 : 0))" | sed 's/,1$/,odd/; s/,0$/,even/' >>"$out/manifest.csv"
    i=$((i + 1))
done < <(tail -n +2 "$bccd/boxes.csv")
echo "$i crops in $out" >&2
