"""history, train_state and diagnostics draw the training record's values."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.exceptions import ConvergenceWarning

import ffnn
from ffnn import Dense, Sequential
from ffnn.callbacks import DiagnosticsCallback, History
from ffnn.plot import validation_failures


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


# ------------------------------------------------------------------------- history
def test_history_draws_train_and_validation_loss_per_epoch(higham_model):
    h = higham_model.history
    fig = ffnn.plot.history(h)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = _lines(ax)
    epochs = np.arange(1, len(h.history["loss"]) + 1)
    np.testing.assert_array_equal(lines["Train"].get_xdata(), epochs)
    np.testing.assert_array_equal(lines["Train"].get_ydata(), h.history["loss"])
    np.testing.assert_array_equal(lines["Validation"].get_ydata(), h.history["val_loss"])
    assert "Test" not in lines
    assert ax.get_yscale() == "log"  # LM drives the loss down by decades
    assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() == "Loss"


def test_history_marks_the_best_validation_epoch(higham_model):
    val = np.array(higham_model.history.history["val_loss"])
    ax = ffnn.plot.history(higham_model).axes[0]  # a model: its last fit
    best = int(np.argmin(val))
    marker = _lines(ax)["Best"]
    assert marker.get_xdata()[0] == best + 1
    assert marker.get_ydata()[0] == val[best]
    assert ax.get_title() == f"Best validation loss is {val[best]:.4g} at epoch {best + 1}"


def test_history_draws_test_loss_when_recorded():
    record = {"loss": [4.0, 2.0, 1.0], "val_loss": [5.0, 3.0, 3.5], "test_loss": [6.0, 3.0, 2.5]}
    ax = ffnn.plot.history(record).axes[0]
    lines = _lines(ax)
    np.testing.assert_array_equal(lines["Test"].get_ydata(), [6.0, 3.0, 2.5])
    assert lines["Best"].get_xdata()[0] == 2  # lowest val_loss
    assert ax.get_yscale() == "linear"  # within a factor of 10


def test_history_without_validation_marks_the_lowest_training_loss():
    ax = ffnn.plot.history({"loss": [3.0, 1.0, 2.0]}, log=True).axes[0]
    assert _lines(ax)["Best"].get_xdata()[0] == 2
    assert ax.get_yscale() == "log"
    assert ax.get_title().startswith("Best train loss is 1 at epoch 2")


def test_history_keeps_nan_epochs_and_the_epoch_numbers_of_a_resumed_run():
    h = History({"loss": [2.0, math.nan, 1.0]}, epoch=[5, 6, 7])
    line = _lines(ffnn.plot.history(h).axes[0])["Train"]
    np.testing.assert_array_equal(line.get_xdata(), [6, 7, 8])
    np.testing.assert_array_equal(line.get_ydata(), [2.0, np.nan, 1.0])


def test_history_of_an_estimator_draws_its_loss_curve_and_validation_scores(moons):
    x, y = moons
    est = ffnn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, learning_rate=0.01,
                             early_stopping=True, n_iter_no_change=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs on purpose
        est.fit(x, y)
    fig = ffnn.plot.history(est)
    ax, twin = fig.axes
    np.testing.assert_array_equal(_lines(ax)["Train"].get_ydata(), est.loss_curve_)
    scores = _lines(twin)["Validation score"].get_ydata()
    np.testing.assert_array_equal(scores, est.validation_scores_)
    assert _lines(twin)["Best"].get_xdata()[0] == int(np.argmax(scores)) + 1


def test_history_draws_into_the_given_axes(higham_model):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert ffnn.plot.history(higham_model.history, ax=ax) is fig
    assert len(ax.get_lines()) == 4  # train, validation, the best epoch's line and circle


@pytest.mark.parametrize(
    ("source", "error", "text"),
    [
        ({"accuracy": [0.5]}, ValueError, "no finite 'loss'"),
        (Sequential([Dense(1, input_dim=1)]), ValueError, "call fit first"),
        (42, TypeError, "expected a History"),
        ({"loss": [1.0, 2.0], "val_loss": [1.0]}, ValueError, "different lengths"),
    ],
)
def test_history_rejects_what_it_cannot_draw(source, error, text):
    with pytest.raises(error, match=text):
        ffnn.plot.history(source)


# ---------------------------------------------------------------------- train_state
def test_validation_failures_count_epochs_since_the_best():
    values = [5.0, 4.0, 4.5, 4.0, 3.0, math.nan, 3.5, 3.6, 2.0]
    np.testing.assert_array_equal(validation_failures(values),
                                  [0, 0, 1, 2, 0, np.nan, 1, 2, 0])


def test_train_state_of_lm_draws_gradient_mu_and_validation_checks(higham_model):
    h = higham_model.history.history
    fig = ffnn.plot.train_state(higham_model)
    assert len(fig.axes) == 3
    grad, mu, checks = (ax.get_lines()[0] for ax in fig.axes)
    np.testing.assert_array_equal(grad.get_ydata(), h["gradient_norm"])
    np.testing.assert_array_equal(mu.get_ydata(), h["mu"])
    np.testing.assert_array_equal(checks.get_ydata(), validation_failures(h["val_loss"]))
    assert [ax.get_ylabel() for ax in fig.axes] == ["‖∇loss‖", "μ", "val_fail"]
    assert fig.axes[0].get_yscale() == "log" and fig.axes[2].get_yscale() == "linear"
    last = len(h["mu"])
    assert fig.axes[1].get_title() == f"Mu = {h['mu'][-1]:.4g}, at epoch {last}"


def test_train_state_of_bayesian_regularisation_adds_gamma():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (30, 1))
    y = np.sin(np.pi * x) + 0.1 * rng.standard_normal(x.shape)
    model = Sequential([Dense(6, "tanh", input_dim=1), Dense(1)], seed=0, dtype="float64")
    model.compile(optimizer="br", loss="sse")
    h = model.fit(x, y, epochs=15, verbose=0)
    fig = ffnn.plot.train_state(h)
    assert [ax.get_title().split(" = ")[0] for ax in fig.axes] == [
        "Gradient", "Mu", "Effective parameters"]
    gamma = fig.axes[2].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(gamma, h.history["gamma"])


def test_train_state_refuses_a_first_order_history():
    with pytest.raises(ValueError, match="optimizer='lm' or 'br'"):
        ffnn.plot.train_state({"loss": [1.0, 0.5]})


# ---------------------------------------------------------------------- diagnostics
def test_diagnostics_draws_the_callbacks_values_per_layer(rng):
    x = rng.standard_normal((64, 3))
    y = np.sin(x.sum(axis=1, keepdims=True))
    model = Sequential([Dense(8, "relu", input_dim=3), Dense(6, "sigmoid"), Dense(1)], seed=0)
    model.compile("adam", "mse")
    h = model.fit(x, y, epochs=7, verbose=0, callbacks=[DiagnosticsCallback(x, y, every=3)])
    fig = ffnn.plot.diagnostics(h)
    assert [ax.get_title() for ax in fig.axes] == [
        "Dead ReLU units", "Saturated units", "Gradient norm per layer"]
    dead, saturated, grads = fig.axes
    assert _lines(dead).keys() == {"dense"}
    assert _lines(saturated).keys() == {"dense_1"}
    assert _lines(grads).keys() == {"dense", "dense_1", "dense_2"}
    line = _lines(grads)["dense_1"]
    np.testing.assert_array_equal(line.get_xdata(), [1, 4, 7])  # epochs 0, 3, 6 diagnosed
    np.testing.assert_array_equal(line.get_ydata(), np.array(h.history["grad_norm/dense_1"])[
        [0, 3, 6]])
    np.testing.assert_array_equal(_lines(dead)["dense"].get_ydata(),
                                  np.array(h.history["dead_relu/dense"])[[0, 3, 6]])


def test_diagnostics_needs_the_callback():
    with pytest.raises(ValueError, match="DiagnosticsCallback"):
        ffnn.plot.diagnostics({"loss": [1.0]})
