#!/usr/bin/env bash
# `predict`'s gated class: an out-of-distribution image (a 1×1 black pixel) is "unknown" by
# default with its decision and probability still in the JSON, --no-ood-gate gives back the
# SVM's class; --abstain P calls "uncertain" exactly the images whose probability lies in
# [P, 1 − P], in table, CSV and JSON alike; bad --abstain values are usage errors.
. "$(dirname "$0")/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
PY=/usr/bin/python3
if [ ! -f "$MODEL" ] || [ ! -d "$ARIA" ]; then echo "SKIP: $MODEL or $ARIA absent"; exit 77; fi
command -v vips >/dev/null || { echo "SKIP: the vips command (libvips-tools) is absent"; exit 77; }

# A small GoogLeNet model: 16 healthy and 16 ALL (Pro) images with their mirrors (the mirrors give
# the out-of-distribution threshold 24 validation rows: with fewer its fence is too loose to
# mean anything); 3 more of each held out.
mkdir -p "$WORK/data/Benign" "$WORK/data/Pro" "$WORK/held" "$WORK/models"
for c in Benign Pro; do
    ls "$ARIA/$c" | head -16 | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/data/$c/$f"; done
    ls "$ARIA/$c" | sed -n 17,19p | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/held/$f"; done
done
ln -s "$MODEL" "$WORK/models/googlenet-bvlc.onnx"
vips black "$WORK/pixel.png" 1 1 --bands 3 || fail "vips black"

expect 0 "train" -- "$BIN" --seed 2 train --data "$WORK/data" --backbone "$MODEL" --augment flip --epochs 40 \
    --calibration-folds 4 --near-duplicates off --cache "$WORK/cache" --out "$WORK/m.blastscan"
PRED=(predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/models")

expect 0 "predict --help" -- "$BIN" predict --help
stdout_has "--abstain P" "help documents --abstain"
stdout_has "--no-ood-gate" "help documents --no-ood-gate"
for bad in 0 0.5 0.7 -0.1 abc; do
    expect 2 "--abstain $bad refused" -- "$BIN" "${PRED[@]}" --abstain "$bad" "$WORK/pixel.png"
done

# The black pixel: out of distribution, so "unknown" — with the raw decision and probability kept.
expect 0 "predict the pixel" -- "$BIN" "${PRED[@]}" --format json "$WORK/pixel.png"
stdout_has '"class": "unknown"' "1x1 black pixel is unknown"
stdout_has '"out_of_distribution": true' "and flagged"
grep -qE '"decision": -?[0-9]' "$WORK/out" && grep -qE '"probability": [0-9]' "$WORK/out" && ok \
    || fail "decision and probability still given"
expect 0 "predict the pixel, no gate" -- "$BIN" "${PRED[@]}" --format json --no-ood-gate "$WORK/pixel.png"
grep -qE '"class": "(ALL|healthy)"' "$WORK/out" && ok || fail "--no-ood-gate restores the class"
expect 0 "pixel in the table" -- "$BIN" "${PRED[@]}" "$WORK/pixel.png"
grep -qE '^unknown +-?[0-9.]+ +[0-9.]+ +OOD ' "$WORK/out" && ok || fail "table shows unknown"
expect 0 "pixel in CSV" -- "$BIN" "${PRED[@]}" --format csv "$WORK/pixel.png"
grep -q "^$WORK/pixel.png,unknown,[01]," "$WORK/out" && ok || fail "CSV shows unknown"

# Abstention: pick P from the held-out images' own probabilities, so the expected split is known.
expect 0 "predict held-out" -- "$BIN" "${PRED[@]}" --format csv --no-ood-gate "$WORK/held"
cp "$WORK/out" "$WORK/plain.csv"
P=$("$PY" - "$WORK/plain.csv" <<'PY'
import csv, sys
m = sorted(min(float(r["probability"]), 1 - float(r["probability"])) for r in csv.DictReader(open(sys.argv[1])))
# a P between two distinct distances to the nearer end: the images below it stay, the rest abstain
gaps = [(b - a, (a + b) / 2) for a, b in zip(m, m[1:]) if 0 < (a + b) / 2 < 0.5 and b - a > 1e-6]
print(max(gaps)[1] if gaps else "")
PY
)
if [ -z "$P" ]; then
    echo "SKIP: the held-out probabilities are all equal; no threshold splits them"
else
    want=$("$PY" - "$WORK/plain.csv" "$P" <<'PY'
import csv, sys
P = float(sys.argv[2])
print(sum(P <= float(r["probability"]) <= 1 - P for r in csv.DictReader(open(sys.argv[1]))))
PY
)
    expect 0 "predict --abstain $P" -- "$BIN" "${PRED[@]}" --format csv --no-ood-gate --abstain "$P" "$WORK/held"
    [ "$(grep -c ',uncertain,' "$WORK/out")" = "$want" ] && ok || fail "$want images uncertain at P = $P"
    [ "$want" -gt 0 ] && [ "$want" -lt 6 ] && ok || fail "the threshold splits the images ($want of 6)"
    # the other columns do not change
    diff <(cut -d, -f1,4,5 "$WORK/plain.csv") <(cut -d, -f1,4,5 "$WORK/out") >/dev/null && ok \
        || fail "decision and probability unchanged by --abstain"
    expect 0 "json --abstain" -- "$BIN" "${PRED[@]}" --format json --no-ood-gate --abstain "$P" "$WORK/held"
    [ "$(grep -c '"class": "uncertain"' "$WORK/out")" = "$want" ] && ok || fail "JSON agrees"
    expect 0 "table --abstain" -- "$BIN" "${PRED[@]}" --no-ood-gate --abstain "$P" "$WORK/held"
    [ "$(grep -c '^uncertain ' "$WORK/out")" = "$want" ] && ok || fail "table agrees"
fi

finish
