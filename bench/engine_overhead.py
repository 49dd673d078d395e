"""Per-step overhead of the engine on a tiny expression, against PyTorch in one process.

Times forward + backward of ``sum(sigmoid(x @ W + b))`` with x, W of shape 4×4 (float32)
in ffnn and in PyTorch eager, alternating the two, and prints µs per step and the ratio.
Run: ``.venv/bin/python bench/engine_overhead.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np


def _time(step: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n * 1e6


def main(rounds: int = 7, n: int = 5000) -> dict[str, float]:
    import torch

    import ffnn

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((4, 4)).astype(np.float32)
    wa = rng.standard_normal((4, 4)).astype(np.float32)
    ba = rng.standard_normal(4).astype(np.float32)

    x = ffnn.Tensor(xa)
    w = ffnn.Tensor(wa, requires_grad=True)
    b = ffnn.Tensor(ba, requires_grad=True)

    def ffnn_step() -> None:
        w.grad = None
        b.grad = None
        ffnn.sigmoid(x @ w + b).sum().backward()

    tx = torch.tensor(xa)
    tw = torch.tensor(wa, requires_grad=True)
    tb = torch.tensor(ba, requires_grad=True)

    def torch_step() -> None:
        tw.grad = None
        tb.grad = None
        torch.sigmoid(tx @ tw + tb).sum().backward()

    ffnn_step()
    torch_step()
    assert np.allclose(w.grad, tw.grad.numpy(), rtol=1e-5, atol=1e-6)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_time(ffnn_step, n))
        theirs.append(_time(torch_step, n))
    result = {"ffnn_us": statistics.median(ours), "torch_us": statistics.median(theirs)}
    result["speedup"] = result["torch_us"] / result["ffnn_us"]
    print(
        "forward+backward of sum(sigmoid(x @ W + b)), 4x4 float32, median of "
        f"{rounds} rounds x {n} steps"
    )
    print(f"  ffnn    {result['ffnn_us']:8.2f} us/step")
    print(f"  PyTorch {result['torch_us']:8.2f} us/step")
    print(f"  ffnn is {result['speedup']:.2f}x faster than PyTorch eager")
    return result


if __name__ == "__main__":
    main()
