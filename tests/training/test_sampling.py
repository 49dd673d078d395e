"""The epoch's row order: permutation, the data's order, or sampling with replacement
(Higham & Higham's first variant of stochastic gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential


def _recorded_rows(shuffle: bool | str, epochs: int = 2, seed: int = 7) -> list[np.ndarray]:
    x = np.arange(20, dtype=np.float64).reshape(20, 1)
    y = np.zeros((20, 1))
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(optimizer=ffnn.optimizers.SGD(learning_rate=0.0), loss="mse")
    seen: list[np.ndarray] = []
    step = model.batch_step

    def recording(xb: np.ndarray, yb: np.ndarray, w: np.ndarray | None):  # type: ignore[no-untyped-def]
        seen.append(xb[:, 0].astype(int).copy())
        return step(xb, yb, w)

    model.batch_step = recording  # type: ignore[method-assign]
    model.fit(x, y, epochs=epochs, batch_size=1, shuffle=shuffle, seed=seed, verbose=0)
    rows = np.concatenate(seen)
    return [rows[i * 20:(i + 1) * 20] for i in range(epochs)]


def test_replacement_draws_each_step_uniformly_from_the_fit_seed() -> None:
    epochs = _recorded_rows("replacement")
    rng = np.random.default_rng(np.random.SeedSequence(7).spawn(3)[1])
    for rows in epochs:
        np.testing.assert_array_equal(rows, rng.integers(0, 20, size=20))
    # with replacement an epoch repeats rows and misses others (a permutation cannot)
    assert any(len(np.unique(rows)) < 20 for rows in epochs)


def test_default_shuffle_visits_every_row_once_per_epoch() -> None:
    for rows in _recorded_rows(True):
        np.testing.assert_array_equal(np.sort(rows), np.arange(20))


def test_no_shuffle_keeps_the_data_order() -> None:
    for rows in _recorded_rows(False):
        np.testing.assert_array_equal(rows, np.arange(20))


@pytest.mark.parametrize("bad", ["yes", "Replacement", 1, None, 0.5])
def test_unknown_shuffle_mode_is_refused_naming_the_choices(bad: object) -> None:
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="replacement"):
        model.fit(np.zeros((4, 1)), np.zeros((4, 1)), shuffle=bad, verbose=0)  # type: ignore[arg-type]


def test_sampling_with_replacement_trains_a_line() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(64, 1))
    y = 3.0 * x - 1.0
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(optimizer=ffnn.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=4, shuffle="replacement", seed=1,
                        verbose=0)
    assert history.history["loss"][-1] < 1e-4
    kernel, bias = model.get_weights()
    np.testing.assert_allclose([kernel.item(), bias.item()], [3.0, -1.0], atol=1e-2)
