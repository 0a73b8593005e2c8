#!/usr/bin/python3
"""torch_peer.py N D H THREADS SECONDS — the PyTorch peer of `bench_autoencoder evals`.

The same msesparse loss (SPEC §4) and gradient in float32: logsig encoder and decoder on
mapminmax-scaled data, SSE in original units (errors divided by the gain), L2 on both weight
matrices, KL sparsity on the clipped mean hidden activation; gradient by autograd. Same data
distribution and FLOP count (10·N·D·H per loss+gradient) as the C benchmark. Prints one line of
key=value pairs."""
import math
import resource
import sys
import time

import numpy as np
import torch


def main():
    n, d, h, threads = (int(a) for a in sys.argv[1:5])
    seconds = float(sys.argv[5])
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    scale = 0.05 + 4.95 * rng.random(d)
    x = (rng.exponential(1.0, (n, d)) * scale).astype(np.float32)
    lo, hi = x.min(0).astype(np.float64), x.max(0).astype(np.float64)
    rng_ = hi - lo
    gain = np.where(rng_ > 0, 1 / np.where(rng_ > 0, rng_, 1), 1.0)
    off = np.where(rng_ > 0, lo, 0.0)
    xs = torch.from_numpy(((x - off) * gain).astype(np.float32))
    range2 = torch.from_numpy((1 / gain ** 2).astype(np.float32))
    l2, beta, rho, eps = 0.001, 1.0, 0.05, 2.220446049250313e-16

    g = torch.Generator().manual_seed(2)
    def param(*shape):
        return (torch.rand(*shape, generator=g) * 0.02 - 0.01).requires_grad_(True)
    w1, b1, w2, b2 = param(h, d), param(h), param(d, h), param(d)

    def loss_and_grad():
        for p in (w1, b1, w2, b2):
            p.grad = None
        a1 = torch.sigmoid(torch.addmm(b1, xs, w1.t()))
        a2 = torch.sigmoid(torch.addmm(b2, a1, w2.t()))
        sse = ((xs - a2) ** 2 * range2).sum()
        rh = a1.mean(0).clamp(eps, 1 - eps)
        kl = (rho * torch.log(rho / rh) + (1 - rho) * torch.log((1 - rho) / (1 - rh))).sum()
        perf = sse / (n * d) + l2 * ((w1 ** 2).sum() + (w2 ** 2).sum()) / d + 2 * beta * kl / d
        perf.backward()
        return perf.item()

    perf = loss_and_grad()  # warm-up
    evals, t0 = 0, time.perf_counter()
    while True:
        perf = loss_and_grad()
        evals += 1
        t = time.perf_counter() - t0
        if t >= seconds and evals >= 2:
            break
    eps_ = evals / t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("impl=pytorch-%s n=%d d=%d h=%d threads=%d evals=%d evals_per_s=%.3f gflops=%.1f peak_rss_mib=%.0f perf=%.9g"
          % (torch.__version__, n, d, h, torch.get_num_threads(), evals, eps_, eps_ * 10.0 * n * d * h / 1e9, rss, perf))


if __name__ == "__main__":
    main()
