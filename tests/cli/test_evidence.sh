#!/usr/bin/env bash
# The evidence a study adds beside its metrics, on a synthetic feature folder (no models needed):
# images whose label is encoded in their size only (ALL 64×48, healthy 48×64, all black), deep
# "features" that are pure noise, two --data sources, and manifest-named patients of two images
# each. The shortcut audit must flag the size baseline (AUC 1) in results.json, on stderr and in
# words in evidence.md, and not the mean colour (identical for all); predictions.csv gains the
# probability column; calibration, per-source and per-group results are written.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
command -v vips >/dev/null || { echo "SKIP: the vips command (libvips-tools) is absent"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: $PY absent"; exit 77; }

mkdir -p "$WORK/data" "$WORK/feat"
echo "id,path,label,class,group,view,source" >"$WORK/feat/index.csv"
for i in $(seq 0 39); do
    lab=$((i % 2))
    if [ $lab = 1 ]; then w=64 h=48 cls=ALL; else w=48 h=64 cls=healthy; fi
    f="$WORK/data/img$i.png"
    vips black "$f" $w $h --bands 3 || fail "vips black"
    # patients of two images with one label: rows i and i+2 share patient-(i/4*2 + i%2)
    echo "$i,$f,$lab,$cls,patient-$(( i / 4 * 2 + lab )),original,$(( i / 20 ))" >>"$WORK/feat/index.csv"
done
# 40 × 8 float32 noise in .npy format 1.0, written with the standard library only
"$PY" - "$WORK/feat/noise.npy" <<'PY' || fail "write noise.npy"
import random, struct, sys
random.seed(5)
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (40, 8), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<320f", *[random.gauss(0, 1) for _ in range(320)]))
PY

expect 0 "experiment" -- "$BIN" --seed 3 experiment --features "$WORK/feat" --protocol grouped --latent none \
    --folds 4 --report "$WORK/rep"
stderr_has "warning: shortcut audit (grouped protocol): size (image width and height) alone reaches AC 100.0 %, AUC 1.000" \
    "size shortcut warned on stderr"
grep -q "mean_rgb (" "$WORK/err" && fail "mean colour is identical: no warning expected" || ok
grep -qF "**Warning: possible shortcut.** A classifier that sees only the image width and height reaches AC 100.0 %" \
    "$WORK/rep/evidence.md" && ok || fail "evidence.md warns in words"
grep -qF "## Per source (grouped protocol)" "$WORK/rep/evidence.md" && ok || fail "per-source section"
grep -qF "## Per group (grouped protocol)" "$WORK/rep/evidence.md" && ok || fail "per-group section"
head -1 "$WORK/rep/predictions.csv" | grep -qx "id,experiment,fold,label,decision,predicted,probability" && ok \
    || fail "predictions.csv header"
for f in reliability coverage; do [ -s "$WORK/rep/figures/$f.svg" ] && ok || fail "figures/$f.svg written"; done

"$PY" - "$WORK/rep/results.json" "$WORK/rep/predictions.csv" <<'PY' && ok || fail "results.json evidence"
import csv, json, math, sys
r = json.load(open(sys.argv[1]))
sc = {s["name"]: s for s in r["shortcuts"]}
assert set(sc) == {"size", "bytes_per_pixel", "mean_rgb", "colour_histogram", "source"}, sorted(sc)  # no JPEG here
assert sc["size"]["auc"] == 1 and sc["size"]["ac"] == 1 and sc["size"]["warning"] is True, sc["size"]
# every image is black: mean colour and histogram are constant, so those baselines are not fitted
# and call each fold its training majority (AUC 0.5), never warning
for k in ("mean_rgb", "colour_histogram"):
    assert sc[k]["constant"] is True and sc[k]["warning"] is False and sc[k]["auc"] == 0.5, sc[k]
assert sc["size"]["constant"] is False
# sources 0 and 1 hold 10 ALL + 10 healthy each: the source says nothing
assert sc["source"]["warning"] is False, sc["source"]
assert [s["images"] for s in r["sources"]] == [20, 20] and [s["positives"] for s in r["sources"]] == [10, 10]
g = r["per_group"]
assert g["count"] == 20 and g["mixed_label_groups"] == 0, g
m = g["experiments"][0]["metrics"]
assert m["tp"] + m["fn"] == 10 and m["tn"] + m["fp"] == 10, m
c = r["experiments"][0]["calibration"]
assert c["n"] == 40 and len(c["bins"]) == 10 and sum(b["n"] for b in c["bins"]) == 40
assert [round(p["abstain"], 2) for p in c["coverage"]] == [0.05 * k for k in range(1, 10)] or \
       [p["abstain"] for p in c["coverage"]] == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
# the counts agree with predictions.csv's probabilities
p = [float(row["probability"]) for row in csv.DictReader(open(sys.argv[2]))]
assert len(p) == 40 and all(0 < x < 1 for x in p)
for pt in c["coverage"]:
    P = pt["abstain"]
    assert pt["set_aside"] == sum(P <= x <= 1 - P for x in p), (P, pt)
brier = sum((x - (i % 2)) ** 2 for i, x in enumerate(p)) / 40
assert math.isclose(c["brier"], brier, rel_tol=1e-6), (c["brier"], brier)
PY

# Same seed, byte-identical results (the audit is seeded too).
expect 0 "experiment again" -- "$BIN" --seed 3 experiment --features "$WORK/feat" --protocol grouped --latent none \
    --folds 4 --report "$WORK/rep2"
cmp -s "$WORK/rep/results.json" "$WORK/rep2/results.json" && ok || fail "same seed, same results.json"

# Images gone: the audit is skipped with a warning, the study still runs.
mv "$WORK/data" "$WORK/moved"
expect 0 "experiment without the images" -- "$BIN" experiment --features "$WORK/feat" --protocol grouped \
    --latent none --folds 4 --report "$WORK/rep3"
stderr_has "shortcut audit skipped" "skip announced"
grep -q '"shortcuts": \[\]' "$WORK/rep3/results.json" && ok || fail "no shortcuts in results.json"

# An index.csv from before the source column still loads (every image source 0: no source baseline).
mv "$WORK/moved" "$WORK/data"
cut -d, -f1-6 "$WORK/feat/index.csv" >"$WORK/old.csv" && mv "$WORK/old.csv" "$WORK/feat/index.csv"
expect 0 "experiment on an old index" -- "$BIN" experiment --features "$WORK/feat" --protocol grouped \
    --latent none --folds 4 --report "$WORK/rep4"
grep -q '"name": "source"' "$WORK/rep4/results.json" && fail "one source: no source baseline" || ok

finish
