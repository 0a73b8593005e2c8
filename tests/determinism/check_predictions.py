"""check_predictions.py A.csv B.csv TOL — two predictions.csv of the same study run with
different thread counts: the same rows in the same order, the same folds and labels; the
decision values of experiments without an autoencoder identical, those with one (latent-*)
within TOL (dnnl_sgemm sums in a thread-dependent order while the autoencoder trains), and the
predicted class the same wherever |decision| > TOL. Prints the largest difference seen."""
import csv
import sys

a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
tol = float(sys.argv[3])
assert len(a) == len(b), (len(a), len(b))
worst = {}
for x, y in zip(a, b):
    for k in ("id", "experiment", "fold", "label"):
        assert x[k] == y[k], (k, x, y)
    dx, dy = float(x["decision"]), float(y["decision"])
    diff = abs(dx - dy)
    e = x["experiment"]
    worst[e] = max(worst.get(e, 0.0), diff)
    if not e.startswith("latent-"):
        assert x["decision"] == y["decision"], ("no autoencoder: decisions must be identical", x, y)
    assert diff <= tol, ("decision differs by more than the bound", diff, x, y)
    if min(abs(dx), abs(dy)) > tol:
        assert x["predicted"] == y["predicted"], ("prediction flipped", x, y)
for e, d in sorted(worst.items()):
    print(f"  {e}: largest |decision difference| {d:.3g}")
