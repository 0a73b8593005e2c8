#!/usr/bin/python3
"""score.py — the detector on make_crowd.py's fields: recall and precision per cluster size,
the scale a crowd gives against the same cells apart, and the count across magnifications.

    score.py DIR EVAL.json DETECTIONS.json [--min-recall R] [--min-precision P] [--max-scale-gap G]
             [--max-count-gap C]

DIR holds make_crowd.py's fields.csv; EVAL.json is `blastscan cells --truth DIR/points.csv
--evaluation EVAL.json`'s output and DETECTIONS.json the same run's `--format json` stdout
(for the estimated cell size of each field). With the --min/--max options it exits 1 when a
cluster size's recall or precision, the worst crowded/isolated scale ratio, or the worst count
difference across magnifications (in cells per 10 truth cells) is outside the bound; the
reasons are printed. Not for: making fields (make_crowd.py) or running the detector.
"""
import argparse
import collections
import csv
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("evaluation")
    ap.add_argument("detections")
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--max-scale-gap", type=float, help="e.g. 0.15: |crowded/isolated - 1|")
    ap.add_argument("--max-count-gap", type=float, help="e.g. 1: cells per 10 across scales")
    ap.add_argument("--list", action="store_true", help="every field whose count is wrong")
    a = ap.parse_args()
    with open(os.path.join(a.dir, "fields.csv")) as f:
        fields = {os.path.basename(r["image"]): r for r in csv.DictReader(f)}
    with open(a.evaluation) as f:
        per = {os.path.basename(p["path"]): p for p in json.load(f)["per_image"]}
    size = {}
    with open(a.detections) as f:
        for line in f:
            d = json.loads(line)
            size[os.path.basename(d["path"])] = d["cell_size"]
    missing = sorted(set(fields) - set(per))
    if missing:
        sys.exit(f"score: {len(missing)} fields not evaluated, e.g. {missing[0]}")
    bad = []

    def table(title, key, rows, check):
        acc = collections.OrderedDict()
        for name in rows:
            r, p = fields[name], per[name]["detection"]
            t = acc.setdefault(key(r), [0, 0, 0, 0])
            t[0] += 1
            t[1] += p["tp"]
            t[2] += p["fp"]
            t[3] += p["fn"]
        print(f"{title:>12} {'fields':>6} {'cells':>6} {'tp':>6} {'fp':>5} {'fn':>5} "
              f"{'recall':>7} {'precision':>9}")
        for k in sorted(acc):
            n, tp, fp, fn = acc[k]
            rec = tp / (tp + fn) if tp + fn else 0
            pre = tp / (tp + fp) if tp + fp else 0
            print(f"{k!s:>12} {n:6d} {tp + fn:6d} {tp:6d} {fp:5d} {fn:5d} {rec:7.3f} {pre:9.3f}")
            if check and a.min_recall is not None and rec < a.min_recall:
                bad.append(f"{title} {k}: recall {rec:.3f} < {a.min_recall}")
            if check and a.min_precision is not None and pre < a.min_precision:
                bad.append(f"{title} {k}: precision {pre:.3f} < {a.min_precision}")

    crowded = [n for n, r in fields.items() if r["twin"] == "-"]
    iso = [n for n, r in fields.items() if r["twin"] != "-"]
    table("cluster size", lambda r: int(r["k"]), crowded, True)
    table("source", lambda r: r["source"], crowded, False)
    table("scale", lambda r: float(r["scale"]), crowded, False)
    if iso:
        table("isolated", lambda r: int(r["k"]), iso, False)
        gaps = []
        for n in iso:
            twin = n.replace("-iso.jpg", ".jpg")
            if twin in size and size[twin] and size[n]:
                gaps.append((size[twin] / size[n], twin))
        if gaps:
            gaps.sort()
            within = sum(abs(g - 1) <= 0.15 for g, _ in gaps)
            print(f"scale, crowded / isolated: median {gaps[len(gaps) // 2][0]:.3f}, range "
                  f"{gaps[0][0]:.3f} ({gaps[0][1]}) - {gaps[-1][0]:.3f} ({gaps[-1][1]}); "
                  f"within 15 %: {within}/{len(gaps)}")
            worst = max(abs(g - 1) for g, _ in gaps)
            if a.max_scale_gap is not None and worst > a.max_scale_gap:
                bad.append(f"scale: crowded/isolated off by {worst:.3f} > {a.max_scale_gap}")
    ratio = sorted(size[n] / float(fields[n]["cell_size"]) for n in crowded if size.get(n))
    if ratio:
        print(f"estimated / pasted cell size (crowded): median {ratio[len(ratio) // 2]:.2f}, "
              f"10-90 % {ratio[len(ratio) // 10]:.2f}-{ratio[len(ratio) * 9 // 10]:.2f}")
    # The same field at several magnifications: stem without the -xS part.
    groups = collections.defaultdict(list)
    for n, r in fields.items():
        stem = n.replace(f"-x{float(r['scale']):g}", "")
        groups[stem].append((float(r["scale"]), per[n]["detected"], int(r["cells"])))
    gaps = []
    for stem, g in sorted(groups.items()):
        if len(g) > 1:
            counts = [c for _, c, _ in g]
            gaps.append(((max(counts) - min(counts)) * 10 / max(1, g[0][2]), stem, sorted(g)))
    if gaps:
        gaps.sort()
        ok = sum(gp <= 1 + 1e-9 or (max(c for _, c, _ in g) - min(c for _, c, _ in g)) <= 1
                 for gp, _, g in gaps)
        print(f"count across magnifications: {ok}/{len(gaps)} fields within 1 cell per 10 "
              f"(or 1 cell); worst {gaps[-1][1]}: " +
              ", ".join(f"x{s:g} {c}/{t}" for s, c, t in gaps[-1][2]))
        worst = max(gp if (max(c for _, c, _ in g) - min(c for _, c, _ in g)) > 1 else 0
                    for gp, _, g in gaps)
        if a.max_count_gap is not None and worst > a.max_count_gap:
            bad.append(f"count across magnifications: {worst:.2f} cells per 10 > {a.max_count_gap}")
    if a.list:
        for n in sorted(crowded + iso):
            p = per[n]["detection"]
            if p["fp"] or p["fn"]:
                print(f"  {n}: cells {fields[n]['cells']}, detected {per[n]['detected']}, "
                      f"fp {p['fp']}, fn {p['fn']}, cell_size {size.get(n, 0):.0f} "
                      f"(pasted {float(fields[n]['cell_size']):.0f})")
    for b in bad:
        print("FAIL:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
