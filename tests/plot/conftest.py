"""Figures are drawn headless (Agg) and closed after every test."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential

matplotlib.use("Agg")

HIGHAM_INIT = {"name": "normal", "stddev": 0.5}


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def higham_model() -> Sequential:
    """Higham & Higham's 2-2-3-2 sigmoid network trained by LM on the 10 points, with
    the same points as validation data (so val_loss, mu and gradient_norm exist)."""
    x, y = ffnn.datasets.higham_points()
    model = Sequential([Dense(units, "sigmoid", input_dim=2 if i == 0 else None,
                              kernel_initializer=HIGHAM_INIT, bias_initializer=HIGHAM_INIT)
                        for i, units in enumerate((2, 3, 2))], seed=0, dtype="float64")
    model.compile(optimizer="lm", loss="sse")
    model.fit(x, y, epochs=40, verbose=0, validation_data=(x[::2], y[::2]))
    return model


@pytest.fixture
def moons() -> tuple[np.ndarray, np.ndarray]:
    """200 points of scikit-learn's two moons (seeded), labels 0/1."""
    from sklearn.datasets import make_moons

    return make_moons(200, noise=0.2, random_state=0)
