#!/usr/bin/env bash
# Group warnings of every command that opens a dataset (docs/near-duplicates.md): a group holding
# both labels, and a pixel-made group of more than 8 images, are named on stderr; a manifest
# group of many images is not. Uses two Aria 2021 images (Pro-011 and Pro-012 are identical).
. "$(dirname "$0")/lib.sh"

ARIA="$ASSETS/data/aria2021"
if [ ! -f "$ARIA/Pro/WBC-Malignant-Pro-011.jpg" ]; then echo "SKIP: $ARIA absent"; exit 77; fi
A="$ARIA/Pro/WBC-Malignant-Pro-011.jpg" B="$ARIA/Pro/WBC-Malignant-Pro-012.jpg" C="$ARIA/Benign/WBC-Benign-001.jpg"

# The same picture labelled both ways: one warning, naming both files.
printf 'path,label\n%s,1\n%s,0\n%s,0\n' "$A" "$B" "$C" >"$WORK/mixed.csv"
expect 0 "list mixed" -- "$BIN" list --data "$WORK/mixed.csv"
stderr_has "warning: group $A holds 2 images (1 ALL, 1 healthy: both labels), e.g. $A, $B" "mixed-label group warned"
[ "$(grep -c 'warning: group' "$WORK/err")" = 1 ] && ok || fail "exactly one group warning"

# Nine copies of one picture (same label): too large a pixel-made group.
mkdir -p "$WORK/copies"
{ echo path,label; for i in 1 2 3 4 5 6 7 8 9; do cp "$A" "$WORK/copies/$i.jpg"; echo "copies/$i.jpg,1"; done
  echo "$C,0"; } >"$WORK/copies.csv"
expect 0 "list copies" -- "$BIN" list --data "$WORK/copies.csv" --near-duplicates off
stderr_has "holds 9 images (9 ALL, 0 healthy: more than 8 images)" "large group warned"

# Ten different images of one patient (a manifest group) with one label: no warning.
{ echo path,label,group; ls "$ARIA/Benign" | head -10 | sed "s|^|$ARIA/Benign/|; s|\$|,0,patient1|"; } >"$WORK/patient.csv"
expect 0 "list patient" -- "$BIN" list --data "$WORK/patient.csv" --near-duplicates off
grep -q "warning: group" "$WORK/err" && fail "a manifest group is not warned about for its size" || ok

finish
