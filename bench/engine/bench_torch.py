#!/usr/bin/python3
"""bench_torch.py MODEL BATCH THREADS SECONDS SIZE [REFERENCE_INPUT REFERENCE_FEATURES]

PyTorch 1.13 (Debian python3-torch) throughput on the same network: the ONNX graph's weights
are loaded with the onnx package and the graph is executed node by node with
torch.nn.functional (Conv2d, ReLU, pools, LRN, cat, linear, softmax), in eval/no_grad mode,
on THREADS intra-op threads. With a reference input and features file, prints the max |diff|
against them first (a check that this is the same function). Prints one JSON line:
images_per_s, peak_rss_mb, runs."""
import json
import resource
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class Net:
    def __init__(self, path):
        m = onnx.load(path)
        self.graph = m.graph
        self.consts = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
        self.input = [i.name for i in m.graph.input if i.name not in self.consts][0]
        self.outputs = [o.name for o in m.graph.output]
        self.nodes = [(n.op_type, list(n.input), list(n.output), attrs(n)) for n in m.graph.node]

    def __call__(self, x):
        env = dict(self.consts)
        env[self.input] = x
        for op, ins, outs, a in self.nodes:
            v = [env[i] if i else None for i in ins]
            if op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                xin = v[0]
                if p[0] != p[2] or p[1] != p[3]:
                    xin = F.pad(xin, (p[1], p[3], p[0], p[2]))
                    pad = (0, 0)
                else:
                    pad = (p[0], p[1])
                y = F.conv2d(xin, v[1], v[2] if len(v) > 2 else None, stride=a.get("strides", [1, 1]),
                             padding=pad, dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "Relu":
                y = F.relu(v[0])
            elif op == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(v[0], a["kernel_shape"], a.get("strides", [1, 1]), (p[0], p[1]),
                                 ceil_mode=bool(a.get("ceil_mode", 0)))
            elif op == "AveragePool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.avg_pool2d(v[0], a["kernel_shape"], a.get("strides", [1, 1]), (p[0], p[1]),
                                 ceil_mode=bool(a.get("ceil_mode", 0)),
                                 count_include_pad=bool(a.get("count_include_pad", 0)))
            elif op == "GlobalAveragePool":
                y = F.adaptive_avg_pool2d(v[0], 1)
            elif op == "LRN":
                y = F.local_response_norm(v[0], a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("bias", 1.0))
            elif op == "Concat":
                y = torch.cat(v, dim=a["axis"])
            elif op == "Flatten":
                y = torch.flatten(v[0], a.get("axis", 1))
            elif op == "Gemm":
                w = v[1] if a.get("transB", 0) else v[1].t()
                y = F.linear(v[0] * a.get("alpha", 1.0), w, v[2] * a.get("beta", 1.0) if len(v) > 2 else None)
            elif op == "Softmax":
                y = F.softmax(v[0], dim=a.get("axis", -1))
            elif op == "Sub":
                y = v[0] - v[1]
            elif op == "Mul":
                y = v[0] * v[1]
            elif op == "Add":
                y = v[0] + v[1]
            else:
                raise SystemExit("bench_torch: operator %s not implemented" % op)
            env[outs[0]] = y
        return [env[o] for o in self.outputs]


def main():
    model, batch, threads, seconds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    net = Net(model)
    if len(sys.argv) > 7:
        ref_in = torch.from_numpy(np.load(sys.argv[6]))
        ref = np.load(sys.argv[7])
        got = net(ref_in)[net.outputs.index("features")].numpy()
        print("check: features max|diff| vs ONNX Runtime %.2e" % np.abs(got - ref).max(), file=sys.stderr)
    r = np.uint32(12345)
    n = batch * 3 * size * size
    idx = np.arange(n, dtype=np.uint64)
    x = torch.from_numpy(((idx * 2654435761) % 256).astype(np.float32).reshape(batch, 3, size, size))
    net(x)  # warm-up
    runs, t0 = 0, time.perf_counter()
    el = 0.0
    while runs < 3 or el < seconds:
        net(x)
        runs += 1
        el = time.perf_counter() - t0
    del r
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"images_per_s": runs * batch / el, "peak_rss_mb": rss, "runs": runs}))


if __name__ == "__main__":
    main()
