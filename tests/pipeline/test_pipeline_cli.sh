#!/usr/bin/env bash
# `blastscan train` and `predict` end to end on 24 Aria 2021 images with GoogLeNet: usage
# errors, the file written, held-out images classified, reference photos (not blood smears)
# flagged out of distribution, the C library (examples/classify) giving the CLI's numbers
# bit for bit, and damaged pipeline files or a different backbone refused with exit 1.
. "$(dirname "$0")/../cli/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
REF="$ASSETS/reference/images"
CLASSIFY="$(dirname "$BIN")/examples/classify"
need "$MODEL" "$ARIA" "$REF"

# Training: the first 12 healthy and 12 ALL (Pro) images; held out: the next 3 of each.
mkdir -p "$WORK/data/Benign" "$WORK/data/Pro" "$WORK/held" "$WORK/models"
for c in Benign Pro; do
    ls "$ARIA/$c" | head -12 | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/data/$c/$f"; done
    ls "$ARIA/$c" | sed -n 13,15p | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/held/$f"; done
done
ln -s "$MODEL" "$WORK/models/googlenet-bvlc.onnx"

expect 0 "train --help" -- "$BIN" train --help
stdout_has "--latent" "train help"
expect 2 "train without --out" -- "$BIN" train --data "$WORK/data"
expect 2 "train with a bad --latent" -- "$BIN" train --data "$WORK/data" --latent 7 --out "$WORK/x"
expect 0 "predict --help" -- "$BIN" predict --help
expect 2 "predict without --model" -- "$BIN" predict "$WORK/held"
expect 2 "predict without images" -- "$BIN" predict --model "$WORK/m.blastscan"
expect 2 "predict with a bad --format" -- "$BIN" predict --model "$WORK/m.blastscan" --format xml "$WORK/held"

TRAIN=(train --data "$WORK/data" --backbone "$MODEL" --augment none --epochs 40 --calibration-folds 4
       --near-duplicates off --cache "$WORK/cache" --batch 8)
expect 0 "train" -- "$BIN" --seed 5 "${TRAIN[@]}" --out "$WORK/m.blastscan"
stderr_has "train: 24 images (12 ALL, 12 healthy), 1 backbone, augment none" "train summary"
stderr_has "Platt scaling from 4-fold grouped CV" "calibration reported"
stderr_has "out-of-distribution above" "OOD threshold reported"
stderr_has "(fence k 3;" "the default rule reported"
[ -s "$WORK/m.blastscan" ] && ok || fail "pipeline file written"
head -c 8 "$WORK/m.blastscan" | od -c | grep -q "B   S   P   I   P  \\\\r  \\\\n 032" && ok || fail "magic"
# Same seed, same bytes (the features come from the cache the first run filled).
expect 0 "train again" -- "$BIN" --seed 5 "${TRAIN[@]}" --out "$WORK/m2.blastscan"
cmp -s "$WORK/m.blastscan" "$WORK/m2.blastscan" && ok || fail "same seed gives a byte-identical pipeline file"

# Without the autoencoder: no OOD flag (null), the rest as before.
expect 0 "train --latent none" -- "$BIN" --seed 5 "${TRAIN[@]}" --latent none --out "$WORK/none.blastscan"
expect 0 "predict with --latent none" -- "$BIN" predict --model "$WORK/none.blastscan" --backbone-dir "$WORK/models" \
    --format json "$REF/rocket.jpg"
stdout_has '"reconstruction_error": null, "ood_threshold": null, "out_of_distribution": null}' "no OOD without autoencoder"

# Held-out smears and reference photos, JSON lines.
expect 0 "predict json" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/models" --format json \
    "$WORK/held" "$REF"
cp "$WORK/out" "$WORK/pred.json"
[ "$(wc -l <"$WORK/pred.json")" = 10 ] && ok || fail "10 JSON lines (6 held-out + 4 reference)"
for f in astronaut.png chelsea.png coffee.png rocket.jpg; do
    grep -F "\"path\": \"$REF/$f\"" "$WORK/pred.json" | grep -qF '"out_of_distribution": true' && ok \
        || fail "$f flagged out of distribution"
done
grep -F "$WORK/held/" "$WORK/pred.json" | grep -c '"out_of_distribution": false' | grep -qx '[5-6]' && ok \
    || fail "held-out smears mostly in distribution"
# healthy held-out images: negative class mostly, ALL ones positive mostly (tiny model: >= 4 of 6)
right=$(( $(grep -F "WBC-Benign" "$WORK/pred.json" | grep -c '"label": 0') + $(grep -F "WBC-Malignant" "$WORK/pred.json" | grep -c '"label": 1') ))
[ "$right" -ge 4 ] && ok || fail "held-out images classified ($right of 6 right)"
grep -q '"probability": 0\.[0-9]' "$WORK/pred.json" && ok || fail "probabilities in (0, 1)"

