#!/usr/bin/env bash
# `blastscan cells` end to end: usage errors and --help documenting every flag; detection on
# BCCD fields compared with boxes.csv (and the same cells as points, bare names and .xyc);
# JSON, CSV and table shapes; overlays; hostile inputs (blank, 1x1, grey, all-violet,
# unreadable, bad truth files) giving a result or a clear message; --crops writing a cell
# dataset whose manifest lists every crop with its source's label, class and group; and with
# GoogLeNet a small cell model classifying every cell, the C library (examples/cells) agreeing.
. "$(dirname "$0")/../cli/lib.sh"

BCCD="$ASSETS/data/bccd"
MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
CELLS_EXAMPLE="$(dirname "$BIN")/examples/cells"
if [ ! -f "$BCCD/boxes.csv" ]; then echo "SKIP: $BCCD/boxes.csv absent"; exit 77; fi
PY=/usr/bin/python3

# --help documents every long option the command accepts.
expect 0 "cells --help" -- "$BIN" cells --help
cp "$WORK/out" "$WORK/help"
for flag in --model --backbone-dir --format --overlay --truth --evaluation --cell-size --batch \
    --min-probability --min-blasts --no-normalise --crops --crop-format --sample --data \
    --positive --on-error --near-duplicates --boxes --label --class --out; do
    grep -qF -- "$flag" "$WORK/help" && ok || fail "--help lacks $flag"
done
grep -qF "cells" <("$BIN" --help 2>&1) && ok || fail "cells listed in blastscan --help"

# Usage errors: exit 2 with a reason.
expect 2 "no images" -- "$BIN" cells
expect 2 "bad --format" -- "$BIN" cells --format xml "$BCCD/images"
expect 2 "--evaluation without --truth" -- "$BIN" cells --evaluation "$WORK/e.json" "$BCCD/images"
stderr_has "--evaluation needs --truth" "evaluation usage message"
expect 2 "--cell-size 0" -- "$BIN" cells --cell-size 0 "$BCCD/images"
expect 2 "--min-probability 2" -- "$BIN" cells --min-probability 2 "$BCCD/images"
expect 2 "--crops without --data" -- "$BIN" cells --crops "$WORK/c"
expect 2 "--data without --crops" -- "$BIN" cells --data "$BCCD/images"
expect 2 "--boxes without --crops" -- "$BIN" cells --boxes "$BCCD/boxes.csv" "$BCCD/images"
expect 2 "--label without --boxes" -- "$BIN" cells --crops "$WORK/c" --data "$BCCD/images" --label 0
expect 2 "--boxes with --data" -- "$BIN" cells --crops "$WORK/c" --boxes "$BCCD/boxes.csv" --data "$BCCD/images"
expect 2 "bad --label" -- "$BIN" cells --crops "$WORK/c" --boxes "$BCCD/boxes.csv" --label maybe
expect 2 "geojson without --out" -- "$BIN" cells --format geojson "$BCCD/images"
expect 2 "--out without an export format" -- "$BIN" cells --out "$WORK/o" "$BCCD/images"
expect 2 "unknown option" -- "$BIN" cells --frobnicate "$BCCD/images"

# Ten BCCD fields (one white cell each, many red cells), compared with the boxes.
mkdir -p "$WORK/bccd"
ls "$BCCD/images" | head -10 | while read -r f; do ln -s "$BCCD/images/$f" "$WORK/bccd/$f"; done
expect 0 "detect with --truth" -- "$BIN" cells --truth "$BCCD/boxes.csv" --evaluation "$WORK/eval.json" \
    --overlay "$WORK/overlay" "$WORK/bccd"
