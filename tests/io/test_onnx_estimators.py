"""ONNX export of the estimators (``ffnn.export_onnx(clf, path)``) and of networks whose
metadata holds the command line's preprocessing: labels, probabilities and values
from ONNX Runtime against ``predict``, ``predict_proba`` and ``decision_function``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import ffnn
from ffnn import Dense, Sequential
from ffnn.estimators import MLPClassifier, MLPRegressor, PerceptronClassifier
from ffnn.io.onnx import to_onnx
from ffnn.io.onnx.plan import label_values

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    """Short training runs warn that they did not converge; that is expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def run(proto: onnx.ModelProto, x: np.ndarray) -> dict[str, Any]:
    """The outputs of ONNX Runtime by name (after the full checker)."""
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": x}), strict=True))


def assert_close(actual: np.ndarray, expected: np.ndarray, network: Any = None) -> None:
    """Per column: max |onnx − ffnn| ≤ rtol · max |ffnn| (see tests/io/test_onnx.py),
    rtol that of the ``network`` dtype (default: the output's)."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    rtol = RTOL[np.dtype(network or expected.dtype)]
    exp2 = expected.reshape(len(expected), -1)
    bound = rtol * np.max(np.abs(exp2), axis=0)
    assert np.all(np.abs(actual.reshape(exp2.shape) - exp2) <= bound)


def iris(dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return ((X - X.mean(axis=0)) / X.std(axis=0)).astype(dtype), y


FAST = {"hidden_layer_sizes": (8,), "learning_rate": 0.05, "max_iter": 40, "random_state": 0}
LABELS = {
    "int": lambda y: y,
    "str": lambda y: np.array(["setosa", "versicolor", "virginica"])[y],
    "float": lambda y: y.astype(np.float64) + 10.0,
}


# ------------------------------------------------------------------ classifiers
@pytest.mark.parametrize("labels", list(LABELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_multiclass_classifier(labels: str, dtype: Any) -> None:
    """Three classes (softmax): label = predict, probabilities = predict_proba; the
    network runs in the dtype it was fitted in."""
    X, y = iris(dtype)
    clf = MLPClassifier(**FAST).fit(X, LABELS[labels](y))
    out = run(to_onnx(clf), X)
    expected = clf.predict(X)
    assert out["label"].tolist() == label_values(expected).tolist()
    assert_close(out["probabilities"], clf.predict_proba(X))
    assert np.mean(expected == LABELS[labels](y)) > 0.8  # a trained model, not noise


@pytest.mark.parametrize("labels", [np.array([3, 7]), np.array(["no", "yes"]),
                                    np.array([False, True])], ids=["int", "str", "bool"])
def test_binary_classifier(labels: np.ndarray) -> None:
    """Two classes from one sigmoid output: [1 − p, p] and p > 0.5 (LabelBinarizer)."""
    X, y = iris()
    target = labels[(y == 2).astype(int)]
    clf = MLPClassifier(**FAST).fit(X, target)
    out = run(to_onnx(clf), X)
    assert clf.n_outputs_ == 1
    assert out["label"].tolist() == label_values(clf.predict(X)).tolist()
    assert_close(out["probabilities"], clf.predict_proba(X))
    assert len(set(out["label"].tolist())) == 2


def test_binary_threshold_is_strict() -> None:
    """Guards the tie rule: p = 0.5 exactly is the negative class, as in predict."""
    clf = MLPClassifier(hidden_layer_sizes=(), max_iter=1, random_state=0)
    clf.fit(np.array([[0.0], [1.0]]), ["a", "b"])
    clf.model_.set_weights([np.zeros((1, 1)), np.zeros(1)])  # p = σ(0) = 0.5 everywhere
    out = run(to_onnx(clf), np.array([[0.0], [3.0]]))
    assert clf.predict(np.array([[0.0]])).tolist() == ["a"]
    assert out["label"].tolist() == ["a", "a"]
    np.testing.assert_array_equal(out["probabilities"], [[0.5, 0.5], [0.5, 0.5]])


def test_multilabel_classifier() -> None:
    """Independent sigmoid labels: a 0/1 int64 matrix, as predict's indicator matrix."""
    X, Y = make_multilabel_classification(n_samples=80, n_features=5, n_classes=3,
                                          random_state=0)
    clf = MLPClassifier(**FAST).fit(X, Y)
    out = run(to_onnx(clf), X)
    assert out["label"].dtype == np.int64 and out["label"].shape == (80, 3)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert_close(out["probabilities"], clf.predict_proba(X))


def test_label_values_follow_skl2onnx() -> None:
    """int64 for integer, boolean and integer-valued labels, strings for strings;
    anything else (0.5, a mixture) is refused, naming the labels."""
    assert label_values(np.array([2.0, 5.0])).tolist() == [2, 5]
    assert label_values(np.array([True, False])).dtype == np.int64
    assert label_values(np.array(["a", "b"])).dtype == object
    with pytest.raises(ValueError, match=r"class labels \[0\.5, 1\.0\] cannot be ONNX"):
        label_values(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="cannot be ONNX labels"):
        label_values(np.array(["a", 1], dtype=object))


