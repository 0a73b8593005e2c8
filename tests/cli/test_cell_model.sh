#!/usr/bin/env bash
# scripts/cell-model's usage errors, in seconds and without the shared assets: no output file,
# an unknown option, a number that is not one, two output files (exit 2, the usage on stderr);
# an assets folder without the data it needs, and a missing blastscan binary (exit 1, the
# message names the path); in every case nothing is written. The recipe itself is measured by
# bench/cell-model/run (docs/cells.md), not here: it takes minutes.
. "$(dirname "$0")/lib.sh"
CM="$(cd "$(dirname "$0")/../.." && pwd)/scripts/cell-model"
OUTM="$WORK/cells.blastscan"

expect 2 "no output file" -- "$CM"
stderr_has "no output file given" "no output file"
stderr_has "--assets DIR" "no output file"
expect 2 "unknown option" -- "$CM" "$OUTM" --fast
stderr_has "unknown option --fast" "unknown option"
expect 2 "bad seed" -- "$CM" "$OUTM" --seed one
stderr_has "'one' is not a whole number" "bad seed"
expect 2 "bad field count" -- "$CM" "$OUTM" --aria -5
expect 2 "unknown source" -- "$CM" "$OUTM" --without aria
stderr_has "--without aria: not a source" "unknown source"
expect 2 "two outputs" -- "$CM" "$OUTM" "$WORK/other.blastscan"
stderr_has "one output file only" "two outputs"
expect 2 "option without value" -- "$CM" "$OUTM" --assets
expect 0 "help" -- "$CM" --help 2>/dev/null
stdout_has "--without S" "help"
stdout_has "--weight-source NAME=W" "help"
expect 2 "--weight-source without value" -- "$CM" "$OUTM" --weight-source

expect 1 "bad assets path" -- "$CM" "$OUTM" --assets "$WORK/no-such-assets"
stderr_has "$WORK/no-such-assets/data/aria2021: not found" "bad assets path"
mkdir -p "$WORK/assets/data/aria2021" "$WORK/assets/data/bccd/images" "$WORK/assets/data/txlpbc-train" \
    "$WORK/assets/models"
expect 1 "assets without TXL-PBC's sources.csv" -- "$CM" "$OUTM" --assets "$WORK/assets"
stderr_has "txlpbc-train/sources.csv: not found" "assets without TXL-PBC's sources.csv"
touch "$WORK/assets/data/txlpbc-train/sources.csv" "$WORK/assets/models/googlenet-bvlc.onnx"
expect 1 "no binary" -- env BLASTSCAN_BIN="$WORK/no-blastscan" "$CM" "$OUTM" --assets "$WORK/assets"
stderr_has "$WORK/no-blastscan: no blastscan binary" "no binary"
if [ -e "$OUTM" ] || [ -e "$OUTM.work" ]; then fail "a usage error wrote $OUTM or its work folder"; else ok; fi
finish
