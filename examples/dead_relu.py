"""Dead ReLUs: the share of dead units against the learning rate.

A ReLU unit whose pre-activation is negative on every input outputs 0 and receives
no gradient, so it never recovers ("dead"). A too-large SGD step can push many units
there at once; the notes (note 1) advise setting the learning rate with care and
monitoring the share of dead units (:func:`ffnn.diagnostics.report`), switching to
leaky ReLU or maxout when it is high.

A 64-64-64-10 ReLU network (He initialisation, softmax output) is trained on
scikit-learn's digits for 3 epochs of SGD at each learning rate; the dead share of each
hidden layer on the training data and the training accuracy are averaged over seeds.
The few units dead at the smallest rates were dead from the start.

    python examples/dead_relu.py [--quick] [--out DIR]
"""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt
import numpy as np
from _common import parse_args, report, save

import ffnn
from ffnn import Dense, Sequential
from ffnn.callbacks import TerminateOnNaN
from ffnn.optimizers import SGD

RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def dead_shares(x: np.ndarray, y: np.ndarray, rate: float, seed: int) -> tuple[list[float], float]:
    """(dead share per hidden layer, training accuracy) after 3 epochs of SGD."""
    model = Sequential([Dense(64, "relu", input_dim=64, kernel_initializer="he_normal"),
                        Dense(64, "relu", kernel_initializer="he_normal"),
                        Dense(10, "softmax")], seed=seed)
    model.compile(SGD(learning_rate=rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=seed, callbacks=[TerminateOnNaN()])
    result = ffnn.diagnostics.report(model, x)
    shares = [e.dead_share for e in result.layers if e.dead_share is not None]
    return shares, float(model.evaluate(x, y)[1])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    logging.disable(logging.WARNING)  # TerminateOnNaN's warning at the largest rates
    x, y = ffnn.datasets.load_digits()
    x = x / 16.0
    seeds = 1 if args.quick else 5
    shares, accuracy = [], []
    for rate in RATES:
        runs = [dead_shares(x, y, rate, seed) for seed in range(seeds)]
        shares.append(np.mean([r[0] for r in runs], axis=0))
        accuracy.append(float(np.mean([r[1] for r in runs])))
        report(f"dead_share_{rate:g}", float(np.mean(shares[-1])))
        report(f"accuracy_{rate:g}", accuracy[-1])
    per_layer = np.array(shares)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for k in range(per_layer.shape[1]):
        ax.semilogx(RATES, per_layer[:, k], marker="o", label=f"hidden layer {k + 1}")
    ax.set(title=f"Dead ReLU units after 3 epochs of SGD on digits (mean of {seeds} seeds)",
           xlabel="learning rate", ylabel="dead share", ylim=(-0.03, 1.03))
    twin = ax.twinx()
    twin.semilogx(RATES, accuracy, color="0.4", linestyle="--", marker="x",
                  label="training accuracy")
    twin.set(ylabel="training accuracy", ylim=(-0.03, 1.03))
    ax.legend(loc="center left")
    twin.legend(loc="upper left")
    save(fig, args.out, "dead_relu")


if __name__ == "__main__":
    main()
