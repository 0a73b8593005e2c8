#!/usr/bin/env bash
# Leave one source out (experiment --protocol source) and its stain-shortcut tests, on synthetic
# "cells" (64x64 BMPs: a disc on a background) from three sources, A holding every blast:
#   stain  the label is in the colour only (A purple; B and C pinkish, no blasts): the model can
#          only learn "looks like A = blast", so recolouring A's cells to B's or C's colours must
#          change their calls, and A's own non-blast cells (tested within A) must be called blasts
#          more often than B's and C's (held out) — both must be flagged;
#   cell   the label is in the disc's size, colours shared: neither may be flagged much (the
#          control that makes the first part able to fail on a detector that always warns).
# Also: the per-source tables (AUC undefined, not a crash, on one-class sources), --adapt, and
# the refusals (one source; --adapt nonsense; --stain-transfer with one source).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "$PY absent"
need "$MODEL"

# gen.py OUT MODE: 20 blasts + 6 non-blasts from A, 14 non-blasts each from B and C; fields
# (groups) of two cells of one source and label; manifest.csv with a source column.
cat >"$WORK/gen.py" <<'PY'
import os, random, struct, sys
out, mode = sys.argv[1], sys.argv[2]
random.seed(11)
os.makedirs(out, exist_ok=True)
def bmp(path, px, w=64, h=64):
    row = (w * 3 + 3) & ~3
    with open(path, "wb") as f:
        f.write(b"BM" + struct.pack("<IHHI", 54 + row * h, 0, 0, 54))
        f.write(struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, row * h, 2835, 2835, 0, 0))
        for y in range(h - 1, -1, -1):
            line = b"".join(bytes((b, g, r)) for (r, g, b) in px[y * w:(y + 1) * w])
            f.write(line + b"\0" * (row - w * 3))
colours = {"A": ((235, 215, 240), (90, 30, 140)), "B": ((240, 220, 200), (170, 60, 60)),
           "C": ((245, 225, 205), (160, 70, 50))}
rows = []
for src, lab, n in (("A", 1, 20), ("A", 0, 6), ("B", 0, 14), ("C", 0, 14)):
    bg, fg = colours[src] if mode == "stain" else ((235, 220, 225), (120, 50, 110))
    for i in range(n):
        r = (random.uniform(17, 22) if lab else random.uniform(7, 10)) if mode == "cell" \
            else random.uniform(8, 20)
        cx, cy = random.uniform(24, 40), random.uniform(24, 40)
        px = [tuple(max(0, min(255, int(v + random.gauss(0, 8))))
                    for v in (fg if (x - cx) ** 2 + (y - cy) ** 2 < r * r else bg))
              for y in range(64) for x in range(64)]
        name = f"{src}{lab}_{i:02d}.bmp"
        bmp(os.path.join(out, name), px)
        rows.append(f"{name},{lab},{'blast' if lab else 'non-blast'},{src}-{lab}-{i // 2},{src}")
with open(os.path.join(out, "manifest.csv"), "w") as f:
    f.write("path,label,class,group,source\n" + "\n".join(rows) + "\n")
PY
for mode in stain cell; do
    "$PY" "$WORK/gen.py" "$WORK/$mode" $mode || fail "make the $mode dataset"
    expect 0 "extract $mode with stain transfer" -- "$BIN" --seed 3 extract --backbone "$MODEL" \
        --data "$WORK/$mode/manifest.csv" --stain-transfer 0 --near-duplicates off --no-cache \
        --out "$WORK/f-$mode"
    # A's 26 cells to B and C (A holds the blasts), B's and C's 14 each to A: 80 rows.
    stderr_has "80 stain-transfer rows" "$mode: every pair with the blasts' source"
    expect 0 "experiment --protocol source ($mode)" -- "$BIN" --seed 3 experiment \
        --features "$WORK/f-$mode" --protocol source --folds 3 --latent none --report "$WORK/r-$mode"
    cp "$WORK/err" "$WORK/err-$mode"
done

grep -qF "stain shortcut (googlenet-bvlc): cells of A recoloured to B's colours keep only" \
    "$WORK/err-stain" && ok || fail "stain: the transfer test warns on stderr"
grep -qF "stain shortcut (googlenet-bvlc): non-blast cells of the sources tested within are called blasts more often" \
    "$WORK/err-stain" && ok || fail "stain: the benign test warns on stderr"
grep -qF "non-blast cells of the sources tested within" "$WORK/err-cell" \
    && fail "cell: no benign warning expected" || ok
