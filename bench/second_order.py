"""Second-order training: epochs and wall time to a target training MSE, and the final
test MSE, for Levenberg–Marquardt, Bayesian-regularised LM, scaled conjugate gradient,
L-BFGS, Rprop and Adam in ffnn, and scipy's trust-region least squares ("trf") driven by
ffnn's residuals and Jacobian.

Run: ``.venv/bin/python bench/second_order.py [--case diabetes|fitnet|wide] [--target T]
[--seeds N]``. Targets are standardised; networks are tanh, float64:

* ``diabetes``: scikit-learn's diabetes data, 10-10-1 (121 parameters), 331 rows;
* ``fitnet``: Friedman's function #1 with 13 features (8 irrelevant), 3,000 rows,
  a 13-20-1 fitnet-sized network (301 parameters);
* ``wide``: the same data, 13-130-1 (1,951 parameters).

In the two larger cases a run stops once it reaches the target ("total" is then the
time to the end of that epoch).
"""

from __future__ import annotations

import os

# Small dense matrices (121×121 solves, 331×121 products): BLAS threads only add contention.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.model_selection import train_test_split

from ffnn import Dense, Sequential
from ffnn.optim import Adam, Rprop, ScaledConjugateGradient
from ffnn.optim.lbfgs import LBFGS
from ffnn.optim.lm import BayesianRegularization, LevenbergMarquardt
from ffnn.training.callbacks import Callback
from ffnn.utils import flatten_params, unflatten_params

#: case → (hidden units, default target training MSE on standardised y, stop at the target)
CASES = {"diabetes": (10, 0.25, False), "fitnet": (20, 0.005, True), "wide": (130, 0.005, True)}
_SHAPE = {"hidden": 10, "stop": False}


def data(seed: int = 0, case: str = "diabetes") -> tuple[np.ndarray, ...]:
    if case == "diabetes":
        x, y = load_diabetes(return_X_y=True)
    else:
        x, y = make_friedman1(n_samples=4000, n_features=13, noise=0.3, random_state=seed)
    y = y.reshape(-1, 1)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed)
    mx, sx, my, sy = xtr.mean(0), xtr.std(0), ytr.mean(), ytr.std()
    return (xtr - mx) / sx, (xte - mx) / sx, (ytr - my) / sy, (yte - my) / sy


def network(seed: int, n_in: int) -> Sequential:
    model = Sequential([Dense(int(_SHAPE["hidden"]), activation="tanh", input_dim=n_in),
                        Dense(1)], seed=seed, dtype="float64")
    model.build()
    return model


class _Clock(Callback):
    """Records the epoch and wall time at which the training MSE first reaches the target."""

    def __init__(self, x: np.ndarray, y: np.ndarray, target: float) -> None:
        self.x, self.y, self.target = x, y, target
        self.hit: tuple[int, float] | None = None
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.hit is None:
            mse = float(np.mean((self.model.predict(self.x) - self.y) ** 2))
            if mse <= self.target:
                self.hit = (epoch + 1, time.perf_counter() - self.start)
                if _SHAPE["stop"]:
                    self.model.stop_training = True


def run_ffnn(opt: Any, epochs: int, batch_size: int | None, seed: int, d: tuple[np.ndarray, ...],
             target: float) -> dict[str, Any]:
    xtr, _, ytr, _ = d
    model = network(seed, xtr.shape[1])
    model.compile(optimizer=opt, loss="mse")
    clock = _Clock(xtr, ytr, target)
    t0 = time.perf_counter()
    model.fit(xtr, ytr, epochs=epochs, batch_size=batch_size, verbose=0, seed=seed,
              callbacks=[clock])
    total = time.perf_counter() - t0
    return _row(clock.hit, total, model, d)


class _Reached(Exception):
    """Stops scipy's least squares at the target in the larger cases."""


