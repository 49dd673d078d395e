"""network draws one edge per weight, coloured and sized by the weight."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from sklearn.exceptions import ConvergenceWarning

import ffnn
from ffnn import Activation, Dense, Dropout, Maxout, Sequential


def _edges(fig):
    return [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]


def test_edges_follow_the_weights(higham_model):
    fig = ffnn.plot.network(higham_model)
    kernels = [np.asarray(layer.kernel.data) for layer in higham_model.layers]
    biases = [np.asarray(layer.bias.data) for layer in higham_model.layers]
    scale = max(np.abs(a).max() for a in kernels + biases)
    cmap = matplotlib.colormaps["coolwarm"]
    edges = _edges(fig)
    assert [e.get_label() for e in edges] == ["dense", "dense_1", "dense_2"]
    for col, (w, lines) in enumerate(zip(kernels, edges, strict=True)):
        flat = w.ravel()  # W[j, i]: unit j of this column from unit i of the one before
        np.testing.assert_allclose(lines.get_colors(), cmap((flat + scale) / (2 * scale)))
        np.testing.assert_allclose(lines.get_linewidths(), 0.3 + 3.7 * np.abs(flat) / scale)
        segments = lines.get_segments()
        n_out, n_in = w.shape
        for j in range(n_out):
            for i in range(n_in):
                (x0, y0), (x1, y1) = segments[j * n_in + i]
                assert (x0, x1) == (col, col + 1)
                assert y0 == (n_in - 1) / 2 - i and y1 == (n_out - 1) / 2 - j


def test_units_show_their_bias_and_columns_their_sizes(higham_model):
    fig = ffnn.plot.network(higham_model)
    units = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert [len(u.get_offsets()) for u in units] == [2, 2, 3, 2]
    np.testing.assert_array_equal(units[0].get_facecolors(), np.ones((2, 4)))  # inputs white
    bias = np.asarray(higham_model.layers[1].bias.data)
    kernels = [np.asarray(layer.kernel.data) for layer in higham_model.layers]
    scale = max(np.abs(a).max() for a in kernels + [np.asarray(la.bias.data)
                                                    for la in higham_model.layers])
    cmap = matplotlib.colormaps["coolwarm"]
    np.testing.assert_allclose(units[2].get_facecolors(), cmap((bias + scale) / (2 * scale)))
    captions = [t.get_text() for t in fig.axes[0].texts]
    assert captions == ["input\n(2)", "dense\nsigmoid\n(2)", "dense_1\nsigmoid\n(3)",
                        "dense_2\nsigmoid\n(2)"]
    assert len(fig.axes) == 2  # the network and its colour bar


def test_activation_and_dropout_layers_and_estimators():
    model = Sequential([Dense(3, input_dim=2), Activation("tanh"), Dropout(0.5), Dense(1)],
                       seed=0)
    model.build(2)
    fig = ffnn.plot.network(model)
    assert [t.get_text() for t in fig.axes[0].texts][1] == "dense\ntanh\n(3)"
    assert len(_edges(fig)) == 2

    x, y = ffnn.datasets.xor()
    est = ffnn.MLPClassifier(hidden_layer_sizes=(3,), solver="lm", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs: only the shape matters
        est.fit(x, y.ravel())
    fig = ffnn.plot.network(est)
    assert [len(e.get_segments()) for e in _edges(fig)] == [6, 3]


def test_network_refuses_what_it_cannot_draw_readably():
    wide = Sequential([Dense(40, input_dim=3), Dense(1)], seed=0)
    wide.build(3)
    with pytest.raises(ValueError, match="layer 'dense' has 40 units; drawing more than 16"):
        ffnn.plot.network(wide)
    assert len(_edges(ffnn.plot.network(wide, max_units=40))) == 2
    with pytest.raises(ValueError, match="not built"):
        ffnn.plot.network(Sequential([Dense(2)]))
    maxout = Sequential([Maxout(2, 3), Dense(1)], seed=0)
    maxout.build(2)
    with pytest.raises(ValueError, match="'maxout' is a Maxout"):
        ffnn.plot.network(maxout)
    with pytest.raises(TypeError, match="Sequential model or a fitted ffnn estimator"):
        ffnn.plot.network(object())
