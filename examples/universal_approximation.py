"""Universal approximation (the notes' Theorem 4.1: Cybenko 1989, Hornik et al. 1989).

F(x) = Σₘ vₘ σ(wₘ x + bₘ) + c, one hidden layer of M logistic units and a linear output,
is fitted by Levenberg–Marquardt to the continuous (not differentiable) target
f(x) = |x − 0.4| + ½ sin(5πx) on [0, 1], for M = 1, 2, 4, 8, 16. The sup error
max |F(x) − f(x)| on a fine grid falls as M grows, as the theorem promises.

Each M keeps the best (lowest training loss) of a few seeded random starts and of the
previous network widened by M/2 new units with zero output weights: that start
computes the same F, and LM only accepts steps that lower the loss, so a wider network
never fits the training points worse than a narrower one.

    python examples/universal_approximation.py [--quick] [--out DIR]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _common import parse_args, report, save

from ffnn import Dense, Sequential
from ffnn.optimizers import LevenbergMarquardt

WIDTHS = (1, 2, 4, 8, 16)


def target(x: np.ndarray) -> np.ndarray:
    """Continuous with a kink at 0.4."""
    return np.abs(x - 0.4) + 0.5 * np.sin(5 * np.pi * x)


def network(width: int, seed: int) -> Sequential:
    model = Sequential([Dense(width, "sigmoid", input_dim=1), Dense(1)], seed=seed,
                       dtype="float64")
    model.compile(optimizer=LevenbergMarquardt(goal=1e-12), loss="sse")
    model.build(1)
    return model


def widened(previous: Sequential, width: int) -> Sequential:
    """A ``width``-unit network computing exactly what ``previous`` computes."""
    model = network(width, seed=1000 + width)
    w1, b1, w2, b2 = model.get_weights()
    p1, q1, p2, q2 = previous.get_weights()
    k = p1.shape[0]
    w1[:k], b1[:k], w2[:, :k], w2[:, k:], b2[:] = p1, q1, p2, 0.0, q2
    model.set_weights([w1, b1, w2, b2])
    return model


def fit(width: int, x: np.ndarray, y: np.ndarray, previous: Sequential | None, starts: int,
        epochs: int) -> Sequential:
    candidates = [network(width, seed) for seed in range(starts)]
    if previous is not None:
        candidates.append(widened(previous, width))
    for model in candidates:
        model.fit(x, y, epochs=epochs, verbose=0)
    return min(candidates, key=lambda m: float(m.evaluate(x, y)))


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    x = np.linspace(0, 1, 200).reshape(-1, 1)
    fine = np.linspace(0, 1, 2001).reshape(-1, 1)
    starts, epochs = (1, 100) if args.quick else (3, 300)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    left.plot(fine, target(fine), color="black", linewidth=3, label="f(x)")
    errors, model = [], None
    for width in WIDTHS:
        model = fit(width, x, target(x), model, starts, epochs)
        out = model.predict(fine)
        errors.append(float(np.max(np.abs(out - target(fine)))))
        report(f"sup_error_{width}", errors[-1])
        left.plot(fine, out, label=f"M = {width}")
    left.set(title="F with M hidden logistic units against f", xlabel="x")
    left.legend(fontsize="small")
    right.loglog(WIDTHS, errors, marker="o")
    right.set(title="sup |F(x) − f(x)| on [0, 1]", xlabel="hidden units M")
    right.set_xticks(WIDTHS, [str(w) for w in WIDTHS])
    report("sup_error_ratio", errors[0] / errors[-1])
    save(fig, args.out, "universal_approximation")


if __name__ == "__main__":
    main()
