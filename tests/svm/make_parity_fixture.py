#!/usr/bin/python3
"""make_parity_fixture.py — writes the scikit-learn reference the SVM parity test compares with.

Run with Debian's python3 (python3-sklearn, python3-numpy):
    /usr/bin/python3 tests/svm/make_parity_fixture.py tests/svm/fixtures
The outputs are committed, so the C test (tests/svm/test_svm.c) needs no Python.

Data: synthetic "deep features" shaped like CNN global-average-pool activations — non-negative,
sparse-ish (ReLU of a low-rank latent mix plus noise), with overlapping classes, one constant
feature (zero variance: only centred) — seeded so the files are reproducible.

Reference: SVC(kernel='poly', degree=3, gamma=1/s², coef0=1, C=1) on data standardised with the
training rows' mean and population std (zero-variance features only centred). The kernel scale s
is MATLAB's 'auto' heuristic as SPEC §5 states it; with at most 100 training rows per class the
heuristic uses every row, so no random draw is involved and C must find the same s.
"""
import os
import sys

import numpy as np
from sklearn.svm import SVC


def cnn_like(rng, n, d, labels, n_classes, sep):
    rank = 12
    w = rng.normal(size=(rank, d))
    centres = rng.normal(size=(n_classes, rank)) * sep
    lat = rng.normal(size=(n, rank)) + centres[labels]
    x = np.maximum(lat @ w / np.sqrt(rank) + rng.normal(scale=0.7, size=(n, d)) + 0.3, 0.0)
    x *= rng.uniform(0.2, 3.0, size=d)  # features on different scales, as GAP channels are
    x[:, 5] = 0.75                      # one constant feature
    return x.astype(np.float32)


def standardise(x, train):
    mu = x[train].astype(np.float64).mean(axis=0)
    sd = x[train].astype(np.float64).std(axis=0)  # population std
    sd[sd == 0] = 1.0
    return (x.astype(np.float64) - mu) / sd


def auto_scale(z, pos, neg):
    # every row is used (<= 100 per side), so the heuristic is deterministic
    assert len(pos) <= 100 and len(neg) <= 100
    d = np.sqrt(((z[pos][:, None, :] - z[neg][None, :, :]) ** 2).sum(axis=2))
    return float(np.median(d.min(axis=1)))


def write(outdir, name, arr):
    np.save(os.path.join(outdir, name), np.ascontiguousarray(arr))


def binary(outdir, n=300, d=64, prefix="bin", seed=20231):
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 2).astype(np.int64)
    rng.shuffle(labels)
    x = cnn_like(rng, n, d, labels, 2, sep=0.45)
    perm = rng.permutation(n)
    # 90 + 90 training rows (<= 100 per class), the remaining 120 rows are the test set
    train = np.sort(np.concatenate([perm[labels[perm] == 0][:90], perm[labels[perm] == 1][:90]]))
    test = np.setdiff1d(np.arange(n), train)
    rng.shuffle(train)  # the C side must not depend on the row order given
    z = standardise(x, train)
    ytr = labels[train]
    s = auto_scale(z, train[ytr == 1], train[ytr == 0])
    clf = SVC(kernel="poly", degree=3, gamma=1.0 / s**2, coef0=1.0, C=1.0, tol=1e-3,
              cache_size=200, shrinking=True)
    clf.fit(z[train], ytr)
    dec = clf.decision_function(z[test])
    pred = clf.predict(z[test])
    write(outdir, f"{prefix}_x.npy", x)
    write(outdir, f"{prefix}_labels.npy", labels.astype(np.float32))
    write(outdir, f"{prefix}_train.npy", train.astype(np.float32))
    write(outdir, f"{prefix}_test.npy", test.astype(np.float32))
    write(outdir, f"{prefix}_decision.npy", dec.astype(np.float64))
    write(outdir, f"{prefix}_predicted.npy", pred.astype(np.float32))
    write(outdir, f"{prefix}_scale.npy", np.array([s], dtype=np.float64))
    write(outdir, f"{prefix}_nsv.npy", clf.n_support_.astype(np.float32))
    acc = (pred == labels[test]).mean()
    print(f"{prefix} ({n}x{d}): s={s:.6f} n_sv={clf.n_support_.tolist()} test accuracy {acc:.3f} "
          f"decision range [{dec.min():.3f}, {dec.max():.3f}]")


def multiclass(outdir):
    rng = np.random.default_rng(20232)
    n, d, k = 240, 48, 3
    labels = (np.arange(n) % k).astype(np.int64)
    rng.shuffle(labels)
    x = cnn_like(rng, n, d, labels, k, sep=0.6)
    perm = rng.permutation(n)
    # 50 training rows per class: one-vs-rest 'auto' sides are 50 vs 100 rows, all used
    train = np.sort(np.concatenate([perm[labels[perm] == c][:50] for c in range(k)]))
    test = np.setdiff1d(np.arange(n), train)
    rng.shuffle(train)
    z = standardise(x, train)
    ytr = labels[train]
    s = float(np.median([auto_scale(z, train[ytr == c], train[ytr != c]) for c in range(k)]))
    clf = SVC(kernel="poly", degree=3, gamma=1.0 / s**2, coef0=1.0, C=1.0, tol=1e-3,
              decision_function_shape="ovo")
    clf.fit(z[train], ytr)
    dec = clf.decision_function(z[test])  # (n_test, 3): pairs (0,1) (0,2) (1,2)
    pred = clf.predict(z[test])
    write(outdir, "mc_x.npy", x)
    write(outdir, "mc_labels.npy", labels.astype(np.float32))
    write(outdir, "mc_train.npy", train.astype(np.float32))
    write(outdir, "mc_test.npy", test.astype(np.float32))
    write(outdir, "mc_decision.npy", dec.astype(np.float64))
    write(outdir, "mc_predicted.npy", pred.astype(np.float32))
    write(outdir, "mc_scale.npy", np.array([s], dtype=np.float64))
    acc = (pred == labels[test]).mean()
    print(f"multiclass: s={s:.6f} n_sv={clf.n_support_.tolist()} test accuracy {acc:.3f}")


if __name__ == "__main__":
    # --wide OUTDIR: an uncommitted 400 × 3072 set (the ESet's width) for the optional wide test
    if len(sys.argv) > 2 and sys.argv[1] == "--wide":
        os.makedirs(sys.argv[2], exist_ok=True)
        binary(sys.argv[2], n=400, d=3072, prefix="wide", seed=20233)
        sys.exit(0)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")
    os.makedirs(out, exist_ok=True)
    binary(out)
    multiclass(out)