stderr_has "compared 10 annotated images (0 not annotated)" "all ten found in boxes.csv through the symlinks"
stderr_has "detection: tp" "detection summary printed"
"$PY" - "$WORK/eval.json" <<'EOF' && ok || fail "evaluation JSON shape and recall"
import json, sys
e = json.load(open(sys.argv[1]))
d = e["detection"]
assert set(d) == {"tp", "fp", "fn", "precision", "recall", "f1"}, d
assert d["tp"] + d["fn"] == 10, d          # the ten annotated white cells
assert d["recall"] >= 0.9 and d["precision"] >= 0.7, d
assert e["blasts"] is None and e["count_mae"] is None and len(e["per_image"]) == 10
EOF
[ "$(ls "$WORK/overlay"/*.png 2>/dev/null | wc -l)" = 10 ] && ok || fail "ten overlays written"
if command -v vipsheader >/dev/null; then
    [ "$(vipsheader -f width "$WORK/overlay/BloodImage_00000.png")" = 640 ] && ok || fail "overlay keeps the field's size"
fi

# The same cells as a points CSV with bare names, and as .xyc files beside copies.
"$PY" - "$BCCD/boxes.csv" "$WORK/points.csv" "$WORK/bccd" <<'EOF'
import csv, os, sys
names = set(os.listdir(sys.argv[3]))
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    out.write("image,x,y,class\n")
    for r in csv.DictReader(f):
        name = os.path.basename(r["image"])
        if name in names and r["class"] == "WBC":
            x, y = (int(r["xmin"]) + int(r["xmax"])) / 2, (int(r["ymin"]) + int(r["ymax"])) / 2
            out.write(f"{name},{x},{y},lymphoblast\n")
            out.write(f"{name},1,1,RBC\n")
EOF
expect 0 "points truth" -- "$BIN" cells --truth "$WORK/points.csv" --evaluation "$WORK/eval-points.json" "$WORK/bccd"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1]))['detection']; assert d['tp']+d['fn']==10 and d['recall']>=0.9, d" \
    "$WORK/eval-points.json" && ok || fail "points: ten white cells, recall"
mkdir -p "$WORK/xyc"
cp "$WORK/bccd/BloodImage_00000.jpg" "$WORK/xyc/Im001_1.jpg"
grep "BloodImage_00000.jpg,[0-9.]*,[0-9.]*,lymph" "$WORK/points.csv" | cut -d, -f2,3 | tr , ' ' >"$WORK/xyc/Im001_1.xyc"
cp "$WORK/bccd/BloodImage_00001.jpg" "$WORK/xyc/Im002_0.jpg" # no .xyc: not annotated
expect 0 "xyc truth" -- "$BIN" cells --truth xyc --evaluation "$WORK/eval-xyc.json" "$WORK/xyc"
stderr_has "not in the annotations" "image without .xyc reported"
stderr_has "precision undefined" "xyc: only blasts annotated"
"$PY" -c "import json,sys; e=json.load(open(sys.argv[1])); d=e['detection']; assert d['tp']==1 and d['fp'] is None and d['precision'] is None and e['images']==1, e" \
    "$WORK/eval-xyc.json" && ok || fail "xyc evaluation"
# ALL-IDB1 as published: im/STEM.jpg with xyc/STEM.xyc in a sibling folder.
mkdir -p "$WORK/allidb1/im" "$WORK/allidb1/xyc"
cp "$WORK/xyc/Im001_1.jpg" "$WORK/allidb1/im/"
cp "$WORK/xyc/Im001_1.xyc" "$WORK/allidb1/xyc/"
expect 0 "xyc truth, sibling folder" -- "$BIN" cells --truth xyc --evaluation "$WORK/eval-xyc2.json" "$WORK/allidb1/im"
"$PY" -c "import json,sys; e=json.load(open(sys.argv[1])); d=e['detection']; assert d['tp']==1 and e['images']==1, e" \
    "$WORK/eval-xyc2.json" && ok || fail "xyc in a sibling xyc/ folder"
grep -q "sibling xyc/ folder" "$WORK/help" && ok || fail "--help says where .xyc files are looked for"

# Formats.
expect 0 "json" -- "$BIN" cells --format json "$WORK/bccd"
"$PY" - "$WORK/out" <<'EOF' && ok || fail "JSON: one object per image with a cells array"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 10
for l in lines:
    o = json.loads(l)
    assert o["white_cells"] == len(o["cells"]) and o["call"] is None and o["width"] == 640
    for c in o["cells"]:
        assert c["x0"] <= c["x"] < c["x1"] and c["y0"] <= c["y"] < c["y1"] and c["area"] > 0
