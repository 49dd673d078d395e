"""confusion and decision_boundary draw the model's own predictions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.collections import PathCollection, QuadMesh
from sklearn.metrics import confusion_matrix

import ffnn
from ffnn import Dense, Sequential


def _image(fig):
    """The confusion matrix ConfusionMatrixDisplay drew (its imshow array)."""
    (image,) = fig.axes[0].get_images()
    return np.asarray(image.get_array())


@pytest.fixture
def moons_network(moons):
    x, y = moons
    model = Sequential([Dense(8, "tanh", input_dim=2), Dense(2, "softmax")], seed=0,
                       dtype="float64")
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=40, batch_size=16, verbose=0, seed=0)
    return model


# ------------------------------------------------------------------------ confusion
def test_confusion_of_a_softmax_network_counts_argmax_predictions(moons, moons_network):
    x, y = moons
    fig = ffnn.plot.confusion(moons_network, x, y)
    pred = moons_network.predict(x).argmax(axis=1)
    np.testing.assert_array_equal(_image(fig), confusion_matrix(y, pred))
    accuracy = np.mean(pred == y)
    assert fig.axes[0].get_title() == f"Accuracy {accuracy:.2%} on 200 samples"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "1"]


def test_confusion_accepts_one_hot_targets_and_a_sigmoid_output(higham_model):
    x, y = ffnn.datasets.higham_points()  # one-hot targets
    fig = ffnn.plot.confusion(higham_model, x, y, class_names=["A", "B"], normalize="true")
    pred = higham_model.predict(x).argmax(axis=1)
    np.testing.assert_allclose(_image(fig),
                               confusion_matrix(y.argmax(axis=1), pred, normalize="true"))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["A", "B"]

    xo, yo = ffnn.datasets.xor()  # one sigmoid output: class 1 where p > 0.5
    net = Sequential([Dense(4, "tanh", input_dim=2), Dense(1, "sigmoid")], seed=1,
                     dtype="float64")
    net.compile("lm", "sse")
    net.fit(xo, yo, epochs=50, verbose=0)
    expected = confusion_matrix(yo[:, 0], net.predict(xo)[:, 0] > 0.5)
    np.testing.assert_array_equal(_image(ffnn.plot.confusion(net, xo, yo)), expected)


def test_confusion_of_an_estimator_uses_its_labels(moons):
    x, y = moons
    labels = np.array(["left", "right"])[y]
    est = ffnn.MLPClassifier(hidden_layer_sizes=(6,), solver="lm", max_iter=20, random_state=0)
    est.fit(x, labels)
    fig = ffnn.plot.confusion(est, x, labels)
    np.testing.assert_array_equal(_image(fig), confusion_matrix(labels, est.predict(x)))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["left", "right"]


def test_confusion_of_the_perceptron_on_xor():
    x, y = ffnn.datasets.xor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ffnn.ConvergenceWarning)  # XOR: never converges
        perceptron = ffnn.Perceptron(max_epochs=7, shuffle=True, random_state=0).fit(x, y[:, 0])
    fig = ffnn.plot.confusion(perceptron, x, y)
    expected = confusion_matrix(y[:, 0], perceptron.predict(x))
    np.testing.assert_array_equal(_image(fig), expected)
    assert np.trace(expected) < 4  # no line separates XOR
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0.0", "1.0"]


def test_confusion_rejects_bad_arguments(moons, moons_network):
    x, y = moons
    with pytest.raises(ValueError, match="normalize must be one of"):
        ffnn.plot.confusion(moons_network, x, y, normalize="rows")
    with pytest.raises(ValueError, match="class indices"):
        ffnn.plot.confusion(moons_network, x, y + 0.5)
    with pytest.raises(ValueError, match="class_names has 3 names for 2 classes"):
        ffnn.plot.confusion(moons_network, x, y, class_names=["a", "b", "c"])


# ---------------------------------------------------------------- decision_boundary
def _mesh(fig):
    (mesh,) = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    corners = mesh.get_coordinates()  # (rows + 1, cols + 1, 2) cell corners
    centres = (corners[:-1, :-1] + corners[1:, 1:]) / 2
    return centres.reshape(-1, 2), np.asarray(mesh.get_array()).reshape(-1)


def test_regions_are_the_networks_predictions_on_the_grid(moons, moons_network):
    x, y = moons
    fig = ffnn.plot.decision_boundary(moons_network, x, y, grid_resolution=50)
    points, drawn = _mesh(fig)
    assert len(points) == 50 * 50
    np.testing.assert_array_equal(drawn, moons_network.predict(points).argmax(axis=1))
    assert set(np.unique(drawn)) == {0, 1}
    lo, hi = x.min(axis=0), x.max(axis=0)
    np.testing.assert_allclose(points.min(axis=0), lo - 0.05 * (hi - lo))


def test_the_data_are_drawn_one_marker_per_class(moons, moons_network):
    x, y = moons
    ax = ffnn.plot.decision_boundary(moons_network, x, y, class_names=["A", "B"]).axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [s.get_label() for s in scatters] == ["A", "B"]
    for k, s in enumerate(scatters):
        np.testing.assert_array_equal(s.get_offsets(), x[y == k])


def test_regions_of_the_perceptron_and_of_an_estimator(moons):
    x, y = moons
    signs = np.where(y == 1, 1, -1)
    perceptron = ffnn.Perceptron(max_epochs=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ffnn.ConvergenceWarning)  # moons are not separable
        perceptron.fit(x, signs)
    points, drawn = _mesh(ffnn.plot.decision_boundary(perceptron, x, signs, grid_resolution=30))
    np.testing.assert_array_equal(drawn, (perceptron.predict(points) == 1).astype(int))

    est = ffnn.MLPClassifier(hidden_layer_sizes=(6,), solver="lm", max_iter=20, random_state=0)
    labels = np.array(["a", "b", "c"])[(x[:, 0] > 0.5).astype(int) + (x[:, 1] > 0.5)]
    est.fit(x, labels)
    fig = ffnn.plot.decision_boundary(est, x, labels, grid_resolution=30)
    points, drawn = _mesh(fig)
    np.testing.assert_array_equal(drawn, np.searchsorted(est.classes_, est.predict(points)))
    assert len(np.unique(drawn)) == 3


@pytest.mark.parametrize("method", ["contourf", "contour"])
def test_other_plot_methods_draw(moons, moons_network, method):
    x, y = moons
    fig = ffnn.plot.decision_boundary(moons_network, x, y, plot_method=method)
    assert not any(isinstance(c, QuadMesh) for c in fig.axes[0].collections)


def test_decision_boundary_needs_two_inputs(moons_network):
    with pytest.raises(ValueError, match=r"2-D inputs; x has shape \(4, 3\)"):
        ffnn.plot.decision_boundary(moons_network, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="grid_resolution"):
        ffnn.plot.decision_boundary(moons_network, np.zeros((4, 2)), np.zeros(4),
                                    grid_resolution=1)
