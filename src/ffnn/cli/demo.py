"""``ffnn demo``: the classic examples of the notes, in a few seconds.

1. Higham & Higham (2019), section 2: a 2-2-3-2 sigmoid network with N(0, 0.5²)
   starting weights classifies 10 points of the unit square, trained by
   Levenberg–Marquardt on the sum-of-squares cost.
2. XOR: Rosenblatt's perceptron cannot separate the four points (no line does); a
   2-2-1 network can, though some starts end in a local minimum.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from .. import datasets
from ..exceptions import ConvergenceWarning
from ..nn.layers import Dense
from ..optim import LevenbergMarquardt
from ..perceptron import Perceptron
from ..training import Sequential

__all__ = ["run_demo"]

_HIGHAM_INIT = {"name": "normal", "stddev": 0.5}  # the paper's 0.5*randn
_SHOWN_EPOCHS = {1, 2, 3, 4, 5}


def _higham_network(seed: int) -> Sequential:
    layers = [
        Dense(units, "sigmoid", kernel_initializer=_HIGHAM_INIT, bias_initializer=_HIGHAM_INIT,
              input_dim=2 if i == 0 else None)
        for i, units in enumerate((2, 3, 2))
    ]
    return Sequential(layers, seed=seed, dtype="float64")


def _cost_table(start: float, losses: list[float]) -> None:
    print("  epoch  cost (sum of squared errors)")
    print(f"  {0:>5}  {start:.6g}")
    last = len(losses)
    for epoch, value in enumerate(losses, start=1):
        if epoch in _SHOWN_EPOCHS or epoch % 5 == 0 or epoch == last:
            print(f"  {epoch:>5}  {value:.6g}")


def _unit_square_map(model: Sequential, x: np.ndarray, y: np.ndarray) -> None:
    """Regions a/b of the unit square, with the data points drawn as A/B."""
    cols, rows = 41, 11
    x1, x2 = np.meshgrid(np.linspace(0, 1, cols), np.linspace(1, 0, rows))
    grid = np.column_stack([x1.ravel(), x2.ravel()])
    cells = np.where(model.predict(grid).argmax(axis=1) == 0, "a", "b").reshape(rows, cols)
    for (p1, p2), label in zip(x, y.argmax(axis=1), strict=True):
        cells[round((1 - p2) * (rows - 1)), round(p1 * (cols - 1))] = "AB"[label]
    print("  the network's categories over the unit square (x2 up, x1 right; A/B: the points)")
    for line in cells:
        print("    " + "".join(line))


def higham(seed: int) -> None:
    """Train the 2-2-3-2 network on the 10 points with LM and show the result."""
    x, y = datasets.higham_points()
    print("1. Higham & Higham (2019): a 2-2-3-2 sigmoid network learns 10 points")
    print("   (category A: target (1, 0); B: (0, 1)), trained by Levenberg–Marquardt")
    model = _higham_network(seed)
    model.compile(LevenbergMarquardt(goal=1e-6), "sse")
    start = float(model.evaluate(x, y))
    began = time.perf_counter()
    history = model.fit(x, y, epochs=100, verbose=0)
    seconds = time.perf_counter() - began
    _cost_table(start, history.history["loss"])
    print(f"  stopped: {model.stop_reason} ({seconds:.2f} s)")
    out = model.predict(x)
    print("     x1   x2  category   output (a1, a2)    classified as")
    for (p1, p2), target, (o1, o2) in zip(x, y.argmax(axis=1), out, strict=True):
        guess = "AB"[int(o2 > o1)]
        mark = "" if guess == "AB"[target] else "  (wrong)"
        print(f"    {p1:.1f}  {p2:.1f}  {'AB'[target]:>8}   ({o1:.4f}, {o2:.4f})   {guess}{mark}")
    right = int(np.sum(out.argmax(axis=1) == y.argmax(axis=1)))
    print(f"  {right} of 10 points classified correctly")
    _unit_square_map(model, x, y)


def _perceptron_on_xor(x: np.ndarray, y: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        perceptron = Perceptron(max_epochs=100).fit(x, y.ravel())
    print(f"  perceptron: after {perceptron.n_epochs_} epochs it still misclassifies "
          f"{perceptron.n_misclassified_} of 4 points (converged: {perceptron.converged_});")
    print("  no straight line separates XOR (Minsky & Papert, 1969)")


def xor(seed: int, tries: int = 10) -> None:
    """The perceptron fails on XOR; a 2-2-1 network trained by LM succeeds."""
    x, y = datasets.xor()
    print("2. XOR: the perceptron versus a 2-2-1 network (tanh hidden units, sigmoid output)")
    _perceptron_on_xor(x, y)
    for start in range(seed, seed + tries):
        model = Sequential([Dense(2, "tanh", input_dim=2), Dense(1, "sigmoid")], seed=start,
                           dtype="float64")
        model.compile(LevenbergMarquardt(goal=1e-6), "sse")
        history = model.fit(x, y, epochs=100, verbose=0)
        out = model.predict(x)[:, 0]
        cost = history.history["loss"][-1]
        if np.all((out > 0.5) == (y[:, 0] > 0.5)):
            print(f"  network, start {start}: solved in {len(history.history['loss'])} epochs "
                  f"(cost {cost:.2g})")
            print("     x1  x2  target  output")
            for (p1, p2), t, o in zip(x, y[:, 0], out, strict=True):
                print(f"    {p1:3.0f} {p2:3.0f} {t:7.0f}  {o:.4f}")
            return
        print(f"  network, start {start}: stuck at cost {cost:.3g} (a local minimum); "
              "trying another start")
    print(f"  no start of {tries} solved XOR")


def run_demo(args: argparse.Namespace) -> int:
    """The ``demo`` subcommand."""
    higham(args.seed)
    print()
    xor(args.seed)
    return 0
