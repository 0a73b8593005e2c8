#!/usr/bin/python3
"""sources.py FEATDIR MANIFEST... — how the morphometric features travel: per source, the median
of each feature over the white cells that are not blasts, and how much of each feature's
variance lies between sources (eta squared: 0 = every source alike, 1 = the source decides the
value), beside the same for the colour features and for GoogLeNet's columns when FEATDIR holds
them. FEATDIR is `blastscan extract --backbone morphometry [--backbone googlenet...]` over the
MANIFESTs (crop manifests: cells --crops, bench_morph boxes); a row's source is its manifest's
`source` column, else the manifest's folder name; Aria 2021 crops (class Benign / Early, Pre,
Pro) are split into `aria2021 Benign` (non-blast) and `aria2021 ALL` (shown, not pooled).
Prints Markdown tables (docs/cells.md, "Morphometric features"). Needs numpy."""
import csv
import os
import sys

import numpy as np

SHOW = ["nucleus_diameter", "cell_diameter", "nc_ratio", "nucleus_roundness", "nucleus_solidity",
        "nucleus_eccentricity", "nucleus_lobes", "nucleus_h_cv", "glcm_contrast",
        "glcm_homogeneity", "cyto_h_relative"]
COLOUR = ["nucleus_h_mean", "cyto_h_mean", "cyto_e_mean"]
NAMES = ["valid", "scale_from", "cell_area", "cell_diameter", "nucleus_area", "nucleus_diameter",
         "nc_ratio", "nucleus_roundness", "nucleus_solidity", "nucleus_eccentricity",
         "nucleus_lobes", "cell_roundness", "nucleus_offset", "nucleus_h_mean", "nucleus_h_sd",
         "nucleus_h_cv", "glcm_contrast", "glcm_homogeneity", "glcm_energy", "glcm_correlation",
         "cyto_h_mean", "cyto_e_mean", "cyto_h_relative"]
CELL_PER_RED = 1.9  # morphometry.h BS_MORPH_CELL_PER_RED


def manifests(paths):
    """path of every crop -> (source, class, cell_px, red_cell_px)."""
    out = {}
    for m in paths:
        base = os.path.dirname(m)
        with open(m, newline="") as f:
            for r in csv.DictReader(f):
                cls = r.get("class", "")
                src = r.get("source") or os.path.basename(base)
                if cls in ("Benign", "Early", "Pre", "Pro"):
                    src = "aria2021 " + ("Benign" if cls == "Benign" else "ALL")
                px = lambda k: float(r[k]) if r.get(k) else 0.0
                out[os.path.normpath(os.path.join(base, r["path"]))] = (src, px("cell_px"),
                                                                         px("red_cell_px"))
    return out


def eta2(x, groups):
    """Share of the variance of x between the groups' means."""
    x = np.asarray(x, float)
    total = ((x - x.mean()) ** 2).sum()
    if total == 0:
        return 0.0
    between = sum(len(x[groups == g]) * (x[groups == g].mean() - x.mean()) ** 2
                  for g in np.unique(groups))
    return between / total


def main():
    featdir, mans = sys.argv[1], sys.argv[2:]
    info = manifests(mans)
    with open(os.path.join(featdir, "index.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    src = np.array([info[os.path.normpath(r["path"])][0] for r in rows])
    scale = np.array([info[os.path.normpath(r["path"])][1:] for r in rows])
    m = np.load(os.path.join(featdir, "morphometry.npy")).astype(float)
    order = sorted(set(src), key=lambda s: (s.startswith("aria2021 ALL"), s))
    pooled = [s for s in order if not s.startswith("aria2021 ALL")]
    valid = m[:, 0] == 1
    ruler = np.where(scale[:, 1] > 0, scale[:, 1], scale[:, 0] / CELL_PER_RED)
    nuc_px = m[:, NAMES.index("nucleus_diameter")] * ruler

    print("| | " + " | ".join(order) + " | η² (non-blast) |")
    print("|---" * (len(order) + 2) + "|")
    print("| cells | " + " | ".join(str((src == s).sum()) for s in order) + " | |")
    print("| measured (valid) | " + " | ".join("%.2f" % valid[src == s].mean() for s in order)
          + " | |")
    print("| red cells measured | " + " | ".join("%.2f" % (m[src == s, 1] == 1).mean()
                                                 for s in order) + " | |")
    ratio = scale[:, 0] / np.where(scale[:, 1] > 0, scale[:, 1], np.nan)
    print("| white / red cell (detector) | " + " | ".join(
        "%.2f" % np.nanmedian(ratio[src == s]) if np.isfinite(ratio[src == s]).any() else "–"
        for s in order) + " | |")
    keep = valid & np.isin(src, pooled)

    def line(label, values):
        meds = ["%.3g" % np.median(values[valid & (src == s)]) for s in order]
        print("| %s | %s | %.2f |" % (label, " | ".join(meds), eta2(values[keep], src[keep])))

    line("nucleus diameter, **pixels**", nuc_px)
    for name in SHOW + COLOUR:
        line(name + (" (colour)" if name in COLOUR else ""), m[:, NAMES.index(name)])
    sets = [f[:-4] for f in sorted(os.listdir(featdir)) if f.endswith(".npy") and f != "morphometry.npy"]
    for s in sets:
        g = np.load(os.path.join(featdir, s + ".npy")).astype(float)[keep]
        e = np.array([eta2(g[:, j], src[keep]) for j in range(g.shape[1]) if g[:, j].std() > 0])
        print("\n%s: η² between non-blast sources over its %d columns: median %.2f, "
              "quartiles %.2f–%.2f, %.0f %% of columns above 0.5" %
              (s, len(e), np.median(e), np.quantile(e, 0.25), np.quantile(e, 0.75),
               100 * (e > 0.5).mean()))
    e = np.array([eta2(m[keep, j], src[keep]) for j in range(2, m.shape[1])])
    print("morphometry: η² over its %d measured columns: median %.2f, quartiles %.2f–%.2f, "
          "%.0f %% above 0.5" % (len(e), np.median(e), np.quantile(e, 0.25),
                                  np.quantile(e, 0.75), 100 * (e > 0.5).mean()))


if __name__ == "__main__":
    main()
