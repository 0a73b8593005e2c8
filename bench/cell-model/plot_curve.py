#!/usr/bin/env python3
"""bench/cell-model/plot_curve.py OUT.svg CURVE.csv... — issue 18's k-corrected-fields curve as
one SVG written by hand (no plotting library): three panels against k (fields corrected), the
share of the test fields' white cells called blast (false blasts: every test cell is healthy),
the share flagged out of distribution, and the field-call accuracy (share of test fields not
called "ALL suspected"); one line per
source and weight of bench/cell-model/corrections' curve.csv files. Same input, same bytes."""
import csv
import os
import sys

W, H = 900, 330              # the whole picture
PW, PH = 220, 220            # one panel's plot area
LEFT, TOP, GAP = 60, 40, 80  # margins, and the gap between the panels
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def esc(t):
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def read(paths):
    lines = {}
    for p in paths:
        for r in csv.DictReader(open(p)):
            key = (r["source"], int(r["weight"]))
            lines.setdefault(key, []).append((int(r["k"]), float(r["called_blast"]), float(r["field_accuracy"]),
                                              float(r["out_of_distribution"])))
    # k = 0 has no weight: it starts every line of its source
    for (source, weight), pts in lines.items():
        if weight != 1 and not any(p[0] == 0 for p in pts):
            pts += [p for p in lines.get((source, 1), []) if p[0] == 0]
    return {key: sorted(pts) for key, pts in sorted(lines.items())}


def panel(out, x0, title, ylabel, lines, col, ymin, ymax, kmax):
    sx = lambda k: x0 + PW * k / kmax
    sy = lambda v: TOP + PH - PH * (v - ymin) / (ymax - ymin)
    out.append('<text x="%g" y="%g" font-size="13" text-anchor="middle" font-weight="bold">%s</text>'
               % (x0 + PW / 2, TOP - 14, esc(title)))
    out.append('<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#444"/>' % (x0, TOP, PW, PH))
    for i in range(6):
        v = ymin + (ymax - ymin) * i / 5
        out.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#ddd"/>' % (x0, sy(v), x0 + PW, sy(v)))
        out.append('<text x="%g" y="%g" font-size="11" text-anchor="end">%.2f</text>' % (x0 - 5, sy(v) + 4, v))
    ks = sorted({p[0] for pts in lines.values() for p in pts})
    for k in ks:
        out.append('<text x="%g" y="%g" font-size="11" text-anchor="middle">%d</text>' % (sx(k), TOP + PH + 15, k))
    out.append('<text x="%g" y="%g" font-size="12" text-anchor="middle">fields corrected (k)</text>'
               % (x0 + PW / 2, TOP + PH + 33))
    out.append('<text transform="translate(%g,%g) rotate(-90)" font-size="12" text-anchor="middle">%s</text>'
               % (x0 - 42, TOP + PH / 2, esc(ylabel)))
    for i, (key, pts) in enumerate(lines.items()):
        c = COLOURS[i % len(COLOURS)]
        dash = "" if key[1] == 1 else ' stroke-dasharray="6 3"'
        out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>'
                   % (c, dash, " ".join("%g,%g" % (sx(p[0]), sy(p[col])) for p in pts)))
        for p in pts:
            out.append('<circle cx="%g" cy="%g" r="3" fill="%s"/>' % (sx(p[0]), sy(p[col]), c))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: plot_curve.py OUT.svg CURVE.csv...")
    lines = read(sys.argv[2:])
    kmax = max(p[0] for pts in lines.values() for p in pts) or 1
    top = max(p[1] for pts in lines.values() for p in pts)
    ymax = max(0.1, round(top + 0.05, 1))
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>']
    panel(out, LEFT, "white cells called blast (all healthy)", "share of cells", lines, 1, 0.0, ymax, kmax)
    lo = min(p[2] for pts in lines.values() for p in pts)
    ood = max(p[3] for pts in lines.values() for p in pts)
    panel(out, LEFT + PW + GAP, "cells out of distribution", "share of cells", lines, 3, 0.0,
          max(0.1, round(ood + 0.05, 1)), kmax)
    panel(out, LEFT + 2 * (PW + GAP), "field-call accuracy", "share of fields called right", lines, 2,
          min(0.8, round(lo - 0.05, 1)), 1.0, kmax)
    y = TOP + PH + 50
    x = LEFT
    for i, (source, weight) in enumerate(lines):
        c = COLOURS[i % len(COLOURS)]
        dash = "" if weight == 1 else ' stroke-dasharray="6 3"'
        label = "%s, %s" % (source, "unweighted" if weight == 1 else "weight %d" % weight)
        out.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"%s/>' % (x, y, x + 24, y, c, dash))
        out.append('<text x="%g" y="%g" font-size="12">%s</text>' % (x + 30, y + 4, esc(label)))
        x += 40 + 7 * len(label)
    out.append("</svg>")
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])


main()
