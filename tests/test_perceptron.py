"""Tests of the Rosenblatt perceptron, and XOR: solved by a 2-2-1 network, not by it."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn.exceptions import ConvergenceWarning, NotFittedError
from ffnn.perceptron import Perceptron

X_TINY = np.array([[1.0, 2.0], [2.0, 0.0], [-1.0, -1.0]])
Y_TINY = np.array([1, -1, -1])
X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([0, 1, 1, 0])


def _fit_quietly(clf: Perceptron, x: np.ndarray, y: np.ndarray) -> Perceptron:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return clf.fit(x, y)


def test_hand_computed_updates() -> None:
    """Epoch 1 from w = 0, b = 0, η = 1:
    x₁ = (1, 2), y = +1: margin 0 → mistake: w = (1, 2), b = 1;
    x₂ = (2, 0), y = −1: margin −(2 + 1) < 0 → mistake: w = (−1, 2), b = 0;
    x₃ = (−1, −1), y = −1: margin −(1 − 2) = 1 > 0 → no update.
    Epoch 2 makes no mistake."""
    clf = _fit_quietly(Perceptron(), X_TINY, Y_TINY)
    np.testing.assert_array_equal(clf.coef_, [-1.0, 2.0])
    assert clf.intercept_ == 0.0
    assert clf.errors_ == [2, 0]
    assert clf.n_epochs_ == 2
    assert clf.converged_ and clf.n_misclassified_ == 0
    np.testing.assert_array_equal(clf.decision_function(X_TINY), [3.0, -2.0, -1.0])
    np.testing.assert_array_equal(clf.predict(X_TINY), Y_TINY)
    assert clf.score(X_TINY, Y_TINY) == 1.0


def test_learning_rate_scales_the_weights_only() -> None:
    clf = _fit_quietly(Perceptron(learning_rate=0.5), X_TINY, Y_TINY)
    np.testing.assert_array_equal(clf.coef_, [-0.5, 1.0])
    assert clf.errors_ == [2, 0]


def test_weights_that_separate_after_the_last_epoch_count_as_converged() -> None:
    """After one epoch the weights above already classify all three points."""
    clf = _fit_quietly(Perceptron(max_epochs=1), X_TINY, Y_TINY)
    assert clf.errors_ == [2]
    assert clf.converged_


def test_one_dimensional_hand_computed_epochs_and_warning() -> None:
    """x = (1, 2), y = (−1, +1), η = 1.
    Epoch 1: x=1: margin 0 → w = −1, b = −1; x=2: margin −3 → w = 1, b = 0.
    Epoch 2: x=1: margin −1 → w = 0, b = −1; x=2: margin −1 → w = 2, b = 0.
    The final weights misclassify x = 1 (margin −2)."""
    x, y = np.array([[1.0], [2.0]]), np.array([-1, 1])
    with pytest.warns(ConvergenceWarning, match=r"in 2 epochs: 1 of 2 training points"):
        clf = Perceptron(max_epochs=2).fit(x, y)
    assert clf.coef_.tolist() == [2.0] and clf.intercept_ == 0.0
    assert clf.errors_ == [2, 2]
    assert not clf.converged_ and clf.n_misclassified_ == 1


def test_without_intercept_the_bias_stays_zero() -> None:
    x, y = np.array([[1.0], [2.0]]), np.array([-1, 1])
    with pytest.warns(ConvergenceWarning):  # not separable through the origin
        clf = Perceptron(max_epochs=3, fit_intercept=False).fit(x, y)
    assert clf.intercept_ == 0.0
    # w after each update: epoch 1: −1, 1; epoch 2: 0, 2; epoch 3: 1 (x = 2 is then right)
    assert clf.coef_.tolist() == [1.0]
    assert clf.errors_ == [2, 2, 1]


@pytest.mark.parametrize(("labels", "classes"), [((0, 1), [0, 1]), ((-1, 1), [-1, 1]),
                                                  (("no", "yes"), ["no", "yes"])])
def test_any_two_labels_are_mapped(labels: tuple[object, object], classes: list[object]) -> None:
    """The sorted first label is coded −1, the second +1: same weights as ±1 labels."""
    y = np.array([labels[1], labels[0], labels[0]])
    clf = _fit_quietly(Perceptron(), X_TINY, y)
    assert clf.classes_.tolist() == classes
    np.testing.assert_array_equal(clf.coef_, [-1.0, 2.0])
    np.testing.assert_array_equal(clf.predict(X_TINY), y)


def _separable(rng: np.random.Generator, n: int = 200) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """Points on either side of w*·x + b* = 0 with a gap of at least 0.2."""
    w_star, b_star = np.array([1.5, -2.0, 0.5]), 0.3
    x = rng.uniform(-2, 2, size=(4 * n, 3))
    score = (x @ w_star + b_star) / np.linalg.norm(w_star)
    keep = np.abs(score) > 0.2
    x, score = x[keep][:n], score[keep][:n]
    return x, np.where(score > 0, 1, -1), np.append(w_star, b_star)


@pytest.mark.parametrize("shuffle", [False, True])
def test_converges_on_linearly_separable_data(rng: np.random.Generator, shuffle: bool) -> None:
    x, y, separator = _separable(rng)
    clf = _fit_quietly(Perceptron(max_epochs=1000, shuffle=shuffle, random_state=0), x, y)
    assert clf.converged_
    assert clf.errors_[-1] == 0 and clf.n_epochs_ == len(clf.errors_)
    assert clf.score(x, y) == 1.0
    assert np.all(y * clf.decision_function(x) > 0)
    # Novikoff: at most (R/γ)² mistakes in total, with the augmented inputs (x, 1)
    xa = np.hstack([x, np.ones((len(x), 1))])
    u = separator / np.linalg.norm(separator)
    radius, margin = np.max(np.linalg.norm(xa, axis=1)), np.min(y * (xa @ u))
    assert sum(clf.errors_) <= (radius / margin) ** 2


def test_shuffling_is_reseeded_by_every_fit(rng: np.random.Generator) -> None:
    x, y, _ = _separable(rng, 100)
    clf = Perceptron(shuffle=True, random_state=7, max_epochs=1000)
    first = _fit_quietly(clf, x, y).coef_.copy()
    np.testing.assert_array_equal(_fit_quietly(clf, x, y).coef_, first)
    other = _fit_quietly(Perceptron(shuffle=True, random_state=8, max_epochs=1000), x, y)
    assert not np.array_equal(other.coef_, first)


@pytest.mark.parametrize("shuffle", [False, True])
def test_xor_warns_with_the_number_of_misclassified_points(shuffle: bool) -> None:
    clf = Perceptron(max_epochs=50, shuffle=shuffle, random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not converge in 50 epochs") as record:
        clf.fit(X_XOR, Y_XOR)
    signs = np.where(Y_XOR == 1, 1.0, -1.0)
    misclassified = int(np.sum(signs * clf.decision_function(X_XOR) <= 0))
    assert misclassified >= 1  # no line separates XOR
    assert clf.n_misclassified_ == misclassified
    assert f"{misclassified} of 4 training points" in str(record[0].message)
    assert not clf.converged_ and clf.n_epochs_ == 50 and min(clf.errors_) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"learning_rate": 0.0}, "learning_rate .* got 0.0"),
     ({"learning_rate": float("nan")}, "learning_rate .* got nan"),
     ({"learning_rate": "1"}, "learning_rate .* got '1'"),
     ({"max_epochs": 0}, "max_epochs .* got 0"),
     ({"max_epochs": 2.5}, "max_epochs .* got 2.5")],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Perceptron(**kwargs).fit(X_TINY, Y_TINY)


def test_bad_data_is_named() -> None:
    with pytest.raises(ValueError, match=r"exactly two classes in y, got 3: \[0, 1, 2\]"):
        Perceptron().fit(X_TINY, [0, 1, 2])
    with pytest.raises(ValueError, match=r"exactly two classes in y, got 1"):
        Perceptron().fit(X_TINY, [1, 1, 1])
    with pytest.raises(ValueError, match=r"shape \(3,\) to match x, got shape \(2,\)"):
        Perceptron().fit(X_TINY, [1, -1])
    with pytest.raises(ValueError, match="NaN"):
        Perceptron().fit(np.array([[1.0, np.nan], [0.0, 0.0]]), [0, 1])
    with pytest.raises(NotFittedError, match="not fitted"):
        Perceptron().predict(X_TINY)
    clf = _fit_quietly(Perceptron(), X_TINY, Y_TINY)
    with pytest.raises(ValueError, match="3 features but the model expects 2"):
        clf.predict(np.ones((2, 3)))


# ------------------------------------------------------------------ XOR: MLP vs perceptron
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_xor_is_solved_by_a_2_2_1_network_and_not_by_the_perceptron(seed: int) -> None:
    """The notes' point (note 3): one hidden layer of two units solves XOR, which no
    single-layer perceptron can. Swish hidden units (x·σ(x)) are used because with tanh
    or sigmoid hidden units about half of all random starts of a 2-2-1 net end on a
    plateau where two inputs share one saturated hidden code (see the tanh test below);
    with swish, 30 of 30 seeds checked solve it with every output at least 0.46 away
    from 0.5."""
    y = Y_XOR.reshape(-1, 1).astype(float)
    model = ffnn.Sequential([ffnn.Dense(2, activation="swish", input_dim=2),
                             ffnn.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(ffnn.optimizers.Adam(learning_rate=0.1), "binary_crossentropy")
    model.fit(X_XOR, y, epochs=300, batch_size=None, verbose=0, seed=seed)
    prob = model.predict(X_XOR).ravel()
    np.testing.assert_array_equal(prob > 0.5, Y_XOR == 1)
    assert np.all(np.abs(prob - 0.5) > 0.4), prob

    with pytest.warns(ConvergenceWarning):
        perceptron = Perceptron(max_epochs=100, shuffle=True, random_state=seed).fit(X_XOR, Y_XOR)
    assert perceptron.score(X_XOR, Y_XOR) <= 0.75


def test_xor_with_tanh_hidden_units_is_solved_from_many_seeds() -> None:
    """The classic tanh 2-2-1 network: it solves XOR from many random starts, not all
    (the failures sit on the saturation plateau described above; the same starts give
    the same result in PyTorch)."""
    y = Y_XOR.reshape(-1, 1).astype(float)
    solved = 0
    for seed in range(10):
        model = ffnn.Sequential([ffnn.Dense(2, activation="tanh", input_dim=2),
                                 ffnn.Dense(1, activation="sigmoid")], seed=seed)
        model.compile(ffnn.optimizers.SGD(learning_rate=0.5, momentum=0.9),
                      "binary_crossentropy")
        model.fit(X_XOR, y, epochs=300, batch_size=None, verbose=0, seed=seed)
        solved += bool(np.all((model.predict(X_XOR).ravel() > 0.5) == (Y_XOR == 1)))
    assert solved >= 5  # 7 of these 10 seeds solve it
