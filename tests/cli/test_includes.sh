#!/bin/bash
# test_includes.sh — scripts/check-includes passes on this tree, and on a planted tree (with the
# real src/CMakeLists.txt, so the stage order is read from its foreach line) finds a circle
# between two .c files through a shared header, a circle of headers, and an include up the
# stage order, while the exception the CMakeLists.txt names stays allowed.
source "$(dirname "$0")/lib.sh"
SRC=${BLASTSCAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

expect 0 "the tree has no circles and no arrows up" -- "$SRC/scripts/check-includes" "$SRC"
stdout_has "no circles, no arrows up" "the clean tree is reported as such"

T=$WORK/tree/src
mkdir -p "$T/core" "$T/study" "$T/report" "$T/features" "$T/nn"
cp "$SRC/src/CMakeLists.txt" "$T/"
# report/page.c calls report/section.c and section.c calls back, both through parts.h.
printf 'void bs_page_escape(void);\nvoid bs_section(void);\n' >"$T/report/parts.h"
printf '#include "parts.h"\nvoid bs_page_escape(void) {}\nvoid bs_page(void) { bs_section(); }\n' \
    >"$T/report/page.c"
printf '#include "parts.h"\nvoid bs_section(void) { bs_page_escape(); }\n' >"$T/report/section.c"
# Two headers of study that include each other.
printf '#include "two.h"\n' >"$T/study/one.h"
printf '#include "one.h"\n' >"$T/study/two.h"
# core reaching up into study; features/extract.c into nn (the named exception) and
# features/featdir.c into nn (not named).
printf '/* up */\n#include "study/one.h"\n' >"$T/core/up.c"
printf 'int bs_engine_run(void);\n' >"$T/nn/engine.h"
printf '#include "nn/engine.h"\nint bs_x(void) { return bs_engine_run(); }\n' \
    >"$T/features/extract.c"
cp "$T/features/extract.c" "$T/features/featdir.c"

expect 1 "a planted tree with circles and an arrow up is refused" -- \
    "$SRC/scripts/check-includes" "$WORK/tree"
sed 's/^/  /' "$WORK/out" | head -10
stdout_has "circle of 2 files: report/page.c -> report/section.c (bs_section, declared in report/parts.h) -> report/page.c (bs_page_escape, declared in report/parts.h)" \
    "the circle between two .c files is named with the calls that make it"
stdout_has "circle of 2 files: study/one.h -> study/two.h (included, line 1) -> study/one.h (included, line 1)" \
    "the circle of headers is named"
stdout_has "core/up.c -> study/one.h (included, line 2): study comes after core in the stage order" \
    "the include up the stage order is named"
stdout_has "features/featdir.c -> nn/engine.h (included, line 1): nn comes after features" \
    "an include up the order that is not an exception is named"
if grep -q "features/extract.c" "$WORK/out"; then fail "the named exception was reported"; else ok; fi

finish
