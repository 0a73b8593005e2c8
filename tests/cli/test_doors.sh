#!/bin/bash
# test_doors.sh — scripts/check-doors passes on this tree and catches a planted violation (a
# test that includes a private header of src/nn directly).
source "$(dirname "$0")/lib.sh"
SRC=${BLASTSCAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

expect 0 "the tree keeps its doors" -- "$SRC/scripts/check-doors" "$SRC"
sed 's/^/  /' "$WORK/out" | head -10

mkdir -p "$WORK/tree/src/nn" "$WORK/tree/tests/nn"
cp "$SRC/src/nn/internal.h" "$WORK/tree/src/nn/"
printf '#include "nn/internal.h"\n' >"$WORK/tree/tests/nn/peek.c"
printf '#include "internal.h"\n' >"$WORK/tree/src/nn/plan.c"
expect 1 "a private header included from a test is refused" -- "$SRC/scripts/check-doors" "$WORK/tree"
stdout_has "peek.c:1: includes nn/internal.h, private to src/nn" "the offending include is named"
if grep -q "plan.c" "$WORK/out"; then fail "an include inside the stage was reported"; else ok; fi

finish
