"""bench/peers.py's `tuned` NumPy loop is quoted as the bound for a NumPy library; it
must compute the same training step as ffnn, or the bound would be meaningless."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import ffnn


def _peers():
    path = Path(__file__).resolve().parents[1] / "bench" / "peers.py"
    spec = importlib.util.spec_from_file_location("peers_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("batch", [8, 128])
def test_tuned_reference_takes_ffnns_sgd_steps(batch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    if batch != 128:
        x, y = x[:2 * batch], y[:2 * batch]
    tuned = _peers()._tuned_loop(x, y, batch, 0.1)
    params, perm_rng = tuned.params, tuned.rng
    state = perm_rng.bit_generator.state  # to redraw the permutation the loop will use
    start = [p.copy() for p in params]

    model = ffnn.Sequential(
        [
            ffnn.Dense(256, activation="relu", input_dim=784),
            ffnn.Dense(128, activation="relu"),
            ffnn.Dense(10, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizer=ffnn.optimizers.SGD(learning_rate=0.1),
                  loss="categorical_crossentropy")
    model.build()
    model.set_weights(start)

    tuned()
    twin = np.random.default_rng()
    twin.bit_generator.state = state
    perm = twin.permutation(len(x))
    losses = [model.train_step(x[perm[s : s + batch]], y[perm[s : s + batch]])["loss"]
              for s in (0, batch)]
    np.testing.assert_allclose(tuned.losses, losses, rtol=1e-5)
    for ours, theirs in zip(model.get_weights(), params, strict=True):
        np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-6)
