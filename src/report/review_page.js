// The review page's behaviour (src/report/review_page.html; docs/review.md says how it is used).
// It reads the JSON blocks review.c wrote (#bs-setup, one .bs-field per field, #bs-batch),
// shows every cell as a thumbnail, the cells that most need a look first, lets a person
// classify each with one key, keeps every count up to date, and exports the corrections and
// the counts as CSV files made in the page. Nothing is fetched; every text reaches the page
// through textContent, never as markup.
'use strict';

const KEYS = { b: 'blast', 1: 'blast', n: 'non-blast', 2: 'non-blast', a: 'artefact', 3: 'artefact',
  u: 'unsure', 4: 'unsure' };
// Out of distribution first; then by the distance of the probability from the class boundary,
// a cell cut by the image's border counting this much nearer (docs/review.md).
const EDGE_BONUS = 0.25;

// The 95 % Wilson score interval of k successes in n trials, clipped to [0, 1]: the same
// formula, in the same order of operations, as bs_wilson95 (src/core/stats.c).
function wilson95(k, n) {
  const z = 1.959963984540054; // the 97.5 % normal quantile
  if (n <= 0) return [NaN, NaN];
  const p = k / n, z2 = z * z;
  const den = 1.0 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = z / den * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return [Math.max(0.0, centre - half), Math.min(1.0, centre + half)];
}

// ---- the data ------------------------------------------------------------------------------

const setup = JSON.parse(document.getElementById('bs-setup').textContent);
const batchFromC = JSON.parse(document.getElementById('bs-batch').textContent);
const hasModel = setup.model !== null;
const fields = [];
const cells = []; // every cell of the batch; cell.id is its index here

function loadFields() {
  for (const el of document.querySelectorAll('script.bs-field')) {
    const f = JSON.parse(el.textContent);
    el.remove(); // the text is parsed; keep one copy in memory, not two
    f.index = fields.length;
    f.name = f.given.split('/').pop();
    f.cellIds = [];
    f.cells.forEach((c, i) => {
      c.id = cells.length;
      c.field = f.index;
      c.i = i;
      c.model = hasModel ? (c.label === 1 ? 'blast' : 'non-blast') : null;
      c.review = null;
      c.tiles = [];
      c.need = needKey(c);
      cells.push(c);
      f.cellIds.push(c.id);
    });
    delete f.cells;
    fields.push(f);
  }
}

// The review order's key: smaller comes first (docs/review.md states the rule).
function needKey(c) {
  if (!hasModel) return 0;
  if (c.ood) return -1;
  return Math.abs(c.p - setup.threshold) - (c.edge ? EDGE_BONUS : 0);
}

function byNeed(a, b) {
  const x = cells[a], y = cells[b];
  return x.need - y.need || x.field - y.field || x.i - y.i;
}

// ---- counts ----------------------------------------------------------------------------------

// The counts of a set of cells, before review (the model's classes: the rule of `blastscan
// cells`) or after (the reviewer's where there is one: an artefact leaves the white cells, a
// blast is a confident blast; unreviewed and unsure cells count as the model said). No
// allocation per cell: the batch is counted again on every key.
function summarise(ids, after) {
  let white = 0, blasts = 0, confident = 0, reviewed = 0, changed = 0, artefacts = 0, unsure = 0;
  for (const id of ids) {
    const c = cells[id], r = c.review;
    if (after && (r === 'blast' || r === 'non-blast' || r === 'artefact')) {
      if (r !== 'artefact') white++;
      if (r === 'blast') { blasts++; confident++; }
    } else {
      white++;
      if (c.model === 'blast') {
        blasts++;
        if (c.p >= setup.min_probability && !c.ood) confident++;
      }
    }
    if (r) {
      reviewed++;
      if (r !== c.model) changed++;
      if (r === 'artefact') artefacts++;
      if (r === 'unsure') unsure++;
    }
  }
  const s = { white, blasts, confident, reviewed, changed, artefacts, unsure };
  const known = hasModel || after;
  s.percent = known && white ? 100 * blasts / white : NaN;
  const [lo, hi] = known ? wilson95(blasts, white) : [NaN, NaN];
  s.lo = 100 * lo;
  s.hi = 100 * hi;
  s.call = !known ? '' : white === 0 ? 'no white cells'
    : confident >= setup.min_blasts ? 'ALL suspected' : 'no confident blast';
  return s;
}

let allCellIds = [];
const allIds = () => allCellIds;

