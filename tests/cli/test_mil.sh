#!/usr/bin/env bash
# experiment --mil on a synthetic multiple-instance feature folder (no models needed): 16 Benign
# fields (groups) of 6 normal cells and 16 ALL fields of 2 "blast" cells (features shifted) and 2
# normal ones, each cell an original and a mirror row (8 x 8 black PNGs). Every fold's
# mi-SVM must converge, keep the blasts positive and relabel the normal cells of ALL fields
# negative; results.json, evidence.md and report.html say so (the report's sample of cells kept
# positive are all blasts); the same seed gives the same results.json; usage errors; a fold
# whose training rows hold no positive bag is a clear error.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY absent"; exit 77; }

# feature folder DIR FIELDS_ALL: index.csv and cells.npy (4 features), rows original + hmirror
make_mil() {
    mkdir -p "$WORK/img" "$1"
    "$PY" - "$1" "$2" "$WORK/img" <<'PY' || fail "write the feature folder"
import random, struct, sys, os, zlib
out, n_all, img = sys.argv[1], int(sys.argv[2]), sys.argv[3]
random.seed(7)
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(b"".join(b"\0" + b"\0" * 24 for _ in range(8))))
       + chunk(b"IEND", b""))
rows, feats = [], []
for field in range(16 + n_all):
    label = 1 if field >= 16 else 0
    for c in range(4 if label else 6):
        blast = label == 1 and c < 2
        name = ("blast" if blast else "cell") + "-f%02d-c%d.png" % (field, c)
        path = os.path.join(img, name)
        if not os.path.exists(path):
            open(path, "wb").write(png)
        base = [random.gauss(3 if blast else 0, 0.7) for _ in range(4)]
        for view in ("original", "hmirror"):
            rows.append((path, label, "ALL" if label else "Benign", "field-%02d" % field, view))
            feats.append([v + (random.gauss(0, 0.2) if view != "original" else 0) for v in base])
with open(os.path.join(out, "index.csv"), "w") as f:
    f.write("id,path,label,class,group,view,source\n")
    for i, r in enumerate(rows):
        f.write("%d,%s,%d,%s,%s,%s,0\n" % ((i,) + r))
n = len(feats)
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 4), }" % n
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(os.path.join(out, "cells.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%df" % (4 * n), *[v for r in feats for v in r]))
PY
}
make_mil "$WORK/feat" 16
RUN=(--protocol grouped --latent none --folds 4)

expect 2 "--mil-rounds without --mil" -- "$BIN" experiment --features "$WORK/feat" "${RUN[@]}" --mil-rounds 3 \
    --report "$WORK/r0"
stderr_has "--mil-rounds needs --mil" "--mil-rounds alone refused"
expect 2 "--mil with --explain-errors" -- "$BIN" experiment --features "$WORK/feat" "${RUN[@]}" --mil \
    --explain-errors 2 --report "$WORK/r0"
expect 1 "--mil with the subtype task" -- "$BIN" experiment --features "$WORK/feat" "${RUN[@]}" --mil \
    --task subtype --report "$WORK/r0"
stderr_has "mi-SVM (multiple-instance labels) needs the binary task" "subtype refused"

expect 0 "experiment --mil" -- "$BIN" --seed 4 experiment --features "$WORK/feat" "${RUN[@]}" --mil \
    --report "$WORK/rep"
stderr_has "mi-SVM: 4 of 4 folds converged" "every fold converged (log line)"
"$PY" - "$WORK/rep/results.json" <<'PY' && ok || fail "results.json: mil member"
import json, sys
r = json.load(open(sys.argv[1]))
m = r["mil"]
assert m["max_rounds"] == 20 and "weak" in m["test_metrics"], m
x = m["experiments"][0]
assert x["name"] == "cells" and len(x["per_fold"]) == 4, x
for f in x["per_fold"]:
    assert f["converged"] and 1 <= f["rounds"] <= 20 and f["changed_last"] == 0, f
    assert f["bags"] == 12 and f["instances"] == 48, f            # 3 of 4 ALL fields train
    assert 23 <= f["positives"] <= 25 and f["per_bag_min"] >= 1, f  # 24 blasts
im = x["images"]
assert im["positive_in_every_fold"] + im["negative_in_every_fold"] + im["mixed"] == 64, im
assert im["positive_in_every_fold"] >= 30 and im["negative_in_every_fold"] >= 30, im
# the test rows are scored against their field's label: a model that finds exactly the blasts
# misses the normal cells of ALL fields, half of them (the weak measure the report warns of)
sn = r["experiments"][0]["pooled"]["sn"]["value"]
assert abs(sn - 0.5) < 0.05, sn
PY
file_has "$WORK/rep/evidence.md" "## Multiple-instance labels (mi-SVM), grouped protocol" "evidence.md section"
"$PY" - "$WORK/rep/report.html" <<'PY' && ok || fail "report.html: both kinds shown, kept positive cells are blasts"
import re, sys
h = open(sys.argv[1]).read()
sec = h[h.index('<section id="mil">'):]
sec = sec[:sec.index("</section>")]
kept, relabelled = sec.split("Relabelled negative")
names_kept = re.findall(r"<figcaption>([^<]+)<br>", kept)
names_neg = re.findall(r"<figcaption>([^<]+)<br>", relabelled)
assert len(names_kept) == 8 and len(names_neg) == 8, (names_kept, names_neg)
assert all(n.startswith("blast-") for n in names_kept), names_kept
assert all(n.startswith("cell-") for n in names_neg), names_neg
assert 'href="#mil"' in h
PY
expect 0 "the same seed again" -- "$BIN" --seed 4 experiment --features "$WORK/feat" "${RUN[@]}" --mil \
    --report "$WORK/rep2"
cmp -s "$WORK/rep/results.json" "$WORK/rep2/results.json" && ok || fail "same seed, same results.json"
expect 0 "without --mil" -- "$BIN" --seed 4 experiment --features "$WORK/feat" "${RUN[@]}" --report "$WORK/plain"
grep -q '"mil"' "$WORK/plain/results.json" && fail "no mil member without --mil" || ok
grep -q 'id="mil"' "$WORK/plain/report.html" && fail "no mi-SVM section without --mil" || ok

# one ALL field only: the fold that tests it trains without a positive bag
make_mil "$WORK/feat1" 1
expect 1 "a fold without a positive bag" -- "$BIN" experiment --features "$WORK/feat1" --protocol grouped \
    --latent none --folds 2 --mil --report "$WORK/r1"
stderr_has "mi-SVM needs a positive bag (a group of label-1 rows)" "no positive bag: a clear error"
finish
