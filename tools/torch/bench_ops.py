#!/usr/bin/python3
"""PyTorch reference numbers for `sharpctr bench kernels` (same shapes, same keys).

Run with Debian's interpreter:  /usr/bin/python3 tools/torch/bench_ops.py [--json]
torch.set_num_threads(2), like the engine. Timing: warm-up, then the median of 11 samples,
each long enough (>= 20 ms) for the clock.
"""
import json
import statistics
import sys
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(0)


def median_seconds(fn, min_sample=0.02, samples=11):
    fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        t = time.perf_counter() - t0
        if t >= min_sample or reps >= 1 << 24:
            break
        reps = max(reps * 2, int(reps * min_sample / max(t, 1e-9) * 1.2))
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:
        for _ in range(reps):
            fn()
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t0) / reps)
    return statistics.median(times)


def gemm_gflops(m, k, n):
    a, b = torch.randn(m, k), torch.randn(k, n)
    c = torch.empty(m, n)
    s = median_seconds(lambda: torch.mm(a, b, out=c))
    return 2.0 * m * n * k / s / 1e9


def batched_gflops():
    q, kk = torch.randn(1024, 50, 16), torch.randn(1024, 50, 16)
    kt = kk.transpose(1, 2)
    out = torch.empty(1024, 50, 50)
    s = median_seconds(lambda: torch.bmm(q, kt, out=out))
    return 2.0 * 1024 * 50 * 50 * 16 / s / 1e9


def gbps(fn, bytes_moved):
    return bytes_moved / median_seconds(fn) / 1e9


def tiny_add_us():
    a = torch.randn(1024, 16, requires_grad=True)
    b = torch.randn(1024, 16, requires_grad=True)
    fwd = median_seconds(lambda: a + b) * 1e6

    def fwd_bwd():
        (a + b).backward(gradient=torch.ones(1024, 16))
    return fwd, median_seconds(fwd_bwd) * 1e6


def embedding_us(sparse):
    emb = torch.nn.Embedding(4000, 16, sparse=sparse)
    ids = torch.randint(0, 4000, (1024, 50))
    g = torch.randn(1024, 50, 16)

    def step():
        emb.weight.grad = None
        emb(ids).backward(g)
    return median_seconds(step) * 1e6


def adam_us():
    p = torch.nn.Parameter(torch.randn(140_000))
    p.grad = torch.randn(140_000)
    opt = torch.optim.Adam([p], lr=1e-3)
    return median_seconds(opt.step) * 1e6


def main():
    x1m, y1m = torch.randn(1 << 20), torch.empty(1 << 20)
    b1m = torch.randn(1 << 20)
    x2, bias, y2 = torch.randn(1024, 256), torch.randn(256), torch.empty(1024, 256)
    tiny_fwd, tiny_fwd_bwd = tiny_add_us()
    r = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "gemm_1024x256x256_gflops": gemm_gflops(1024, 256, 256),
        "gemm_1024x320x256_gflops": gemm_gflops(1024, 320, 256),
        "gemm_batched_1024x50x16x50_gflops": batched_gflops(),
        "gemm_1024x1024x1024_gflops": gemm_gflops(1024, 1024, 1024),
        "add_1m_gbps": gbps(lambda: torch.add(x1m, b1m, out=y1m), 12 << 20),
        "relu_1m_gbps": gbps(lambda: torch.relu(x1m), 8 << 20),
        "sigmoid_1m_gbps": gbps(lambda: torch.sigmoid(x1m, out=y1m), 8 << 20),
        "bias_gelu_1024x256_gbps": gbps(lambda: torch.nn.functional.gelu(x2 + bias), 8 * 1024 * 256),
        "tiny_op_fwd_us": tiny_fwd,
        "tiny_op_fwd_bwd_us": tiny_fwd_bwd,
        "embedding_fwd_bwd_us": embedding_us(sparse=False),
        "embedding_sparse_fwd_bwd_us": embedding_us(sparse=True),
        "adam_140k_us": adam_us(),
    }
    if "--json" in sys.argv:
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, indent=2))
    else:
        for k, v in r.items():
            print(f"{k:40} {v:12.2f}" if isinstance(v, float) else f"{k:40} {v:>12}")


if __name__ == "__main__":
    main()