# --ood-k / --ood-quantile: the same seed gives the same autoencoders and validation errors, so
# only the stored threshold moves: below the default fence (k = 3) with k = 1 and at the median.
expect 2 "train with a bad --ood-k" -- "$BIN" train --data "$WORK/data" --ood-k -1 --out "$WORK/x"
expect 2 "train with a bad --ood-quantile" -- "$BIN" train --data "$WORK/data" --ood-quantile 1.5 --out "$WORK/x"
expect 2 "--ood-k with --ood-quantile" -- "$BIN" train --data "$WORK/data" --ood-k 1 --ood-quantile 0.9 --out "$WORK/x"
expect 2 "--ood-k with --latent none" -- "$BIN" train --data "$WORK/data" --latent none --ood-k 1 --out "$WORK/x"
threshold() { sed -n 's/.*"ood_threshold": \([0-9.e+-]*\),.*/\1/p' "$1" | head -1; }
t3=$(threshold "$WORK/pred.json")
for opt in "--ood-k 1" "--ood-quantile 0.5"; do
    # shellcheck disable=SC2086 # $opt is an option and its value
    expect 0 "train $opt" -- "$BIN" --seed 5 "${TRAIN[@]}" $opt --out "$WORK/ood.blastscan"
    case $opt in --ood-k*) rule="fence k 1;" ;; *) rule="quantile 0.5;" ;; esac
    stderr_has "$rule" "$opt reported"
    expect 0 "predict with $opt" -- "$BIN" predict --model "$WORK/ood.blastscan" --backbone-dir "$WORK/models" \
        --format json "$REF/rocket.jpg"
    t=$(threshold "$WORK/out")
    awk -v a="$t" -v b="$t3" 'BEGIN { exit !(a > 0 && a < b) }' && ok \
        || fail "$opt: threshold $t below the default fence's $t3"
done

# CSV and table; the library (examples/classify) gives the CLI's numbers bit for bit at batch 1.
expect 0 "predict csv" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/models" --format csv \
    --batch 1 "$WORK/held"
head -1 "$WORK/out" | grep -qx "path,class,label,decision,probability,reconstruction_error,out_of_distribution" && ok \
    || fail "csv header"
tail -n +2 "$WORK/out" | cut -d, -f1,4 | sed 's/,/ /' | sort >"$WORK/cli.txt"
expect 0 "predict table" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/models" "$WORK/held"
stdout_has "probability" "table header"
if [ -x "$CLASSIFY" ]; then
    expect 0 "examples/classify" -- "$CLASSIFY" "$WORK/m.blastscan" "$WORK/models" "$WORK"/held/*
    sed 's/\t/ /g' "$WORK/out" | awk '{sub("decision=", "", $3); print $1, $3}' | sort >"$WORK/lib.txt"
    diff "$WORK/cli.txt" "$WORK/lib.txt" >/dev/null && ok || { fail "library decisions == CLI decisions"; diff "$WORK/cli.txt" "$WORK/lib.txt" | head; }
    first=$(ls "$WORK"/held/* | head -1)
    if command -v vips >/dev/null; then
        # The same image handed over as an RGB buffer (a PPM the example reads itself).
        vips copy "$first" "$WORK/first.ppm" && ok || fail "vips copy to PPM"
        expect 0 "classify an RGB buffer" -- "$CLASSIFY" "$WORK/m.blastscan" "$WORK/models" "$WORK/first.ppm"
        a=$(awk '{print $3}' "$WORK/out"); b=$(grep -F "$first" "$WORK/lib.txt" | awk '{print "decision=" $2}')
        [ "$a" = "$b" ] && ok || fail "RGB buffer and file give the same decision ($a vs $b)"
    else
        skip "classify an RGB buffer" "the vips command (libvips-tools) is absent"
    fi
    expect 1 "classify with a missing backbone folder" -- "$CLASSIFY" "$WORK/m.blastscan" "$WORK/nope" "$first"
    stderr_has "not found" "missing backbone named"
else
    fail "examples/classify not built at $CLASSIFY"
fi

# Damaged files: exit 1 with a message, never a crash or a sanitizer report.
python3 - "$WORK/m.blastscan" "$WORK" <<'PY' || fail "make damaged files"
import hashlib, sys
data = open(sys.argv[1], "rb").read()
w = sys.argv[2]
open(w + "/truncated.blastscan", "wb").write(data[: len(data) // 2])
flipped = bytearray(data); flipped[len(data) // 3] ^= 0x10
open(w + "/flipped.blastscan", "wb").write(flipped)
v2 = bytearray(data); v2[8] = 2
v2[-32:] = hashlib.sha256(bytes(v2[:-32])).digest()
open(w + "/version.blastscan", "wb").write(v2)
open(w + "/empty.blastscan", "wb").write(b"")
PY
PRED=(predict --backbone-dir "$WORK/models" "$WORK/held")
expect 1 "truncated file" -- "$BIN" "${PRED[@]}" --model "$WORK/truncated.blastscan"
stderr_has "truncated" "truncation named"
expect 1 "flipped byte" -- "$BIN" "${PRED[@]}" --model "$WORK/flipped.blastscan"
stderr_has "checksum mismatch" "corruption named"
expect 1 "unknown version" -- "$BIN" "${PRED[@]}" --model "$WORK/version.blastscan"
stderr_has "unsupported pipeline format version 2" "version named"
expect 1 "empty file" -- "$BIN" "${PRED[@]}" --model "$WORK/empty.blastscan"
stderr_has "not a blastscan pipeline file" "empty file named"
expect 1 "missing file" -- "$BIN" "${PRED[@]}" --model "$WORK/nope.blastscan"
stderr_has "$WORK/nope.blastscan" "missing file named"
# A different file under the backbone's name: its sha256 differs.
mkdir -p "$WORK/other"
head -c 1000 "$MODEL" >"$WORK/other/googlenet-bvlc.onnx"
expect 1 "wrong backbone hash" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/other" "$WORK/held"
stderr_has "differs from the backbone 'googlenet-bvlc'" "hash mismatch named"
expect 1 "backbone absent" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/data" "$WORK/held"
stderr_has "googlenet-bvlc.onnx" "absent backbone named"
# An unreadable image is reported; the others are still classified; exit 1.
printf 'not an image' >"$WORK/held/broken.png"
expect 1 "one broken image" -- "$BIN" predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/models" --format csv "$WORK/held"
stderr_has "broken.png" "broken image named"
[ "$(tail -n +2 "$WORK/out" | wc -l)" = 6 ] && ok || fail "the 6 good images still classified"

finish
