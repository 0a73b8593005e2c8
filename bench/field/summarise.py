#!/usr/bin/env python3
"""summarise.py OUT — the tables of docs/cells.md ("Field mode") from what bench/field/run wrote
in OUT: the grouped study (cells, cells called per field, whole fields) and the transfer runs
(Aria held-out fields at three scales, BCCD). Standard library only."""
import csv
import json
import os
import sys

OUT = sys.argv[1]


def rates(tp, fn, tn, fp):
    n = tp + fn + tn + fp
    sn = tp / (tp + fn) if tp + fn else float("nan")
    sp = tn / (tn + fp) if tn + fp else float("nan")
    return {"n": n, "ac": (tp + tn) / n if n else float("nan"), "sn": sn, "sp": sp, "ba": (sn + sp) / 2}


def row(name, unit, m, extra=""):
    return "| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %s |" % (
        name, unit, m["n"], m["ac"], m["sn"], m["sp"], m["ba"], extra)


def study(folder):
    r = json.load(open(os.path.join(folder, "results.json")))
    return {e["name"]: e for e in r["experiments"]}


def field_calls(folder, featdir, exp):
    """Out-of-fold cell decisions of one experiment, called per field (group): ALL when at least
    one cell is positive (the field rule at probability 0.5), and when most cells are."""
    groups = {}
    for r in csv.DictReader(open(os.path.join(featdir, "index.csv"))):
        groups[r["id"]] = (r["group"], int(r["label"]))
    fields = {}
    for p in csv.DictReader(open(os.path.join(folder, "predictions.csv"))):
        if p["experiment"] != exp:
            continue
        g, label = groups[p["id"]]
        f = fields.setdefault(g, [label, 0, 0])
        f[1] += float(p["decision"]) > 0
        f[2] += 1
    out = {}
    for rule, call in (("any", lambda k, n: k >= 1), ("majority", lambda k, n: 2 * k > n)):
        tp = fn = tn = fp = 0
        for label, k, n in fields.values():
            c = call(k, n)
            tp += label and c
            fn += label and not c
            tn += (not label) and (not c)
            fp += (not label) and c
        out[rule] = rates(tp, fn, tn, fp)
    return out


def pooled(e):
    p = e["pooled"]
    m = rates(p["tp"], p["fn"], p["tn"], p["fp"])
    m["auc"] = p["auc"]["value"] if isinstance(p.get("auc"), dict) else p.get("auc")
    return m


def read_json_lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def transfer(path):
    """Held-out Aria fields: label from the file name (Benign = 0)."""
    objs = read_json_lines(path)
    tp = fn = tn = fp = 0
    atp = afn = atn = afp = 0
    cells = agree = ood = 0
    for o in objs:
        label = 0 if "Benign" in os.path.basename(o["path"]) else 1
        c = o["call"] == "ALL suspected"
        a = (o["blasts"] or 0) >= 1
        tp += label and c; fn += label and not c; tn += (not label) and not c; fp += (not label) and c
        atp += label and a; afn += label and not a; atn += (not label) and not a; afp += (not label) and a
        for cell in o["cells"]:
            cells += 1
            agree += cell["label"] == label
            ood += bool(cell["out_of_distribution"])
    return rates(tp, fn, tn, fp), rates(atp, afn, atn, afp), cells, agree, ood, len(objs)


def bccd(path):
    objs = read_json_lines(path)
    cells = sum(o["white_cells"] for o in objs)
    blasts = sum(o["blasts"] for o in objs)
    conf = sum(o["confident_blasts"] for o in objs)
    ood = sum(o["out_of_distribution_cells"] or 0 for o in objs)
    suspected = sum(o["call"] == "ALL suspected" for o in objs)
    return len(objs), cells, blasts, conf, ood, suspected


lines = []
say = lines.append
say("### Grouped protocol, 5 folds (GoogLeNet, autoencoder 25 %)\n")
say("| model | unit | n | accuracy | sensitivity | specificity | balanced acc. | note |")
say("|---|---|---|---|---|---|---|---|")
cells = study(os.path.join(OUT, "study-cells"))
fieldsx = study(os.path.join(OUT, "study-fields"))
for name, e in cells.items():
    m = pooled(e)
    say(row("cells: " + name, "cell", m, "AUC %.3f" % m["auc"] if m["auc"] is not None else ""))
    fc = field_calls(os.path.join(OUT, "study-cells"), os.path.join(OUT, "feat-cells"), name)
    say(row("cells: " + name, "field", fc["any"], ">= 1 positive cell"))
    say(row("cells: " + name, "field", fc["majority"], "most cells positive"))
for name, e in fieldsx.items():
    m = pooled(e)
    say(row("whole image: " + name, "field", m, "AUC %.3f" % m["auc"] if m["auc"] is not None else ""))

say("\n### Transfer: Aria fields outside the sample, resampled\n")
say("| model | scale | fields | field acc. (ALL suspected, p >= 0.9) | sens. | spec. | field acc. (>= 1 blast) | cells | cells agreeing with the field label | cells OOD |")
say("|---|---|---|---|---|---|---|---|---|---|")
for mode in ("norm", "raw"):
    for s in ("1x", "0.5x", "2x"):
        p = os.path.join(OUT, "aria-%s-%s.json" % (s, mode))
        if not os.path.exists(p):
            continue
        m, a, n, agree, ood, nf = transfer(p)
        say("| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %d | %.3f | %.3f |" % (
            "normalised" if mode == "norm" else "as photographed", s, nf, m["ac"], m["sn"], m["sp"], a["ac"], n,
            agree / n if n else float("nan"), ood / n if n else float("nan")))

say("\n### Transfer: every BCCD white cell (healthy donors)\n")
say("| model | fields | cells | called blast | confident blast (p >= 0.9, in distribution) | out of distribution | fields 'ALL suspected' |")
say("|---|---|---|---|---|---|---|")
for mode in ("norm", "raw"):
    p = os.path.join(OUT, "bccd-%s.json" % mode)
    if not os.path.exists(p):
        continue
    nf, n, b, c, o, s = bccd(p)
    say("| %s | %d | %d | %.3f | %.3f | %.3f | %.3f |" % (
        "normalised" if mode == "norm" else "as photographed", nf, n, b / n, c / n, o / n, s / nf))

text = "\n".join(lines) + "\n"
open(os.path.join(OUT, "summary.md"), "w").write(text)
print(text)
