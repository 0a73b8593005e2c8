#!/usr/bin/env bash
# train --weight-source NAME=W (issue 18.2: a weight for a lab's own corrected cells): bad values
# are usage errors, an unknown source is an error naming the data's sources, nothing is written
# on either; W = 1 writes the unweighted model byte for byte; W = 5 counts the source's rows five
# times (the log says so) and gives another model. Also train --mil-folds (out-of-fold mi-SVM).
. "$(dirname "$0")/lib.sh"

need "$MODEL" "$ARIA"
mkdir -p "$WORK/data"
{
    echo path,label,class,group,source
    for f in $(ls "$ARIA/Benign" | head -3); do echo "$ARIA/Benign/$f,0,Benign,$f,aria"; done
    for f in $(ls "$ARIA/Pro" | head -3); do echo "$ARIA/Pro/$f,1,Pro,$f,aria"; done
    for f in $(ls "$ARIA/Benign" | sed -n 4,5p); do echo "$ARIA/Benign/$f,0,Benign,$f,lab"; done
} >"$WORK/data/m.csv"
T=(--seed 3 train --data "$WORK/data/m.csv" --backbone "$MODEL" --augment none --latent none
    --calibration-folds 2 --near-duplicates off --cache "$WORK/cache" --batch 8)

for bad in lab lab= =3 lab=0 lab=1.5 lab=1001 lab=x; do
    expect 2 "--weight-source $bad" -- "$BIN" "${T[@]}" --weight-source "$bad" --out "$WORK/bad.blastscan"
done
stderr_has "--weight-source" "the option is named"
expect 2 "a source named twice" -- "$BIN" "${T[@]}" --weight-source lab=2 --weight-source lab=3 \
    --out "$WORK/bad.blastscan"
stderr_has "names 'lab' twice" "the repeated name is said"
expect 1 "an unknown source" -- "$BIN" "${T[@]}" --weight-source Lab=3 --out "$WORK/bad.blastscan"
stderr_has "--weight-source Lab: no source of that name in the data (its sources: aria, lab)" \
    "the sources are listed"
[ ! -e "$WORK/bad.blastscan" ] && ok || fail "nothing written on an error"

expect 0 "train unweighted" -- "$BIN" "${T[@]}" --out "$WORK/plain.blastscan"
stderr_has "train: 8 rows x" "8 rows"
expect 0 "train with weight 1" -- "$BIN" "${T[@]}" --weight-source lab=1 --out "$WORK/one.blastscan"
cmp -s "$WORK/plain.blastscan" "$WORK/one.blastscan" && ok || fail "weight 1 changes the model"
expect 0 "train with weight 5" -- "$BIN" "${T[@]}" --weight-source lab=5 --out "$WORK/five.blastscan"
stderr_has "train: 2 images of source lab count 5 times" "the weight is logged"
stderr_has "train: 16 rows x" "the lab's 2 rows count 5 times: 6 + 10 rows"
cmp -s "$WORK/plain.blastscan" "$WORK/five.blastscan" && fail "weight 5 leaves the model unchanged" || ok
# mi-SVM relabelling by out-of-fold decisions (docs/svm.md): needs --mil, a fold count in range.
expect 2 "--mil-folds without --mil" -- "$BIN" "${T[@]}" --mil-folds 3 --out "$WORK/bad.blastscan"
stderr_has "--mil-folds needs --mil" "--mil-folds alone refused"
expect 2 "--mil-folds 1" -- "$BIN" "${T[@]}" --mil --mil-folds 1 --out "$WORK/bad.blastscan"
expect 0 "train --mil --mil-folds 3" -- "$BIN" "${T[@]}" --mil --mil-folds 3 --out "$WORK/oof.blastscan"
stderr_has "mi-SVM relabels by out-of-fold decisions (3 folds of positive bags)" "the folds are logged"
expect 0 "predict with the weighted model" -- "$BIN" predict --model "$WORK/five.blastscan" "$ARIA/Benign/$(ls "$ARIA/Benign" | head -1)"
finish
