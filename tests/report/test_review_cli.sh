#!/usr/bin/env bash
# `blastscan cells --review OUT.html` on bad input, without a browser (tests/browser drives the
# page itself): an unwritable OUT.html fails before any image is analysed, with the path named,
# exit 1 and nothing written; --review with --crops is a usage error; a blank field (zero cells),
# a 1x1 image and a path holding quotes, a comma and "</script>" each give a page whose JSON
# blocks all parse, whose only script ends are the page's own and which references nothing
# outside itself; an unreadable image among readable ones still gives the page of the others,
# with exit 1. With ../shared, a BCCD field shows its white cell.
. "$(dirname "$0")/../cli/lib.sh"
command -v vips >/dev/null || skip_all "vips (libvips-tools) absent: no synthetic images"
PY=/usr/bin/python3

expect 0 "cells --help" -- "$BIN" cells --help
stdout_has "--review OUT.html" "--help documents --review"

# Unwritable places: exit 1, the path named, nothing analysed, nothing written.
printf 'x' >"$WORK/afile"
vips black "$WORK/b.v" 64 48 --bands 3 && vips linear "$WORK/b.v" "$WORK/white.png" 1 255 --uchar
for out in "$WORK/no/such/folder/page.html" "$WORK/afile/page.html"; do
    expect 1 "unwritable $out" -- "$BIN" cells --review "$out" "$WORK/white.png"
    stderr_has "$out" "the unwritable page is named"
    [ ! -s "$WORK/out" ] && ok || fail "nothing analysed before the page could be opened"
done
[ "$(find "$WORK" -name '*.tmp.*' | wc -l)" = 0 ] && ok || fail "no temporary file left behind"
expect 2 "--review with --crops" -- "$BIN" cells --crops "$WORK/c" --review "$WORK/p.html" --data "$WORK"
stderr_has "--review" "usage message names --review"

# Odd inputs: a blank field, a 1x1 image, a path with quotes, a comma and </script>.
odd="$WORK/in/lab \"q\", <"
mkdir -p "$odd"
cp "$WORK/white.png" "$WORK/in/blank.png"
vips black "$WORK/in/one.png" 1 1 --bands 3
vips black "$WORK/v.v" 200 150 --bands 3
vips linear "$WORK/v.v" "$odd/script> x,y's.png" "1 1 1" "120 40 180" --uchar
BCCD="$ASSETS/data/bccd/images/BloodImage_00000.jpg"
if [ -f "$BCCD" ]; then ln -s "$BCCD" "$WORK/in/bccd.jpg"; else skip "a BCCD field" "$BCCD absent"; fi
expect 0 "odd inputs" -- "$BIN" cells --review "$WORK/page.html" "$WORK/in"
check_page() { # PAGE FIELDS: the page's blocks parse; the field paths; no outside reference
    "$PY" - "$1" "$2" "$WORK/in" "$BCCD" <<'EOF'
import json, re, sys
page, fields, root, bccd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
html = open(page, encoding="utf-8").read()
blocks = re.findall(r'<script type="application/json"([^>]*)>(.*?)</script>', html, re.S)
data = [json.loads(b) for _, b in blocks]
assert len(blocks) == fields + 2, len(blocks)           # setup, the fields, the batch
assert html.count("</script>") == len(blocks) + 1, "a script element ended early"
assert "<script>" in html and html.rstrip().endswith("</html>")
assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//|url\((https?:)?//|@import', html, re.I)
assert "default-src 'none'" in html
paths = {f["path"]: f for f in data[1:-1]}
odd = root + '/lab "q", </script> x,y\'s.png'
assert odd in paths, list(paths)
assert paths[odd]["source"] == 'lab "q", <'
assert len(paths[root + "/blank.png"]["cells"]) == 0
one = paths[root + "/one.png"]
assert one["width"] == 1 and one["height"] == 1 and one["picture"].startswith("/9j/")
if (root + "/bccd.jpg") in paths and bccd:
    cells = paths[root + "/bccd.jpg"]["cells"]
    assert len(cells) >= 1 and all(c["thumb"].startswith("/9j/") for c in cells)
assert data[0]["model"] is None and data[-1]["white_cells"] == sum(len(f["cells"]) for f in data[1:-1])
EOF
}
n=$(find "$WORK/in" -type f -o -type l | wc -l)
check_page "$WORK/page.html" "$n" && ok || fail "the page of odd inputs"

# An unreadable image: exit 1, the others still on the page.
printf 'not an image' >"$WORK/in/broken.jpg"
expect 1 "an unreadable image" -- "$BIN" cells --review "$WORK/page2.html" "$WORK/in"
stderr_has "broken.jpg" "the unreadable image is named"
check_page "$WORK/page2.html" "$n" && ok || fail "the page of the readable images"
finish
