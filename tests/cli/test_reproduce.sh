#!/usr/bin/env bash
# `blastscan reproduce` end to end on 12 Aria 2021 images, one backbone, no mirrors and a few
# epochs: exit 0, both protocols' results and report.md written, and the wall time said last
# ("reproduce: done in N s" or "N min N s").
. "$(dirname "$0")/lib.sh"
need "$MODEL" "$ARIA"
make_data "$WORK/data" 6

expect 2 "reproduce without --report" -- "$BIN" reproduce --data "$WORK/data"
expect 0 "reproduce" -- "$BIN" --threads 2 reproduce --data "$WORK/data" --positive Pro --backbone "$MODEL" \
    --augment none --folds 2 --latent 0.25 --epochs 3 --cache "$WORK/cache" --report "$WORK/r"
for f in report.md paper/results.json grouped/results.json features/index.csv; do
    [ -s "$WORK/r/$f" ] && ok || fail "$f written"
done
tail -1 "$WORK/err" | grep -qE "^reproduce: done in ([0-9]+ h )?([0-9]+ min )?[0-9]+ s -> $WORK/r/report.md$" && ok \
    || fail "the last line gives the wall time: $(tail -1 "$WORK/err")"
expect 1 "reproduce on an unreadable dataset" -- "$BIN" reproduce --data "$WORK/nope" --backbone "$MODEL" \
    --report "$WORK/r2"
stderr_has "$WORK/nope" "the missing dataset is named"
finish
