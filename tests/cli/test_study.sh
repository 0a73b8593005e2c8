#!/usr/bin/env bash
# The study end to end on a small slice of Aria 2021: extract (cache, resume, equality with
# tensor+infer), experiment under both protocols (leak counted, groups intact, determinism).
. "$(dirname "$0")/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
need "$MODEL" "$ARIA"

# 16 healthy + 16 ALL images, plus one exact duplicate pair from Pro/ (Pro-011 = Pro-012).
mkdir -p "$WORK/data/Benign" "$WORK/data/Pro"
for f in $(ls "$ARIA/Benign" | head -16); do ln -s "$ARIA/Benign/$f" "$WORK/data/Benign/$f"; done
for f in $(ls "$ARIA/Pro" | head -16); do ln -s "$ARIA/Pro/$f" "$WORK/data/Pro/$f"; done

expect 0 "extract --help" -- "$BIN" extract --help
expect 2 "extract without --out" -- "$BIN" extract --data "$WORK/data"
expect 0 "extract flip" -- "$BIN" --threads 2 extract --backbone "$MODEL" --data "$WORK/data" --augment flip \
    --cache "$WORK/cache" --batch 8 --out "$WORK/feat"
stderr_has "96 rows x 1 backbones" "extract summary"
# Pro-011 and Pro-012 are the same file: the second may come from the cache already.
grep -qE "\((96 computed, 0|9[0-5] computed, [1-6]) from cache\)" "$WORK/err" && ok || fail "first run computes (almost) everything"
[ "$(tail -n +2 "$WORK/feat/index.csv" | wc -l)" = 96 ] && ok || fail "index has 96 rows"
head -1 "$WORK/feat/index.csv" | grep -qx "id,path,label,class,group,view,source" && ok || fail "index header"
grep -q "WBC-Malignant-Pro-012.jpg,1,Pro,$WORK/data/Pro/WBC-Malignant-Pro-011.jpg,hmirror" "$WORK/feat/index.csv" \
    && ok || fail "duplicate pair shares a group in the index"
# near_duplicates.csv lists the pairs; the identical pair scores 1 and was grouped already.
head -1 "$WORK/feat/near_duplicates.csv" | grep -qx "path_a,path_b,score,joined" && ok || fail "near_duplicates.csv header"
grep -qx "$WORK/data/Pro/WBC-Malignant-Pro-011.jpg,$WORK/data/Pro/WBC-Malignant-Pro-012.jpg,1.0000,0" \
    "$WORK/feat/near_duplicates.csv" && ok || fail "identical pair listed in near_duplicates.csv"

# A re-run computes nothing; removing one cache entry recomputes exactly that row.
expect 0 "extract again" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" --augment flip \
    --cache "$WORK/cache" --batch 8 --out "$WORK/feat2"
stderr_has "0 computed, 96 from cache" "re-run uses the cache"
cmp -s "$WORK/feat/googlenet-bvlc.npy" "$WORK/feat2/googlenet-bvlc.npy" && ok || fail "cached rows are the same bytes"
rm "$(find "$WORK/cache" -name '*-vmirror.npy' | head -1)"
expect 0 "extract resumes" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" --augment flip \
    --cache "$WORK/cache" --batch 8 --out "$WORK/feat2"
stderr_has "1 computed, 95 from cache" "only the missing row is computed"

if with_numpy "feature row == infer on its tensor"; then
    # A feature row equals infer on the tensor of the same image and view.
    IMG=$(sed -n 4p "$WORK/feat/index.csv" | cut -d, -f2)   # row 2: first image, vmirror
    expect 0 "tensor" -- "$BIN" tensor "$IMG" --size 224 --mirror v --out "$WORK/t.npy"
    expect 0 "infer" -- "$BIN" infer --model "$MODEL" --input "$WORK/t.npy" --output features --out "$WORK/y.npy"
    /usr/bin/python3 - "$WORK/feat/googlenet-bvlc.npy" "$WORK/y.npy" <<'PY' && ok || fail "extract row == infer(tensor)"
import sys, numpy as np
f = np.load(sys.argv[1]); y = np.load(sys.argv[2])
assert f.shape == (96, 1024) and f.dtype == np.float32, f.shape
err = np.linalg.norm(f[2] - y[0]) / np.linalg.norm(y[0])
assert err <= 1e-5, err
PY
fi

