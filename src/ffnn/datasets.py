"""The built-in data: the classic examples of the notes and scikit-learn's bundled sets.

Nothing here downloads anything: the small examples are written out below and the
larger sets come from scikit-learn's bundled files.
"""

from __future__ import annotations

import numpy as np

__all__ = ["higham_points", "load_digits", "noisy_abs", "xor"]


def higham_points() -> tuple[np.ndarray, np.ndarray]:
    """The 10 labelled points of Higham & Higham (2019), "Deep Learning: An Introduction
    for Applied Mathematicians", section 2.

    Returns
    -------
    x : (10, 2) float64 array
        Points in the unit square.
    y : (10, 2) float64 array
        Targets [1, 0] for the first five points (category A) and [0, 1] for the last
        five (category B), as in the paper's ``netbp`` example.
    """
    x1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7]
    x2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6]
    x = np.column_stack([x1, x2]).astype(np.float64)
    y = np.zeros((10, 2))
    y[:5, 0] = 1.0
    y[5:, 1] = 1.0
    return x, y


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: inputs in {0, 1}², target 1 where exactly one input is 1.

    Returns
    -------
    x : (4, 2) float64 array
    y : (4, 1) float64 array
    """
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return x, y


def noisy_abs(
    n: int = 200, noise: float = 0.05, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Samples of y = |x| + ε on [−1, 1], the notes' two-ReLU example.

    Parameters
    ----------
    n : int
        Number of samples.
    noise : float
        Standard deviation of the Gaussian noise ε.
    rng : numpy.random.Generator, optional
        Source of randomness (a seeded default when omitted).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = np.abs(x) + noise * rng.standard_normal((n, 1))
    return x, y


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits (1,797 samples, 64 features in [0, 16], 10 classes).

    Returns
    -------
    x : (1797, 64) float64 array
    y : (1797,) int array of labels 0–9
    """
    from sklearn.datasets import load_digits as _load

    bunch = _load()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)
