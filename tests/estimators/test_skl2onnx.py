"""``ffnn.register_skl2onnx()``: scikit-learn pipelines ending in an ffnn estimator
convert with ``skl2onnx.to_onnx``; ONNX Runtime gives the pipeline's labels and
probabilities."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from skl2onnx import to_onnx
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import ffnn
from ffnn.estimators import MLPClassifier, MLPRegressor, PerceptronClassifier

FAST = {"hidden_layer_sizes": (8,), "learning_rate": 0.05, "max_iter": 40, "random_state": 0}


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    """Converters registered (again: registering twice is harmless); no warnings from
    the short training runs."""
    ffnn.register_skl2onnx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def run(proto: onnx.ModelProto, x: np.ndarray) -> dict[str, Any]:
    """ONNX Runtime's outputs by name, after the full checker."""
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": x}), strict=True))


def pipeline(estimator: Any, y: Any = None) -> tuple[Pipeline, np.ndarray]:
    """``Pipeline([("scale", StandardScaler()), ("mlp", estimator)])`` fitted on the raw
    iris measurements."""
    X, target = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", estimator)])
    return pipe.fit(X, target if y is None else y), X


def test_pipeline_classifier_default_zipmap() -> None:
    """The issue's example: float32 input, skl2onnx's default outputs (a ZipMap of
    class → probability); same labels and probabilities as the pipeline."""
    pipe, X = pipeline(MLPClassifier(**FAST))
    x32 = X.astype(np.float32)
    out = run(to_onnx(pipe, x32[:1]), x32)
    assert list(out) == ["output_label", "output_probability"]
    np.testing.assert_array_equal(out["output_label"], pipe.predict(x32))
    proba = np.array([[row[k] for k in range(3)] for row in out["output_probability"]])
    np.testing.assert_allclose(proba, pipe.predict_proba(x32), rtol=0, atol=1e-5)
    assert pipe.score(X, load_iris(return_X_y=True)[1]) > 0.8


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_pipeline_classifier_without_zipmap(dtype: Any) -> None:
    """``zipmap=False``: ``label`` and a ``probabilities`` matrix of the input's type;
    float64 all the way matches to 1e-12."""
    pipe, X = pipeline(MLPClassifier(**FAST), np.array(["a", "b", "c"])[load_iris().target])
    x = X.astype(dtype)
    out = run(to_onnx(pipe, x[:1], options={MLPClassifier: {"zipmap": False}}), x)
    assert out["label"].tolist() == pipe.predict(x).tolist()
    assert out["probabilities"].dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(x), rtol=0, atol=rtol)


def test_pipeline_classifier_float64_zipmap() -> None:
    """Guards a failure skl2onnx's own MLP converter has: with float64 input the
    probabilities are cast to float for ONNX's ZipMap, which takes float only."""
    pipe, X = pipeline(MLPClassifier(**FAST))
    out = run(to_onnx(pipe, X[:1]), X)
    np.testing.assert_array_equal(out["output_label"], pipe.predict(X))
    proba = np.array([[row[k] for k in range(3)] for row in out["output_probability"]])
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=0, atol=1e-7)


def test_binary_and_nocl() -> None:
    """Two classes: [1 − p, p]; ``nocl`` labels with class indices instead of names."""
    y = np.where(load_iris().target == 2, "virginica", "other")
    pipe, X = pipeline(MLPClassifier(**FAST), y)
    options = {MLPClassifier: {"zipmap": False, "nocl": True}}
    out = run(to_onnx(pipe, X[:1], options=options), X)
    expected = pipe.predict(X)
    np.testing.assert_array_equal(out["label"], (expected == "virginica").astype(np.int64))
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(X), rtol=0, atol=1e-12)


def test_zipmap_columns_and_class_labels() -> None:
    """skl2onnx's other classifier options: one output per class (``zipmap="columns"``)
    and the list of classes as an output (``output_class_labels``)."""
    pipe, X = pipeline(MLPClassifier(**FAST))
    out = run(to_onnx(pipe, X[:1], options={MLPClassifier: {"zipmap": "columns"}}), X)
    assert list(out) == ["output_label", "i0", "i1", "i2"]
    proba = pipe.predict_proba(X)
    for k in range(3):
        np.testing.assert_allclose(out[f"i{k}"], proba[:, k], rtol=0, atol=1e-12)
    options = {MLPClassifier: {"zipmap": False, "output_class_labels": True}}
    out = run(to_onnx(pipe, X[:1], options=options), X)
    assert out["class_labels"].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(out["label"], pipe.predict(X))


def test_multilabel_classifier() -> None:
    """A multi-label network converts too: a 0/1 label matrix and label probabilities."""
    X, Y = make_multilabel_classification(n_samples=80, n_features=5, n_classes=3,
                                          random_state=0)
    clf = MLPClassifier(**FAST).fit(X, Y)
    out = run(to_onnx(clf, X[:1], options={MLPClassifier: {"zipmap": False}}), X)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert out["label"].any() and not out["label"].all()
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), rtol=0, atol=1e-12)


def test_pipeline_regressor() -> None:
    """``variable`` (batch, outputs) = predict, for a multi-output regressor."""
    X, y = make_regression(n_samples=80, n_features=4, n_targets=2, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPRegressor(**FAST))])
    pipe.fit(X, y / y.std(axis=0))
    out = run(to_onnx(pipe, X[:1]), X)
    np.testing.assert_allclose(out["variable"], pipe.predict(X), rtol=1e-12,
                               atol=1e-12 * np.abs(pipe.predict(X)).max())


@pytest.mark.parametrize("n_classes", [2, 3])
def test_pipeline_perceptron(n_classes: int) -> None:
    """skl2onnx's linear-classifier convention: ``probabilities`` holds the scores,
    [−s, s] for two classes."""
    keep = load_iris().target < n_classes
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("p", PerceptronClassifier(random_state=0))])
    pipe.fit(X[keep], y[keep])
    out = run(to_onnx(pipe, X[:1], options={PerceptronClassifier: {"zipmap": False}}), X)
    np.testing.assert_array_equal(out["label"], pipe.predict(X))
    scores = pipe.decision_function(X)
    if n_classes == 2:
        scores = np.column_stack([-scores, scores])
    np.testing.assert_allclose(out["probabilities"], scores, rtol=0,
                               atol=1e-12 * np.abs(scores).max())


def test_target_opset_below_21_is_refused() -> None:
    """The graphs need opset 21 (Gelu, reductions with axes as inputs): a clear error."""
    pipe, X = pipeline(MLPClassifier(**FAST))
    with pytest.raises(ValueError, match="needs target_opset >= 21, got 17"):
        to_onnx(pipe, X[:1], target_opset=17)


def test_missing_skl2onnx_names_the_package() -> None:
    """Without skl2onnx, registering says what to install."""
    code = ("import sys\n"
            "sys.modules['skl2onnx'] = None\n"
            "import ffnn\n"
            "try:\n"
            "    ffnn.register_skl2onnx()\n"
            "except ImportError as exc:\n"
            "    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert "pip install skl2onnx" in result.stdout, result.stderr
