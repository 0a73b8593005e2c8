#!/usr/bin/env bash
# Disk full: tensor, extract, experiment and autoencoder fit writing to a full tmpfs fail with
# exit 1 and a message naming the file and "No space left on device"; the previous outputs at
# the same paths stay byte-identical and no temporary file is left behind.
. "$(dirname "$0")/../cli/lib.sh"
need "$MODEL" "$ARIA"

FULL="$WORK/full"
mount_tmpfs "$FULL" 4m || skip_all "cannot mount a tmpfs (needs root)"
make_data "$WORK/data" 4
IMG=$(ls "$WORK"/data/Pro/* | head -1)

# Previous outputs, written while there is room.
expect 0 "tensor (room)" -- "$BIN" tensor "$IMG" --size 224 --out "$FULL/t.npy"
expect 0 "extract (room)" -- "$BIN" --threads 2 extract --backbone "$MODEL" --data "$WORK/data" --cache "$FULL/cache" \
    --out "$FULL/feat"
expect 0 "experiment (room)" -- "$BIN" experiment --features "$FULL/feat" --protocol paper --folds 2 --latent 0.25 \
    --epochs 3 --report "$FULL/report"
"$BIN" tensor "$IMG" --size 16 --out "$WORK/x16.npy" >/dev/null 2>&1
/usr/bin/python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.random.RandomState(0).rand(40, 300).astype("<f4"))' \
    "$WORK/x.npy" 2>/dev/null || cp "$FULL/feat/googlenet-bvlc.npy" "$WORK/x.npy"
expect 0 "autoencoder fit (room)" -- "$BIN" autoencoder fit --features "$WORK/x.npy" --hidden 200 --epochs 1 --out "$FULL/ae.sae"
cp -a "$FULL" "$WORK/before"
fill "$FULL"

expect 1 "tensor (full)" -- "$BIN" tensor "$IMG" --size 224 --out "$FULL/t.npy"
stderr_has "No space left on device" "tensor names the reason"
stderr_has "$FULL/t.npy" "tensor names the file"

# A fresh extract over a larger dataset: new rows do not fit in the cache.
make_data "$WORK/data2" 6
expect 1 "extract (full cache)" -- "$BIN" --threads 2 extract --backbone "$MODEL" --data "$WORK/data2" \
    --cache "$FULL/cache" --out "$WORK/feat2"
stderr_has "No space left on device" "extract (cache) names the reason"
# Rows in a roomy cache, feature folder on the full disk.
expect 1 "extract (full output)" -- "$BIN" --threads 2 extract --backbone "$MODEL" --data "$WORK/data" \
    --cache "$WORK/cache" --out "$FULL/feat"
stderr_has "No space left on device" "extract (output) names the reason"

expect 1 "experiment (full)" -- "$BIN" experiment --features "$FULL/feat" --protocol paper --folds 2 --latent 0.25 \
    --epochs 3 --report "$FULL/report"
stderr_has "No space left on device" "experiment names the reason"

expect 1 "autoencoder fit (full)" -- "$BIN" autoencoder fit --features "$WORK/x.npy" --hidden 200 --epochs 1 --out "$FULL/ae.sae"
stderr_has "No space left on device" "autoencoder fit names the reason"
stderr_has "$FULL/ae.sae" "autoencoder fit names the file"

rm -f "$FULL/.filler"
same_files "$FULL" "$WORK/before" "disk full"
no_temp_left "$FULL" "disk full"
# The cache is still usable: a re-run with room takes every row from it.
expect 0 "extract after the disk was freed" -- "$BIN" extract --backbone "$MODEL" --data "$WORK/data" \
    --cache "$FULL/cache" --out "$WORK/feat3"
stderr_has "0 computed, 8 from cache" "the cache survived"
finish