// ---- small DOM helpers -------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const pct = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
let statusTimer = 0;
function say(text) {
  $('status').textContent = text;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { $('status').textContent = ''; }, 2500);
}

// Counts before review never change: each set of cells (a field's, the batch's) counted once.
const beforeCache = new WeakMap();
function summaryBefore(ids) {
  if (!beforeCache.has(ids)) beforeCache.set(ids, summarise(ids, false));
  return beforeCache.get(ids);
}

// "W white cells · B blasts (P %, 95 % CI lo–hi) · call" into a container.
function showCounts(box, ids, label) {
  box.replaceChildren();
  const after = summarise(ids, true);
  if (label) box.append(el('span', '', label + ': '));
  box.append(el('b', '', String(after.white)), after.white === 1 ? ' white cell' : ' white cells');
  if (hasModel || after.reviewed) {
    box.append(' · ', el('b', '', String(after.blasts)), after.blasts === 1 ? ' blast (' : ' blasts (',
      el('b', 'pct', pct(after.percent)), ' %, 95 % CI ' + pct(after.lo) + '–' + pct(after.hi) + ') ');
    box.append(el('span', 'call ' + (after.call === 'ALL suspected' ? 'suspected' : 'clear'), after.call));
  }
  if (hasModel && after.reviewed) {
    const before = summaryBefore(ids);
    box.append(el('span', 'note', ` · before review ${before.blasts} of ${before.white} (${pct(before.percent)} %), ${before.call}`));
  }
  box.append(el('span', 'note', ` · ${after.reviewed} reviewed`));
}

// ---- the views ---------------------------------------------------------------------------------

const view = { field: -1, ids: [], pos: -1 }; // field -1: every field (the batch)
const undo = [];

// Lazy thumbnails: a tile's picture is attached when its row comes near the view. Tiles have
// one fixed size, so the rows in view follow from the scroll position: no observer per tile,
// whose upkeep would cost every frame tens of milliseconds with 5000 tiles.
function attachVisible() {
  const grid = view.field < 0 ? $('grid') : $('field-grid');
  const first = grid.firstChild;
  if (!first) return;
  const main = grid.parentNode;
  const w = first.offsetWidth + 6, h = first.offsetHeight + 6; // the tiles' margins: 6 px
  const cols = Math.max(1, Math.floor((grid.clientWidth + 6) / w));
  const top = main.scrollTop - (grid.getBoundingClientRect().top - main.getBoundingClientRect().top + main.scrollTop);
  const r0 = Math.max(0, Math.floor(top / h) - 2), r1 = Math.ceil((top + main.clientHeight) / h) + 2;
  const tiles = grid.children;
  for (let i = r0 * cols; i < Math.min(tiles.length, r1 * cols); i++) {
    const img = tiles[i].firstChild;
    if (!img.src) img.src = 'data:image/jpeg;base64,' + cells[+tiles[i].dataset.cell].thumb;
  }
}
let attachQueued = false;
function queueAttach() {
  if (attachQueued) return;
  attachQueued = true;
  requestAnimationFrame(() => { attachQueued = false; attachVisible(); });
}

function makeTile(c) {
  const t = el('div', 'tile');
  t.dataset.cell = c.id;
  t.setAttribute('role', 'option');
  const img = el('img');
  img.alt = '';
  img.decoding = 'async'; // decoded off the frame that shows it
  img.width = img.height = setup.thumb_px;
  t.title = `${fields[c.field].name}, cell ${c.i}`;
  const line = el('div');
  if (c.model) line.append(el('span', 'm-' + c.model, `${c.model === 'blast' ? 'B' : 'N'} ${c.p.toFixed(2)}`));
  else line.append(el('span', 'note', 'no model'));
  if (c.ood) line.append(el('span', 'flag', 'OOD'));
  if (c.edge) line.append(el('span', 'flag', 'edge'));
  const cap = el('div', 'cap');
  cap.append(line, el('div'));
  t.append(img, cap);
  c.tiles.push(t);
  drawTile(c, t);
  return t;
}

// What changes when a cell is reviewed: the tile's class (its border) and its last line.
function drawTile(c, t) {
  t.className = 'tile' + (c.review ? ' r-' + c.review : '') + (t.classList.contains('sel') ? ' sel' : '');
  const rev = t.lastChild.lastChild;
  rev.className = c.review ? 'rev' : 'note';
  rev.textContent = c.review || 'unreviewed';
}