EOF
cp "$WORK/out" "$WORK/cells.json"
expect 0 "csv" -- "$BIN" cells --format csv "$WORK/bccd"
[ "$(head -1 "$WORK/out")" = "path,cell,x,y,x0,y0,x1,y1,area,edge,class,decision,probability,out_of_distribution" ] && ok \
    || fail "CSV header"
cells=$("$PY" -c "import json,sys; print(sum(json.loads(l)['white_cells'] for l in open(sys.argv[1])))" "$WORK/cells.json")
[ "$(($(wc -l <"$WORK/out") - 1))" = "$cells" ] && ok || fail "CSV: one row per cell ($cells)"
awk -F, 'NR > 1 && NF != 14 { bad = 1 } END { exit bad }' "$WORK/out" && ok || fail "CSV: 14 fields per row"

# Exports other tools read: GeoJSON per field (QuPath), COCO for the batch; read back by Python.
expect 0 "geojson" -- "$BIN" cells --format geojson --out "$WORK/geojson" "$WORK/bccd"
expect 0 "coco" -- "$BIN" cells --format coco --out "$WORK/coco.json" "$WORK/bccd"
expect 0 "csv for the exports" -- "$BIN" cells --format csv "$WORK/bccd"
cp "$WORK/out" "$WORK/export-cells.csv"
check_exports() { # $1 geojson folder, $2 coco file, $3 cells csv, $4 class names ("" without a model)
    "$PY" - "$@" <<'EOF'
import csv, json, os, sys
gdir, coco_path, cells_csv, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
cells = list(csv.DictReader(open(cells_csv)))
classes = names.split(",") if names else ["white cell"]
n = 0
for f in sorted(os.listdir(gdir)):
    g = json.load(open(os.path.join(gdir, f)))
    assert g["type"] == "FeatureCollection" and isinstance(g["features"], list)
    for ft in g["features"]:
        assert ft["type"] == "Feature" and ft["geometry"]["type"] == "Polygon"
        ring = ft["geometry"]["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1] and all(len(p) == 2 for p in ring)
        p = ft["properties"]
        assert p["objectType"] == "detection" and p["classification"]["name"] in classes
        assert len(p["classification"]["color"]) == 3 and p["class"] == p["classification"]["name"]
        assert isinstance(p["measurements"], dict) and p["measurements"]["nucleus area px"] > 0
        assert (p["probability"] is None) == (not names)
        n += 1
assert n == len(cells), (n, len(cells))
c = json.load(open(coco_path))
for key, typ in (("images", list), ("annotations", list), ("categories", list), ("info", dict)):
    assert isinstance(c[key], typ), key
assert [k["name"] for k in c["categories"]] == classes
ids = {i["id"] for i in c["images"]}
assert len(ids) == len(c["images"]) == len({r["path"] for r in cells})
for i in c["images"]:
    assert isinstance(i["file_name"], str) and i["width"] > 0 and i["height"] > 0
assert len(c["annotations"]) == len(cells)
cats = {k["id"] for k in c["categories"]}
for a, r in zip(sorted(c["annotations"], key=lambda a: a["id"]), cells):
    assert a["image_id"] in ids and a["category_id"] in cats and a["iscrowd"] == 0
    x, y, w, h = a["bbox"]
    assert [x, y, x + w, y + h] == [int(r[k]) for k in ("x0", "y0", "x1", "y1")], (a, r)
    assert a["area"] == w * h and len(a["segmentation"][0]) == 8
    assert ("score" in a) == bool(names)
    if names:
        assert classes[a["category_id"] - 1] == r["class"] and abs(a["score"] - float(r["probability"])) < 1e-9
try:
    from pycocotools.coco import COCO   # when Debian's python3-pycocotools is installed
    COCO(coco_path).getAnnIds()
except ImportError:
    pass
EOF
}
check_exports "$WORK/geojson" "$WORK/coco.json" "$WORK/export-cells.csv" "" && ok || fail "GeoJSON and COCO read back"

# Bad truth files: exit 1, the file named.

printf 'path,label\na.jpg,1\n' >"$WORK/bad1.csv"
printf 'image,x,y\nBloodImage_00000.jpg,12,notanumber\n' >"$WORK/bad2.csv"
for t in bad1 bad2; do
    expect 1 "truth $t" -- "$BIN" cells --truth "$WORK/$t.csv" "$WORK/bccd"
    stderr_has "$WORK/$t.csv" "truth $t named"
done
expect 1 "missing truth file" -- "$BIN" cells --truth "$WORK/none.csv" "$WORK/bccd"

# Hostile images: a result (zero cells is one) or a clear message; no sanitizer report.
mkdir -p "$WORK/odd"
printf 'not an image' >"$WORK/odd/unreadable.jpg"
expect 1 "an unreadable image" -- "$BIN" cells --format json "$WORK/odd/unreadable.jpg" "$WORK/bccd/BloodImage_00000.jpg"
stderr_has "unreadable.jpg" "unreadable image named"
grep -qF "BloodImage_00000.jpg" "$WORK/out" && ok || fail "the readable image still processed"
if command -v vips >/dev/null; then
    vips black "$WORK/b.v" 64 64 --bands 3 && vips linear "$WORK/b.v" "$WORK/odd/white.png" 1 255 --uchar
    vips black "$WORK/odd/one.png" 1 1 --bands 3
    vips grey "$WORK/odd/grey.png" 300 200 --uchar
    vips black "$WORK/v.v" 200 200 --bands 3 && vips linear "$WORK/v.v" "$WORK/odd/violet.png" "1 1 1" "120 40 180" --uchar
    for f in white one grey violet; do
        expect 0 "$f image" -- "$BIN" cells --format json --overlay "$WORK/odd-overlay" "$WORK/odd/$f.png"
        "$PY" -c "import json,sys; o=json.loads(open(sys.argv[1]).read()); assert o['white_cells']==len(o['cells'])" "$WORK/out" \
            && ok || fail "$f: one JSON object"
    done
    expect 0 "blank field has no cell" -- "$BIN" cells --format json "$WORK/odd/white.png"
    stdout_has '"white_cells": 0' "no cells on a blank field"
else
    echo "SKIP: vips (libvips-tools) absent: synthetic images not made"
fi

# --crops: a two-class folder dataset of four fields.
mkdir -p "$WORK/ds/healthy" "$WORK/ds/sick"
ln -s "$BCCD/images/BloodImage_00000.jpg" "$WORK/ds/healthy/a.jpg"
ln -s "$BCCD/images/BloodImage_00001.jpg" "$WORK/ds/healthy/b.jpg"
ln -s "$BCCD/images/BloodImage_00002.jpg" "$WORK/ds/sick/c.jpg"
ln -s "$BCCD/images/BloodImage_00003.jpg" "$WORK/ds/sick/d.jpg"
expect 0 "crops" -- "$BIN" cells --crops "$WORK/crops" --data "$WORK/ds" --near-duplicates off
stderr_has "from 4 images" "crops summary"
"$PY" - "$WORK/crops" "$WORK/ds" <<'EOF' && ok || fail "manifest lists every crop with its source's label, class and group"
import csv, os, sys
root = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(root, "manifest.csv"))))
assert rows and list(rows[0]) == ["path", "label", "class", "group", "source", "field", "x0", "y0",
                                  "x1", "y1", "cell_px", "red_cell_px", "normalised"]
