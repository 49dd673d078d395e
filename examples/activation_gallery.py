"""The notes' activation gallery: each activation and the derivative backpropagation uses.

The notes' figures 4.2–4.5 and table 4.3 (logistic, tanh, hard logistic, hard tanh,
ReLU, leaky ReLU, ELU, softplus, swish, GELU), drawn by :func:`ffnn.plot.activations`;
each derivative is the engine's gradient of the activation (one backward pass), not a
formula typed in, and the script prints its largest gap to central finite differences
away from the kinks. A second figure draws the McCulloch–Pitts step and MATLAB's
transfer functions that ffnn adds (hardlims, satlin, radbas, tribas).

    python examples/activation_gallery.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _common import parse_args, report, save

import ffnn
from ffnn.plot import GALLERY, activation_curves

MATLAB = ("step", "symmetric_step", "saturating_linear", "gaussian", "triangular", "sign")


def largest_gap(names: tuple[object, ...], x: np.ndarray) -> float:
    """max |f'(x) − (f(x + h) − f(x − h)) / 2h| over the activations, away from kinks."""
    h, gap = 1e-6, 0.0
    smooth = np.min(np.abs(x[:, None] - np.array([-2.0, -1.0, 0.0, 1.0, 2.0])), axis=1) > 1e-3
    for name in names:
        _, df = activation_curves(name, x)
        plus, _ = activation_curves(name, x + h)
        minus, _ = activation_curves(name, x - h)
        gap = max(gap, float(np.max(np.abs(df - (plus - minus) / (2 * h))[smooth])))
    return gap


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    n = 201 if args.quick else 801
    x = np.linspace(-4, 4, n)
    report("activations", len(GALLERY))
    report("largest_derivative_gap", largest_gap(GALLERY + MATLAB, x))
    save(ffnn.plot.activations(n_points=n, ncols=5), args.out, "activations")
    save(ffnn.plot.activations(MATLAB, n_points=n, x_range=(-2.5, 2.5), ncols=6), args.out,
         "transfer_functions")


if __name__ == "__main__":
    main()