def run_trf(seed: int, d: tuple[np.ndarray, ...], target: float, max_nfev: int) -> dict[str, Any]:
    xtr, _, ytr, _ = d
    model = network(seed, xtr.shape[1])
    hit: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    calls = [0]

    def residuals(theta: np.ndarray) -> np.ndarray:
        model.set_weights(unflatten_params(theta, model))
        r = (model.predict(xtr) - ytr).ravel()
        calls[0] += 1
        if not hit and float(np.mean(r**2)) <= target:
            hit.append((calls[0], time.perf_counter() - t0))
            if _SHAPE["stop"]:
                raise _Reached
        return r

    def jacobian(theta: np.ndarray) -> np.ndarray:
        model.set_weights(unflatten_params(theta, model))
        return model.jacobian(xtr)  # ∂ŷ/∂θ = ∂(ŷ − y)/∂θ

    try:
        res = scipy.optimize.least_squares(residuals, flatten_params(model), jac=jacobian,
                                           method="trf", max_nfev=max_nfev)
        model.set_weights(unflatten_params(res.x, model))
    except _Reached:  # the model holds the weights that reached the target
        pass
    return _row(hit[0] if hit else None, time.perf_counter() - t0, model, d)


def _row(hit: tuple[int, float] | None, total: float, model: Sequential,
         d: tuple[np.ndarray, ...]) -> dict[str, Any]:
    xtr, xte, ytr, yte = d
    return {"epochs": hit[0] if hit else None, "time": hit[1] if hit else None, "total": total,
            "train": float(np.mean((model.predict(xtr) - ytr) ** 2)),
            "test": float(np.mean((model.predict(xte) - yte) ** 2))}


def methods(target: float) -> dict[str, Callable[[int, tuple[np.ndarray, ...]], dict[str, Any]]]:
    return {
        "LM (trainlm)": lambda s, d: run_ffnn(LevenbergMarquardt(), 100, None, s, d, target),
        "Bayesian LM (trainbr)": lambda s, d: run_ffnn(BayesianRegularization(), 100, None, s, d,
                                                       target),
        "SCG (trainscg)": lambda s, d: run_ffnn(ScaledConjugateGradient(), 1000, None, s, d,
                                                target),
        "L-BFGS (10 it/epoch)": lambda s, d: run_ffnn(LBFGS(maxiter=10), 100, None, s, d, target),
        "Rprop (trainrp), full batch": lambda s, d: run_ffnn(Rprop(learning_rate=0.07), 1000, None,
                                                             s, d, target),
        "Adam lr=0.01, batch 32": lambda s, d: run_ffnn(Adam(learning_rate=0.01),
                                                        1000 if len(d[0]) < 1000 else 200, 32,
                                                        s, d, target),
        "scipy trf (ffnn J)": lambda s, d: run_trf(s, d, target, max_nfev=100),
    }


def _fmt(values: list[Any], spec: str) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "—"
    text = format(float(np.median(got)), spec)
    return text if len(got) == len(values) else f"{text} ({len(got)}/{len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), default="diabetes")
    parser.add_argument("--target", type=float, default=None)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    hidden, target, stop = CASES[args.case]
    _SHAPE.update(hidden=hidden, stop=stop)
    args.target = target if args.target is None else args.target
    d = data(case=args.case)
    n_params = (d[0].shape[1] + 2) * hidden + 1
    print(f"{args.case}: {len(d[0])} train / {len(d[1])} test samples, {d[0].shape[1]}-{hidden}-1 "
          f"tanh ({n_params} parameters), target training MSE {args.target} (standardised y); "
          f"medians over {args.seeds} seeds")
    print("epochs: to the target (trf: residual evaluations); (k/n) = seeds that reached it")
    header = f"{'method':28s} {'epochs':>10s} {'time s':>12s} {'total s':>8s} " \
             f"{'train MSE':>10s} {'test MSE':>9s}"
    print(header)
    print("-" * len(header))
    for name, run in methods(args.target).items():
        rows = [run(seed, d) for seed in range(args.seeds)]
        print(f"{name:28s} {_fmt([r['epochs'] for r in rows], '.0f'):>10s} "
              f"{_fmt([r['time'] for r in rows], '.3f'):>12s} "
              f"{_fmt([r['total'] for r in rows], '.2f'):>8s} "
              f"{_fmt([r['train'] for r in rows], '.3f'):>10s} "
              f"{_fmt([r['test'] for r in rows], '.3f'):>9s}")


if __name__ == "__main__":
    main()