files = {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs if f.endswith(".png")}
assert files == {r["path"] for r in rows}, (files, rows)
for r in rows:
    assert (r["class"], r["label"]) in {("healthy", "0"), ("sick", "1")}, r
    assert r["path"].startswith(r["class"] + "/")
    assert os.path.basename(r["group"])[0] in "abcd"   # the source image
    assert r["source"] == "ds" and r["normalised"] == "1"   # the --data folder's name
    assert os.path.basename(r["field"])[0] in "abcd" and float(r["cell_px"]) > 0
    assert 0 <= int(r["x0"]) < int(r["x1"]) and 0 <= int(r["y0"]) < int(r["y1"])
EOF

# --crops --boxes: the boxed white cells of annotated fields, labelled as the user says.
head -1 "$BCCD/boxes.csv" >"$WORK/boxes4.csv"
grep -E '^images/BloodImage_0000[0-3]\.jpg,' "$BCCD/boxes.csv" | sed "s|^images/|$BCCD/images/|" >>"$WORK/boxes4.csv"
expect 1 "--boxes whose white cells carry no label" -- "$BIN" cells --crops "$WORK/bcrops" --boxes "$WORK/boxes4.csv"
stderr_has "--label" "the missing label is named"
expect 0 "crops from boxes" -- "$BIN" cells --crops "$WORK/bcrops" --boxes "$WORK/boxes4.csv" --label non-blast
"$PY" - "$WORK/bcrops" "$WORK/boxes4.csv" <<'EOF' && ok || fail "a crop per boxed white cell, labelled non-blast"
import csv, os, sys
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "manifest.csv"))))
boxes = [b for b in csv.DictReader(open(sys.argv[2])) if b["class"] == "WBC"]
assert len(rows) == len(boxes) > 0, (len(rows), len(boxes))
for r in rows:
    assert (r["label"], r["class"]) == ("0", "non-blast") and r["group"] == r["field"], r
    assert os.path.isfile(os.path.join(sys.argv[1], r["path"]))
    assert any(abs(int(r["x0"]) - int(b["xmin"])) <= 1 and abs(int(r["y1"]) - int(b["ymax"])) <= 1
               and os.path.samefile(r["field"], b["image"]) for b in boxes), r