# ------------------------------------------------------------ regressor, perceptron
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_regressor(n_outputs: int, dtype: Any) -> None:
    """``variable`` (batch, outputs) = predict (reshaped to two dimensions)."""
    X, y = make_regression(n_samples=60, n_features=4, n_targets=n_outputs, random_state=0)
    reg = MLPRegressor(**FAST).fit(X.astype(dtype), y / y.std())
    out = run(to_onnx(reg), X.astype(dtype))
    assert list(out) == ["variable"]
    assert_close(out["variable"], reg.predict(X.astype(dtype)).reshape(60, n_outputs))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_perceptron(n_classes: int) -> None:
    """``label`` = predict and ``scores`` = decision_function (one column for two
    classes), in float64 as the perceptron computes."""
    X, y = iris()
    keep = y < n_classes
    names = np.array(["a", "b", "c"])[y[keep]]
    clf = PerceptronClassifier(random_state=0).fit(X[keep], names)
    out = run(to_onnx(clf), X[keep])
    assert out["label"].tolist() == clf.predict(X[keep]).tolist()
    assert_close(out["scores"], clf.decision_function(X[keep]))


def test_unfitted_estimator_is_refused() -> None:
    """Exporting needs the fitted network."""
    with pytest.raises(NotFittedError):
        to_onnx(MLPClassifier())


def test_export_onnx_of_an_estimator(tmp_path: Any) -> None:
    """``ffnn.export_onnx(estimator, path)``, the issue's spelling."""
    X, y = iris()
    clf = MLPClassifier(**FAST).fit(X, y)
    ffnn.export_onnx(clf, tmp_path / "iris.onnx")
    session = ort.InferenceSession(str(tmp_path / "iris.onnx"),
                                   providers=["CPUExecutionProvider"])
    label, _ = session.run(None, {"X": X})
    np.testing.assert_array_equal(label, clf.predict(X))


# ---------------------------------------------------------- command-line metadata
def cli_model(task: str, rng: np.random.Generator) -> Sequential:
    """A network with the metadata ``ffnn train`` stores (format 1, docs/cli.md)."""
    n_out, last = (3, "softmax") if task == "classify" else (1, "linear")
    model = Sequential([Dense(6, "tanh", input_dim=2), Dense(n_out, last)], seed=0)
    model.build()
    model.metadata = {"ffnn_cli": {
        "format": 1, "task": task, "target": "t", "features": ["a", "b"],
        "scaler": {"mean": [5.0, -200.0], "scale": [2.0, 1000.0]},
        "loss": "sparse_categorical_crossentropy" if task == "classify" else "mse",
        "classes": ["red", "green", "blue"] if task == "classify" else None,
        "target_scaler": None if task == "classify" else {"mean": [40.0], "scale": [3.0]},
        "training": {}}}
    return model


def test_cli_classifier_takes_raw_features(rng: np.random.Generator) -> None:
    """Raw float64 features in, standardised in float64 then cast to the network's
    float32 (as ``ffnn predict``); class names and probabilities out."""
    model = cli_model("classify", rng)
    raw = np.column_stack([5.0 + 2.0 * rng.standard_normal(40),
                           -200.0 + 1000.0 * rng.standard_normal(40)])
    proto = to_onnx(model)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    props = {p.key: p.value for p in proto.metadata_props}
    assert props == {"ffnn.task": "classify", "ffnn.target": "t", "ffnn.features": '["a", "b"]'}
    out = run(proto, raw)
    probabilities = model.predict((raw - [5.0, -200.0]) / [2.0, 1000.0])
    assert_close(out["probabilities"], probabilities)
    names = np.array(["red", "green", "blue"])
    assert out["label"].tolist() == names[probabilities.argmax(axis=1)].tolist()


def test_cli_regressor_returns_target_units(rng: np.random.Generator) -> None:
    """The standardised output is mapped back: y = z·3 + 40, in float64."""
    model = cli_model("regress", rng)
    raw = rng.standard_normal((30, 2)) * [2.0, 1000.0] + [5.0, -200.0]
    out = run(to_onnx(model), raw)
    z = model.predict((raw - [5.0, -200.0]) / [2.0, 1000.0]).astype(np.float64)
    assert out["variable"].dtype == np.float64
    assert_close(out["variable"], z * 3.0 + 40.0, network=np.float32)


def test_invalid_cli_metadata_is_reported(rng: np.random.Generator) -> None:
    """A damaged record is an error, not a silently unscaled export."""
    model = cli_model("classify", rng)
    model.metadata["ffnn_cli"]["scaler"] = {"mean": [0.0], "scale": [1.0]}
    with pytest.raises(ValueError, match=r"invalid 'ffnn train' metadata.*feature scaler"):
        to_onnx(model)
