#!/usr/bin/env bash
# test_cli.sh — `blastscan autoencoder fit|encode`: outputs, trace, exit codes and messages.
# Fixtures are written with python3's struct module (no NumPy needed); skipped (77) without it.
set -u
BIN=${BLASTSCAN_BIN:?BLASTSCAN_BIN is not set}
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check NAME EXPECTED_RC ACTUAL_RC
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit code $3, expected $2"; fails=$((fails + 1)); else echo "ok: $1"; fi
}
has() { # has NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: '$3' not in $2:"; cat "$2"; fails=$((fails + 1)); fi
}

# npy NAME ROWS COLS [nan_row nan_col]: float32 C-order matrix with varied per-column ranges
npy() {
    python3 - "$@" <<'PY'
import struct, sys, random
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
nan = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else None
random.seed(n * 1000 + d)
vals = []
for i in range(n):
    for j in range(d):
        v = float('nan') if nan == (i, j) else (1.0 if j == 1 else random.random() * (j + 1) - 0.5 * j)
        vals.append(v)
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d)
pad = 64 - (10 + len(hdr) + 1) % 64
hdr = hdr + ' ' * pad + '\n'
with open(path, 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode())
    f.write(struct.pack('<%df' % len(vals), *vals))
PY
}
npy "$T/x.npy" 40 16
npy "$T/y.npy" 7 16
npy "$T/w.npy" 7 15
npy "$T/nan.npy" 10 16 3 5

"$BIN" autoencoder --help >"$T/h" 2>&1; check "autoencoder --help" 0 $?
has "help names fit" "$T/h" "autoencoder fit"
"$BIN" autoencoder fit --help >"$T/h" 2>&1; check "fit --help" 0 $?
has "fit help lists --hidden" "$T/h" "--hidden H"
"$BIN" autoencoder encode --help >/dev/null 2>&1; check "encode --help" 0 $?
"$BIN" autoencoder >/dev/null 2>&1; check "no subcommand" 2 $?
"$BIN" autoencoder frobnicate >/dev/null 2>&1; check "unknown subcommand" 2 $?
"$BIN" autoencoder fit --features "$T/x.npy" --out "$T/m.sae" 2>"$T/e"; check "fit without --hidden" 2 $?
has "usage message" "$T/e" "--hidden is required"
"$BIN" autoencoder fit --features "$T/x.npy" --hidden 4 --proportion 1.5 --out "$T/m.sae" 2>/dev/null; check "bad --proportion" 2 $?
"$BIN" autoencoder fit --features "$T/x.npy" --hidden four --out "$T/m.sae" 2>/dev/null; check "bad --hidden" 2 $?
"$BIN" autoencoder fit --features "$T/x.npy" --hidden 4 --bogus --out "$T/m.sae" 2>/dev/null; check "unknown option" 2 $?

"$BIN" --seed 3 autoencoder fit --features "$T/x.npy" --hidden 4 --epochs 40 --trace "$T/t.csv" --out "$T/m.sae" >"$T/o" 2>"$T/e"
check "fit" 0 $?
has "fit summary" "$T/o" "40 samples x 16 features -> 4 hidden; 40 epochs"
[ -s "$T/m.sae" ] && echo "ok: model written" || { echo "FAIL: no model"; fails=$((fails + 1)); }
has "trace header" "$T/t.csv" "epoch,perf,grad_norm,lambda,accepted"
lines=$(wc -l <"$T/t.csv")
[ "$lines" = 42 ] && echo "ok: trace has epochs 0..40" || { echo "FAIL: trace has $lines lines"; fails=$((fails + 1)); }
python3 - "$T/t.csv" <<'PY' || fails=$((fails + 1))
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
p = [float(r['perf']) for r in rows]
assert all(b <= a for a, b in zip(p, p[1:])), "perf must never increase"
assert p[-1] < 0.8 * p[0], "training must reduce perf"
print("ok: trace perf decreases %.4g -> %.4g" % (p[0], p[-1]))
PY

