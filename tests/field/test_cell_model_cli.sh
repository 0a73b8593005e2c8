#!/usr/bin/env bash
# A cell model that carries its crops' settings and its mi-SVM relabelling: a crop manifest's
# `normalised` column recorded by `train` (rows that disagree, or only some rows saying, are
# refused); `train --mil` logging what mi-SVM did; `cells --model` cropping as the model's
# crops were made without being told (the same cells as with the matching flag; the contrary
# flag an error), the C library doing the same; `predict` naming a cell model; `--adapt prior`
# in predict and cells (a batch of one class moves away from the training mix, never towards
# it; a file without the recorded prior predicts as before and only --adapt refuses it).
# GoogLeNet, crops of 6 Aria fields.
. "$(dirname "$0")/../cli/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
CELLS_EXAMPLE="$(dirname "$BIN")/examples/cells"
need "$MODEL" "$ARIA"
PY=/usr/bin/python3

mkdir -p "$WORK/aria/Benign" "$WORK/aria/Pro" "$WORK/models"
for c in Benign Pro; do
    ls "$ARIA/$c" | head -3 | while read -r f; do ln -s "$ARIA/$c/$f" "$WORK/aria/$c/$f"; done
done
ln -s "$MODEL" "$WORK/models/googlenet-bvlc.onnx"
FIELD=$(ls "$WORK/aria/Pro/"* | head -1)

expect 0 "crops as photographed" -- "$BIN" cells --crops "$WORK/raw" --no-normalise --data "$WORK/aria" \
    --near-duplicates off