function buildGrid(container, ids) {
  container.replaceChildren();
  const frag = document.createDocumentFragment();
  for (const id of ids) frag.append(makeTile(cells[id]));
  container.append(frag);
}

function forgetFieldTiles() {
  for (const t of $('field-grid').children) {
    const c = cells[+t.dataset.cell];
    c.tiles = c.tiles.filter((x) => x !== t);
  }
}

function openView(fieldIndex, cellId) {
  select(-1);
  forgetFieldTiles();
  view.field = fieldIndex;
  const batch = fieldIndex < 0;
  view.ids = batch ? batchOrder : fields[fieldIndex].cellIds.slice().sort(byNeed);
  if (batch) $('field-grid').replaceChildren(); else buildGrid($('field-grid'), view.ids);
  $('grid').hidden = !batch;
  $('field-grid').hidden = batch;
  for (const b of $('fields').children) b.classList.toggle('current', +b.dataset.field === fieldIndex);
  const pos = cellId === undefined ? 0 : view.ids.indexOf(cellId);
  view.pos = -1;
  select(view.ids.length ? Math.max(pos, 0) : -1);
  drawViewTitle();
  queueAttach();
  if (!view.ids.length) drawPanel(batch ? -1 : fieldIndex);
}

function drawViewTitle() {
  const t = $('view-title');
  if (view.field < 0) {
    t.textContent = `All ${fields.length} fields: ${cells.length} cells, ` +
      (hasModel ? 'those that most need a look first' : 'in field order');
  } else {
    const f = fields[view.field];
    t.textContent = `Field ${view.field + 1} of ${fields.length}: ${f.given} (${f.cellIds.length} cells)`;
  }
  if (!cells.length) t.textContent += ' — no white cell was found';
}

function tileInView(c) {
  return c.tiles.find((t) => t.parentNode === (view.field < 0 ? $('grid') : $('field-grid')));
}

function select(pos) {
  const old = view.pos >= 0 ? cells[view.ids[view.pos]] : null;
  if (old) for (const t of old.tiles) t.classList.remove('sel');
  view.pos = pos;
  if (pos < 0) return;
  const c = cells[view.ids[pos]];
  const t = tileInView(c);
  if (t) {
    t.classList.add('sel');
    t.scrollIntoView({ block: 'nearest' });
  }
  drawPanel(c.field, c);
}

// The field's picture with every cell boxed; the selected cell's box highlighted.
let panelField = -2;
function drawPanel(fieldIndex, selected) {
  const wrap = $('boxes');
  if (fieldIndex !== panelField) {
    panelField = fieldIndex;
    wrap.replaceChildren();
    if (fieldIndex < 0) {
      $('picture').removeAttribute('src');
      $('panel-title').textContent = '';
    } else {
      const f = fields[fieldIndex];
      $('picture').src = 'data:image/jpeg;base64,' + f.picture;
      $('panel-title').textContent = f.given;
      for (const id of f.cellIds) wrap.append(makeBox(f, cells[id]));
    }
  }
  for (const b of wrap.children) {
    const c = cells[+b.dataset.cell];
    b.className = 'box' + (c.review ? ' r-' + c.review : c.model ? ' m-' + c.model : '') +
      (c === selected ? ' sel' : '');
  }
  if (fieldIndex >= 0) showCounts($('panel-counts'), fields[fieldIndex].cellIds, 'This field');
  else $('panel-counts').replaceChildren();
  describeCell(selected);
}

function makeBox(f, c) {
  const b = el('div', 'box');
  b.dataset.cell = c.id;
  b.style.left = (100 * c.x0 / f.width) + '%';
  b.style.top = (100 * c.y0 / f.height) + '%';
  b.style.width = (100 * (c.x1 - c.x0) / f.width) + '%';
  b.style.height = (100 * (c.y1 - c.y0) / f.height) + '%';
  b.title = `cell ${c.i}`;
  return b;
}

function describeCell(c) {
  const box = $('cell-info');
  if (!c) { box.textContent = ''; return; }
  let text = `Cell ${c.i}: box ${c.x0},${c.y0}–${c.x1},${c.y1}` + (c.edge ? ', cut by the border' : '');
  if (hasModel) {
    text += `. Model: ${c.model}, probability of a blast ${c.p.toFixed(3)}` +
      (c.ood ? ', out of distribution' : '');
  }
  text += c.review ? `. You: ${c.review}.` : '. Not reviewed yet.';
  box.textContent = text;
}

