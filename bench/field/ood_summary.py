#!/usr/bin/env python3
"""ood_summary.py OUT RES — the out-of-distribution tables of docs/cells.md from bench/field/run's
OUT (the k = 3 models and their runs) and bench/field/ood's RES (the same models retrained with
another threshold): threshold, share of BCCD cells flagged, BCCD fields 'ALL suspected', share
of held-out Aria cells flagged; then, from the k = 3 runs' reconstruction errors, the shares
every threshold rule would flag (the errors do not depend on the rule). Standard library only."""
import json
import math
import os
import struct
import sys

OUT, RES = sys.argv[1], sys.argv[2]
NAMES = ("k threshold mean sd q25 median q75 q95 q99 max train_median train_q99 train_max").split()


def ood_section(path):
    """The OOD section of a pipeline file (docs/pipeline-format.md)."""
    b = open(path, "rb").read()
    end, off = 32 + struct.unpack_from("<Q", b, 16)[0], 32
    while off < end:
        tag, length = b[off:off + 4], struct.unpack_from("<Q", b, off + 8)[0]
        if tag == b"OOD ":
            avail, nval = struct.unpack_from("<IQ", b, off + 16)
            return dict(zip(NAMES, struct.unpack_from("<13d", b, off + 28)), n_validation=nval)
        off += 16 + length
    raise ValueError(path + ": no OOD section")


def lines(path):
    return [json.loads(x) for x in open(path) if x.strip()]


def cells(path):
    return [c for o in lines(path) for c in o["cells"]]


def share(cs, key=lambda c: c["out_of_distribution"]):
    return sum(bool(key(c)) for c in cs) / len(cs) if cs else float("nan")


runs = [("normalised", "norm", "k = 3 (default)", OUT, "cells-norm", "%s-norm-k3"),
        ("normalised", "norm", "--ood-k 1", RES, "cells-norm-k1", "%s-norm-k1"),
        ("normalised", "norm", "--ood-quantile 0.95", RES, "cells-norm-q95", "%s-norm-q95"),
        ("as photographed", "raw", "k = 3 (default)", OUT, "cells-raw", "%s-raw-k3"),
        ("as photographed", "raw", "--ood-quantile 0.95", RES, "cells-raw-q95", "%s-raw-q95")]
print("| model | threshold rule | threshold | × validation median | BCCD cells flagged | BCCD fields "
      "'ALL suspected' | Aria held-out cells flagged 1× | 0.5× | 2× |")
print("|---|---|---|---|---|---|---|---|---|")
for name, mode, rule, folder, model, data in runs:
    m = os.path.join(folder, model + ".blastscan")
    if not os.path.exists(m) or not os.path.exists(os.path.join(RES, data % "bccd" + ".json")):
        continue
    o = ood_section(m)
    bccd = lines(os.path.join(RES, data % "bccd" + ".json"))
    suspected = sum(x["call"] == "ALL suspected" for x in bccd) / len(bccd)
    aria = []
    for s in ("1x", "0.5x", "2x"):
        p = os.path.join(RES, data % ("aria-" + s) + ".json")
        aria.append("%.3f" % share(cells(p)) if os.path.exists(p) else "-")
    print("| %s | %s | %.3f | %.1f | %.3f | %.3f | %s |" % (
        name, rule, o["threshold"], o["threshold"] / o["median"],
        share([c for x in bccd for c in x["cells"]]), suspected, " | ".join(aria)))

print()
print("Every rule on the k = 3 runs' errors (the same errors under any rule; a fence's threshold")
print("is approximate here: the log quartiles are not stored, log(q75) stands in for them):")
print()
print("| model | rule | threshold | BCCD flagged | Aria 1× flagged | AUC BCCD vs Aria 1× |")
print("|---|---|---|---|---|---|")
for name, mode in (("normalised", "norm"), ("as photographed", "raw")):
    o = ood_section(os.path.join(OUT, "cells-%s.blastscan" % mode))
    b = [c["reconstruction_error"] for c in cells(os.path.join(RES, "bccd-%s-k3.json" % mode))]
    a = [c["reconstruction_error"] for c in cells(os.path.join(RES, "aria-1x-%s-k3.json" % mode))]
    auc = sum((x > y) + 0.5 * (x == y) for x in b for y in a) / len(a) / len(b)
    # the log-IQR d from exp(l75 + k d) = threshold, with l75 ~ log(q75)
    l75 = math.log(o["q75"])
    d = (math.log(o["threshold"]) - l75) / o["k"]
    rules = [("k = %g (≈)" % k, math.exp(l75 + k * d)) for k in (3, 2, 1.5, 1, 0.5)]
    rules += [("quantile %s" % q[1:], o[q]) for q in ("q95", "q99")] + [("max", o["max"])]
    for rule, t in rules:
        print("| %s | %s | %.3f | %.3f | %.3f | %.3f |" % (
            name, rule, t, sum(x > t for x in b) / len(b), sum(x > t for x in a) / len(a), auc))