expect 0 "crops normalised" -- "$BIN" cells --crops "$WORK/norm" --data "$WORK/aria" --near-duplicates off
# the column as cells --crops writes it (h-formats), added here when this build does not write it
with_column() { # MANIFEST VALUE [ROWS_WITHOUT]: a copy with normalised = VALUE on every row
    "$PY" - "$@" <<'PYEOF'
import csv, sys
path, value = sys.argv[1], sys.argv[2]
blank = int(sys.argv[3]) if len(sys.argv) > 3 else 0
rows = list(csv.DictReader(open(path)))
fields = list(rows[0].keys()) + (["normalised"] if "normalised" not in rows[0] else [])
with open(path + ".tmp", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    for i, r in enumerate(rows):
        r["normalised"] = "" if i < blank else value
        w.writerow(r)
PYEOF
    mv "$1.tmp" "$1"
}
with_column "$WORK/raw/manifest.csv" 0
with_column "$WORK/norm/manifest.csv" 1
TRAIN=(--augment none --epochs 30 --calibration-folds 3 --near-duplicates off --cache "$WORK/cache")

expect 2 "--mil-rounds without --mil" -- "$BIN" train --data "$WORK/raw/manifest.csv" --backbone "$MODEL" \
    --mil-rounds 3 --out "$WORK/x.blastscan"
stderr_has "--mil-rounds needs --mil" "--mil-rounds alone refused"
expect 1 "crops made two ways" -- "$BIN" train --data "$WORK/raw/manifest.csv" --data "$WORK/norm/manifest.csv" \
    --backbone "$MODEL" "${TRAIN[@]}" --out "$WORK/x.blastscan"
stderr_has "must all be made one way" "mixed normalisation refused"
[ ! -e "$WORK/x.blastscan" ] && ok || fail "no model written"
cp "$WORK/raw/manifest.csv" "$WORK/raw/partly.csv"
with_column "$WORK/raw/partly.csv" 0 2
expect 1 "some rows without a setting" -- "$BIN" train --data "$WORK/raw/partly.csv" --backbone "$MODEL" \
    "${TRAIN[@]}" --out "$WORK/x.blastscan"
stderr_has "does not (no \`normalised\` value)" "rows without the setting refused"

expect 0 "train --mil on crops as photographed" -- "$BIN" --seed 3 train --data "$WORK/raw/manifest.csv" \
    --backbone "$MODEL" "${TRAIN[@]}" --mil --out "$WORK/raw.blastscan"
stderr_has "cell crops made with photographed colours (recorded in the model)" "the crops' setting recorded"
stderr_has "train: mi-SVM: " "mi-SVM's line"
grep -E "train: mi-SVM: [0-9]+ of [0-9]+ images of 3 positive groups \(bags\) end positive .*per bag min [1-9]" \
    "$WORK/err" >/dev/null && ok || fail "mi-SVM's counts: 3 bags (the Pro fields), at least one positive each"
grep -E "after [0-9]+ rounds?, (converged|stopped at the cap)" "$WORK/err" >/dev/null && ok || fail "mi-SVM's rounds"
expect 0 "train on normalised crops" -- "$BIN" --seed 3 train --data "$WORK/norm/manifest.csv" \
    --backbone "$MODEL" "${TRAIN[@]}" --out "$WORK/norm.blastscan"
grep -q "mi-SVM" "$WORK/err" && fail "no mi-SVM without --mil" || ok

# cells --model: the model's setting without being told; the same flag agrees, the contrary fails
expect 0 "cells, the model's own setting" -- "$BIN" cells --model "$WORK/raw.blastscan" --backbone-dir "$WORK/models" \
    --format csv "$FIELD"
stderr_has "cells cropped with photographed colours, as the model was trained" "cells says how it crops"
cp "$WORK/out" "$WORK/raw-default.csv"
expect 0 "cells --no-normalise, as the model" -- "$BIN" cells --model "$WORK/raw.blastscan" \
    --backbone-dir "$WORK/models" --format csv --no-normalise "$FIELD"
cmp -s "$WORK/out" "$WORK/raw-default.csv" && ok || fail "the model's setting is --no-normalise"
expect 0 "cells, normalised model" -- "$BIN" cells --model "$WORK/norm.blastscan" --backbone-dir "$WORK/models" \
    --format csv "$FIELD"
stderr_has "cells cropped with normalised colours" "normalised model crops normalised"
expect 1 "cells --no-normalise against the model" -- "$BIN" cells --model "$WORK/norm.blastscan" \
    --backbone-dir "$WORK/models" --no-normalise "$FIELD"
stderr_has "trained on crops with normalised colours, and colours as photographed were asked for" \
    "the contrary flag refused"

# the C library applies the model's setting too: its first probability is the CLI's
if [ -x "$CELLS_EXAMPLE" ]; then
    expect 0 "examples/cells, photographed model" -- "$CELLS_EXAMPLE" "$WORK/raw.blastscan" "$WORK/models" "$FIELD"
    p_cli=$("$PY" -c "import csv,sys; print('%.4f' % float(next(csv.DictReader(open(sys.argv[1])))['probability']))" \
        "$WORK/raw-default.csv")
    grep -q "cell 0 at .* p=$p_cli" "$WORK/out" && ok || fail "the library crops as the model says (p=$p_cli)"
else
    fail "examples/cells not built at $CELLS_EXAMPLE"
fi

# predict on a cell model says so
expect 0 "predict on a crop" -- "$BIN" predict --model "$WORK/raw.blastscan" --backbone-dir "$WORK/models" \
    "$(tail -n +2 "$WORK/raw/manifest.csv" | head -1 | cut -d, -f1 | sed "s|^|$WORK/raw/|")"
stderr_has "is a cell model" "predict names a cell model"

# --adapt prior (issue 19.7). Batches of one class: the Benign fields' crops (all non-blast) and
# the Pro fields' crops; each must move away from the training prior, towards its own class.
expect 2 "CORAL is not offered" -- "$BIN" predict --model "$WORK/raw.blastscan" --adapt coral "$WORK/raw"
stderr_has "CORAL is not offered" "the reason given"
expect 2 "cells --adapt without a model" -- "$BIN" cells --adapt prior "$FIELD"
prior_moves() { # WANT(lower|higher) WHAT: the stderr line's batch prior against the training prior
    "$PY" - "$WORK/err" "$1" <<'PYEOF'
import re, sys
m = re.search(r"is ([0-9.]+) \(the model's training prior ([0-9.]+);", open(sys.argv[1]).read())
batch, train = float(m.group(1)), float(m.group(2))
sys.exit(0 if (batch < train if sys.argv[2] == "lower" else batch > train) else 1)
PYEOF
}
called() { "$PY" -c "import csv,sys; print(sum(r['label']=='1' for r in csv.DictReader(open(sys.argv[1]))))" "$1"; }
for c in Benign Pro; do
    expect 0 "predict, $c crops" -- "$BIN" predict --model "$WORK/raw.blastscan" --backbone-dir "$WORK/models" \
        --format csv "$WORK/raw/$c"
    cp "$WORK/out" "$WORK/plain-$c.csv"
    expect 0 "predict --adapt prior, $c crops" -- "$BIN" predict --model "$WORK/raw.blastscan" \
        --backbone-dir "$WORK/models" --format csv --adapt prior "$WORK/raw/$c"
    cp "$WORK/out" "$WORK/adapted-$c.csv"
    stderr_has "predict: --adapt prior: the batch's prior of ALL is" "predict says what it estimated"
    [ "$(wc -l <"$WORK/adapted-$c.csv")" = "$(wc -l <"$WORK/plain-$c.csv")" ] && ok || fail "every image printed"
done
expect 0 "predict --adapt prior, Benign again" -- "$BIN" predict --model "$WORK/raw.blastscan" \
    --backbone-dir "$WORK/models" --format csv --adapt prior "$WORK/raw/Benign"
prior_moves lower && ok || fail "an all-healthy batch's prior falls below the training prior"
[ "$(called "$WORK/adapted-Benign.csv")" -le "$(called "$WORK/plain-Benign.csv")" ] && ok ||
    fail "no more ALL calls in an all-healthy batch after adaptation"
expect 0 "predict --adapt prior, Pro again" -- "$BIN" predict --model "$WORK/raw.blastscan" \
    --backbone-dir "$WORK/models" --format csv --adapt prior "$WORK/raw/Pro"
prior_moves higher && ok || fail "an all-ALL batch's prior rises above the training prior"
[ "$(called "$WORK/adapted-Pro.csv")" -ge "$(called "$WORK/plain-Pro.csv")" ] && ok ||
    fail "no fewer ALL calls in an all-ALL batch after adaptation"
# cells --adapt prior on the three Benign fields: every cell's probability lower, the same cells
expect 0 "cells, Benign fields" -- "$BIN" cells --model "$WORK/raw.blastscan" --backbone-dir "$WORK/models" \
    --format csv "$WORK/aria/Benign"
cp "$WORK/out" "$WORK/cells-plain.csv"
expect 0 "cells --adapt prior, Benign fields" -- "$BIN" cells --model "$WORK/raw.blastscan" \
    --backbone-dir "$WORK/models" --format csv --adapt prior "$WORK/aria/Benign"
prior_moves lower && ok || fail "cells: an all-healthy batch's share of blasts falls"
"$PY" - "$WORK/cells-plain.csv" "$WORK/out" <<'PYEOF' && ok || fail "cells: the same cells, each less likely a blast"
import csv, sys
a, b = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
assert len(a) == len(b) > 0
assert all(x["x0"] == y["x0"] and float(y["probability"]) < float(x["probability"]) for x, y in zip(a, b))
PYEOF
# A file without the PRIO section (as builds before it wrote): the same results without
# --adapt, and --adapt refused.
"$PY" - "$WORK/raw.blastscan" "$WORK/old.blastscan" <<'PYEOF'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
body = b[:-32]
assert body[-24:-20] == b"PRIO"
body = body[:-24]
body = body[:16] + struct.pack("<Q", len(body) - 32) + body[24:]
open(sys.argv[2], "wb").write(body + hashlib.sha256(body).digest())
PYEOF
expect 0 "predict with the old file" -- "$BIN" predict --model "$WORK/old.blastscan" --backbone-dir "$WORK/models" \
    --format csv "$WORK/raw/Benign"
cmp -s "$WORK/out" "$WORK/plain-Benign.csv" && ok || fail "an old file predicts as before"
expect 1 "predict --adapt prior, old file" -- "$BIN" predict --model "$WORK/old.blastscan" \
    --backbone-dir "$WORK/models" --adapt prior "$WORK/raw/Benign"
stderr_has "records no training class prior" "the reason given"
expect 1 "cells --adapt prior, old file" -- "$BIN" cells --model "$WORK/old.blastscan" \
    --backbone-dir "$WORK/models" --adapt prior "$FIELD"
stderr_has "records no training class prior" "cells gives the reason"
finish