file_has "$WORK/r-stain/evidence.md" "**Warning:** Recoloured to another source's colours" "stain: evidence.md"
file_has "$WORK/r-stain/report.html" '<section id="travel">' "stain: report.html section"
file_has "$WORK/r-stain/report.html" '<p class="warn">Non-blast cells of the sources tested within' \
    "stain: report.html warns"
file_has "$WORK/r-stain/evidence.md" "has no AUC (—)" "one-class sources explained"

"$PY" - "$WORK/r-stain/results.json" "$WORK/r-cell/results.json" <<'PY' && ok || fail "results.json travel"
import json, sys
def travel(p):
    return json.load(open(p))["travel"]
st, ce = travel(sys.argv[1]), travel(sys.argv[2])
src = {s["name"]: s for s in st["sources"]}
assert src["A"]["tested"] == "within" and src["A"]["units"] == 3, src
assert src["B"]["tested"] == "held out" and src["C"]["units"] == 1, src
for t in (st, ce):
    e = t["experiments"][0]
    assert [m["method"] for m in e["methods"]] == ["none", "prior", "coral", "k=10", "k=25", "k=50"]
    none = {s["name"]: s for s in e["methods"][0]["sources"]}
    # B holds non-blasts only: no AUC, but an accuracy and a false-blast rate
    assert none["B"]["defined"] and none["B"]["auc"] is None, none["B"]
    assert none["B"]["cells"] == 14 and none["B"]["fields"] == 7, none["B"]
    assert none["B"]["false_blast_rate"] + none["B"]["ac"] == 1, none["B"]
    assert none["A"]["auc"] is not None and none["A"]["fields"] == 13, none["A"]
# the shortcut model: A's cells lose most of their calls in B's colours, A's non-blasts are
# called blasts more often than B's and C's
s = st["experiments"][0]["stain"]
pairs = {(p["from"], p["to"]): p for p in s["transfers"]}
assert set(pairs) == {("A", "B"), ("A", "C"), ("B", "A"), ("C", "A")}, pairs
assert pairs["A", "B"]["fraction_kept"] < 0.5 and pairs["A", "B"]["warning"], pairs["A", "B"]
assert s["benign"]["warning"] and s["benign"]["within_rate"] > s["benign"]["heldout_rate"] + 0.5
assert s["warning"]
# the control: the size decides; A keeps its calls in B's and C's colours, no benign warning
c = ce["experiments"][0]["stain"]
kept = sum(p["kept"] for p in c["transfers"]) / sum(p["cells"] for p in c["transfers"])
assert kept >= 0.95, c["transfers"]
assert all(p["fraction_kept"] >= 0.95 for p in c["transfers"] if p["from"] == "A"), c["transfers"]
assert not c["benign"]["warning"], c["benign"]
none = {x["name"]: x for x in ce["experiments"][0]["methods"][0]["sources"]}
assert none["A"]["auc"] > 0.9, none["A"]
PY

# --adapt chooses the rows beside the model as trained.
expect 0 "--adapt prior,k=5" -- "$BIN" --seed 3 experiment --features "$WORK/f-cell" --protocol source \
    --folds 3 --latent none --adapt prior,k=5 --report "$WORK/r-adapt"
"$PY" -c 'import json, sys; e = json.load(open(sys.argv[1]))["travel"]["experiments"][0]
assert [m["method"] for m in e["methods"]] == ["none", "prior", "k=5"], e["methods"]' \
    "$WORK/r-adapt/results.json" && ok || fail "--adapt rows"
expect 2 "--adapt nonsense" -- "$BIN" experiment --features "$WORK/f-cell" --protocol source \
    --adapt prior,k=x --report "$WORK/r-bad"
stderr_has "--adapt expects none or a list of prior, coral, k=N" "--adapt named"

# One source: refused with a reason, nothing written.
mkdir -p "$WORK/one"
grep -v ",[BC]$" "$WORK/cell/manifest.csv" | sed "s|^\([AB][01]_\)|$WORK/cell/\1|" >"$WORK/one/manifest.csv"
expect 0 "extract one source" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/one/manifest.csv" \
    --near-duplicates off --no-cache --out "$WORK/f-one"
expect 1 "one source refused" -- "$BIN" experiment --features "$WORK/f-one" --protocol source \
    --folds 3 --latent none --report "$WORK/r-one"
stderr_has "--protocol source needs at least 2 sources" "the reason given"
[ ! -e "$WORK/r-one/results.json" ] && ok || fail "nothing written when refused"
expect 1 "stain transfer with one source" -- "$BIN" extract --backbone "$MODEL" \
    --data "$WORK/one/manifest.csv" --stain-transfer 0 --near-duplicates off --no-cache \
    --out "$WORK/f-one2"
stderr_has "--stain-transfer needs at least two sources" "the reason given"
finish