# Experiments: both protocols; the paper's leak is counted, the grouped protocol has none.
STUDY=(--features "$WORK/feat" --folds 4 --latent 0.25 --epochs 15)
expect 0 "experiment paper" -- "$BIN" --seed 7 experiment "${STUDY[@]}" --protocol paper --report "$WORK/paper"
expect 0 "experiment grouped" -- "$BIN" --seed 7 experiment "${STUDY[@]}" --protocol grouped --report "$WORK/grouped"
for f in results.json predictions.csv table1.md table1.csv figures/metrics.svg figures/confusion.svg figures/roc.svg; do
    [ -s "$WORK/grouped/$f" ] && ok || fail "grouped/$f written"
done
if with_numpy "results.json content"; then
    /usr/bin/python3 - "$WORK/paper/results.json" "$WORK/grouped/results.json" "$WORK/grouped/predictions.csv" "$WORK/feat/index.csv" <<'PY' && ok || fail "results.json content"
import sys, json, csv
p, g = (json.load(open(f)) for f in sys.argv[1:3])
assert p["protocol"] == "paper" and g["protocol"] == "grouped"
assert p["leaked_test_rows"] > 0, p["leaked_test_rows"]
assert g["leaked_test_rows"] == 0
names = [e["name"] for e in g["experiments"]]
assert names == ["googlenet-bvlc", "latent-25%"], names
e = g["experiments"][1]
assert e["latent"] == 256 and e["features"] == ["googlenet-bvlc"]
for k in "tp fn tn fp sn sp pr ac f1 mcc balanced_accuracy auc".split():
    assert k in e["pooled"], k
assert e["pooled"]["tp"] + e["pooled"]["fn"] + e["pooled"]["tn"] + e["pooled"]["fp"] == 96
assert len(e["per_fold"]) == 4
# groups never straddle folds
idx = {r["id"]: r for r in csv.DictReader(open(sys.argv[4]))}
fold_of_group = {}
for r in csv.DictReader(open(sys.argv[3])):
    grp = idx[r["id"]]["group"]
    assert fold_of_group.setdefault(grp, r["fold"]) == r["fold"], grp
PY
fi
expect 0 "experiment grouped again" -- "$BIN" --seed 7 experiment "${STUDY[@]}" --protocol grouped --report "$WORK/grouped2"
cmp -s "$WORK/grouped/results.json" "$WORK/grouped2/results.json" && ok || fail "same seed, byte-identical results.json"
# Subtype task: three classes (Pro split in two by image number, for the mechanics only).
mkdir -p "$WORK/feat3"
cp "$WORK/feat/googlenet-bvlc.npy" "$WORK/feat3/"
awk -F, 'BEGIN{OFS=","} NR>1 && $4=="Pro" { n=substr($2, length($2)-4, 1); if (n % 2) $4="ProOdd" } {print}' \
    "$WORK/feat/index.csv" >"$WORK/feat3/index.csv"
expect 0 "experiment subtype" -- "$BIN" experiment --features "$WORK/feat3" --protocol grouped --task subtype \
    --latent none --folds 3 --report "$WORK/sub"
if with_numpy "subtype results.json"; then
    /usr/bin/python3 - "$WORK/sub/results.json" <<'PY' && ok || fail "subtype results.json"
import sys, json
r = json.load(open(sys.argv[1]))
assert r["task"] == "subtype" and r["classes"] == ["Benign", "Pro", "ProOdd"], r["classes"]
p = r["experiments"][0]["pooled"]
assert p["k"] == 3 and sum(map(sum, p["counts"])) == 96
assert "macro_f1" in p and len(r["experiments"][0]["per_fold"]) == 3
PY
fi
[ ! -e "$WORK/sub/figures/roc.svg" ] && [ -s "$WORK/sub/figures/confusion.svg" ] && ok || fail "subtype figures"
expect 1 "subtype with two classes" -- "$BIN" experiment --features "$WORK/feat" --protocol grouped --task subtype \
    --latent none --report "$WORK/sub2"
stderr_has "at least 3 classes" "two-class subtype refused"

expect 2 "experiment without protocol" -- "$BIN" experiment --features "$WORK/feat" --report "$WORK/x"
expect 1 "experiment on a missing folder" -- "$BIN" experiment --features "$WORK/nope" --protocol paper --report "$WORK/x"
stderr_has "$WORK/nope" "missing feature folder named"

finish
