// review.test.js — the review page of `blastscan cells --review` in headless Chromium, driven by
// puppeteer-core (test_review_browser.sh makes the pages and runs this). Checks:
//  - the page opens from disk and requests nothing but itself (request interception; data: and
//    the page's own blob: downloads are all it may use), with no script error and no policy
//    violation in the console;
//  - its counts before review are the C command's (`cells --format json` of the same run), its
//    review order is docs/review.md's rule, and its Wilson interval is core/stats' (review_wilson)
//    on every count it shows;
//  - keys reclassify cells (b, n, a, u, Space/Enter accept, j/k move, z and Ctrl+Z undo) and the
//    field's and the batch's counts change exactly as the rule says;
//  - "Export corrections" and "Export counts" download CSVs whose every row is the expected one
//    (paths with quotes, commas and </script> quoted as CSV);
//  - a page without a model shows every cell unreviewed and counts white cells;
//  - a screenshot is written (the shell script checks it is not blank).
// Usage: node review.test.js PAGE CELLS_JSON PLAIN_PAGE PLAIN_JSON DOWNLOAD_DIR SCREENSHOT WILSON_BIN
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const [pagePath, cellsJson, plainPath, plainJson, downloadDir, shotPath, wilsonBin] = process.argv.slice(2);
let failed = 0, passed = 0;
function check(cond, what) {
  if (cond) passed++;
  else { failed++; console.log('FAIL: ' + what); }
}
const close = (a, b, tol) => (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tol;

// ---- what the C side says ---------------------------------------------------------------------

const readLines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));

// bs_wilson95 for each [k, n], in percent.
function cWilson(pairs) {
  if (!pairs.length) return [];
  const out = execFileSync(wilsonBin, pairs.flat().map(String), { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => l.split(' ').slice(2).map((v) => 100 * Number(v)));
}

// The rule of docs/review.md: a cell's class and confidence before review (the model's, as in
// docs/cells.md) and after (the reviewer's where there is one; artefacts leave the white cells).
function classOf(c, review, minP) {
  if (review === 'blast' || review === 'non-blast' || review === 'artefact') {
    return { white: review !== 'artefact', blast: review === 'blast', confident: review === 'blast' };
  }
  const blast = c.label === 1;
  return { white: true, blast, confident: blast && c.probability >= minP && !c.out_of_distribution };
}

function expectedCounts(cellList, minP, minBlasts) {
  let white = 0, blasts = 0, confident = 0;
  for (const [c, r] of cellList) {
    const k = classOf(c, r, minP);
    white += k.white; blasts += k.blast; confident += k.confident;
  }
  const call = white === 0 ? 'no white cells' : confident >= minBlasts ? 'ALL suspected' : 'no confident blast';
  return { white, blasts, percent: white ? 100 * blasts / white : NaN, call };
}

// RFC 4180 CSV into rows of strings.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// ---- the browser --------------------------------------------------------------------------------

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'blastscan-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return { browser, profile };
}

// Open a page from disk with every request watched; returns the page and what it asked for.
async function open(browser, file) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const url = 'file://' + file.split('/').map(encodeURIComponent).join('/');
  const seen = { own: 0, outside: [], errors: [] };
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    const u = r.url();
    if (u === url) { seen.own++; r.continue(); }
    else if (u.startsWith('data:') || u.startsWith('blob:')) r.continue();
    else { seen.outside.push(u); r.abort(); }
  });
  page.on('pageerror', (e) => seen.errors.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.errors.push('console: ' + m.text()); });
  await page.goto(url, { waitUntil: 'load', timeout: 120000 });
  await page.waitForFunction('window.bsReview && window.bsReview.ready', { timeout: 120000 });
  return { page, seen, url };
}

