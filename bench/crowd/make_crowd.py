#!/usr/bin/python3
"""make_crowd.py — crowded smear fields made from real white cells, every cell's centre known.

No shared dataset annotates fields where white cells crowd (ALL blasts lie in clusters of 2-8,
nucleus against nucleus), so this makes them: real white cells are cut out of BCCD and TXL-PBC
fields (their WBC boxes) and of Aria 2021 fields (isolated round nuclei found here: Aria has no
boxes), and pasted onto real background of the same dataset's fields, from which every white
cell has been removed, in touching and slightly overlapping clusters of k cells. Each field holds
clusters of one size k, so recall and precision can be read per cluster size; each is written at
several magnifications (the whole field resized), and with --isolated also as a twin `-iso`
field holding the same cells apart on the same background (for the scale check: a crowd must not
change the estimated cell size).

    make_crowd.py --out DIR [--seed 1] [--sizes 2,3,4,5,6,7,8] [--sources bccd,bcd,pbc,raabin,aria]
                  [--scales 0.5,1,2] [--fields 2] [--clusters 2] [--lobed 0.25] [--isolated]
                  [--assets ../shared]

Writes DIR/images/*.jpg, DIR/points.csv (image,x,y,class: what `blastscan cells --truth` reads;
class lymphocyte or neutrophil by nucleus shape, blast for cells of Aria's ALL fields) and
DIR/fields.csv (image,source,k,scale,cells,cell_size,twin). Deterministic: the same seed and
arguments give the same files. Cells are typed by their nucleus: lymphocyte-like (one round
nucleus filling much of the cell: what blasts look like) and lobed (two or more lobes, or a
concave nucleus: neutrophils); other cells are not used.

Images are read and written with the `vips` command-line tools (PPM in between); only numpy is
imported. Not for: measuring the detector (bench/crowd/score.py does, from `blastscan cells`).
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np

SOURCES = ("bccd", "bcd", "pbc", "raabin", "aria")
TXL = {"bcd": "BCD", "pbc": "PBC", "raabin": "Raabin-WBC"}
MIN_OUT_CELL, MAX_OUT_CELL = 24, 420  # cell diameters (px) a magnification may produce
TOUCH = (0.82, 0.98)  # centre distance / sum of radii of two cells of a cluster
STAIN = 25  # cells of a field come from fields whose nuclei differ by at most this per channel


# --- images through vips -----------------------------------------------------------------

def vips(*args):
    subprocess.run(["vips", *map(str, args)], check=True, stdout=subprocess.DEVNULL)


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError(f"{path}: not an 8-bit P6 PPM")
    w, h = int(fields[1]), int(fields[2])
    return np.frombuffer(data[pos + 1:pos + 1 + w * h * 3], np.uint8).reshape(h, w, 3).copy()


def load(path, tmp):
    ppm = os.path.join(tmp, "in.ppm")
    vips("copy", path, ppm)
    return read_ppm(ppm)


def save(rgb, path, scale, tmp):
    """rgb resized by `scale` (libvips' default kernel) and written as JPEG, quality 92."""
    ppm = os.path.join(tmp, "out.ppm")
    h, w, _ = rgb.shape
    with open(ppm, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(rgb, np.uint8).tobytes())
    if scale == 1:
        vips("copy", ppm, path + "[Q=92]")
    else:
        vips("resize", ppm, path + "[Q=92]", scale)


def resize(img, f):
    """Bilinear resize of a small H x W x C float image by f (cells of Aria fields of another
    magnification)."""
    h, w = img.shape[:2]
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    ys = np.clip((np.arange(nh) + 0.5) / f - 0.5, 0, h - 1)
    xs = np.clip((np.arange(nw) + 0.5) / f - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    a = img if img.ndim == 3 else img[:, :, None]
    out = ((a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx) * (1 - wy)
           + (a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx) * wy)
    return out if img.ndim == 3 else out[:, :, 0]


# --- masks --------------------------------------------------------------------------------

def violet_threshold(rgb):
    """The detector's nucleus threshold: B - G above the upper class of a three-class Otsu,
    never below the median + 24."""
    v = rgb[:, :, 2].astype(np.int16) - rgb[:, :, 1]
    hist = np.bincount((v + 255).ravel(), minlength=511).astype(float)
    lo, hi = np.nonzero(hist)[0][[0, -1]]
    hh = hist[lo:hi + 1]
    n = len(hh)
    P = np.concatenate([[0], np.cumsum(hh)])
    S = np.concatenate([[0], np.cumsum(np.arange(n) * hh)])
    best, t2b = -1.0, n // 2
    for t1 in range(1, n - 1):
        w0 = P[t1]
        if w0 <= 0:
            continue
        t2 = np.arange(t1 + 1, n)
        w1, w2 = P[t2] - P[t1], P[n] - P[t2]
        ok = (w1 > 0) & (w2 > 0)
        if not ok.any():
            continue
        s1, s2 = S[t2] - S[t1], S[n] - S[t2]
        val = np.where(ok, s1 ** 2 / np.where(ok, w1, 1) + s2 ** 2 / np.where(ok, w2, 1), -1)
        k = int(np.argmax(val))
        if val[k] + S[t1] ** 2 / w0 > best:
            best, t2b = val[k] + S[t1] ** 2 / w0, int(t2[k])
    t = t2b + lo - 255
    med = np.median(v)
    return v, max(t, med + 24)


def components(mask):
    """8-connected components of a boolean mask: labels 1..n (0 outside). Every pixel points
    at the smallest index among its neighbours' pointers, then follows pointers (pointer
    jumping) until nothing changes: a few dozen numpy passes."""
    h, w = mask.shape
    big = h * w
    flat = np.where(mask.ravel(), np.arange(h * w), big)
    ext = np.append(flat, big)  # ext[big] = big: outside points nowhere
    while True:
        lab = ext[:big].reshape(h, w)
        p = np.pad(lab, 1, constant_values=big)
        m = lab.copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                m = np.minimum(m, p[dy:dy + h, dx:dx + w])
        new = np.append(np.where(mask.ravel(), m.ravel(), big), big)
        while True:  # jump: i -> new[new[i]]
            j = new[new]
            if np.array_equal(j, new):
                break
            new = j
        if np.array_equal(new, ext):
            break
        ext = new
    lab = np.where(mask, ext[:big].reshape(h, w) + 1, 0)
    _, inv = np.unique(lab, return_inverse=True)
    return inv.reshape(h, w), int(inv.max())


def hull_area(ys, xs):
    """Area of the convex hull of pixel squares: monotone chain over the outer corners of each
    row's leftmost and rightmost pixel (the hull's only candidates)."""
    if len(ys) < 3:
        return float(len(ys))
    pts = set()
    for y in np.unique(ys):
        row = xs[ys == y]
        lo, hi = int(row.min()), int(row.max()) + 1
        pts.update({(lo, int(y)), (lo, int(y) + 1), (hi, int(y)), (hi, int(y) + 1)})
    pts = sorted(pts)

    def half(points):
        out = []
        for p in points:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    hull = np.array(half(pts)[:-1] + half(pts[::-1])[:-1], float)
    x, y = hull[:, 0], hull[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def cell_type(nucleus, ellipse):
    """'lymphocyte' (one round nucleus filling much of the cell), 'neutrophil' (lobed) or
    None, from the nucleus pixels inside the cell's ellipse."""
    nuc = nucleus & ellipse
    area = nuc.sum()
    if area < 0.05 * ellipse.sum():
        return None
    lab, n = components(nuc)
    sizes = np.bincount(lab.ravel())[1:]
    pieces = int((sizes >= 0.08 * area).sum())
    ys, xs = np.nonzero(nuc)
    solidity = area / hull_area(ys, xs)
    fill = area / ellipse.sum()
    if pieces == 1 and solidity >= 0.88 and fill >= 0.3:
        return "lymphocyte"
    if fill < 0.6:  # two or more lobes, or an indented (band, kidney-shaped) nucleus
        return "neutrophil"
    return None


def ellipse_alpha(h, w, box, feather):
    """Alpha of the ellipse inscribed in box (x0, y0, x1, y1) on an h x w grid, ramping from 0
    to 1 over `feather` pixels inside its edge."""
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2 - 0.5, (y0 + y1) / 2 - 0.5, (x1 - x0) / 2, (y1 - y0) / 2
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - cx) / rx, (yy - cy) / ry)  # 1 on the ellipse
    return np.clip((1 - r) * min(rx, ry) / max(feather, 1e-6), 0, 1)


# --- sources ------------------------------------------------------------------------------

class Field:
    """One source field: its pixels (loaded on demand), white-cell boxes, typical cell size."""

    def __init__(self, source, path, boxes, label):
        self.source, self.path, self.boxes, self.label = source, path, boxes, label
        self.rgb = None


def list_fields(source, assets):
    data = os.path.join(assets, "data")
    if source == "aria":
        root = os.path.join(data, "aria2021")
        out = []
        for cls in ("Benign", "Early", "Pre", "Pro"):
            for name in sorted(os.listdir(os.path.join(root, cls))):
                if name.endswith(".jpg"):
                    out.append(Field(source, os.path.join(root, cls, name), None,
                                     "lymphocyte" if cls == "Benign" else "blast"))
        return out
    root = os.path.join(data, "bccd" if source == "bccd" else "txlpbc-train")
    keep = None
    if source != "bccd":
        with open(os.path.join(root, "sources.csv")) as f:
            keep = {r["image"] for r in csv.DictReader(f) if r["source"] == TXL[source]}
    boxes = {}
    with open(os.path.join(root, "boxes.csv")) as f:
        for r in csv.DictReader(f):
            if keep is not None and r["image"] not in keep:
                continue
            b = boxes.setdefault(r["image"], [])
            if r["class"] == "WBC":
                b.append(tuple(int(float(r[k])) for k in ("xmin", "ymin", "xmax", "ymax")))
    return [Field(source, os.path.join(root, img), b, None)
            for img, b in sorted(boxes.items()) if b]


def aria_boxes(rgb, nuc):
    """Isolated round nuclei of an Aria field (it has no boxes), as cell boxes: a component
    of the nucleus mask that is convex, not elongated, away from the border and from other
    nuclei, grown by a thin rim of cytoplasm. Also every nucleus component's box, so the
    background can be cleared of all of them."""
    h, w = nuc.shape
    lab, n = components(nuc)
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    every, cand = [], []
    for c in range(1, n + 1):
        if sizes[c] < 20:
            continue
        ys, xs = np.nonzero(lab == c)
        every.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
        if sizes[c] < 150:
            continue
        cov = np.cov(np.stack([xs, ys]))
        ev = np.linalg.eigvalsh(cov)
        if ev[0] <= 0 or np.sqrt(ev[1] / ev[0]) > 1.3:
            continue
        if sizes[c] / hull_area(ys, xs) < 0.9:
            continue
        d = 2 * np.sqrt(sizes[c] / np.pi)
        rim = 0.12 * d
        x0, y0, x1, y1 = xs.min() - rim, ys.min() - rim, xs.max() + 1 + rim, ys.max() + 1 + rim
        cand.append(((x0, y0, x1, y1), d))
    if not cand:
        return [], every
    med = np.median([d for _, d in cand])
    cells = []
    for box, d in cand:
        x0, y0, x1, y1 = box
        if d < 0.7 * med or d > 1.4 * med or x0 < 2 or y0 < 2 or x1 > w - 2 or y1 > h - 2:
            continue
        g = 0.3 * d  # no other nucleus this close to the box
        near = nuc[max(0, int(y0 - g)):int(y1 + g) + 1, max(0, int(x0 - g)):int(x1 + g) + 1]
        inner = nuc[max(0, int(y0)):int(y1) + 1, max(0, int(x0)):int(x1) + 1]
        if near.sum() > inner.sum() + 5:
            continue
        cells.append(tuple(int(round(t)) for t in box))
    return cells, every


def prepare(field, tmp):
    """Load the field, its nucleus mask, its cell boxes (Aria: found here) and cell size."""
    if field.rgb is not None:
        return field
    rgb = load(field.path, tmp)
    v, t = violet_threshold(rgb)
    nuc = v >= t
    field.rgb, field.nuc = rgb, nuc
    if field.source == "aria":
        field.cells, field.clear = aria_boxes(rgb, nuc)
    else:
        h, w = nuc.shape
        field.clear = list(field.boxes)
        field.cells = [b for b in field.boxes
                       if b[0] > 1 and b[1] > 1 and b[2] < w - 1 and b[3] < h - 1
                       and not any(o != b and o[0] < b[2] and b[0] < o[2] and o[1] < b[3]
                                   and b[1] < o[3] for o in field.boxes)]
    field.stain = rgb[nuc].mean(axis=0) if nuc.any() else np.zeros(3)  # nuclei's mean colour
    sizes = [(b[2] - b[0] + b[3] - b[1]) / 2 for b in field.cells]
    field.cell_size = float(np.median(sizes)) if sizes else 0.0
    return field


class Cell:
    """A cut-out white cell: RGB and alpha (float), the centre in its own pixels, its type."""

    def __init__(self, rgb, alpha, cx, cy, kind, diameter):
        self.rgb, self.alpha, self.cx, self.cy = rgb, alpha, cx, cy
        self.kind, self.diameter = kind, diameter


def cut_cells(field):
    """Every usable cell of a prepared field: the box grown by 12 %, alpha the ellipse
    inscribed in the box grown by 4 %, feathered; typed by its nucleus."""
    out = []
    h, w = field.nuc.shape
    for (x0, y0, x1, y1) in field.cells:
        bw, bh = x1 - x0, y1 - y0
        m = 0.12 * max(bw, bh)
        X0, Y0 = max(0, int(x0 - m)), max(0, int(y0 - m))
        X1, Y1 = min(w, int(np.ceil(x1 + m))), min(h, int(np.ceil(y1 + m)))
        g = 0.04
        box = (x0 - X0 - g * bw, y0 - Y0 - g * bh, x1 - X0 + g * bw, y1 - Y0 + g * bh)
        alpha = ellipse_alpha(Y1 - Y0, X1 - X0, box, 0.06 * (bw + bh) / 2)
        core = ellipse_alpha(Y1 - Y0, X1 - X0, (x0 - X0, y0 - Y0, x1 - X0, y1 - Y0), 1) > 0
        kind = cell_type(field.nuc[Y0:Y1, X0:X1], core)
        if kind is None:
            continue
        if field.label == "blast":
            kind = "blast"
        out.append(Cell(field.rgb[Y0:Y1, X0:X1].astype(float), alpha,
                        (x0 + x1) / 2 - X0, (y0 + y1) / 2 - Y0, kind, (bw + bh) / 2))
    return out


# --- background ---------------------------------------------------------------------------

def clean_background(field, rng):
    """The field with every white cell replaced by background copied from elsewhere in it:
    forbidden blocks (a white-cell box, or a violet blob larger than a platelet) are found on
    a grid of blocks a sixth of a cell wide, and each forbidden region is filled from a free
    window of the same size (halved until one is free), feathered. None when the field has
    too little free background."""
    rgb, nuc, d = field.rgb, field.nuc, field.cell_size
    h, w = nuc.shape
    b = max(4, int(round(d / 6)))
    gh, gw = -(-h // b), -(-w // b)
    pad = np.zeros((gh * b, gw * b), bool)
    pad[:h, :w] = nuc
    frac = pad.reshape(gh, b, gw, b).mean(axis=(1, 3))
    viol = frac > 0.02
    lab, n = components(viol)
    mass = np.bincount(lab.ravel(), weights=(frac * b * b).ravel(), minlength=n + 1)
    # Larger than a platelet, or cut by the border (the canvas mirrors the field there).
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    big = np.union1d(np.nonzero(mass > 0.02 * d * d)[0], edge[edge > 0])
    bad = np.isin(lab, big) & viol
    for (x0, y0, x1, y1) in field.clear:
        m = 0.1 * max(x1 - x0, y1 - y0)
        bad[max(0, int((y0 - m) // b)):int((y1 + m) // b) + 1,
            max(0, int((x0 - m) // b)):int((x1 + m) // b) + 1] = True
    grown = bad.copy()  # one block around every forbidden block
    p = np.pad(bad, 1)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            grown |= p[dy:dy + gh, dx:dx + gw]
    if grown.mean() > 0.6:
        return None
    free = np.pad(np.cumsum(np.cumsum(grown, 0), 1), ((1, 0), (1, 0)))
    out = rgb.astype(float)
    lab, n = components(grown)
    todo = []
    for c in range(1, n + 1):
        ys, xs = np.nonzero(lab == c)
        todo.append((ys.min(), xs.min(), ys.max() + 1, xs.max() + 1))
    while todo:
        gy0, gx0, gy1, gx1 = todo.pop()
        rh, rw = gy1 - gy0, gx1 - gx0
        # The source window is free with a block of margin all round; the copy covers the
        # region fully and fades out over half a block beyond it (never into the cell).
        sh_, sw_ = rh + 2, rw + 2
        if sh_ <= gh and sw_ <= gw:
            s = free[sh_:, sw_:] - free[:-sh_, sw_:] - free[sh_:, :-sw_] + free[:-sh_, :-sw_]
            ys, xs = np.nonzero(s == 0)
            if len(ys):
                k = rng.integers(len(ys))
                m = b // 2
                sy, sx = (ys[k] + 1) * b - m, (xs[k] + 1) * b - m
                ty, tx = gy0 * b - m, gx0 * b - m
                ph, pw = rh * b + 2 * m, rw * b + 2 * m
                # clip to both images
                cy0, cx0 = max(0, -ty, -sy), max(0, -tx, -sx)
                cy1, cx1 = min(ph, h - ty, h - sy), min(pw, w - tx, w - sx)
                yy, xx = np.mgrid[cy0:cy1, cx0:cx1]
                edge = np.minimum(np.minimum(yy + 0.5, ph - 0.5 - yy),
                                  np.minimum(xx + 0.5, pw - 0.5 - xx))
                a = np.clip(edge / max(m, 1), 0, 1)[:, :, None]
                tgt = out[ty + cy0:ty + cy1, tx + cx0:tx + cx1]
                tgt[:] = a * rgb[sy + cy0:sy + cy1, sx + cx0:sx + cx1] + (1 - a) * tgt
                continue
        if rh == 1 and rw == 1:
            return None
        if rh >= rw:
            todo += [(gy0, gx0, gy0 + rh // 2, gx1), (gy0 + rh // 2, gx0, gy1, gx1)]
        else:
            todo += [(gy0, gx0, gy1, gx0 + rw // 2), (gy0, gx0 + rw // 2, gy1, gx1)]
    return out


def canvas(bg, h, w):
    """bg mirrored as often as needed to cover h x w."""
    bh, bw = bg.shape[:2]
    reps = np.pad(bg, ((0, max(0, h - bh)), (0, max(0, w - bw)), (0, 0)), mode="symmetric")
    return reps[:h, :w].copy()


# --- clusters -----------------------------------------------------------------------------

def place_cluster(radii, cx, cy, half, rng):
    """Centres of a compact cluster of touching cells (radii), inside a square of half-side
    `half` around (cx, cy): every cell after the first touches one already placed (centre
    distance TOUCH x the sum of radii), overlaps none by more, and of a few random candidates
    the one nearest the cluster's middle is taken (crowds are compact)."""
    for _ in range(100):
        pts = [(cx, cy)]
        ok = True
        for i in range(1, len(radii)):
            best = None
            for _ in range(60):
                j = rng.integers(i)
                ang = rng.uniform(0, 2 * np.pi)
                dist = (radii[i] + radii[j]) * rng.uniform(*TOUCH)
                x, y = pts[j][0] + dist * np.cos(ang), pts[j][1] + dist * np.sin(ang)
                if abs(x - cx) + radii[i] > half or abs(y - cy) + radii[i] > half:
                    continue
                if any(np.hypot(x - px, y - py) < TOUCH[0] * (radii[i] + radii[m])
                       for m, (px, py) in enumerate(pts) if m != j):
                    continue
                mx, my = np.mean([p[0] for p in pts]), np.mean([p[1] for p in pts])
                score = np.hypot(x - mx, y - my)
                if best is None or score < best[0]:
                    best = (score, x, y)
            if best is None:
                ok = False
                break
            pts.append((best[1], best[2]))
        if ok:
            return pts
    return None


def paste(out, cell, x, y, flip):
    """Alpha-blend cell onto out with its centre at (x, y), after a flip/transpose (0-7)."""
    rgb, a = cell.rgb, cell.alpha
    cx, cy = cell.cx, cell.cy
    if flip & 4:
        rgb, a, cx, cy = rgb.transpose(1, 0, 2), a.T, cy, cx
    if flip & 1:
        rgb, a, cx = rgb[:, ::-1], a[:, ::-1], rgb.shape[1] - cx
    if flip & 2:
        rgb, a, cy = rgb[::-1], a[::-1], rgb.shape[0] - cy
    h, w = a.shape
    ox, oy = int(round(x - cx)), int(round(y - cy))
    H, W = out.shape[:2]
    sx0, sy0 = max(0, -ox), max(0, -oy)
    sx1, sy1 = min(w, W - ox), min(h, H - oy)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    aa = a[sy0:sy1, sx0:sx1, None]
    reg = out[oy + sy0:oy + sy1, ox + sx0:ox + sx1]
    reg[:] = aa * rgb[sy0:sy1, sx0:sx1] + (1 - aa) * reg
    return ox + cx, oy + cy


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sizes", default="2,3,4,5,6,7,8")
    ap.add_argument("--sources", default=",".join(SOURCES))
    ap.add_argument("--scales", default="0.5,1,2")
    ap.add_argument("--fields", type=int, default=2, help="fields per source, size and scale")
    ap.add_argument("--clusters", type=int, default=2, help="clusters per field")
    ap.add_argument("--pool", type=int, default=60, help="source fields to cut cells from")
    ap.add_argument("--isolated", action="store_true", help="also the same cells apart (-iso)")
    ap.add_argument("--lobed", type=float, default=0.25,
                    help="share of lobed cells (neutrophils) in the clusters; the rest round")
    ap.add_argument("--assets", default=os.environ.get("BLASTSCAN_ASSETS", "../shared"))
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    scales = [float(s) for s in a.scales.split(",")]
    sources = a.sources.split(",")
    for s in sources:
        if s not in SOURCES:
            sys.exit(f"make_crowd: unknown source {s} (known: {', '.join(SOURCES)})")
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    points, fields = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for si, source in enumerate(sources):
            rng = np.random.default_rng([a.seed, SOURCES.index(source)])
            all_fields = list_fields(source, a.assets)
            pool = [all_fields[i] for i in
                    sorted(rng.choice(len(all_fields), min(a.pool, len(all_fields)), replace=False))]
            for f in pool:
                prepare(f, tmp)
                f.cut = cut_cells(f)
            pool = [f for f in pool if f.cell_size > 0]
            print(f"{source}: {sum(len(f.cut) for f in pool)} cells "
                  f"({sum(c.kind != 'neutrophil' for f in pool for c in f.cut)} round, "
                  f"{sum(c.kind == 'neutrophil' for f in pool for c in f.cut)} lobed) "
                  f"from {len(pool)} fields", file=sys.stderr)
            for k in sizes:
                for idx in range(a.fields):
                    frng = np.random.default_rng([a.seed, SOURCES.index(source), k, idx])
                    for p, fl in make_field(a, source, k, scales, idx, pool, frng, tmp):
                        points += p
                        fields.append(fl)
    with open(os.path.join(a.out, "points.csv"), "w") as f:
        f.write("image,x,y,class\n")
        for p in points:
            f.write("%s,%.1f,%.1f,%s\n" % p)
    with open(os.path.join(a.out, "fields.csv"), "w") as f:
        f.write("image,source,k,scale,cells,cell_size,twin\n")
        for fl in fields:
            f.write("%s,%s,%d,%g,%d,%.1f,%s\n" % fl)
    print(f"make_crowd: {len(fields)} fields, {len(points)} cells in {a.out}", file=sys.stderr)


def make_field(a, source, k, scales, idx, pool, rng, tmp):
    """One field of `a.clusters` clusters of k cells on one background field, written at every
    scale that gives cells of a sensible size (the same field resized: the count must not
    change); with --isolated also its twin. Returns [(points, field row)]."""
    fits = [[s for s in scales if MIN_OUT_CELL <= f.cell_size * s <= MAX_OUT_CELL] for f in pool]
    backs = [f for f, ok in zip(pool, fits) if f.cut and ok]
    if not backs:
        return []
    for _ in range(20):
        bgf = backs[rng.integers(len(backs))]
        d = bgf.cell_size
        bg = clean_background(bgf, rng)
        if bg is not None:
            break
    else:
        return []
    # Cells from the pool's fields stained like this one (a field is stained at once; Aria's
    # fields differ a lot), brought to this field's magnification (Aria's vary).
    near = [f for f in pool if np.abs(f.stain - bgf.stain).max() <= STAIN]
    cands = [(f, c) for f in near for c in f.cut] or [(bgf, c) for c in bgf.cut]
    lobed = [fc for fc in cands if fc[1].kind == "neutrophil"]
    round_ = [fc for fc in cands if fc[1].kind != "neutrophil"]
    cells = []
    for _ in range(a.clusters * k):
        kind = lobed if (rng.random() < a.lobed and lobed) or not round_ else round_
        f, c = kind[rng.integers(len(kind))]
        if source == "aria" and abs(f.cell_size / d - 1) > 0.02:
            g = d / f.cell_size
            c = Cell(resize(c.rgb, g), np.clip(resize(c.alpha, g), 0, 1), c.cx * g, c.cy * g,
                     c.kind, c.diameter * g)
        cells.append(c)
    # A square slot per cluster, wide enough for k of its largest cell.
    big = max(c.diameter for c in cells)
    slot = big * (1.15 * np.sqrt(k) + 1.6)
    centres = []
    for ci in range(a.clusters):
        radii = [c.diameter / 2 for c in cells[ci * k:(ci + 1) * k]]
        xy = place_cluster(radii, slot * (ci + 0.5), slot / 2, slot / 2 - 0.3 * big, rng)
        if xy is None:
            return []
        centres += xy
    flips = rng.integers(8, size=len(cells))
    layouts = [("", centres, int(slot), int(slot * a.clusters))]
    if a.isolated:  # the same cells on a grid, a third of a cell apart at least
        pitch = max(c.diameter for c in cells) * 1.35
        cols = int(np.ceil(np.sqrt(len(cells) * 2)))
        rows = -(-len(cells) // cols)
        layouts.append(("iso", [(pitch * (0.8 + i % cols), pitch * (0.8 + i // cols))
                                for i in range(len(cells))],
                        int(pitch * (rows + 0.6)), int(pitch * (cols + 0.6))))
    made = []
    for twin, layout, H, W in layouts:
        out = canvas(bg, H, W)
        at = [paste(out, c, x, y, fl) for c, (x, y), fl in zip(cells, layout, flips)]
        rgb = np.clip(np.round(out), 0, 255).astype(np.uint8)
        for scale in scales:
            if not MIN_OUT_CELL <= d * scale <= MAX_OUT_CELL:
                continue
            name = f"k{k}-{source}-{idx:03d}-x{scale:g}" + ("-" + twin if twin else "") + ".jpg"
            pts = [(f"images/{name}", (p[0] + 0.5) * scale - 0.5, (p[1] + 0.5) * scale - 0.5,
                    c.kind) for c, p in zip(cells, at) if p]
            save(rgb, os.path.join(a.out, "images", name), scale, tmp)
            size = float(np.median([c.diameter for c in cells])) * scale
            made.append((pts, (f"images/{name}", source, k, scale, len(pts), size, twin or "-")))
    return made


if __name__ == "__main__":
    main()
