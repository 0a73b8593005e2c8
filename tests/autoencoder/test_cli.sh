#!/usr/bin/env bash
# test_cli.sh — `blastscan autoencoder fit|encode`: outputs, trace, exit codes and messages.
# Fixtures are written with python3's struct module (no NumPy needed); skipped (77) without it.
. "$(dirname "$0")/../cli/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not found"
T=$WORK

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

expect 0 "autoencoder --help" -- "$BIN" autoencoder --help
stdout_has "autoencoder fit" "help names fit"
expect 0 "fit --help" -- "$BIN" autoencoder fit --help
stdout_has "--hidden H" "fit help lists --hidden"
expect 0 "encode --help" -- "$BIN" autoencoder encode --help
expect 2 "no subcommand" -- "$BIN" autoencoder
expect 2 "unknown subcommand" -- "$BIN" autoencoder frobnicate
expect 2 "fit without --hidden" -- "$BIN" autoencoder fit --features "$T/x.npy" --out "$T/m.sae"
stderr_has "--hidden is required" "usage message"
expect 2 "bad --proportion" -- "$BIN" autoencoder fit --features "$T/x.npy" --hidden 4 --proportion 1.5 --out "$T/m.sae"
expect 2 "bad --hidden" -- "$BIN" autoencoder fit --features "$T/x.npy" --hidden four --out "$T/m.sae"
expect 2 "unknown option" -- "$BIN" autoencoder fit --features "$T/x.npy" --hidden 4 --bogus --out "$T/m.sae"

expect 0 "fit" -- "$BIN" --seed 3 autoencoder fit --features "$T/x.npy" --hidden 4 --epochs 40 --trace "$T/t.csv" \
    --out "$T/m.sae"
stdout_has "40 samples x 16 features -> 4 hidden; 40 epochs" "fit summary"
[ -s "$T/m.sae" ] && ok || fail "no model written"
file_has "$T/t.csv" "epoch,perf,gradient,lambda,accepted" "trace header (docs/autoencoder.md)"
lines=$(wc -l <"$T/t.csv")
[ "$lines" = 42 ] && ok || fail "trace has $lines lines, expected 42 (header and epochs 0..40)"
# A reader takes the gradient column under either name (grad_norm in older traces).
python3 - "$T/t.csv" <<'PY' && ok || fail "trace: perf decreases, the gradient shrinks"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
p = [float(r['perf']) for r in rows]
g = [float(r['gradient'] if 'gradient' in r else r['grad_norm']) for r in rows]
assert all(b <= a for a, b in zip(p, p[1:])), "perf must never increase"
assert p[-1] < 0.8 * p[0], "training must reduce perf"
assert all(math.isfinite(v) and v > 0 for v in g), g
assert g[-1] < g[0], "training must reduce the gradient's norm"
PY

# same seed, same model; the seed is honoured after the command name too
expect 0 "fit again" -- "$BIN" autoencoder fit --seed 3 --features "$T/x.npy" --hidden 4 --epochs 40 --out "$T/m2.sae"
cmp -s "$T/m.sae" "$T/m2.sae" && ok || fail "same seed gave a different model"
expect 0 "fit, another seed" -- "$BIN" --seed 4 autoencoder fit --features "$T/x.npy" --hidden 4 --epochs 40 \
    --out "$T/m3.sae"
cmp -s "$T/m.sae" "$T/m3.sae" && fail "another seed gave the same model" || ok

expect 0 "fit --hidden 0.25" -- "$BIN" autoencoder fit --features "$T/x.npy" --hidden 0.25 --epochs 3 --out "$T/q.sae"
stdout_has "-> 4 hidden" "fraction of 16 features = 4"

expect 0 "encode" -- "$BIN" autoencoder encode --model "$T/m.sae" --features "$T/y.npy" --out "$T/z.npy"
python3 - "$T/z.npy" <<'PY' && ok || fail "encode wrote 7 x 4 activations in (0, 1)"
import struct, sys
b = open(sys.argv[1], 'rb').read()
hl = struct.unpack('<H', b[8:10])[0]
h = b[10:10 + hl].decode()
assert "'shape': (7, 4)" in h and "<f4" in h, h
v = struct.unpack('<28f', b[10 + hl:])
assert all(0 < x < 1 for x in v), v
PY

expect 1 "encode with 15 features" -- "$BIN" autoencoder encode --model "$T/m.sae" --features "$T/w.npy" --out "$T/z2.npy"
stderr_has "expects 16 features" "feature count message"
[ ! -e "$T/z2.npy" ] && ok || fail "output written on failure"
expect 1 "fit NaN features" -- "$BIN" autoencoder fit --features "$T/nan.npy" --hidden 3 --out "$T/n.sae"
stderr_has "nan.npy: NaN value at row 3, column 5" "NaN message names file and cell"
expect 1 "encode NaN features" -- "$BIN" autoencoder encode --model "$T/m.sae" --features "$T/nan.npy" --out "$T/z3.npy"
stderr_has "nan.npy: NaN value at row 3, column 5" "encode NaN message"
expect 1 "missing features file" -- "$BIN" autoencoder fit --features "$T/missing.npy" --hidden 3 --out "$T/n.sae"
stderr_has "$T/missing.npy" "missing file named"

head -c 500 "$T/m.sae" >"$T/trunc.sae"
expect 1 "truncated model" -- "$BIN" autoencoder encode --model "$T/trunc.sae" --features "$T/y.npy" --out "$T/z4.npy"
stderr_has "truncated" "truncated message"
python3 - "$T/m.sae" "$T/flip.sae" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[700] ^= 0x10  # one bit inside the weights
open(sys.argv[2], 'wb').write(bytes(b))
PY
expect 1 "modified model" -- "$BIN" autoencoder encode --model "$T/flip.sae" --features "$T/y.npy" --out "$T/z5.npy"
stderr_has "checksum mismatch" "checksum message"
expect 1 "not a model" -- "$BIN" autoencoder encode --model "$T/x.npy" --features "$T/y.npy" --out "$T/z6.npy"
stderr_has "not a blastscan autoencoder file" "magic message"
finish