async function download(browser, page, button, name) {
  const cdp = await browser.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloadDir, eventsEnabled: true });
  const done = new Promise((resolve) => {
    cdp.on('Browser.downloadProgress', (e) => { if (e.state === 'completed' || e.state === 'canceled') resolve(e.state); });
  });
  await page.click(button);
  const state = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
  check(state === 'completed', `${name} downloaded (${state})`);
  const file = path.join(downloadDir, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

const selectedId = (page) => page.evaluate(() => {
  const t = document.querySelector('#grid:not([hidden]) .tile.sel, #field-grid:not([hidden]) .tile.sel');
  return t ? +t.dataset.cell : -1;
});
const batchText = (page) => page.$eval('#batch-counts', (e) => e.textContent);

// ---- the page with a model ------------------------------------------------------------------------

async function testModelPage(browser) {
  const c = readLines(cellsJson); // one object per field, in the page's order
  const { page, seen, url } = await open(browser, pagePath);
  const data = await page.evaluate(() => ({
    fields: bsReview.fields.map((f) => ({ path: f.path, given: f.given, source: f.source, ids: f.cellIds })),
    cells: bsReview.cells.map((x) => ({ field: x.field, i: x.i })),
    order: [...document.querySelectorAll('#grid .tile')].map((t) => +t.dataset.cell),
    setup: JSON.parse(document.getElementById('bs-setup').textContent),
    batchC: bsReview.batchFromC,
  }));
  const { setup } = data;
  const cellOf = (id) => c[data.cells[id].field].cells[data.cells[id].i];
  check(data.fields.length === c.length, `fields: page ${data.fields.length}, cells command ${c.length}`);
  data.fields.forEach((f, k) => {
    check(f.given === c[k].path, `field ${k}: ${f.given} is the command's ${c[k].path}`);
    check(f.path === path.resolve(c[k].path), `field ${k}: absolute path ${f.path}`);
    check(f.ids.length === c[k].cells.length, `field ${k}: ${f.ids.length} cells, command ${c[k].cells.length}`);
  });

  // Before review, the page's arithmetic is the C command's, field by field and for the batch.
  const before = await page.evaluate(() => bsReview.fields.map((f) => bsReview.summarise(f.cellIds, false))
    .concat([bsReview.summarise(bsReview.allIds(), false)]));
  c.forEach((f, k) => {
    const s = before[k];
    const [lo, hi] = f.blast_percent_ci95 || [NaN, NaN];
    check(s.white === f.white_cells && s.blasts === f.blasts && s.call === f.call &&
      close(s.percent, f.blast_percent ?? NaN, 1e-9) && close(s.lo, lo, 1e-9) && close(s.hi, hi, 1e-9),
    `field ${k} before review: page ${JSON.stringify(s)} vs C ${JSON.stringify([f.white_cells, f.blasts, f.blast_percent, lo, hi, f.call])}`);
  });
  const pb = before[c.length], cb = data.batchC;
  check(pb.white === cb.white_cells && pb.blasts === cb.blasts && close(pb.lo, cb.ci95_lo, 1e-9) &&
    close(pb.hi, cb.ci95_hi, 1e-9), `batch before review: page ${JSON.stringify(pb)} vs C ${JSON.stringify(cb)}`);

  // The threshold is the class boundary, and the grid follows the documented order.
  const all = c.flatMap((f, k) => f.cells.map((x, i) => ({ x, k, i })));
  check(all.every(({ x }) => (x.decision > 0) === (x.probability > setup.threshold) || x.decision === 0),
    'the threshold separates the cells the model calls blasts from the others');
  const need = ({ x }) => (x.out_of_distribution ? -1 : Math.abs(x.probability - setup.threshold) - (x.edge ? 0.25 : 0));
  const want = all.slice().sort((a, b) => need(a) - need(b) || a.k - b.k || a.i - b.i).map(({ k, i }) => `${k}:${i}`);
  const got = data.order.map((id) => `${data.cells[id].field}:${data.cells[id].i}`);
  check(JSON.stringify(got) === JSON.stringify(want), `review order: ${got.slice(0, 8)} vs ${want.slice(0, 8)}`);
  check(all.length >= 8, `enough cells to review (${all.length})`);

  // Review with the keys; the test keeps its own record of what it pressed.
  const reviews = new Map(); // cell id -> class
  const pressOn = async (key, cls) => {
    const id = await selectedId(page);
    await page.keyboard.press(key);
    if (cls === 'accept') cls = cellOf(id).label === 1 ? 'blast' : 'non-blast';
    if (cls) reviews.set(id, cls); else reviews.delete(id);
    return id;
  };
  const t0 = Date.now();
  await pressOn('b', 'blast');
  await pressOn('n', 'non-blast');
  await pressOn('a', 'artefact');
  await pressOn('u', 'unsure');
  await pressOn('Space', 'accept');
  await pressOn('3', 'artefact');
  const ms = (Date.now() - t0) / 6;
  const last = await selectedId(page);
  await page.keyboard.press('k');
  check(await selectedId(page) === data.order[5], 'k moves back one cell');
  await page.keyboard.press('ArrowRight');
  check(await selectedId(page) === last, 'the right arrow moves on one cell');
  const undone = await pressOn('b', 'blast');
  await page.keyboard.press('z');
  reviews.delete(undone);
  check(await selectedId(page) === undone, 'z goes back to the cell it undid');
  await page.keyboard.press('j');
  await page.keyboard.down('Control');
  await page.keyboard.press('z'); // undoes the '3' (artefact) on data.order[5]
  await page.keyboard.up('Control');
  reviews.delete(data.order[5]);
  check(await selectedId(page) === data.order[5], 'Ctrl+Z goes back to the cell it undid');
  await pressOn('Enter', 'accept');
  // A field opened from the list: its first cell (the field under the odd path) called a blast.
  const oddIndex = data.fields.findIndex((f) => f.path.includes('</script>'));
  await page.click(`#fields button[data-field="${oddIndex}"]`);
  check(data.cells[await selectedId(page)].field === oddIndex, 'the field list opens the field');
  await pressOn('b', 'blast');
  const pageReviews = await page.evaluate(() => bsReview.cells.filter((x) => x.review).map((x) => [x.id, x.review]));
  check(JSON.stringify(pageReviews) === JSON.stringify([...reviews].sort((a, b) => a[0] - b[0])),
    `reviews: page ${JSON.stringify(pageReviews)} vs pressed ${JSON.stringify([...reviews])}`);

  // The counts follow: expected from the C command's cells and what was pressed.
  const perField = c.map((f, k) => f.cells.map((x, i) => [x, reviews.get(data.fields[k].ids[i])]));
  const exp = perField.map((l) => expectedCounts(l, setup.min_probability, setup.min_blasts));
  const expBatch = expectedCounts(perField.flat(), setup.min_probability, setup.min_blasts);
  const wil = cWilson(exp.concat([expBatch]).map((e) => [e.blasts, e.white]));
  const shown = await batchText(page);
  check(shown.includes(`Batch: ${expBatch.white} white cells · ${expBatch.blasts} blast`) &&
    shown.includes(`(${expBatch.percent.toFixed(1)} %, 95 % CI ${wil[c.length][0].toFixed(1)}–${wil[c.length][1].toFixed(1)})`) &&
    shown.includes(expBatch.call), `batch counts shown: "${shown}" vs ${JSON.stringify(expBatch)}`);
  const beforeBatch = expectedCounts(perField.flat().map(([x]) => [x, undefined]), setup.min_probability, setup.min_blasts);
  check(expBatch.white === beforeBatch.white - 1, 'one artefact left the white cells');

  // Exports: the corrections, then the counts, checked row by row.
  const corrections = parseCsv(await download(browser, page, '#export-corrections', 'corrections.csv'));
  const header = 'image,xmin,ymin,xmax,ymax,label,class,group,source,model_class,model_probability,reviewer_class';
  check(corrections.length > 0 && corrections[0].join(',') === header, `corrections header: ${corrections[0]}`);
  const wantRows = [...reviews].sort((a, b) => a[0] - b[0]).map(([id, cls]) => {
    const f = data.fields[data.cells[id].field], x = cellOf(id);
    return [f.path, x.x0, x.y0, x.x1, x.y1, cls === 'blast' ? 1 : cls === 'non-blast' ? 0 : '', cls, f.path,
      path.basename(path.dirname(f.path)), x.label === 1 ? 'blast' : 'non-blast', x.probability, cls].map(String);
  });
  check(corrections.length - 1 === wantRows.length, `corrections: ${corrections.length - 1} rows, ${wantRows.length} reviewed`);
  wantRows.forEach((w, r) => {
    const g = corrections[r + 1] || [];
    const same = g.length === w.length && w.every((v, j) => (j === 10 ? Number(g[j]) === Number(v) : g[j] === v));
    check(same, `corrections row ${r + 1}: ${JSON.stringify(g)} vs ${JSON.stringify(w)}`);
  });
  const odd = data.fields.find((f) => f.path.includes('</script>'));
  check(odd && corrections.some((row) => row[0] === odd.path), 'a path with quotes, a comma and </script> survives the CSV');

  const counts = parseCsv(await download(browser, page, '#export-counts', 'counts.csv'));
  check(counts.length === c.length + 2, `counts: ${counts.length - 1} rows for ${c.length} fields and the batch`);
  const col = (name) => counts[0].indexOf(name);
  const near = (v, want) => (Number.isFinite(want) ? Math.abs(Number(v) - want) <= 1e-4 : v === '');
  for (let k = 0; k <= c.length; k++) {
    const row = counts[k + 1] || [];
    const e = k < c.length ? exp[k] : expBatch;
    const b = k < c.length ? { white: c[k].white_cells, blasts: c[k].blasts, percent: c[k].blast_percent ?? NaN,
      ci: c[k].blast_percent_ci95 || [NaN, NaN], call: c[k].call }
      : { white: cb.white_cells, blasts: cb.blasts, percent: cb.blast_percent, ci: [cb.ci95_lo, cb.ci95_hi], call: beforeBatch.call };
    const ok = row[col('level')] === (k < c.length ? 'field' : 'batch') &&
      row[col('image')] === (k < c.length ? data.fields[k].path : '') &&
      Number(row[col('white_cells_before')]) === b.white && Number(row[col('blasts_before')]) === b.blasts &&
      near(row[col('blast_percent_before')], b.percent) && near(row[col('ci95_lo_before')], b.ci[0]) &&
      near(row[col('ci95_hi_before')], b.ci[1]) && row[col('call_before')] === b.call &&
      Number(row[col('white_cells_after')]) === e.white && Number(row[col('blasts_after')]) === e.blasts &&
      near(row[col('blast_percent_after')], e.percent) && near(row[col('ci95_lo_after')], wil[k][0]) &&
      near(row[col('ci95_hi_after')], wil[k][1]) && row[col('call_after')] === e.call;
    check(ok, `counts row ${k + 1}: ${JSON.stringify(row)} vs before ${JSON.stringify(b)} after ${JSON.stringify(e)} ${wil[k]}`);
  }
  const batchRow = counts[c.length + 1] || [];
  check(Number(batchRow[col('reviewed')]) === reviews.size && Number(batchRow[col('artefacts')]) === 1,
    `batch reviewed ${batchRow[col('reviewed')]} of ${reviews.size}, artefacts ${batchRow[col('artefacts')]}`);

  // The JavaScript interval is core/stats' on a few more counts, edge cases included.
  const pairs = [[0, 1], [1, 1], [0, 7], [3, 7], [7, 7], [1, 5000], [4999, 5000], [37, 412]];
  const js = await page.evaluate((p) => p.map(([k, n]) => bsReview.wilson95(k, n)), pairs);
  const cw = cWilson(pairs);
  pairs.forEach((p, i) => check(close(100 * js[i][0], cw[i][0], 1e-12) && close(100 * js[i][1], cw[i][1], 1e-12),
    `Wilson ${p}: JS ${js[i]} vs C ${cw[i].map((v) => v / 100)}`));

  // A typed source goes into every row's source column.
  await page.type('#source', 'lab, "B"');
  const typed = parseCsv(await page.evaluate(() => bsReview.correctionsCsv()));
  check(typed.length > 1 && typed.slice(1).every((r) => r[8] === 'lab, "B"'), 'the typed source is every row\'s source');

  // f opens the selected cell's field: its picture has one box per cell; a click on a box selects its tile.
  await page.$eval('#source', (e) => e.blur());
  await page.keyboard.press('f');
  const fieldView = await page.evaluate(() => ({
    tiles: document.querySelectorAll('#field-grid .tile').length,
    boxes: document.querySelectorAll('#boxes .box').length,
    shown: [...document.querySelectorAll('main > div')].filter((d) => getComputedStyle(d).display !== 'none').map((d) => d.id) }));
  check(JSON.stringify(fieldView.shown) === '["view-title","field-grid"]' && fieldView.tiles === fieldView.boxes &&
    fieldView.boxes > 0, `field view: ${fieldView.tiles} tiles, ${fieldView.boxes} boxes, shown ${fieldView.shown}`);
  const boxes = await page.$$('#boxes .box');
  if (boxes.length > 1) {
    const target = await boxes[boxes.length - 1].evaluate((b) => +b.dataset.cell);
    await boxes[boxes.length - 1].click();
    check(await selectedId(page) === target, 'a click on a box selects its cell\'s tile');
  }
  await page.keyboard.press('Escape');
  await page.screenshot({ path: shotPath });

  const timing = await page.evaluate(() => ({ start: bsReview.startMs, action: bsReview.lastActionMs }));
  console.log(`model page: ${all.length} cells in ${c.length} fields; start ${timing.start.toFixed(0)} ms, ` +
    `a key ${timing.action.toFixed(1)} ms in the page, ${ms.toFixed(0)} ms per key from the test`);
  check(seen.own === 1 && seen.outside.length === 0, `requests: the page ${seen.own}, outside ${JSON.stringify(seen.outside)} (${url})`);
  check(seen.errors.length === 0, `no errors: ${JSON.stringify(seen.errors)}`);
  await page.close();
}

// ---- the page without a model ----------------------------------------------------------------------

async function testPlainPage(browser) {
  const c = readLines(plainJson);
  const { page, seen } = await open(browser, plainPath);
  const n = c.reduce((s, f) => s + f.white_cells, 0);
  const caps = await page.$$eval('#grid .tile', (ts) => ts.map((t) => t.textContent));
  check(caps.length === n && caps.every((t) => t.includes('unreviewed')), `no model: ${caps.length} of ${n} tiles unreviewed`);
  check((await batchText(page)).startsWith(`Batch: ${n} white cell`), 'no model: the white cells are counted');
  await page.keyboard.press('Space'); // no suggestion to accept
  check(await page.evaluate(() => bsReview.cells.every((x) => !x.review)), 'no model: Space classifies nothing');
  await page.keyboard.press('b');
  const t = await batchText(page);
  check(t.includes(`${n} white cell`) && t.includes('1 blast ('), `no model: one blast after b: "${t}"`);
  check(seen.own === 1 && seen.outside.length === 0 && seen.errors.length === 0,
    `no model: requests and errors ${JSON.stringify(seen)}`);
  await page.close();
}

(async () => {
  const { browser, profile } = await launch();
  try {
    await testModelPage(browser);
    await testPlainPage(browser);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log('FAIL: ' + (e.stack || e)); process.exit(1); });
