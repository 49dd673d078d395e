"""``Sequential.fit(class_weight=...)``: exactly the run with the equivalent sample_weight,
for every registered optimiser, scikit-learn's "balanced" formula, and clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ffnn import Sequential
from ffnn.layers import Dense
from ffnn.optimizers import OPTIMIZERS, LevenbergMarquardt

OPTIMIZER_NAMES = OPTIMIZERS.names(aliases=False)


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 points of 3 unequal classes (10, 5, 15 samples), one-hot targets."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [10, 5, 15])
    x = rng.normal(size=(30, 2)) + labels[:, None]
    return x, np.eye(3)[labels], labels


def _model(name: str) -> Sequential:
    model = Sequential([Dense(4, activation="tanh", input_dim=2),
                        Dense(3, activation="softmax")], seed=0, dtype="float64")
    least_squares = issubclass(OPTIMIZERS.lookup(name), LevenbergMarquardt)
    model.compile(optimizer=name, loss="mse" if least_squares else "categorical_crossentropy")
    return model


def _fit(name: str, **weights: Any) -> list[np.ndarray]:
    x, y, _ = _data()
    model = _model(name)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=1, **weights)
    return model.get_weights()


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_class_weight_is_exactly_the_equivalent_sample_weight(name: str) -> None:
    """Every optimiser in the registry (LM and BR through weighted residuals) trains to
    bit-identical weights with class_weight and with sample_weight = weight of the class,
    and the weights change the result (the test would see them ignored)."""
    _, _, labels = _data()
    cw = {0: 0.5, 1: 3.0, 2: 1.0}
    by_class = _fit(name, class_weight=cw)
    by_sample = _fit(name, sample_weight=np.array([cw[c] for c in labels]))
    for a, b in zip(by_class, by_sample, strict=True):
        np.testing.assert_array_equal(a, b)
    plain = _fit(name)
    assert not all(np.array_equal(a, b) for a, b in zip(by_class, plain, strict=True))


def test_class_weight_multiplies_sample_weight() -> None:
    _, _, labels = _data()
    sw = np.linspace(0.5, 2.0, 30)
    both = _fit("adam", class_weight={1: 4.0}, sample_weight=sw)
    product = _fit("adam", sample_weight=sw * np.where(labels == 1, 4.0, 1.0))
    for a, b in zip(both, product, strict=True):
        np.testing.assert_array_equal(a, b)


def test_balanced_is_scikit_learns_formula() -> None:
    """n_samples / (n_classes · n_c): 30/(3·10) = 1, 30/(3·5) = 2, 30/(3·15) = 2/3."""
    _, _, labels = _data()
    expected = np.array([1.0, 2.0, 2.0 / 3.0])[labels]
    balanced = _fit("sgd", class_weight="balanced")
    by_sample = _fit("sgd", sample_weight=expected)
    for a, b in zip(balanced, by_sample, strict=True):
        np.testing.assert_array_equal(a, b)


def test_integer_labels_and_a_binary_column() -> None:
    """Sparse labels and one sigmoid output take class weights as one-hot rows do."""
    x, _, labels = _data()
    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0, dtype="float64")
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, labels, epochs=2, verbose=0, seed=0, class_weight={2: 0.25})
    ref = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0, dtype="float64")
    ref.compile("sgd", "sparse_categorical_crossentropy")
    ref.fit(x, labels, epochs=2, verbose=0, seed=0, sample_weight=np.where(labels == 2, .25, 1))
    np.testing.assert_array_equal(model.get_weights()[0], ref.get_weights()[0])
    binary = (labels == 1).astype(float)  # 5 positives, 25 negatives
    out = Sequential([Dense(1, activation="sigmoid", input_dim=2)], seed=0, dtype="float64")
    out.compile("sgd", "binary_crossentropy")
    out.fit(x, binary, epochs=2, verbose=0, seed=0, class_weight="balanced")
    ref = Sequential([Dense(1, activation="sigmoid", input_dim=2)], seed=0, dtype="float64")
    ref.compile("sgd", "binary_crossentropy")
    ref.fit(x, binary, epochs=2, verbose=0, seed=0,
            sample_weight=np.where(binary == 1, 30 / (2 * 5), 30 / (2 * 25)))
    np.testing.assert_array_equal(out.get_weights()[0], ref.get_weights()[0])


def test_sparse_labels_may_weigh_a_class_absent_from_the_batch() -> None:
    """The classes of integer labels are the model's outputs: a weight for class 2 is
    accepted when only classes 0 and 1 occur (it weighs nothing)."""
    x, _, labels = _data()
    keep = labels < 2
    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x[keep], labels[keep], epochs=1, verbose=0, class_weight={2: 5.0, 1: 2.0})
    with pytest.raises(ValueError, match=r"classes \[3\] that are not among"):
        model.fit(x[keep], labels[keep], epochs=1, verbose=0, class_weight={3: 1.0})


def test_validation_values_ignore_class_weight() -> None:
    """As Keras: class_weight shapes the training loss only; val_loss is unweighted."""
    x, y, _ = _data()
    logs = []
    for cw in (None, {0: 10.0}):
        model = _model("sgd")
        history = model.fit(x, y, epochs=1, verbose=0, seed=0, validation_data=(x, y),
                            class_weight=cw)
        logs.append(history.history)
    assert logs[0]["loss"] != logs[1]["loss"]
    model = _model("sgd")
    model.fit(x, y, epochs=1, verbose=0, seed=0, class_weight={0: 10.0})
    assert logs[1]["val_loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-12)


@pytest.mark.parametrize("cw, match", [
    ({5: 1.0}, r"classes \[5\] that are not among the classes \[0, 1, 2\]"),
    ({0: -1.0}, r"class_weight\[0\] must be a finite number >= 0"),
    ("balance", "must be a dict or 'balanced'"),
    ([1.0, 2.0], "must be a dict"),
    ({0: 0.0, 1: 0.0, 2: 0.0}, "zero for every sample"),
])
def test_bad_class_weight_is_named(cw: Any, match: str) -> None:
    x, y, _ = _data()
    with pytest.raises(ValueError, match=match):
        _model("sgd").fit(x, y, epochs=1, verbose=0, class_weight=cw)


def test_class_weight_needs_class_targets() -> None:
    x = np.arange(6.0).reshape(3, 2)
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="class_weight needs class targets"):
        model.fit(x, [0.5, 1.5, 2.0], verbose=0, class_weight={0: 1.0})
