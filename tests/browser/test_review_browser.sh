#!/usr/bin/env bash
# The review page (`blastscan cells --review`) in a real browser: a small cell model (GoogLeNet,
# crops of 6 Aria fields) classifies 6 BCCD fields and 2 Aria fields, one of them under a path
# holding quotes, a comma and "</script>"; review.test.js opens the page and a page without a
# model from disk in headless Chromium (puppeteer-core from tests/browser/node_modules), checks
# nothing outside the page is requested, reclassifies cells with the keys, checks the counts and
# both exported CSVs against the C command's own numbers, and takes a screenshot that is checked
# here not to be blank. REVIEW_SCREENSHOT=FILE keeps a copy of it (docs/review-page.png).
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
BCCD="$ASSETS/data/bccd"
need "$BCCD/images" "$MODEL" "$ARIA"
[ -x /usr/bin/chromium ] || skip_all "/usr/bin/chromium absent (Debian package chromium)"
command -v node >/dev/null || skip_all "node absent (Debian package nodejs)"
[ -f "$HERE/node_modules/puppeteer-core/package.json" ] ||
    skip_all "tests/browser/node_modules absent: run 'npm ci' in tests/browser"
WILSON=${REVIEW_WILSON:?REVIEW_WILSON must name the review_wilson helper}
start=$(date +%s)

# The fields: BCCD (one white cell each, healthy donors) and two Aria fields.
odd="$WORK/fields/lab \"q\", <"
mkdir -p "$WORK/fields/bccd" "$odd"
ls "$BCCD/images" | head -6 | while read -r f; do ln -s "$BCCD/images/$f" "$WORK/fields/bccd/$f"; done
ln -s "$ARIA/Pro/$(ls "$ARIA/Pro" | sed -n 10p)" "$odd/script> x,y's.jpg"
ln -s "$ARIA/Benign/$(ls "$ARIA/Benign" | sed -n 10p)" "$WORK/fields/benign.jpg"
small_cell_model "$WORK/small"

# The pages, and the command's own numbers for the same fields (the test's expected values).
cd "$WORK" || exit 1 # a relative argument: the page names fields by their absolute paths
expect 0 "cells --review with a model" -- "$BIN" cells --model small/cells.blastscan --backbone-dir small/models \
    --format json --review page.html fields
cp "$WORK/out" "$WORK/cells.json"
expect 0 "cells --review without a model" -- "$BIN" cells --format json --review plain.html fields/bccd
cp "$WORK/out" "$WORK/plain.json"
echo "page: $(stat -c %s page.html) bytes, $(grep -c '"x0"' page.html) cells; $(($(date +%s) - start)) s so far"

mkdir -p "$WORK/downloads"
t0=$(date +%s)
node "$HERE/review.test.js" "$WORK/page.html" "$WORK/cells.json" "$WORK/plain.html" "$WORK/plain.json" \
    "$WORK/downloads" "$WORK/shot.png" "$WILSON" >"$WORK/node.log" 2>&1
rc=$?
grep -v '^FAIL' "$WORK/node.log" | tail -3
grep '^FAIL' "$WORK/node.log" | while read -r l; do fail "${l#FAIL: }"; done
[ "$rc" = 0 ] && ok || fail "review.test.js exited $rc"
echo "browser part: $(($(date +%s) - t0)) s"

# The screenshot is not blank: ink overall and in the thumbnails' column.
if [ -s "$WORK/shot.png" ]; then
    dev=$(vips deviate "$WORK/shot.png")
    vips crop "$WORK/shot.png" "$WORK/grid.png" 240 130 700 300
    grid=$(vips deviate "$WORK/grid.png")
    awk -v d="$dev" -v g="$grid" 'BEGIN {exit !(d > 20 && g > 20)}' && ok ||
        fail "the screenshot is blank (deviation $dev, thumbnails $grid)"
    if [ -n "${REVIEW_SCREENSHOT:-}" ]; then
        vips thumbnail "$WORK/shot.png" "$REVIEW_SCREENSHOT[palette,compression=9]" 1000 &&
            echo "screenshot: $REVIEW_SCREENSHOT"
    fi
else
    fail "no screenshot"
fi
echo "total: $(($(date +%s) - start)) s"
finish
