// bench_ort.js MODEL BATCH THREADS SECONDS — ONNX Runtime (onnxruntime-node) throughput on the
// same .onnx file blastscan runs: prints one JSON line {images_per_s, peak_rss_mb, runs}.
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, 'node', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [model, batchS, threadsS, secondsS] = process.argv.slice(2);
  const batch = parseInt(batchS, 10), threads = parseInt(threadsS, 10), seconds = parseFloat(secondsS);
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const name = sess.inputNames[0];
  const meta = sess.inputMetadata ? sess.inputMetadata[0] : null;
  let size = parseInt(process.env.BENCH_SIZE || '0', 10);
  if (!size && meta && meta.shape) size = meta.shape[2];
  const n = batch * 3 * size * size;
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = (s >>> 16) % 256; }
  const feeds = {[name]: new ort.Tensor('float32', data, [batch, 3, size, size])};
  await sess.run(feeds); // warm-up
  let runs = 0;
  const t0 = process.hrtime.bigint();
  let el = 0;
  while (runs < 3 || el < seconds) {
    await sess.run(feeds);
    runs++;
    el = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({images_per_s: runs * batch / el, peak_rss_mb: rss, runs}));
}
main().catch((e) => { console.error(e); process.exit(1); });