EOF
TXL="$ASSETS/data/txlpbc-train"
if [ -d "$TXL/labels" ]; then
    # YOLO labels (a copy of three), the images found in ../images, sources from sources.csv
    mkdir -p "$WORK/txl/labels" "$WORK/txl/images"
    cp "$TXL/classes.txt" "$TXL/sources.csv" "$WORK/txl/"
    ls "$TXL/labels" | grep -v classes | head -3 | while read -r f; do
        cp "$TXL/labels/$f" "$WORK/txl/labels/"
        ln -s "$TXL/images/${f%.txt}.jpg" "$WORK/txl/images/${f%.txt}.jpg"
    done
    expect 0 "crops from YOLO labels" -- "$BIN" cells --crops "$WORK/ycrops" --boxes "$WORK/txl/labels" --label 0 --class other-lab
    "$PY" - "$WORK/ycrops" "$WORK/txl/sources.csv" <<'EOF' && ok || fail "YOLO crops carry sources.csv's source"
import csv, os, sys
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "manifest.csv"))))
src = {os.path.basename(r["image"]): r["source"] for r in csv.DictReader(open(sys.argv[2]))}
assert rows
for r in rows:
    assert r["class"] == "other-lab" and r["source"] == src[os.path.basename(r["field"])], r
EOF
else
    skip "YOLO crops" "$TXL absent"
fi
# A --data manifest's own source column names each crop's source (not the manifest's folder).
printf 'path,label,source\n%s,0,labA\n%s,1,labB\n' "$BCCD/images/BloodImage_00000.jpg" \
    "$BCCD/images/BloodImage_00001.jpg" > "$WORK/sources-manifest.csv"
expect 0 "crops from a manifest with sources" -- "$BIN" cells --crops "$WORK/crops-src" \
    --data "$WORK/sources-manifest.csv" --near-duplicates off
"$PY" - "$WORK/crops-src/manifest.csv" <<'EOF' && ok || fail "crops carry the manifest's source names"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert {r["source"] for r in rows} == {"labA", "labB"}, rows
for r in rows:
    assert r["source"] == ("labA" if r["label"] == "0" else "labB"), r
