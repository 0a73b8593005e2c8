// measure.js PAGE [RUNS] — one review page in headless Chromium, RUNS times (default 3; the
// median is printed): the file's size, first contentful paint, the time until the page is usable
// (its script has built every tile: bsReview.ready), then the cost of a key — reclassify (b),
// move (j), undo (z) — from the key event to the next painted frame, the thumbnails decoded
// (lazy: only those near the view) and the JS heap. Used by bench/review/run.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('../../tests/browser/node_modules/puppeteer-core');

const [page, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

// The time from a key to the frame after it, median of n presses.
async function keyCost(p, key, n) {
  const t = [];
  for (let i = 0; i < n; i++) {
    t.push(await p.evaluate((k) => new Promise((resolve) => {
      const t0 = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
    }), key));
  }
  return median(t);
}

async function once() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'blastscan-chromium-'));
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'] });
  try {
    const p = await browser.newPage();
    await p.setViewport({ width: 1400, height: 900 });
    await p.goto('file://' + path.resolve(page), { waitUntil: 'load', timeout: 300000 });
    await p.waitForFunction('window.bsReview && window.bsReview.ready', { timeout: 300000 });
    const r = await p.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
      ready: performance.now(),
      script: bsReview.startMs,
      cells: bsReview.cells.length,
      fields: bsReview.fields.length,
      decoded: document.querySelectorAll('#grid img[src]').length,
    }));
    r.reclassify = await keyCost(p, 'b', 15);
    r.move = await keyCost(p, 'j', 15);
    r.undo = await keyCost(p, 'z', 15);
    const m = await p.metrics();
    r.heapMB = m.JSHeapUsedSize / 1e6;
    return r;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

(async () => {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await once());
  const med = (k) => median(all.map((r) => r[k]));
  console.log(`page: ${(fs.statSync(page).size / 1e6).toFixed(1)} MB, ${all[0].fields} fields, ${all[0].cells} cells`);
  console.log(`first contentful paint ${med('fcp').toFixed(0)} ms; usable (every tile built) ${med('ready').toFixed(0)} ms, ` +
    `of which the page's script ${med('script').toFixed(0)} ms`);
  console.log(`a key to the next frame: reclassify ${med('reclassify').toFixed(1)} ms, move ${med('move').toFixed(1)} ms, ` +
    `undo ${med('undo').toFixed(1)} ms`);
  console.log(`thumbnails decoded at start: ${all[0].decoded} of ${all[0].cells}; JS heap ${med('heapMB').toFixed(0)} MB ` +
    `(median of ${runs} runs)`);
})().catch((e) => { console.error(e); process.exit(1); });
