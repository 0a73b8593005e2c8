#!/usr/bin/env python3
"""bench/cell-model/summarise.py OUT VARIANT... — the tables of bench/cell-model/run from its
OUT/eval/VARIANT-SET.json files (`cells --format json`, one object per field) as Markdown.
Aria fields: the call at the default rule (`cells`' "ALL suspected"), the AUC of the field's
highest blast probability, and the rule at probability 0.5 (any cell not out of distribution
with p >= 0.5), recomputed from the same cells. Train seconds come from runs that share one
feature cache (each model computes only the rows the ones before it had not), so they are not a
from-scratch time."""
import json
import os
import sys


def fields(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def auc(pos, neg):
    """Mann-Whitney: the chance a positive outscores a negative (ties count half)."""
    if not pos or not neg:
        return None
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def fmt(x):
    return "–" if x is None else "%.3f" % x


def aria_row(objs):
    tp = fn = tn = fp = 0
    half = [0, 0, 0, 0]   # tp fn tn fp of the rule at probability 0.5: any in-distribution cell
    pos, neg = [], []
    benign_cells = benign_blasts = all_cells = all_blasts = 0
    for o in objs:
        label = 0 if "/Benign/" in o["path"] else 1
        call = o["call"] == "ALL suspected"
        score = max((c["probability"] for c in o["cells"] if c["probability"] is not None), default=0.0)
        (pos if label else neg).append(score)
        any_half = any(c["probability"] is not None and c["probability"] >= 0.5
                       and not c["out_of_distribution"] for c in o["cells"])
        half[(0 if any_half else 1) if label else (3 if any_half else 2)] += 1
        if label:
            tp += call
            fn += not call
            all_cells += o["white_cells"]
            all_blasts += o["blasts"] or 0
        else:
            tn += not call
            fp += call
            benign_cells += o["white_cells"]
            benign_blasts += o["blasts"] or 0
    n = tp + fn + tn + fp
    return [len(objs), (tp + tn) / n, tp / max(tp + fn, 1), tn / max(tn + fp, 1), auc(pos, neg),
            (half[0] + half[2]) / n, half[0] / max(half[0] + half[1], 1), half[2] / max(half[2] + half[3], 1),
            benign_blasts / max(benign_cells, 1), all_blasts / max(all_cells, 1)]


def nonblast_row(objs):
    cells = sum(o["white_cells"] for o in objs)
    return [len(objs), cells, sum(o["blasts"] or 0 for o in objs) / max(cells, 1),
            sum(o["confident_blasts"] or 0 for o in objs) / max(cells, 1),
            sum(o["out_of_distribution_cells"] or 0 for o in objs) / max(cells, 1),
            sum(o["call"] == "ALL suspected" for o in objs) / max(len(objs), 1)]


def seconds(path):
    return int(open(path).read()) if os.path.exists(path) else None


def main():
    out, variants = sys.argv[1], sys.argv[2:]
    ev = os.path.join(out, "eval")
    print("| model | train s (shared cache) | Aria fields | accuracy | sensitivity | specificity | AUC (max prob.) "
          "| accuracy at 0.5 | sensitivity at 0.5 | specificity at 0.5 | Benign-field cells blast | ALL-field cells blast |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for v in variants:
        p = os.path.join(ev, v + "-aria.json")
        if not os.path.exists(p):
            continue
        s = seconds(os.path.join(out, v + ".seconds"))
        t = "–" if s is None else "%d" % s
        r = aria_row(fields(p))
        print("| %s | %s | %d | %s |" % (v, t, r[0], " | ".join(fmt(x) for x in r[1:])))
    print()
    print("| model | source | fields | cells | called blast | confident blast | out of distribution | fields 'ALL suspected' |")
    print("|---|---|---|---|---|---|---|---|")
    for v in variants:
        for s in ["bccd", "BCD", "PBC", "Raabin-WBC"]:
            p = os.path.join(ev, "%s-%s.json" % (v, s))
            if not os.path.exists(p):
                continue
            r = nonblast_row(fields(p))
            print("| %s | %s | %d | %d | %s |" % (v, s, r[0], r[1], " | ".join(fmt(x) for x in r[2:])))


main()
