#!/usr/bin/env bash
# blastscan infer: help, usage errors (exit 2), malformed models (exit 1 with a message),
# a fixture run, and a shipped-model run when the assets are present.
set -u
B=${BLASTSCAN_BIN:?}
FX=${BLASTSCAN_SOURCE_DIR:?}/tests/nn/fixtures
ASSETS=${BLASTSCAN_ASSETS:-${BLASTSCAN_DEFAULT_ASSETS:-}}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$B" infer --help | grep -q -- "--model M.onnx" || fail "--help"
"$B" infer --input x.npy --out y.npy 2>/dev/null; [ $? -eq 2 ] || fail "missing --model must exit 2"
"$B" infer --model m.onnx --input x.npy 2>/dev/null; [ $? -eq 2 ] || fail "missing --out must exit 2"
"$B" infer --model m.onnx --input x.npy --out y.npy --bogus 2>/dev/null; [ $? -eq 2 ] || fail "unknown option must exit 2"

# a good fixture; output file written, default output = first graph output
"$B" infer --model "$FX/conv_pads.onnx" --input "$FX/conv_pads_in.npy" --out "$T/y.npy" || fail "fixture run"
[ -s "$T/y.npy" ] || fail "no output written"
# same bytes as the expected shape: 2*4*4*8 floats after a 128-byte header
[ "$(stat -c %s "$T/y.npy")" -eq $((128 + 2*4*4*8*4)) ] || fail "output size"
# unknown output name
"$B" infer --model "$FX/conv_pads.onnx" --input "$FX/conv_pads_in.npy" --output nope --out "$T/z.npy" 2>"$T/err"
[ $? -eq 1 ] && grep -q "nope" "$T/err" || fail "unknown --output"
[ -e "$T/z.npy" ] && fail "output written on failure"

for f in "$FX"/bad_*.onnx; do
  in="$FX/conv_pads_in.npy"
  [ "$(basename "$f")" = bad_channel_mismatch.onnx ] && in="$FX/float_data_in.npy"
  "$B" infer --model "$f" --input "$in" --out "$T/bad.npy" 2>"$T/err"
  rc=$?
  [ $rc -eq 1 ] || fail "$(basename "$f"): exit $rc, expected 1"
  grep -q "error:" "$T/err" || fail "$(basename "$f"): no message"
  grep -qi "sanitizer\|runtime error" "$T/err" && fail "$(basename "$f"): sanitizer report"
  echo "ok $(basename "$f"): $(head -c 160 "$T/err")"
done
# not a file / an empty file
"$B" infer --model "$T/none.onnx" --input "$FX/conv_pads_in.npy" --out "$T/y2.npy" 2>/dev/null; [ $? -eq 1 ] || fail "missing model"
: > "$T/empty.onnx"
"$B" infer --model "$T/empty.onnx" --input "$FX/conv_pads_in.npy" --out "$T/y2.npy" 2>/dev/null; [ $? -eq 1 ] || fail "empty model"

if [ -n "$ASSETS" ] && [ -f "$ASSETS/models/googlenet-bvlc.onnx" ]; then
  "$B" --threads 2 infer --model "$ASSETS/models/googlenet-bvlc.onnx" \
      --input "$ASSETS/reference/googlenet-bvlc/coffee_input.npy" --output probabilities --out "$T/p.npy" || fail "googlenet"
  [ "$(stat -c %s "$T/p.npy")" -eq $((128 + 4000)) ] || fail "probabilities size"
else
  echo "SKIP: shipped model absent"
fi
echo PASS
