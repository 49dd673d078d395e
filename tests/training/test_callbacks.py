"""Callbacks: early stopping with exact restoration, NaN handling, logging, LR control."""

from __future__ import annotations

import csv
import logging
import math

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential
from ffnn.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


class Script(Callback):
    """Overwrites a logged value with a scripted sequence (runs before the others)."""

    def __init__(self, key: str, values: list[float]) -> None:
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class Recorder(Callback):
    """Keeps a copy of the weights at the start and end of every epoch."""

    def __init__(self) -> None:
        self.begin: list[list[np.ndarray]] = []
        self.end: list[list[np.ndarray]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.begin.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.end.append(self.model.get_weights())


@pytest.fixture
def problem(rng):
    x = rng.standard_normal((64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((64, 1))
    model = Sequential([Dense(4, "tanh", input_dim=3), Dense(1)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.SGD(learning_rate=0.05), "mse")
    return model, x, y


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_early_stopping_restores_the_best_epoch_exactly(problem) -> None:
    model, x, y = problem
    rec = Recorder()
    stop = EarlyStopping(monitor="val_loss", patience=3)
    script = Script("val_loss", [5.0, 3.0, 4.0, 2.0, 6.0, 7.0, 8.0, 9.0, 1.0])
    history = model.fit(x, y, epochs=9, validation_data=(x, y), callbacks=[script, rec, stop],
                        verbose=0, seed=0)
    assert len(history.history["loss"]) == 7  # stopped after 3 epochs without improvement
    assert stop.best_epoch == 3 and stop.stopped_epoch == 6
    assert _same(model.get_weights(), rec.end[3])
    assert not _same(model.get_weights(), rec.end[-1])
    assert "did not improve for 3 epoch" in history.stop_reason


def test_early_stopping_restores_best_weights_at_the_last_epoch_too(problem) -> None:
    """Training that runs out of epochs also ends with the best epoch's weights."""
    model, x, y = problem
    rec = Recorder()
    script = Script("val_loss", [3.0, 1.0, 2.0, 2.5])
    model.fit(x, y, epochs=4, validation_data=(x, y),
              callbacks=[script, rec, EarlyStopping(patience=10)], verbose=0, seed=0)
    assert _same(model.get_weights(), rec.end[1])


def test_early_stopping_stops_and_restores_on_nan(problem) -> None:
    model, x, y = problem
    rec = Recorder()
    script = Script("val_loss", [3.0, 2.0, math.nan, 1.0])
    history = model.fit(x, y, epochs=4, validation_data=(x, y),
                        callbacks=[script, rec, EarlyStopping(patience=10)], verbose=0, seed=0)
    assert len(history.history["loss"]) == 3
    assert _same(model.get_weights(), rec.end[1])
    assert "nan" in history.stop_reason


def test_early_stopping_without_restore_keeps_last_weights(problem) -> None:
    model, x, y = problem
    rec = Recorder()
    script = Script("val_loss", [1.0, 2.0, 3.0])
    model.fit(x, y, epochs=3, validation_data=(x, y), verbose=0, seed=0,
              callbacks=[script, rec, EarlyStopping(patience=5, restore_best_weights=False)])
    assert _same(model.get_weights(), rec.end[-1])


def test_early_stopping_on_real_validation_loss(rng) -> None:
    """The notes' rule on real training: stop when the validation error stops falling."""
    x = rng.uniform(-1, 1, (40, 1))
    y = np.sin(3 * x) + 0.3 * rng.standard_normal((40, 1))
    model = Sequential([Dense(64, "tanh", input_dim=1), Dense(1)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.Adam(learning_rate=0.03), "mse")
    stop = EarlyStopping(patience=20)
    history = model.fit(x[:20], y[:20], epochs=2000, batch_size=None, verbose=0, seed=0,
                        validation_data=(x[20:], y[20:]), callbacks=[stop])
    assert len(history.history["loss"]) < 2000
    best = min(history.history["val_loss"])
    assert model.evaluate(x[20:], y[20:]) == pytest.approx(best, rel=1e-9)


def test_early_stopping_needs_the_monitored_key(problem) -> None:
    model, x, y = problem
    with pytest.raises(ValueError, match=r"val_loss.*available: loss"):
        model.fit(x, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


class Poison(Callback):
    """Sets a weight to NaN after the first batch of ``epoch``."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.current = epoch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 0:
            self.model.params[0].data[0, 0] = np.nan


def test_terminate_on_nan_restores_the_last_finite_weights(problem, caplog) -> None:
    model, x, y = problem
    rec = Recorder()
    with caplog.at_level(logging.WARNING, logger="ffnn"):
        history = model.fit(x, y, epochs=5, batch_size=16, verbose=0, seed=0,
                            callbacks=[rec, TerminateOnNaN(), Poison(epoch=2)])
    assert len(history.epoch) == 3  # epoch 2 was aborted; its loss is recorded as NaN
    assert math.isnan(history.history["loss"][-1])
    assert _same(model.get_weights(), rec.begin[2])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert "epoch 3, batch 2" in history.stop_reason
    assert "TerminateOnNaN" in caplog.text


def test_csv_logger_writes_one_row_per_epoch(problem, tmp_path) -> None:
    model, x, y = problem
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=3, validation_data=(x, y), callbacks=[CSVLogger(path)], verbose=0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    model.fit(x, y, epochs=2, callbacks=[CSVLogger(path, append=True)], verbose=0)
    assert len(list(csv.reader(path.open()))) == 6


def test_learning_rate_scheduler_sets_the_rate(problem) -> None:
    model, x, y = problem
    sched = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    history = model.fit(x, y, epochs=3, callbacks=[sched], verbose=0)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert model.optimizer.current_learning_rate == pytest.approx(0.025)


def test_learning_rate_scheduler_changes_the_step(rng) -> None:
    """With a zero learning rate from the schedule, the weights do not move."""
    x = rng.standard_normal((8, 2))
    y = rng.standard_normal((8, 1))
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile("sgd", "mse")
    model.build()
    before = model.get_weights()
    model.fit(x, y, epochs=2, callbacks=[LearningRateScheduler(lambda e, lr: 0.0)], verbose=0)
    assert _same(before, model.get_weights())


def test_reduce_lr_on_plateau(problem) -> None:
    model, x, y = problem
    script = Script("val_loss", [1.0, 1.0, 1.0, 1.0, 1.0, 0.5])
    reduce = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.02)
    history = model.fit(x, y, epochs=6, validation_data=(x, y), callbacks=[script, reduce],
                        verbose=0)
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.05, 0.05, 0.025,
                                                              0.025, 0.02])
    assert model.optimizer.current_learning_rate == pytest.approx(0.02)


def test_callbacks_must_be_callback_objects(problem) -> None:
    model, x, y = problem
    with pytest.raises(TypeError, match="Callback"):
        model.fit(x, y, callbacks=[lambda: None], verbose=0)


def test_terminate_on_nan_also_restores_the_optimizer_state(rng) -> None:
    """Guards against NaN Adam moments surviving TerminateOnNaN, which made every later
    fit produce NaN again."""
    x = rng.standard_normal((64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    model = Sequential([Dense(4, "tanh", input_dim=3), Dense(1)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.Adam(learning_rate=0.01), "mse")
    model.fit(x, y, epochs=5, batch_size=16, verbose=0, seed=0,
              callbacks=[TerminateOnNaN(), Poison(epoch=2)])
    state = model.optimizer.state_dict()["state"]
    assert all(np.isfinite(a).all() for slots in state.values() for a in slots.values())
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=1)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("callback", [ReduceLROnPlateau(monitor="loss"),
                                      LearningRateScheduler(lambda e, lr: lr)])
def test_learning_rate_callbacks_refuse_full_batch_optimizers(problem, callback) -> None:
    """Guards against silently 'reducing' a learning rate that LM/L-BFGS never use."""
    model, x, y = problem
    model.compile("lm", "mse")
    with pytest.raises(ValueError, match="has none that it uses"):
        model.fit(x, y, epochs=1, callbacks=[callback], verbose=0)


def test_callback_counts_are_validated() -> None:
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience="3")
    with pytest.raises(ValueError, match="patience"):
        ReduceLROnPlateau(patience=-1)


class Sometimes(Callback):
    """Logs a key only in odd epochs."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch % 2:
            logs["odd"] = float(epoch)


def test_history_lists_stay_aligned_with_epochs(problem) -> None:
    """Guards against a key logged in only some epochs giving a list shorter than the
    epochs (values then pair with the wrong epoch)."""
    model, x, y = problem
    history = model.fit(x, y, epochs=4, callbacks=[Sometimes()], verbose=0)
    odd = history.history["odd"]
    assert len(odd) == len(history.epoch) == 4
    assert math.isnan(odd[0]) and odd[1] == 1.0 and math.isnan(odd[2]) and odd[3] == 3.0