EOF
expect 0 "crops as jpeg without normalisation" -- "$BIN" cells --crops "$WORK/crops-jpg" --crop-format jpeg \
    --no-normalise --data "$WORK/ds" --near-duplicates off
stderr_has "as photographed" "no normalisation reported"
ls "$WORK/crops-jpg"/*/*.jpg >/dev/null 2>&1 && ok || fail "JPEG crops written"

# With a model: a tiny cell model (GoogLeNet, crops of 6 Aria fields) classifies every cell.
if [ -f "$MODEL" ] && [ -d "$ARIA" ]; then
    small_cell_model "$WORK"
    expect 0 "classify cells" -- "$BIN" cells --model "$WORK/cells.blastscan" --backbone-dir "$WORK/models" \
        --format json --overlay "$WORK/model-overlay" "$WORK/bccd/BloodImage_00000.jpg" "$WORK/aria/Pro"
    "$PY" - "$WORK/out" <<'EOF' && ok || fail "every cell classified; counts and call consistent"
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    cells = o["cells"]
    assert o["blasts"] == sum(c["label"] for c in cells)
    assert all(c["class"] in ("ALL", "healthy") and 0 <= c["probability"] <= 1 for c in cells)
    assert isinstance(cells[0]["out_of_distribution"], bool)
    conf = sum(1 for c in cells if c["label"] == 1 and c["probability"] >= 0.9 and not c["out_of_distribution"])
    assert o["confident_blasts"] == conf
    assert o["call"] == ("ALL suspected" if conf >= 1 else "no confident blast")
    lo, hi = o["blast_percent_ci95"]
    assert lo <= o["blast_percent"] <= hi
EOF
    cp "$WORK/out" "$WORK/model.json"
    for f in geojson coco csv; do
        out="$WORK/m-$f"
        [ "$f" = coco ] && out="$WORK/m-coco.json"
        [ "$f" = csv ] && out=""
        expect 0 "$f with a model" -- "$BIN" cells --model "$WORK/cells.blastscan" --backbone-dir "$WORK/models" \
            --format "$f" ${out:+--out "$out"} "$WORK/bccd/BloodImage_00000.jpg" "$WORK/aria/Pro"
    done
    cp "$WORK/out" "$WORK/m-cells.csv"
    check_exports "$WORK/m-geojson" "$WORK/m-coco.json" "$WORK/m-cells.csv" "healthy,ALL" && ok ||
        fail "GeoJSON and COCO with the model's classes and probabilities"

    expect 0 "table with a model" -- "$BIN" cells --model "$WORK/cells.blastscan" --backbone-dir "$WORK/models" \
        --min-probability 0 "$WORK/aria/Pro"
    stdout_has "ALL suspected" "--min-probability 0 makes any blast confident"
    if [ -x "$CELLS_EXAMPLE" ]; then
        expect 0 "examples/cells" -- "$CELLS_EXAMPLE" "$WORK/cells.blastscan" "$WORK/models" "$WORK/bccd/BloodImage_00000.jpg"
        n=$("$PY" -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['white_cells'])" "$WORK/model.json")
        [ "$(grep -c ' cell [0-9]* at ' "$WORK/out")" = "$n" ] && ok || fail "the library finds the CLI's $n cells"
        p_cli=$("$PY" -c "import json,sys; print('%.4f' % json.loads(open(sys.argv[1]).readline())['cells'][0]['probability'])" "$WORK/model.json")
        grep -q "cell 0 at .* p=$p_cli" "$WORK/out" && ok || fail "the library's first probability is the CLI's ($p_cli)"
    else
        fail "examples/cells not built at $CELLS_EXAMPLE"
    fi
    expect 1 "a missing backbone folder" -- "$BIN" cells --model "$WORK/cells.blastscan" --backbone-dir "$WORK/nope" "$WORK/bccd"
    stderr_has "not found" "missing backbone reported"
else
    echo "SKIP: $MODEL or $ARIA absent: classification not tested"
fi
finish