// ---- reviewing ---------------------------------------------------------------------------------

function redrawCell(c) {
  for (const t of c.tiles) drawTile(c, t);
  const f = fields[c.field];
  drawPanel(c.field, cells[view.ids[view.pos]]);
  drawFieldEntry(f);
  showCounts($('batch-counts'), allIds(), 'Batch');
}

// Reviews live in the page only: closing it before "Export corrections" would lose them.
let unexported = 0;

function classify(c, cls) {
  unexported++;
  undo.push({ id: c.id, before: c.review });
  c.review = cls;
  redrawCell(c);
}

function act(cls) {
  if (view.pos < 0) return;
  const t0 = performance.now();
  const c = cells[view.ids[view.pos]];
  if (!cls) {
    if (!c.model) { say('no suggestion without a model: press b, n, a or u'); return; }
    cls = c.model;
  }
  classify(c, cls);
  if (view.pos + 1 < view.ids.length) select(view.pos + 1);
  window.bsReview.lastActionMs = performance.now() - t0;
}

function undoLast() {
  const u = undo.pop();
  if (!u) { say('nothing to undo'); return; }
  const c = cells[u.id];
  c.review = u.before;
  unexported++;
  if (view.field >= 0 && view.field !== c.field) openView(c.field, c.id);
  redrawCell(c);
  select(view.ids.indexOf(c.id));
  say(`undone: cell ${c.i} of ${fields[c.field].name} is ${c.review || 'unreviewed'} again`);
}

function move(step) {
  if (!view.ids.length) return;
  select(Math.min(view.ids.length - 1, Math.max(0, view.pos + step)));
}

function stepField(step) {
  if (!fields.length) return;
  const next = view.field < 0 ? (step > 0 ? 0 : fields.length - 1)
    : Math.min(fields.length - 1, Math.max(0, view.field + step));
  openView(next);
}

function onKey(e) {
  if (e.target instanceof HTMLInputElement) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') { e.preventDefault(); undoLast(); return; }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key;
  if (KEYS[k]) act(KEYS[k]);
  else if (k === ' ' || k === 'Enter') act(null);
  else if (k === 'j' || k === 'ArrowRight' || k === 'ArrowDown') move(1);
  else if (k === 'k' || k === 'ArrowLeft' || k === 'ArrowUp') move(-1);
  else if (k === 'z') undoLast();
  else if (k === 'f' && view.pos >= 0) openView(cells[view.ids[view.pos]].field, view.ids[view.pos]);
  else if (k === 'Escape' || k === 'g') openView(-1, view.pos >= 0 ? view.ids[view.pos] : undefined);
  else if (k === ']') stepField(1);
  else if (k === '[') stepField(-1);
  else if (k === '?') toggleHelp();
  else return;
  e.preventDefault();
}

function toggleHelp() {
  const h = $('help');
  h.hidden = !h.hidden;
  $('help-button').setAttribute('aria-expanded', String(!h.hidden));
}

// ---- the field list ------------------------------------------------------------------------------

function drawFieldEntry(f) {
  const b = f.entry;
  const s = summarise(f.cellIds, true);
  b.replaceChildren(el('span', 'name', f.name));
  let line = plural(s.white, 'cell');
  if (hasModel || s.reviewed) line += ' · ' + plural(s.blasts, 'blast');
  b.append(el('span', 'note', line + (s.reviewed ? ` · ${s.reviewed} reviewed` : '')));
  if (s.call === 'ALL suspected') b.append(el('span', 'sus', ' · ALL suspected'));
}

function buildFieldList() {
  const nav = $('fields');
  const all = el('button', 'current', `All fields (${fields.length})`);
  all.type = 'button';
  all.dataset.field = -1;
  nav.append(all);
  for (const f of fields) {
    const b = el('button');
    b.type = 'button';
    b.dataset.field = f.index;
    b.title = f.given;
    f.entry = b;
    drawFieldEntry(f);
    nav.append(b);
  }
  nav.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (b) openView(+b.dataset.field);
  });
}

// ---- exports ------------------------------------------------------------------------------------

