"""regression draws every (target, output) pair, the fitted line, R and the ideal line."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection

import ffnn
from ffnn import Dense, Sequential
from ffnn.plot import regression_line


@pytest.fixture
def sine():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (90, 1))
    y = np.sin(3 * x) + 0.05 * rng.standard_normal(x.shape)
    model = Sequential([Dense(6, "tanh", input_dim=1), Dense(1)], seed=0, dtype="float64")
    model.compile("lm", "sse")
    model.fit(x[:60], y[:60], epochs=20, verbose=0)
    return model, x, y


def test_regression_line_is_least_squares_and_pearson():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    o = np.array([1.0, 3.0, 5.0, 7.5])  # hand-computed: slope 2.15, intercept 0.9
    m, c, r = regression_line(t, o)
    assert m == pytest.approx(2.15) and c == pytest.approx(0.9)
    assert r == pytest.approx(np.corrcoef(t, o)[0, 1])
    with pytest.raises(ValueError, match="as many targets as outputs"):
        regression_line([1.0, 2.0], [1.0])


def test_one_panel_per_split_with_the_drawn_pairs(sine):
    model, x, y = sine
    splits = {"Training": (x[:60], y[:60]), "Test": (x[60:], y[60:])}
    fig = ffnn.plot.regression(model, splits)
    assert len(fig.axes) == 2
    for ax, (name, (xs, ys)) in zip(fig.axes, splits.items(), strict=True):
        out = model.predict(xs)[:, 0]
        (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        np.testing.assert_array_equal(points.get_offsets(), np.column_stack([ys[:, 0], out]))
        m, c, r = regression_line(ys, out)
        assert ax.get_title() == f"{name}: R={r:.5f}"
        lines = {line.get_label(): line for line in ax.get_lines()}
        fit, ideal = lines["Fit"], lines["Y = T"]
        np.testing.assert_allclose(fit.get_ydata(), m * fit.get_xdata() + c)
        np.testing.assert_array_equal(ideal.get_ydata(), ideal.get_xdata())
        assert ax.get_xlabel() == "Target"


def test_a_single_split_and_pooled_output_columns():
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    y = np.column_stack([x[:, 0], -x[:, 0]])
    model = Sequential([Dense(2, input_dim=1)], seed=0, dtype="float64")
    model.compile("lm", "sse")
    model.fit(x, y, epochs=5, verbose=0)
    ax = ffnn.plot.regression(model, x, y).axes[0]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert points.get_offsets().shape == (40, 2)  # both outputs of 20 samples
    assert ax.get_title() == "Data: R=1.00000"


def test_regression_of_an_estimator(sine):
    _, x, y = sine
    est = ffnn.MLPRegressor(hidden_layer_sizes=(6,), solver="lm", max_iter=20, random_state=0)
    est.fit(x, y[:, 0])
    ax = ffnn.plot.regression(est, x, y[:, 0]).axes[0]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(points.get_offsets()[:, 1], est.predict(x))


def test_regression_argument_errors(sine):
    model, x, y = sine
    with pytest.raises(TypeError, match="needs targets"):
        ffnn.plot.regression(model, x)
    with pytest.raises(TypeError, match="must be an \\(x, y\\) pair"):
        ffnn.plot.regression(model, {"train": x})
    with pytest.raises(TypeError, match="without a separate y"):
        ffnn.plot.regression(model, {"train": (x, y)}, y)
