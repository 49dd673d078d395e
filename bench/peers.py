"""Training speed against PyTorch eager and scikit-learn, in one process.

1. One epoch of a 784-256-128-10 ReLU network with softmax cross-entropy on 60,000
   synthetic float32 samples, batch 128, SGD with learning rate 0.1: ffnn
   ``Sequential.fit``, PyTorch eager (``nn.Sequential`` + ``torch.optim.SGD``) and
   scikit-learn ``MLPClassifier(solver="sgd", max_iter=1)``, run alternately; medians.
2. µs per SGD step on the Higham & Higham 2-2-3-2 sigmoid network (one sample per
   step, quadratic cost): ffnn ``Sequential.train_step`` and ``fit(batch_size=1)``
   against a PyTorch ``nn.Module`` step.

For context the epoch benchmark also times three NumPy references on the same data:
``floor``, only the matrix products an epoch needs (3 forward, 5 backward per batch, in
ffnn's memory layout), ``numpy``, a straightforward hand-written NumPy training loop,
and ``tuned``, the fastest NumPy loop we know for this network (ffnn's tricks without
its engine; the practical bound for any NumPy-based library).

Each library runs alone: the runs alternate with a pause between them, because
OpenBLAS and OpenMP worker threads keep spinning for a while after a call and would
otherwise slow down whichever library runs next. Reported: the median and the best of
the rounds, and the ratios of the medians.

Run: ``.venv/bin/python bench/peers.py [--rounds 5] [--quick]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

PAUSE = 0.3  # seconds between runs: lets the previous library's worker threads go idle


def _time(fn: Callable[[], None]) -> float:
    time.sleep(PAUSE)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _numpy_references(
    x: np.ndarray, y_onehot: np.ndarray, batch: int, lr: float
) -> dict[str, Callable[[], None]]:
    """The matrix-product floor and a plain hand-written NumPy loop (see the docstring)."""
    rng = np.random.default_rng(0)
    n = len(x)
    sizes = [(256, 784), (128, 256), (10, 128)]
    ws = [np.asfortranarray(rng.standard_normal(s, dtype=np.float32) * math.sqrt(2 / s[1]))
          for s in sizes]
    bs = [np.zeros(s[0], np.float32) for s in sizes]
    assert all(a.dtype == np.float32 for a in (x, y_onehot, *ws))  # no float64 slips in

    def floor() -> None:
        w1, w2, w3 = ws
        for start in range(0, n, batch):
            xb = x[start : start + batch]
            h1 = xb @ w1.T
            h2 = h1 @ w2.T
            z = h2 @ w3.T
            gw3 = (h2.T @ z).T
            d2 = z @ w3
            gw2 = (h1.T @ d2).T
            d1 = d2 @ w2
            gw1 = (xb.T @ d1).T
            del gw1, gw2, gw3  # computed for their cost only

    wc = [np.ascontiguousarray(w) for w in ws]  # the loop's own weights, row-major

    def loop() -> None:
        w1, w2, w3 = wc
        b1, b2, b3 = bs
        perm = rng.permutation(n)
        for start in range(0, n, batch):
            idx = perm[start : start + batch]
            xb, yb = x[idx], y_onehot[idx]
            h1 = np.maximum(xb @ w1.T + b1, 0)
            h2 = np.maximum(h1 @ w2.T + b2, 0)
            z = h2 @ w3.T + b3
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            d3 = (p - yb) / len(xb)
            d2 = (d3 @ w3) * (h2 > 0)
            d1 = (d2 @ w2) * (h1 > 0)
            grads = [(d1.T @ xb, d1.sum(0)), (d2.T @ h1, d2.sum(0)), (d3.T @ h2, d3.sum(0))]
            for w, b, (gw, gb) in zip(wc, bs, grads, strict=True):
                w -= lr * gw
                b -= lr * gb

    return {"floor": floor, "numpy": loop, "tuned": _tuned_loop(x, y_onehot, batch, lr)}


def _tuned_loop(
    x: np.ndarray, y_onehot: np.ndarray, batch: int, lr: float
) -> Callable[[], None]:
    """The fastest NumPy training loop we know for this network, with no engine at all:
    ffnn's layouts and tricks (Fortran-ordered weights, 1ᵀδ bias gradients, ReLU against
    cached zeros, in-place masks and softmax, one-pass BLAS axpy updates) and none of
    its generality. It bounds what any NumPy-based library can reach here."""
    from ffnn.optim._blas import axpy

    rng = np.random.default_rng(1)
    n = len(x)
    sizes = [(256, 784), (128, 256), (10, 128)]
    ws = [np.asfortranarray(rng.standard_normal(s, dtype=np.float32) * math.sqrt(2 / s[1]))
          for s in sizes]
    params = [a for w in ws for a in (w, np.zeros(w.shape[0], np.float32))]
    tmps = [np.empty_like(p) for p in params]
    ones = np.ones(max(batch, 10), np.float32)  # row sums of the 10 logits and 1ᵀδ
    zeros = [np.zeros((batch, s[0]), np.float32) for s in sizes[:2]]

    losses: list[float] = []

    def tuned() -> None:
        w1, b1, w2, b2, w3, b3 = params
        losses.clear()
        perm = rng.permutation(n)
        for start in range(0, n, batch):
            idx = perm[start : start + batch]
            xb, yb = x[idx], y_onehot[idx]
            m = len(xb)
            h1 = xb @ w1.T
            h1 += b1
            np.maximum(h1, zeros[0][:m], out=h1)
            h2 = h1 @ w2.T
            h2 += b2
            np.maximum(h2, zeros[1][:m], out=h2)
            z = h2 @ w3.T
            z += b3
            s = z - z.T.max(axis=0)[:, None]
            e = np.exp(s)
            se = e @ ones[:10]
            losses.append(float(np.log(se).sum() - np.vdot(yb, s)) / m)  # as every library
            e *= (1 / (m * se))[:, None]
            e -= yb * (1 / m)
            d2 = e @ w3
            np.multiply(d2, h2 > 0, out=d2)
            d1 = d2 @ w2
            np.multiply(d1, h1 > 0, out=d1)
            grads = [(xb.T @ d1).T, ones[:m] @ d1, (h1.T @ d2).T, ones[:m] @ d2,
                     (h2.T @ e).T, ones[:m] @ e]
            for p, g, t in zip(params, grads, tmps, strict=True):
                axpy(-lr, g, p, t)

    # what tests/test_bench_reference.py checks against ffnn's own steps
    tuned.losses, tuned.params, tuned.rng = losses, params, rng  # type: ignore[attr-defined]
    return tuned


def epoch_benchmark(rounds: int, n: int) -> dict[str, list[float]]:
    import torch
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    import ffnn

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    y_onehot = np.eye(10, dtype=np.float32)[labels]

    model = ffnn.Sequential(
        [
            ffnn.Dense(256, activation="relu", input_dim=784),
            ffnn.Dense(128, activation="relu"),
            ffnn.Dense(10, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizer=ffnn.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")

    def run_ffnn() -> None:
        model.fit(x, y_onehot, epochs=1, batch_size=128, verbose=0, seed=0)

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run_torch() -> None:
        perm = torch.randperm(n)
        for start in range(0, n, 128):
            idx = perm[start : start + 128]
            opt.zero_grad()
            loss_fn(net(tx[idx]), ty[idx]).backward()
            opt.step()

    clf = MLPClassifier(
        hidden_layer_sizes=(256, 128),
        solver="sgd",
        learning_rate_init=0.1,
        batch_size=128,
        max_iter=1,
        alpha=0.0,
        momentum=0.0,
        random_state=0,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=10**9,
    )

    def run_sklearn() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, labels)

    runs = {"ffnn": run_ffnn, "pytorch": run_torch, "sklearn": run_sklearn,
            **_numpy_references(x, y_onehot, 128, 0.1)}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for fn in runs.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in runs.items():
            times[name].append(_time(fn))
    return times


def _network(optimizer: object, graph: str) -> object:
    import ffnn

    model = ffnn.Sequential(
        [
            ffnn.Dense(256, activation="relu", input_dim=784),
            ffnn.Dense(128, activation="relu"),
            ffnn.Dense(10, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", graph=graph)
    return model


def sweep_benchmark(rounds: int, n: int,
                    batches: tuple[int, ...]) -> dict[int, dict[str, list[float]]]:
    """Per batch size: one epoch of ffnn fit (static graph, the default, and the dynamic
    tape), of the ``tuned`` NumPy loop at the same batch size, and of ffnn with Adam
    (static) — the same data, alternating runs."""
    import ffnn

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y_onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    result: dict[int, dict[str, list[float]]] = {}
    for batch in batches:
        models = {
            "ffnn_static": _network(ffnn.optimizers.SGD(learning_rate=0.1), "static"),
            "ffnn_dynamic": _network(ffnn.optimizers.SGD(learning_rate=0.1), "dynamic"),
            "ffnn_adam": _network(ffnn.optimizers.Adam(learning_rate=1e-3), "static"),
        }
        def epoch(m: Any, b: int = batch) -> Callable[[], None]:
            return lambda: m.fit(x, y_onehot, epochs=1, batch_size=b, verbose=0, seed=0)

        runs: dict[str, Callable[[], None]] = {name: epoch(m) for name, m in models.items()}
        runs["tuned"] = _tuned_loop(x, y_onehot, batch, 0.1)
        times: dict[str, list[float]] = {k: [] for k in runs}
        for fn in runs.values():
            fn()  # warm-up (and the traces)
        for _ in range(rounds):
            for name, fn in runs.items():
                times[name].append(_time(fn))
        result[batch] = times
    return result


def _higham_numpy(xs: list[np.ndarray], ys: list[np.ndarray], lr: float) -> Callable[[int], None]:
    """The 2-2-3-2 sigmoid network's SGD step written by hand in NumPy (one sample,
    quadratic cost ½‖y − a‖²): the reference for ffnn's per-step overhead."""
    from scipy.special import expit

    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(s).astype(np.float32) * 0.5 for s in ((2, 2), (3, 2), (2, 3))]
    bs = [rng.standard_normal(s[0]).astype(np.float32) * 0.5 for s in ((2, 2), (3, 2), (2, 3))]

    def run(steps: int) -> None:
        w2, w3, w4 = ws
        b2, b3, b4 = bs
        for k in range(steps):
            x, y = xs[k % 10], ys[k % 10]
            a2 = expit(x @ w2.T + b2)
            a3 = expit(a2 @ w3.T + b3)
            a4 = expit(a3 @ w4.T + b4)
            d4 = (a4 - y) * a4 * (1 - a4)
            d3 = (d4 @ w4) * a3 * (1 - a3)
            d2 = (d3 @ w3) * a2 * (1 - a2)
            w4 -= lr * (d4.T @ a3)
            b4 -= lr * d4[0]
            w3 -= lr * (d3.T @ a2)
            b3 -= lr * d3[0]
            w2 -= lr * (d2.T @ x)
            b2 -= lr * d2[0]

    return run


