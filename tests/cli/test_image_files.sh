#!/usr/bin/env bash
# The image files a command is given (src/cli/cli_files.c, shared by `predict` and `cells`):
# a folder is walked in name order, nested folders included, hidden entries and files without
# an image extension left out; a file named on the command line is taken as given, after the
# folder before it. Seen through `cells` without a model (detection only: no network).
. "$(dirname "$0")/lib.sh"
BCCD="$ASSETS/data/bccd/images"
need "$BCCD"
first=$(ls "$BCCD" | head -1)
second=$(ls "$BCCD" | sed -n 2p)

T="$WORK/tree"
mkdir -p "$T/a/deep" "$T/.hidden" "$T/z"
cp "$BCCD/$first" "$T/b.jpg"
cp "$BCCD/$second" "$T/a/deep/c.jpg"
cp "$BCCD/$first" "$T/a/a.JPG"
cp "$BCCD/$first" "$T/.hidden/d.jpg"
cp "$BCCD/$first" "$T/.e.jpg"
echo "not an image" >"$T/notes.txt"

expect 0 "cells on a folder and a file" -- "$BIN" cells --format csv "$T" "$BCCD/$second"
cut -d, -f1 "$WORK/out" | tail -n +2 | uniq >"$WORK/paths"
printf '%s\n' "$T/a/a.JPG" "$T/a/deep/c.jpg" "$T/b.jpg" "$BCCD/$second" >"$WORK/want"
diff "$WORK/want" "$WORK/paths" >/dev/null && ok \
    || fail "images in walk order, hidden and non-image files left out: $(tr '\n' ' ' <"$WORK/paths")"

expect 0 "an empty folder" -- "$BIN" cells --format csv "$T/z"
[ "$(wc -l <"$WORK/out")" = 1 ] && ok || fail "an empty folder gives the header alone"

expect 1 "a file that does not exist" -- "$BIN" cells --format csv "$WORK/missing/x.jpg"
stderr_has "$WORK/missing/x.jpg" "the missing file is named"
finish
