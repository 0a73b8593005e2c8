#!/usr/bin/env bash
# CLI behaviour of the foundation: global options, exit codes, list, tensor, bad input.
. "$(dirname "$0")/lib.sh"

expect 0 "--version" -- "$BIN" --version
stdout_has "blastscan 0." "--version"
expect 0 "--help" -- "$BIN" --help
stdout_has "list" "--help lists commands"
expect 2 "no command" -- "$BIN"
expect 2 "unknown command" -- "$BIN" frobnicate
expect 0 "list --help" -- "$BIN" list --help
expect 0 "tensor --help" -- "$BIN" tensor --help
expect 2 "list without --data" -- "$BIN" list
expect 2 "bad --format" -- "$BIN" list --data x --format xml
expect 2 "bad --threads" -- "$BIN" --threads many list --data x
stderr_has "blastscan: --threads expects" "a global option's error names the program, not an empty command"
stderr_has "Try 'blastscan --help'." "a global option's error points at the global help"
expect 2 "bad --seed" -- "$BIN" --seed -3 list --data x
stderr_has "blastscan: --seed expects" "--seed error"
expect 0 "reproduce --help" -- "$BIN" reproduce --help
[ "$(grep -c -- "--latent.*0\.25\|(default 0\.25" "$WORK/out")" = 1 ] && ! grep -q "0.25,0.5,0.75" "$WORK/out" && ok \
    || fail "reproduce --help states --latent's default (0.25) once"
expect 2 "tensor without --size" -- "$BIN" tensor x.png --out y.npy

IMAGES="$ASSETS/reference/images"
need "$IMAGES"

# An ALL-IDB folder made from the reference photos (labels come from the names).
mkdir -p "$WORK/allidb"
cp "$IMAGES/rocket.jpg" "$WORK/allidb/Im001_1.jpg"
cp "$IMAGES/astronaut.png" "$WORK/allidb/Im002_0.png"
cp "$IMAGES/chelsea.png" "$WORK/allidb/Im003_0.png"
cp "$IMAGES/chelsea.png" "$WORK/allidb/Im004_1.png"   # a duplicate: same group
echo "12 34" >"$WORK/allidb/Im001_1.xyc"
expect 0 "list ALL-IDB csv" -- "$BIN" list --data "$WORK/allidb" --format csv
[ "$(head -1 "$WORK/out")" = "path,label,class,group" ] && ok || fail "csv header"
[ "$(tail -n +2 "$WORK/out" | wc -l)" = 4 ] && ok || fail "4 samples"
[ "$(grep -c ',1,ALL,' "$WORK/out")" = 2 ] && ok || fail "2 ALL"
grep -q "Im004_1.png,1,ALL,$WORK/allidb/Im003_0.png" "$WORK/out" && ok || fail "duplicate joins group"
expect 0 "list json" -- "$BIN" list --data "$WORK/allidb" --format json
if with_numpy "list json parses"; then
    /usr/bin/python3 -c "import json,sys; d=json.load(open('$WORK/out')); assert len(d)==4 and d[0]['label']==1" && ok || fail "json parses"
fi
expect 0 "list table" -- "$BIN" list --data "$WORK/allidb"
stdout_has "4 samples: 2 ALL (label 1), 2 healthy (label 0); 3 groups" "table summary"

# Bad entries: stop names the file and exits 1; skip warns and goes on.
head -c 3000 "$IMAGES/rocket.jpg" >"$WORK/allidb/Im005_0.jpg"
expect 1 "truncated image stops list" -- "$BIN" list --data "$WORK/allidb"
stderr_has "Im005_0.jpg" "truncated image named"
expect 0 "skip goes on" -- "$BIN" list --data "$WORK/allidb" --on-error skip --format csv
stderr_has "warning" "skip warns"
[ "$(tail -n +2 "$WORK/out" | wc -l)" = 4 ] && ok || fail "skip keeps 4"
# A symbolic-link loop in the dataset: followed once, said, and the listing goes on.
ln -s . "$WORK/allidb/loop"
expect 0 "a link loop is listed once" -- "$BIN" list --data "$WORK/allidb" --on-error skip --format csv
[ "$(tail -n +2 "$WORK/out" | wc -l)" = 4 ] && ok || fail "the loop adds no sample"
stderr_has "$WORK/allidb/loop: the same folder as $WORK/allidb" "the loop is named"
rm "$WORK/allidb/loop"
expect 1 "missing folder" -- "$BIN" list --data "$WORK/nope"
stderr_has "$WORK/nope" "missing folder named"

# tensor: shapes numpy reads, values close to the reference inputs (other resizer).
for im in astronaut.png chelsea.png coffee.png rocket.jpg; do
    stem=${im%.*}
    expect 0 "tensor $im 224" -- "$BIN" tensor "$IMAGES/$im" --size 224 --out "$WORK/$stem.npy"
    expect 0 "tensor $im 299 hmirror" -- "$BIN" tensor "$IMAGES/$im" --size 299 --mirror h --out "$WORK/${stem}_h.npy"
    if with_numpy "tensor $im vs reference"; then
        /usr/bin/python3 - "$WORK/$stem.npy" "$ASSETS/reference/googlenet-bvlc/${stem}_input.npy" "$WORK/${stem}_h.npy" \
            "$ASSETS/reference/inception-v3-nsfwjs/${stem}_input.npy" <<'PY' && ok || fail "tensor $im vs reference"
import sys, numpy as np
a, ref, h, ref3 = (np.load(p) for p in sys.argv[1:])
assert a.dtype == np.float32 and a.shape == (1, 3, 224, 224), a.shape
assert h.shape == (1, 3, 299, 299)
assert np.abs(a - ref).mean() <= 0.5, np.abs(a - ref).mean()
# the mirrored tensor is the reference with its columns reversed
assert np.abs(h[..., ::-1] - ref3).mean() <= 0.5
PY
    fi
done

# Hostile files: exit 1, a message naming the file.
: >"$WORK/empty.jpg"
printf 'II*\0\010\0\0\0garbage garbage' >"$WORK/bogus.tif"
echo "hello" >"$WORK/text.png"
for f in "$WORK/allidb/Im005_0.jpg" "$WORK/empty.jpg" "$WORK/bogus.tif" "$WORK/text.png" "$WORK/missing.png"; do
    expect 1 "tensor $(basename "$f")" -- "$BIN" tensor "$f" --size 224 --out "$WORK/x.npy"
    stderr_has "$f" "message names $(basename "$f")"
done
[ ! -e "$WORK/x.npy" ] && ok || fail "no output left by failed runs"
expect 1 "unwritable output" -- "$BIN" tensor "$IMAGES/rocket.jpg" --size 32 --out "$WORK/no/such/dir/x.npy"
stderr_has "$WORK/no/such/dir/x.npy" "unwritable output named"

finish