def tiny_benchmark(steps: int, rounds: int) -> dict[str, list[float]]:
    import torch

    import ffnn

    x, y = ffnn.datasets.higham_points()
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    model = ffnn.Sequential(
        [
            ffnn.Dense(2, activation="sigmoid", input_dim=2),
            ffnn.Dense(3, activation="sigmoid"),
            ffnn.Dense(2, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(optimizer=ffnn.optimizers.SGD(learning_rate=0.05), loss="quadratic")
    model.build()
    model.prepare_training()
    xs = [x32[i : i + 1] for i in range(10)]
    ys = [y32[i : i + 1] for i in range(10)]

    def run_ffnn_step() -> None:
        for k in range(steps):
            model.batch_step(xs[k % 10], ys[k % 10])

    xr = np.tile(x32, (steps // 10, 1))
    yr = np.tile(y32, (steps // 10, 1))

    def run_ffnn_fit() -> None:
        model.fit(xr, yr, epochs=1, batch_size=1, verbose=0, shuffle=False)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l2 = torch.nn.Linear(2, 2)
            self.l3 = torch.nn.Linear(2, 3)
            self.l4 = torch.nn.Linear(3, 2)

        def forward(self, a: torch.Tensor) -> torch.Tensor:
            a = torch.sigmoid(self.l2(a))
            a = torch.sigmoid(self.l3(a))
            return torch.sigmoid(self.l4(a))

    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    txs = [torch.from_numpy(v) for v in xs]
    tys = [torch.from_numpy(v) for v in ys]

    def run_torch() -> None:
        for k in range(steps):
            opt.zero_grad()
            out = net(txs[k % 10])
            loss = 0.5 * ((tys[k % 10] - out) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()

    hand = _higham_numpy(xs, ys, 0.05)
    dynamic = ffnn.Sequential(
        [ffnn.Dense(2, activation="sigmoid", input_dim=2), ffnn.Dense(3, activation="sigmoid"),
         ffnn.Dense(2, activation="sigmoid")], seed=0)
    dynamic.compile(optimizer=ffnn.optimizers.SGD(learning_rate=0.05), loss="quadratic",
                    graph="dynamic")
    dynamic.build()
    dynamic.prepare_training()

    def run_dynamic_step() -> None:
        for k in range(steps):
            dynamic.batch_step(xs[k % 10], ys[k % 10])

    runs = {"ffnn_step": run_ffnn_step, "ffnn_dynamic": run_dynamic_step,
            "ffnn_fit": run_ffnn_fit, "numpy_hand": lambda: hand(steps), "pytorch": run_torch}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            times[name].append(_time(fn) / steps * 1e6)
    return times


def _report(
    times: dict[str, list[float]], unit: str, fmt: str
) -> tuple[dict[str, float], dict[str, float]]:
    """Print median and best per runner; return both."""
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    for name in times:
        print(f"  {name:10s} median {med[name]:{fmt}} {unit}   best {best[name]:{fmt}} {unit}")
    return med, best


def _ratio(what: str, med: dict[str, float], best: dict[str, float], slow: str,
           fast: str) -> None:
    """Print how many times faster ``fast`` is than ``slow``, from medians and from bests
    (on a shared machine the best of several runs is the least disturbed one)."""
    print(f"  {what}: {med[slow] / med[fast]:.2f}x faster (medians), "
          f"{best[slow] / best[fast]:.2f}x (bests)")


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10,000 samples instead of 60,000")
    parser.add_argument("--sweep", action="store_true",
                        help="only the batch-size sweep: ffnn (static, dynamic, Adam) vs tuned")
    args = parser.parse_args()
    if args.sweep:
        n = 10_000 if args.quick else 60_000
        print(f"Epoch of 784-256-128-10 ReLU, {n} samples, per batch size ({args.rounds} rounds):")
        for batch, times in sweep_benchmark(args.rounds, n, (8, 32, 128, 1024)).items():
            print(f" batch {batch}:")
            med, _ = _report(times, "s", "7.3f")
            print(f"  tuned/ffnn static {med['tuned'] / med['ffnn_static']:.2f}, "
                  f"tuned/ffnn dynamic {med['tuned'] / med['ffnn_dynamic']:.2f}, "
                  f"dynamic/static {med['ffnn_dynamic'] / med['ffnn_static']:.2f}, "
                  f"Adam/SGD {med['ffnn_adam'] / med['ffnn_static']:.2f}")
        return
    torch.set_num_threads(2)
    n = 10_000 if args.quick else 60_000
    print(f"Epoch of 784-256-128-10 ReLU, {n} samples, batch 128, SGD ({args.rounds} rounds):")
    ep, ep_best = _report(epoch_benchmark(args.rounds, n), "s", "7.3f")
    _ratio("ffnn vs PyTorch eager", ep, ep_best, "pytorch", "ffnn")
    _ratio("ffnn vs scikit-learn ", ep, ep_best, "sklearn", "ffnn")
    print(f"  as fractions of PyTorch's epoch (medians): floor {ep['floor'] / ep['pytorch']:.2f}, "
          f"hand-written NumPy {ep['numpy'] / ep['pytorch']:.2f}, "
          f"tuned NumPy {ep['tuned'] / ep['pytorch']:.2f}, ffnn {ep['ffnn'] / ep['pytorch']:.2f}")
    _ratio("tuned NumPy vs PyTorch eager (the bound)", ep, ep_best, "pytorch", "tuned")
    print("SGD step on the 2-2-3-2 Higham network (one sample):")
    tiny, tiny_best = _report(tiny_benchmark(steps=20_000, rounds=args.rounds), "us/step", "7.2f")
    _ratio("ffnn train step vs PyTorch nn.Module", tiny, tiny_best, "pytorch", "ffnn_step")
    _ratio("hand NumPy step vs ffnn train step  ", tiny, tiny_best, "ffnn_step", "numpy_hand")
    _ratio("ffnn static step vs dynamic step    ", tiny, tiny_best, "ffnn_dynamic", "ffnn_step")
    _ratio("ffnn fit(batch_size=1) vs PyTorch   ", tiny, tiny_best, "pytorch", "ffnn_fit")


if __name__ == "__main__":
    main()