function csvField(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
const csvRow = (values) => values.map(csvField).join(',') + '\n';
const num = (v) => (Number.isFinite(v) ? String(+v.toFixed(4)) : '');

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = el('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  say(`${name} made`);
}

const sourceOf = (f) => $('source').value.trim() || f.source;

// The boxes CSV of every cell a person classified (docs/review.md; ROUND2's corrections format):
// `blastscan cells --crops OUT --boxes corrections.csv` cuts its crops from the fields.
function correctionsCsv() {
  let out = 'image,xmin,ymin,xmax,ymax,label,class,group,source,model_class,model_probability,reviewer_class\n';
  for (const c of cells) {
    if (!c.review) continue;
    const f = fields[c.field];
    const label = c.review === 'blast' ? 1 : c.review === 'non-blast' ? 0 : '';
    out += csvRow([f.path, c.x0, c.y0, c.x1, c.y1, label, c.review, f.path, sourceOf(f),
      c.model || '', hasModel ? String(c.p) : '', c.review]);
  }
  return out;
}

function countsRow(level, image, ids) {
  const b = summarise(ids, false), a = summarise(ids, true);
  const before = hasModel ? [b.white, b.blasts, num(b.percent), num(b.lo), num(b.hi), b.call]
    : [b.white, '', '', '', '', ''];
  return csvRow([level, image, ...before, a.white, a.blasts, num(a.percent), num(a.lo), num(a.hi), a.call,
    a.reviewed, a.changed, a.artefacts, a.unsure]);
}

function countsCsv() {
  let out = 'level,image,white_cells_before,blasts_before,blast_percent_before,ci95_lo_before,' +
    'ci95_hi_before,call_before,white_cells_after,blasts_after,blast_percent_after,ci95_lo_after,' +
    'ci95_hi_after,call_after,reviewed,changed,artefacts,unsure\n';
  for (const f of fields) out += countsRow('field', f.path, f.cellIds);
  return out + countsRow('batch', '', allIds());
}

// ---- start ------------------------------------------------------------------------------------

let batchOrder = [];
function start() {
  const t0 = performance.now();
  loadFields();
  allCellIds = cells.map((c) => c.id);
  batchOrder = allCellIds.slice().sort(byNeed);
  $('run').textContent = (hasModel
    ? `Model ${setup.model}: suggested class blast when its decision is > 0 (probability ${setup.threshold.toFixed(3)}); ` +
      `call 'ALL suspected' from ${setup.min_blasts} confident blast(s) (probability ≥ ${setup.min_probability}, not out of distribution)`
    : 'No model: detection only, every cell unreviewed') +
    `. ${fields.length} fields, ${cells.length} cells; crops ${setup.normalised ? 'colour-normalised' : 'as photographed'}, as the model sees them.`;
  buildFieldList();
  buildGrid($('grid'), batchOrder);
  showCounts($('batch-counts'), allIds(), 'Batch');
  for (const g of [$('grid'), $('field-grid')]) {
    g.addEventListener('click', (e) => {
      const t = e.target.closest('.tile');
      if (t) select(view.ids.indexOf(+t.dataset.cell));
    });
    g.addEventListener('dblclick', (e) => {
      const t = e.target.closest('.tile');
      if (t) openView(cells[+t.dataset.cell].field, +t.dataset.cell);
    });
  }
  $('boxes').addEventListener('click', (e) => {
    const b = e.target.closest('.box');
    if (!b) return;
    const id = +b.dataset.cell;
    if (view.ids.indexOf(id) < 0) openView(cells[id].field, id); else select(view.ids.indexOf(id));
  });
  $('export-corrections').addEventListener('click', () => {
    download('corrections.csv', correctionsCsv());
    unexported = 0;
  });
  window.addEventListener('beforeunload', (e) => {
    if (unexported) e.preventDefault(); // the browser asks before leaving
  });
  $('export-counts').addEventListener('click', () => download('counts.csv', countsCsv()));
  $('help-button').addEventListener('click', toggleHelp);
  document.addEventListener('keydown', onKey);
  document.addEventListener('click', (e) => { // a clicked button keeps no focus: Space is a review key
    const b = e.target.closest('button');
    if (b) b.blur();
  });
  document.querySelector('main').addEventListener('scroll', queueAttach, { passive: true });
  window.addEventListener('resize', queueAttach);
  openView(-1);
  window.bsReview.startMs = performance.now() - t0;
  window.bsReview.ready = true;
}

// What the browser test reads (tests/browser): the formula, the counts, C's own numbers.
window.bsReview = { wilson95, summarise, allIds, fields, cells, batchFromC, correctionsCsv, countsCsv,
  ready: false };
start();
