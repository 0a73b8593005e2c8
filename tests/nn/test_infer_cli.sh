#!/usr/bin/env bash
# blastscan infer: help, usage errors (exit 2), malformed models (exit 1 with a message),
# a fixture run, and a shipped-model run when the assets are present.
. "$(dirname "$0")/../cli/lib.sh"
FX=${BLASTSCAN_SOURCE_DIR:?}/tests/nn/fixtures

expect 0 "--help" -- "$BIN" infer --help
stdout_has "--model M.onnx" "--help names --model"
expect 2 "missing --model" -- "$BIN" infer --input x.npy --out y.npy
expect 2 "missing --out" -- "$BIN" infer --model m.onnx --input x.npy
expect 2 "unknown option" -- "$BIN" infer --model m.onnx --input x.npy --out y.npy --bogus

# a good fixture; output file written, default output = first graph output
expect 0 "fixture run" -- "$BIN" infer --model "$FX/conv_pads.onnx" --input "$FX/conv_pads_in.npy" --out "$WORK/y.npy"
# the expected shape: 2*4*4*8 floats after a 128-byte header
[ "$(stat -c %s "$WORK/y.npy" 2>/dev/null)" = $((128 + 2*4*4*8*4)) ] && ok || fail "output size"
expect 1 "unknown --output" -- "$BIN" infer --model "$FX/conv_pads.onnx" --input "$FX/conv_pads_in.npy" \
    --output nope --out "$WORK/z.npy"
stderr_has "nope" "unknown --output named"
[ ! -e "$WORK/z.npy" ] && ok || fail "output written on failure"

for f in "$FX"/bad_*.onnx; do
    in="$FX/conv_pads_in.npy"
    [ "$(basename "$f")" = bad_channel_mismatch.onnx ] && in="$FX/float_data_in.npy"
    expect 1 "$(basename "$f")" -- "$BIN" infer --model "$f" --input "$in" --out "$WORK/bad.npy"
    stderr_has "error:" "$(basename "$f") has a message"
    stderr_has "$(basename "$f")" "$(basename "$f") is named"
done
# not a file / an empty file
expect 1 "missing model" -- "$BIN" infer --model "$WORK/none.onnx" --input "$FX/conv_pads_in.npy" --out "$WORK/y2.npy"
stderr_has "$WORK/none.onnx" "missing model named"
: >"$WORK/empty.onnx"
expect 1 "empty model" -- "$BIN" infer --model "$WORK/empty.onnx" --input "$FX/conv_pads_in.npy" --out "$WORK/y2.npy"
stderr_has "empty" "empty model said"

if [ -f "$MODEL" ]; then
    expect 0 "googlenet" -- "$BIN" --threads 2 infer --model "$MODEL" \
        --input "$ASSETS/reference/googlenet-bvlc/coffee_input.npy" --output probabilities --out "$WORK/p.npy"
    [ "$(stat -c %s "$WORK/p.npy" 2>/dev/null)" = $((128 + 4000)) ] && ok || fail "probabilities size"
else
    skip "googlenet run" "$MODEL absent (BLASTSCAN_ASSETS names the assets folder)"
fi
finish
