"""Metrics against scikit-learn, with shape inference for accuracy; registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error, r2_score

import ffnn
from ffnn.nn import metrics
from ffnn.nn.metrics import METRICS


def test_accuracy_binary_probabilities(rng):
    y = rng.integers(0, 2, 50)
    p = rng.uniform(0, 1, 50)
    expected = accuracy_score(y, (p > 0.5).astype(int))
    assert metrics.accuracy(y, p) == pytest.approx(expected)
    assert metrics.accuracy(y.reshape(-1, 1), p.reshape(-1, 1)) == pytest.approx(expected)
    assert metrics.accuracy(y, p.reshape(-1, 1)) == pytest.approx(expected)
    assert metrics.binary_accuracy(y, p) == pytest.approx(expected)


def test_accuracy_binary_integer_predictions_are_labels():
    y = np.array([0, 1, 2, 2])
    assert metrics.accuracy(y, np.array([0, 1, 2, 1])) == 0.75


def test_accuracy_sparse_and_one_hot(rng):
    y = rng.integers(0, 4, 60)
    p = rng.dirichlet(np.ones(4), 60)
    expected = accuracy_score(y, p.argmax(1))
    assert metrics.accuracy(y, p) == pytest.approx(expected)
    assert metrics.accuracy(y.reshape(-1, 1), p) == pytest.approx(expected)
    assert metrics.accuracy(np.eye(4)[y], p) == pytest.approx(expected)
    assert metrics.sparse_categorical_accuracy(y, p) == pytest.approx(expected)
    assert metrics.categorical_accuracy(np.eye(4)[y], p) == pytest.approx(expected)
    assert metrics.accuracy(y, ffnn.Tensor(p)) == pytest.approx(expected)


def test_binary_accuracy_threshold_and_multilabel(rng):
    y = rng.integers(0, 2, (30, 3))
    z = rng.standard_normal((30, 3))
    expected = np.mean((z > 0) == y)
    assert metrics.binary_accuracy(y, z, threshold=0.0) == pytest.approx(expected)


@pytest.mark.parametrize("shape", [(40,), (40, 1), (40, 3)])
def test_regression_metrics_match_sklearn(shape, rng):
    y = rng.standard_normal(shape)
    p = y + 0.5 * rng.standard_normal(shape)
    assert metrics.mse(y, p) == pytest.approx(mean_squared_error(y, p), rel=1e-12)
    assert metrics.mae(y, p) == pytest.approx(mean_absolute_error(y, p), rel=1e-12)
    assert metrics.r2(y, p) == pytest.approx(r2_score(y, p), rel=1e-12)


def test_r2_constant_column_follows_sklearn(rng):
    y = np.column_stack([rng.standard_normal(10), np.ones(10), np.ones(10)])
    p = y.copy()
    p[:, 0] += 0.3 * rng.standard_normal(10)
    p[:, 2] += 0.1
    assert metrics.r2(y, p) == pytest.approx(r2_score(y, p), rel=1e-12)


def test_column_and_vector_are_matched(rng):
    y = rng.standard_normal(20)
    p = rng.standard_normal((20, 1))
    assert metrics.mse(y, p) == pytest.approx(mean_squared_error(y, p[:, 0]))


def test_errors_name_shapes():
    with pytest.raises(ValueError, match=r"y_true shape \(4, 2\) does not match y_pred shape"):
        metrics.mse(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="same number"):
        metrics.accuracy(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="use sparse_categorical_accuracy"):
        metrics.categorical_accuracy(np.array([0, 1]), np.eye(2))


def _inputs(name, rng):
    y = rng.integers(0, 3, 10)
    p = rng.dirichlet(np.ones(3), 10)
    if name == "categorical_accuracy":
        return np.eye(3)[y], p
    if name in ("accuracy", "sparse_categorical_accuracy"):
        return y, p
    if name == "binary_accuracy":
        return y % 2, p[:, 0]
    return p[:, 0], p[:, 1]


@pytest.mark.parametrize("name", METRICS.names())
def test_every_name_resolves(name, rng):
    fn = metrics.get(name)
    canonical = METRICS.canonical(name)
    assert fn.__name__ == canonical
    value = fn(*_inputs(canonical, rng))
    assert isinstance(value, float) and np.isfinite(value)


def test_get_callable_and_unknown():
    def f(y_true, y_pred):
        return 1.0

    assert metrics.get(f) is f
    with pytest.raises(ValueError, match=r"unknown metric 'acuracy'.*accuracy"):
        metrics.get("acuracy")
    with pytest.raises(TypeError, match="cannot interpret"):
        metrics.get(3)


def test_accuracy_with_plus_minus_one_labels_thresholds_scores_at_zero():
    """Guards against hinge-trained models (labels ±1, raw scores) scoring 0 on negatives."""
    y = np.array([-1, 1, -1, 1])
    scores = np.array([-0.3, 0.2, -2.0, -0.1])
    assert metrics.accuracy(y, scores) == 0.75


def test_hinge_model_accuracy_metric_is_right():
    import ffnn

    x = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])  # 0/1 labels, converted to ±1 by the loss
    model = ffnn.Sequential([ffnn.Dense(1, input_dim=1)], seed=0, dtype="float64")
    model.compile("sgd", "hinge", metrics=["accuracy"])
    model.build()
    model.set_weights([np.array([[5.0]]), np.array([0.0])])
    assert model.evaluate(x, y)[1] == 1.0


@pytest.mark.parametrize("shape", [(40,), (40, 3)])
def test_defect_07_regression_metrics_do_not_overflow_near_the_float64_limit(
    shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    """issue 11 #7: targets near 1e308 gave `mse inf mae inf r2 nan` and RuntimeWarnings
    (the differences and squares overflowed). R² is scale-free, MAE scales linearly, and
    the scaled computation is exact, so the huge-unit results equal the ordinary ones;
    no warning is raised."""
    y = rng.uniform(-1, 1, shape)
    p = y + 0.3 * rng.standard_normal(shape)
    big = 2.0**1020  # about 1.1e307: y - p and (y - y.mean())**2 overflow plainly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.r2(y * big, p * big) == pytest.approx(r2_score(y, p), rel=1e-12)
        assert metrics.mae(y * big, p * big) == pytest.approx(
            mean_absolute_error(y, p) * big, rel=1e-12)
        assert metrics.r2(np.float32(1e38) * y.astype(np.float32),
                          np.float32(1e38) * p.astype(np.float32)) == pytest.approx(
            r2_score(y.astype(np.float32), p.astype(np.float32)), rel=1e-5)
        small = 2.0**500
        assert metrics.mse(y * small, p * small) == pytest.approx(
            mean_squared_error(y, p) * small * small, rel=1e-12)
        # a mean square beyond float64 itself is inf, silently; never NaN
        assert metrics.mse(y * big, p * big) == np.inf


def test_defect_07_ordinary_data_are_not_rescaled(rng: np.random.Generator) -> None:
    """Below 2**500 the metrics are the plain formulas, bit for bit."""
    y = rng.standard_normal(50) * 1e100
    p = y + rng.standard_normal(50) * 1e99
    assert metrics.mse(y, p) == float(np.mean(np.square(y - p)))
    assert metrics.mae(y, p) == float(np.mean(np.abs(y - p)))
