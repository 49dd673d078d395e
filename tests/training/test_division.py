"""ffnn.divide_data (MATLAB's dividerand/divideblock/divideint), fit's test_data (the
test curve that never steers training), a model's TrainParam division, and the
warnings about unrepresentative validation_split rows."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential
from ffnn.callbacks import EarlyStopping
from ffnn.training.division import TrainParam, divide_indices


@pytest.mark.parametrize(("n", "ratios", "counts"), [
    (20, (0.70, 0.15, 0.15), (14, 3, 3)),
    (10, (0.70, 0.15, 0.15), (6, 2, 2)),  # MATLAB's round(1.5) = 2
    (50, (0.5, 0.25, 0.25), (24, 13, 13)),  # round(12.5) = 13, away from zero
    (7, (2, 1, 0), (5, 2, 0)),  # ratios are normalised
    (3, (1, 0, 0), (3, 0, 0)),
])
@pytest.mark.parametrize("method", ["random", "block", "interleave"])
def test_counts_follow_matlabs_rounding(n: int, ratios: Any, counts: Any, method: str) -> None:
    parts = divide_indices(n, ratios, method, seed=0)
    assert tuple(len(p) for p in parts) == counts
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n))  # a partition
    assert all(np.array_equal(p, np.sort(p)) for p in parts)


def test_block_is_contiguous_and_interleave_spreads_every_set() -> None:
    train, val, test = divide_indices(100, method="block")
    assert (train.tolist(), val.tolist(), test.tolist()) == (
        list(range(70)), list(range(70, 85)), list(range(85, 100)))
    for part, share in zip(divide_indices(100, method="interleave"), (0.70, 0.15, 0.15),
                           strict=True):
        for cut in (20, 40, 60, 80):  # every prefix holds about its share of each set
            assert abs(np.sum(part < cut) - share * cut) <= 1.0


def test_random_division_is_seeded_and_returns_pairs_then_indices(
        rng: np.random.Generator) -> None:
    x = rng.normal(size=(40, 3))
    y = np.arange(40.0)
    out = ffnn.divide_data(x, y, seed=7)
    (xt, yt), (xv, yv), (xs, ys), it, iv, is_ = out
    for (a, b), rows in (((xt, yt), it), ((xv, yv), iv), ((xs, ys), is_)):
        assert np.array_equal(a, x[rows]) and np.array_equal(b, y[rows])
    assert len(it) == 28 and len(iv) == len(is_) == 6
    again = ffnn.divide_data(x, y, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(out[3:], again[3:], strict=True))
    other = ffnn.divide_data(x, y, seed=8)
    assert not np.array_equal(out[3], other[3])
    assert not np.array_equal(it, np.arange(28))  # not the block division


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ratios": (0.5, 0.5)}, "three"),
    ({"ratios": (0.7, -0.1, 0.4)}, "non-negative"),
    ({"ratios": (0.0, 0.5, 0.5)}, "no training rows"),
    ({"ratios": "abc"}, "three numbers"),
    ({"method": "divideind"}, "method"),
])
def test_bad_arguments_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ffnn.divide_data(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_x_and_y_must_have_the_same_rows() -> None:
    with pytest.raises(ValueError, match="same number of rows"):
        ffnn.divide_data(np.zeros((10, 2)), np.zeros(9))


def test_ffnn_divide_is_still_numpys_division() -> None:
    assert ffnn.divide is not ffnn.divide_data
    assert float(ffnn.divide(ffnn.Tensor(6.0), 3.0).data) == 2.0


# ----------------------------------------------------------------- test_data
def _model(optimizer: Any = "adam") -> Sequential:
    model = Sequential([Dense(6, activation="tanh", input_dim=2), Dense(1)], seed=4,
                       dtype="float64")
    model.compile(optimizer, "mse", metrics=["mae"])
    return model


def _data(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-2, 2, size=(n, 2))
    return x, np.sin(x[:, :1]) + 0.5 * x[:, 1:]


@pytest.mark.parametrize("optimizer", ["adam", "lm", "scg"])
def test_test_curve_is_recorded_and_never_steers_training(rng: np.random.Generator,
                                                          optimizer: str) -> None:
    """Guards MATLAB's tr.tperf semantics: test_loss and test_mae each epoch equal an
    evaluation on the test set, and training (weights, losses, early stopping) is the
    same with and without it."""
    x, y = _data(rng)
    xt, yt = _data(rng, 30)
    fit = {"epochs": 8, "batch_size": 16, "verbose": 0, "seed": 1,
           "validation_split": 0.2}
    plain, tested = _model(optimizer), _model(optimizer)
    plain.fit(x, y, callbacks=[EarlyStopping(patience=2)], **fit)
    tested.fit(x, y, test_data=(xt, yt), callbacks=[EarlyStopping(patience=2)], **fit)
    assert all(np.array_equal(a, b) for a, b in
               zip(plain.get_weights(), tested.get_weights(), strict=True))
    h = tested.history.history
    assert {k: v for k, v in h.items() if not k.startswith("test_")} == plain.history.history
    assert len(h["test_loss"]) == len(h["loss"]) == len(h["test_mae"])
    assert h["test_loss"] != h["val_loss"]


def test_last_test_loss_is_the_evaluation_of_the_final_weights(
        rng: np.random.Generator) -> None:
    x, y = _data(rng)
    xt, yt = _data(rng, 30)
    model = _model()
    model.fit(x, y, epochs=3, verbose=0, test_data=(xt, yt, np.ones(30)))
    loss, mae = model.evaluate(xt, yt, batch_size=None)
    assert model.history.history["test_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert model.history.history["test_mae"][-1] == pytest.approx(mae, rel=1e-12)


def test_malformed_test_data_is_named(rng: np.random.Generator) -> None:
    x, y = _data(rng)
    with pytest.raises(ValueError, match="test_data must be"):
        _model().fit(x, y, verbose=0, test_data=x)
    with pytest.raises(ValueError, match="test x"):
        _model().fit(x, y, verbose=0, test_data=(np.zeros((3, 5)), np.zeros(3)))


# ------------------------------------------------------------ TrainParam division
def test_train_param_divides_keeps_indices_and_stops_on_max_fail(
        rng: np.random.Generator) -> None:
    """MATLAB's train: without validation data, 70/15/15 at random; the validation rows
    stop training after max_fail epochs without improvement, the test rows give the
    test curve, and the indices stay on the model."""
    x, y = _data(rng, 100)
    y = y + rng.normal(scale=0.3, size=y.shape)  # noise, so validation stops improving
    model = Sequential([Dense(20, activation="tanh", input_dim=2), Dense(1)], seed=0,
                       dtype="float64")
    model.compile("lm", "mse")
    model.train_param = TrainParam(epochs=300, max_fail=6)
    history = model.fit(x, y, verbose=0, seed=3)
    d = model.division
    assert (len(d.train), len(d.val), len(d.test)) == (70, 15, 15)
    assert np.array_equal(np.sort(np.concatenate([d.train, d.val, d.test])), np.arange(100))
    assert {"val_loss", "test_loss"} <= set(history.history)
    epochs = len(history.epoch)
    assert epochs < 300  # max_fail stopped it
    val = history.history["val_loss"]
    assert int(np.argmin(val)) == epochs - 7  # six failures after the best epoch
    model.fit(x, y, verbose=0, seed=3, epochs=2, validation_data=(x[:5], y[:5]))
    assert model.division is d  # given validation data: no new division


def test_fit_without_train_param_keeps_kerass_default_of_one_epoch(
        rng: np.random.Generator) -> None:
    x, y = _data(rng)
    model = _model()
    assert len(model.fit(x, y, verbose=0).epoch) == 1
    assert model.division is None


@pytest.mark.parametrize(("bad", "match"), [({"divide": "dividerand"}, "divide"),
                                            ({"ratios": (1, 2)}, "ratios"),
                                            ({"max_fail": 0}, "max_fail")])
def test_train_param_is_checked(bad: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TrainParam(**bad)


# -------------------------------------------------------- validation_split warnings
def _classifier() -> Sequential:
    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _warnings(fit: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if w.category is UserWarning]


def test_a_class_only_in_the_validation_rows_is_warned_about(rng: np.random.Generator) -> None:
    x = rng.normal(size=(30, 2))
    labels = np.repeat([0, 1, 2], [12, 12, 6])  # sorted by class: class 2 is the last 20%
    messages = _warnings(lambda: _classifier().fit(x, labels, validation_split=0.2, verbose=0))
    assert any("classes [2]" in m for m in messages)
    onehot = np.eye(3)[labels]
    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0)
    model.compile("adam", "categorical_crossentropy")
    messages = _warnings(lambda: model.fit(x, onehot, validation_split=0.2, verbose=0))
    assert any("classes [2]" in m for m in messages)


def test_sorted_targets_are_warned_about(rng: np.random.Generator) -> None:
    x = rng.normal(size=(40, 2))
    y = np.sort(x[:, 0])
    messages = _warnings(lambda: _model().fit(x, y, validation_split=0.25, verbose=0))
    assert any("sorted" in m for m in messages)


def test_shuffled_data_gives_no_warning(rng: np.random.Generator) -> None:
    x = rng.normal(size=(60, 2))
    labels = rng.permutation(np.repeat([0, 1, 2], 20))
    assert not _warnings(lambda: _classifier().fit(x, labels, validation_split=0.2, verbose=0))
    assert not _warnings(lambda: _model().fit(x, x[:, :1], validation_split=0.2, verbose=0))
