#!/usr/bin/env bash
# report.html end to end: `reproduce` on 24 Aria 2021 images (GoogLeNet, a short autoencoder)
# and `experiment` both write it; it references nothing outside itself (only #anchors and
# data: URIs; the check is shown to catch an outside reference); it embeds the misclassified
# gallery with occlusion maps; per-source and per-group results appear when present; and headless Chromium renders it to a PNG that is not blank.
. "$(dirname "$0")/../cli/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
if [ ! -f "$MODEL" ] || [ ! -d "$ARIA" ]; then echo "SKIP: $MODEL or $ARIA absent"; exit 77; fi
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

# outside_refs FILE: every src=, href=, url( and @import whose target is not #... or data:...
outside_refs() {
    grep -oE "(src|href)=[\"']?[^\"' >]*|url\([\"']?[^\"')]*|@import" "$1" | grep -vE "^(src|href)=[\"']?(#|data:)|^url\([\"']?data:"
}

# Healthy vs early ALL: similar enough that a small model makes mistakes to show.
mkdir -p "$WORK/data/Benign" "$WORK/data/Early"
for c in Benign Early; do
    ls "$ARIA/$c" | sed -n 40,51p | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/data/$c/$f"; done
done
expect 0 "reproduce" -- "$BIN" --seed 7 reproduce --data "$WORK/data" --backbone "$MODEL" --folds 3 --epochs 10 \
    --cache "$WORK/cache" --explain-errors 2 --report "$WORK/r"
H="$WORK/r/report.html"
[ -s "$H" ] && ok || fail "reproduce writes report.html"
[ -z "$(outside_refs "$H")" ] && ok || fail "report.html references outside itself: $(outside_refs "$H" | head -3)"
grep -q "<svg" "$H" && ! grep -q "<?xml" "$H" && ok || fail "figures inline, without XML prologs"
grep -q "paper protocol (leaky, as published)</th><th colspan=\"7\">grouped protocol" "$H" && ok \
    || fail "Table 1 has both protocols side by side"
grep -qE "<b>[0-9]+ of 72 test rows" "$H" && ok || fail "the paper protocol's leak is stated"
grep -q "url(data:image/jpeg;base64,/9j/" "$H" && ok || fail "thumbnails are JPEG data URIs"
wrong=$(grep -oE "[0-9]+ images? with a wrong view" "$H" | awk '{s += $1} END {print s + 0}')
cards=$(grep -o '<figure class="card">' "$H" | wc -l)
[ "$wrong" -gt 0 ] && [ "$cards" -ge "$wrong" ] && ok || fail "a card per misclassified image ($wrong wrong, $cards cards)"
if grep -q "Occlusion maps (second picture" "$H"; then
    grep -q 'aria-label="occlusion map"' "$H" && ok || fail "occlusion maps beside their images"
else
    grep -q "No occlusion maps: .* got every original view right" "$H" && ok || fail "maps or the reason for none"
fi
# The check itself catches an outside reference.
sed 's|</body>|<img src="https://example.org/x.png"></body>|' "$H" >"$WORK/bad.html"
[ -n "$(outside_refs "$WORK/bad.html")" ] && ok || fail "the outside-reference check catches an https image"

expect 0 "experiment" -- "$BIN" --seed 7 experiment --features "$WORK/r/features" --protocol paper --folds 3 \
    --latent none --report "$WORK/e"
[ -s "$WORK/e/report.html" ] && [ -z "$(outside_refs "$WORK/e/report.html")" ] && ok \
    || fail "experiment writes a self-contained report.html"

# experiment makes maps only when asked, through the backbones extract.json records.
expect 0 "experiment --explain-errors" -- "$BIN" --seed 7 experiment --features "$WORK/r/features" --protocol grouped \
    --folds 3 --latent none --explain-errors 1 --report "$WORK/g"
grep -qE 'aria-label="occlusion map"|No occlusion maps: .* got every original view right' "$WORK/g/report.html" && ok \
    || fail "experiment --explain-errors: a map or the reason for none"
grep -q 'aria-label="occlusion map"' "$WORK/e/report.html" && fail "experiment made maps unasked" || ok
if grep -q 'aria-label="occlusion map"' "$WORK/g/report.html"; then
    expect 1 "maps with backbones absent" -- "$BIN" --seed 7 experiment --features "$WORK/r/features" \
        --protocol grouped --folds 3 --latent none --explain-errors 1 --backbone-dir "$WORK/none" --report "$WORK/g2"
    stderr_has "googlenet-bvlc.onnx does not exist" "the missing backbone is named"
fi

# Two --data fused, one a manifest naming patients: the per-source and per-group tables of
# results.json appear in report.html too; a run with neither (above) shows no such section.
{
    echo "path,label,class,group"
    for c in Benign Pre; do
        ls "$ARIA/$c" | sed -n 60,67p | awk -v a="$ARIA/$c" -v c="$c" -v l=$([ $c = Pre ] && echo 1 || echo 0) \
            '{print a "/" $0 "," l "," c ",p" c int((NR - 1) / 2)}'
    done
} >"$WORK/manifest.csv"
expect 0 "extract two sources" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" --data "$WORK/manifest.csv" \
    --cache "$WORK/cache" --out "$WORK/f2"
expect 0 "experiment on two sources" -- "$BIN" --seed 7 experiment --features "$WORK/f2" --protocol grouped \
    --folds 3 --latent none --report "$WORK/s"
S="$WORK/s/report.html"
grep -q '"sources"' "$WORK/s/results.json" && grep -q '"per_group"' "$WORK/s/results.json" && ok \
    || fail "results.json has sources and per_group"
grep -q '<h3 id="sources-grouped">Per source, grouped protocol' "$S" \
    && grep -q "manifest AC %<br>16 images (8 ALL)" "$S" && ok || fail "report.html shows the per-source table"
grep -qE "<p class=\"note\">8 groups named by the manifest" "$S" && ok || fail "report.html shows the per-group table"
grep -q 'id="breakdown"' "$WORK/e/report.html" && fail "a per-source section with one --data and no manifest" || ok

if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium absent: report.html not rendered (Debian package chromium)"
else
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" \
        --screenshot="$WORK/shot.png" --window-size=1200,2000 "file://$H" >"$WORK/chrome.log" 2>&1
    [ -s "$WORK/shot.png" ] && ok || { fail "chromium wrote no screenshot"; tail -3 "$WORK/chrome.log"; }
    # Not blank: the page has ink (deviation well above a flat colour's) in its top part too.
    dev=$(vips deviate "$WORK/shot.png" 2>/dev/null || echo 0)
    vips crop "$WORK/shot.png" "$WORK/top.png" 0 0 1200 300 2>/dev/null
    top=$(vips deviate "$WORK/top.png" 2>/dev/null || echo 0)
    awk -v d="$dev" -v t="$top" 'BEGIN {exit !(d > 10 && t > 5)}' && ok \
        || fail "the rendering is blank (deviation $dev, top $top)"
fi
finish
