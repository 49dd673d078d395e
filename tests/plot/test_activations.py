"""The gallery draws each activation and the engine's derivative of it."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn.nn.activations import ACTIVATIONS
from ffnn.plot import GALLERY, activation_curves

ELEMENTWISE = [n for n in ACTIVATIONS.names(aliases=False) if n != "softmax"]
KINKS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def _curves(ax):
    f, df = (line for line in ax.get_lines() if line.get_label() in ("f(x)", "f′(x)"))
    return f.get_xdata(), f.get_ydata(), df.get_ydata()


def test_the_default_gallery_is_the_notes():
    fig = ffnn.plot.activations()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["sigmoid", "tanh", "hard_logistic", "hard_tanh", "relu",
                      "leaky_relu, gamma=0.1", "elu", "softplus", "swish", "gelu"]
    assert len(GALLERY) == len(fig.axes)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_curve_equals_finite_differences(name):
    """f′ drawn is the engine's gradient; it must equal central differences of the f the
    engine computes (float64, h = 1e-6) wherever f is smooth."""
    fig = ffnn.plot.activations([name], n_points=401)
    x, f, df = _curves(fig.axes[0])
    act = ffnn.activations.get(name)
    np.testing.assert_array_equal(f, act(ffnn.Tensor(x)).data)
    smooth = np.min(np.abs(x[:, None] - KINKS[None, :]), axis=1) > 1e-3
    h = 1e-6
    fd = (act(ffnn.Tensor(x + h)).data - act(ffnn.Tensor(x - h)).data) / (2 * h)
    np.testing.assert_allclose(df[smooth], fd[smooth], rtol=1e-6, atol=1e-8)


def test_aliases_and_configs_are_drawn_with_their_parameters():
    fig = ffnn.plot.activations(["logsig", {"name": "elu", "gamma": 0.5},
                                 {"name": "gelu", "mu": 1.0}], x_range=(-2, 2), n_points=5)
    assert [ax.get_title() for ax in fig.axes] == ["sigmoid", "elu, gamma=0.5", "gelu, mu=1"]
    x, _, df = _curves(fig.axes[0])
    np.testing.assert_array_equal(x, [-2, -1, 0, 1, 2])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(df, s * (1 - s), rtol=1e-15)


def test_activation_curves_at_the_kinks_are_the_engines_values():
    f, df = activation_curves("hard_tanh", [-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(f, [-1, 0, 1, 1])
    np.testing.assert_array_equal(df, [1, 1, 1, 0])
    f, df = activation_curves("linear", [3.0])
    np.testing.assert_array_equal(df, [1.0])


def test_softmax_and_bad_ranges_are_refused():
    with pytest.raises(ValueError, match="softmax is not elementwise"):
        ffnn.plot.activations(["relu", "softmax"])
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        ffnn.plot.activations(["rleu"])
    with pytest.raises(ValueError, match=r"x_range\[1\]"):
        ffnn.plot.activations(["relu"], x_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="names is empty"):
        ffnn.plot.activations([])
