"""XOR: the perceptron cannot learn it, a network with one hidden layer can.

No straight line separates the four XOR points (Minsky & Papert, 1969), so
Rosenblatt's rule never stops making mistakes. A 2-2-1 network (tanh hidden units,
sigmoid output) trained by Levenberg–Marquardt separates them with a curved region;
some starting weights end in a local minimum, so a few starts are tried in turn.

    python examples/xor.py [--quick] [--out DIR]
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
from _common import parse_args, report, save

import ffnn
from ffnn import Dense, Sequential


def perceptron(x: np.ndarray, y: np.ndarray, epochs: int) -> ffnn.Perceptron:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ffnn.ConvergenceWarning)  # expected: XOR
        return ffnn.Perceptron(max_epochs=epochs, shuffle=True, random_state=0).fit(x, y)


def network(x: np.ndarray, y: np.ndarray, tries: int = 10) -> tuple[Sequential, int]:
    """The first of ``tries`` seeded starts that classifies all four points."""
    for start in range(tries):
        model = Sequential([Dense(2, "tanh", input_dim=2), Dense(1, "sigmoid")], seed=start,
                           dtype="float64")
        model.compile(optimizer="lm", loss="sse")
        model.fit(x, y, epochs=100, verbose=0)
        if np.all((model.predict(x) > 0.5) == (y > 0.5)):
            return model, start + 1
    raise RuntimeError(f"no start of {tries} solved XOR")


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    x, y = ffnn.datasets.xor()
    p = perceptron(x, y.ravel(), epochs=20 if args.quick else 100)
    report("perceptron_epochs", p.n_epochs_)
    report("perceptron_misclassified", p.n_misclassified_)
    report("perceptron_converged", p.converged_)
    model, starts = network(x, y)
    wrong = int(np.sum((model.predict(x) > 0.5) != (y > 0.5)))
    report("network_starts", starts)
    report("network_misclassified", wrong)
    report("network_cost", float(model.evaluate(x, y)))

    fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    names = ["0", "1"]
    ffnn.plot.decision_boundary(p, x, y.ravel(), ax=axes[0], margin=0.15, class_names=names)
    axes[0].set_title(f"Perceptron: {p.n_misclassified_} of 4 wrong after {p.n_epochs_} epochs")
    axes[1].plot(np.arange(1, p.n_epochs_ + 1), p.errors_, marker=".")
    axes[1].set(title="Perceptron mistakes per epoch (never 0)", xlabel="Epoch",
                ylabel="Mistakes", ylim=(-0.2, 4.2))
    ffnn.plot.decision_boundary(model, x, y, ax=axes[2], margin=0.15, class_names=names)
    axes[2].set_title(f"2-2-1 network (LM): {wrong} of 4 wrong")
    save(fig, args.out, "xor")


if __name__ == "__main__":
    main()
