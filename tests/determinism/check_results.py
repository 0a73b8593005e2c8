"""check_results.py A.json B.json TOL — two results.json of the same study run with different
thread counts: identical, except the "calibration" of experiments with an autoencoder
(latent-*), whose Platt probabilities carry those experiments' thread-dependent decisions: there
the Brier score and the ECE must agree within TOL. Prints the largest difference seen."""
import json
import sys

a, b = (json.load(open(f)) for f in sys.argv[1:3])
tol = float(sys.argv[3])
worst = 0.0
for x, y in zip(a["experiments"], b["experiments"]):
    if not x["name"].startswith("latent-"):
        continue
    cx, cy = x.pop("calibration"), y.pop("calibration")
    assert (cx is None) == (cy is None), (x["name"], cx, cy)
    for k in ("brier", "ece"):
        if cx is not None:
            worst = max(worst, abs(cx[k] - cy[k]))
            assert abs(cx[k] - cy[k]) <= tol, (x["name"], k, cx[k], cy[k])
assert a == b, "results differ outside the autoencoder experiments' calibration"
print(f"  calibration of latent-*: largest |Brier or ECE difference| {worst:.3g}")