# same seed, same model; the seed is honoured after the command name too
"$BIN" autoencoder fit --seed 3 --features "$T/x.npy" --hidden 4 --epochs 40 --out "$T/m2.sae" >/dev/null 2>&1
check "fit again" 0 $?
cmp -s "$T/m.sae" "$T/m2.sae" && echo "ok: same seed, same file" || { echo "FAIL: same seed gave a different model"; fails=$((fails + 1)); }
"$BIN" --seed 4 autoencoder fit --features "$T/x.npy" --hidden 4 --epochs 40 --out "$T/m3.sae" >/dev/null 2>&1
cmp -s "$T/m.sae" "$T/m3.sae" && { echo "FAIL: another seed gave the same model"; fails=$((fails + 1)); } || echo "ok: seed changes the model"

"$BIN" autoencoder fit --features "$T/x.npy" --hidden 0.25 --epochs 3 --out "$T/q.sae" >"$T/o" 2>&1
check "fit --hidden 0.25" 0 $?
has "fraction of 16 features = 4" "$T/o" "-> 4 hidden"

"$BIN" autoencoder encode --model "$T/m.sae" --features "$T/y.npy" --out "$T/z.npy" 2>"$T/e"
check "encode" 0 $?
python3 - "$T/z.npy" <<'PY' || fails=$((fails + 1))
import struct, sys
b = open(sys.argv[1], 'rb').read()
hl = struct.unpack('<H', b[8:10])[0]
h = b[10:10 + hl].decode()
assert "'shape': (7, 4)" in h and "<f4" in h, h
v = struct.unpack('<28f', b[10 + hl:])
assert all(0 < x < 1 for x in v), v
print("ok: encode wrote 7 x 4 activations in (0, 1)")
PY

"$BIN" autoencoder encode --model "$T/m.sae" --features "$T/w.npy" --out "$T/z2.npy" 2>"$T/e"
check "encode with 15 features" 1 $?
has "feature count message" "$T/e" "expects 16 features"
[ ! -e "$T/z2.npy" ] && echo "ok: no output on failure" || { echo "FAIL: output written on failure"; fails=$((fails + 1)); }
"$BIN" autoencoder fit --features "$T/nan.npy" --hidden 3 --out "$T/n.sae" 2>"$T/e"
check "fit NaN features" 1 $?
has "NaN message names file and cell" "$T/e" "nan.npy: NaN value at row 3, column 5"
"$BIN" autoencoder encode --model "$T/m.sae" --features "$T/nan.npy" --out "$T/z3.npy" 2>"$T/e"
check "encode NaN features" 1 $?
has "encode NaN message" "$T/e" "nan.npy: NaN value at row 3, column 5"
"$BIN" autoencoder fit --features "$T/missing.npy" --hidden 3 --out "$T/n.sae" 2>/dev/null
check "missing features file" 1 $?

head -c 500 "$T/m.sae" >"$T/trunc.sae"
"$BIN" autoencoder encode --model "$T/trunc.sae" --features "$T/y.npy" --out "$T/z4.npy" 2>"$T/e"
check "truncated model" 1 $?
has "truncated message" "$T/e" "truncated"
python3 - "$T/m.sae" "$T/flip.sae" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[700] ^= 0x10  # one bit inside the weights
open(sys.argv[2], 'wb').write(bytes(b))
PY
"$BIN" autoencoder encode --model "$T/flip.sae" --features "$T/y.npy" --out "$T/z5.npy" 2>"$T/e"
check "modified model" 1 $?
has "checksum message" "$T/e" "checksum mismatch"
"$BIN" autoencoder encode --model "$T/x.npy" --features "$T/y.npy" --out "$T/z6.npy" 2>"$T/e"
check "not a model" 1 $?
has "magic message" "$T/e" "not a blastscan autoencoder file"

[ "$fails" = 0 ] && echo "all CLI checks passed" || echo "$fails CLI check(s) failed"
[ "$fails" = 0 ]
