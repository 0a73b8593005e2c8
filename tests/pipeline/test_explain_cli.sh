#!/usr/bin/env bash
# `blastscan predict --explain` end to end, on a case whose answer is known: a small pipeline
# (GoogLeNet, autoencoder, SVM) trained on synthetic 128x128 images where ALL means "a dark
# square somewhere on a flat noisy background". For two held-out ALL images with the square
# top-left and bottom-right, the occlusion map must peak on a patch covering the square, and
# the PNG overlay must be red there; usage errors exit 2.
. "$(dirname "$0")/../cli/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
if [ ! -f "$MODEL" ]; then echo "SKIP: $MODEL absent"; exit 77; fi
if ! command -v vips >/dev/null; then echo "SKIP: the vips command (libvips-tools) is absent"; exit 77; fi
if ! have_numpy; then echo "SKIP: numpy for /usr/bin/python3 is absent"; exit 77; fi

# noise SEED OUT: flat grey 170 with a little noise; square IN OUT X Y: a black 36x36 square.
noise() { vips gaussnoise "$WORK/n.v" 128 128 --mean 170 --sigma 4 --seed "$1" && vips cast "$WORK/n.v" "$2" uchar; }
square() { vips black "$WORK/sq.v" 36 36 && vips insert "$1" "$WORK/sq.v" "$2" "$3" "$4"; }
mkdir -p "$WORK/data/pos" "$WORK/data/neg" "$WORK/held" "$WORK/models"
for i in $(seq 1 16); do
    noise "$i" "$WORK/n8.v" && square "$WORK/n8.v" "$WORK/data/pos/p$i.png" $(((i * 37) % 88 + 2)) $(((i * 53) % 88 + 2))
    noise $((i + 100)) "$WORK/data/neg/n$i.png"
done
noise 999 "$WORK/n8.v"
square "$WORK/n8.v" "$WORK/held/tl.png" 12 12
square "$WORK/n8.v" "$WORK/held/br.png" 80 76
ln -s "$MODEL" "$WORK/models/googlenet-bvlc.onnx"

expect 0 "train on synthetic squares" -- "$BIN" --seed 3 train --data "$WORK/data" --positive pos \
    --backbone "$MODEL" --augment none --latent 0.1 --epochs 100 --calibration-folds 4 \
    --near-duplicates off --cache "$WORK/cache" --out "$WORK/m.blastscan"
P=(predict --model "$WORK/m.blastscan" --backbone-dir "$WORK/models")
expect 2 "--explain-grid 0" -- "$BIN" "${P[@]}" --explain "$WORK/maps" --explain-grid 0 "$WORK/held"
expect 2 "--explain-patch 1.5" -- "$BIN" "${P[@]}" --explain "$WORK/maps" --explain-patch 1.5 "$WORK/held"
expect 0 "predict --explain" -- "$BIN" "${P[@]}" --format csv --explain "$WORK/maps" --explain-grid 5 \
    --explain-patch 0.3 "$WORK/held"
stderr_has "occlusion maps of 2 images" "summary line"
stderr_has "26 forward passes per image" "cost stated"
grep -c ',ALL,1,' "$WORK/out" | grep -qx 2 && ok || fail "both held-out squares classified ALL"
for f in tl br; do
    [ "$(vipsheader -f width "$WORK/maps/$f.png" 2>/dev/null)x$(vipsheader -f bands "$WORK/maps/$f.png" 2>/dev/null)" = 128x3 ] \
        && ok || fail "$f.png: a 128-wide RGB overlay"
done
# The argmax cell's patch (5x5 grid, patch 0.3 of 128 = 38 px, corners 22.5 px apart) must
# overlap the square.
/usr/bin/python3 - "$WORK/maps" <<'PY' && ok || fail "maps peak on the square"
import sys, numpy as np
squares = {"tl": (12, 12), "br": (80, 76)}
for name, (sx, sy) in squares.items():
    m = np.load(f"{sys.argv[1]}/{name}.npy")
    assert m.shape == (5, 5) and m.dtype == np.float32, (name, m.shape, m.dtype)
    r, c = np.unravel_index(np.argmax(m), m.shape)
    x0, y0 = round(c * (128 - 38) / 4), round(r * (128 - 38) / 4)
    assert m[r, c] > 0, (name, m)
    assert x0 < sx + 36 and sx < x0 + 38 and y0 < sy + 36 and sy < y0 + 38, (name, r, c, m)
PY
# Red over the square of tl (30,30); the far corner untouched or nearly so.
read -r R G B <<<"$(vips getpoint "$WORK/maps/tl.png" 30 30)"
[ "$R" -gt $((B + 20)) ] && ok || fail "tl.png is red over the square ($R $G $B)"
finish
