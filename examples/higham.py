"""Higham & Higham (2019), section 2: a 2-2-3-2 sigmoid network classifies 10 points.

The paper trains the network by stochastic gradient descent on the quadratic cost
Cost = (1/10) Σᵢ ½‖y(xᵢ) − F(xᵢ)‖² with step η = 0.05 for 10⁶ single-point steps from
N(0, 0.5²) weights, and reaches a cost near 7e-4. Here SGD runs 10⁵ epochs of 10 steps
(each epoch visits the points in a fresh random order; the paper draws a point with
replacement at every step). Levenberg–Marquardt, from the same start, reaches the
cost SGD ends with in a few tens of epochs. A second figure draws the trained network.
The quick run stops SGD after 6,000 steps, still on the plateau where the cost stays
near 0.25 for thousands of epochs, and asks LM for the paper's 7e-4.

    python examples/higham.py [--quick] [--out DIR]      (full run: a few minutes)
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
from _common import parse_args, report, save

import ffnn
from ffnn import Dense, Sequential
from ffnn.optimizers import SGD, LevenbergMarquardt

INIT = {"name": "normal", "stddev": 0.5}  # the paper's 0.5*randn
PAPER_COST = 7e-4  # the cost the paper's SGD reaches after 10⁶ steps


def network(seed: int) -> Sequential:
    return Sequential([Dense(units, "sigmoid", input_dim=2 if i == 0 else None,
                             kernel_initializer=INIT, bias_initializer=INIT)
                       for i, units in enumerate((2, 3, 2))], seed=seed, dtype="float64")


def train(optimizer: object, x: np.ndarray, y: np.ndarray, epochs: int,
          batch_size: int | None) -> tuple[Sequential, ffnn.callbacks.History, float]:
    model = network(seed=0)
    model.compile(optimizer=optimizer, loss="quadratic")
    began = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, seed=0)
    return model, history, time.perf_counter() - began


def correct(model: Sequential, x: np.ndarray, y: np.ndarray) -> int:
    return int(np.sum(model.predict(x).argmax(axis=1) == y.argmax(axis=1)))


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    x, y = ffnn.datasets.higham_points()
    epochs = 600 if args.quick else 100_000
    sgd, sgd_history, sgd_seconds = train(SGD(learning_rate=0.05), x, y, epochs, 1)
    sgd_cost = float(sgd.evaluate(x, y))
    report("sgd_steps", epochs * len(x))
    report("sgd_cost", sgd_cost)
    report("sgd_correct", correct(sgd, x, y))
    report("sgd_seconds", round(sgd_seconds, 1))
    goal = min(sgd_cost, PAPER_COST)  # SGD's fit, or the paper's while SGD is on its plateau
    lm, lm_history, lm_seconds = train(LevenbergMarquardt(goal=goal), x, y, 200, None)
    report("lm_goal", goal)
    report("lm_epochs", len(lm_history.history["loss"]))
    report("lm_cost", float(lm.evaluate(x, y)))
    report("lm_correct", correct(lm, x, y))
    report("lm_seconds", round(lm_seconds, 2))

    fig, axes = plt.subplots(2, 2, figsize=(10, 8.5), layout="constrained")
    names = ["A: target (1, 0)", "B: target (0, 1)"]
    ffnn.plot.decision_boundary(sgd, x, y, ax=axes[0, 0], class_names=names, margin=0.1)
    axes[0, 0].set_title(f"SGD, {epochs * len(x):,} steps: {correct(sgd, x, y)}/10 correct")
    ffnn.plot.decision_boundary(lm, x, y, ax=axes[0, 1], class_names=names, margin=0.1)
    axes[0, 1].set_title(f"Levenberg–Marquardt, {len(lm_history.history['loss'])} epochs: "
                         f"{correct(lm, x, y)}/10 correct")
    ffnn.plot.history(sgd_history, ax=axes[1, 0])
    axes[1, 0].set(title=f"SGD cost (mean over each epoch of 10 steps); final {sgd_cost:.2g}",
                   xscale="log", xlabel="Epoch (10 steps each)")
    ffnn.plot.history(lm_history, ax=axes[1, 1], log=True)
    axes[1, 1].set_title(f"LM cost per epoch; final {float(lm.evaluate(x, y)):.2g}")
    save(fig, args.out, "higham")
    net = ffnn.plot.network(lm)
    net.axes[0].set_title("The 2-2-3-2 network after LM: edges are weights, fills biases")
    save(net, args.out, "higham_network")


if __name__ == "__main__":
    main()
