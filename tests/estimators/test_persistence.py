"""``ffnn.save``/``ffnn.load`` of fitted estimators: the same model file, one extra JSON
section, no pickle; the loaded estimator predicts and continues training exactly as the
saved one; a corrupted section is refused naming the defect (issue 15 §2)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import safetensors.numpy
from safetensors import safe_open
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import NotFittedError

import ffnn
from ffnn.estimators import MLPClassifier, MLPRegressor, PerceptronClassifier
from ffnn.exceptions import ConvergenceWarning, ModelFileError


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), np.array(["setosa", "versicolor", "virginica"])[y]


FAST = {"hidden_layer_sizes": (8,), "learning_rate": 0.01, "max_iter": 20, "random_state": 0}


def _round_trip(est: Any, path: Path) -> Any:
    ffnn.save(est, path)
    return ffnn.load(path)


def _weights_equal(a: Any, b: Any) -> None:
    for u, v in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def test_classifier_round_trip_predicts_and_continues_exactly(tmp_path: Path) -> None:
    """String classes, curves, counters and the adam state come back: predictions are
    identical and partial_fit continues to bit-identical weights."""
    X, y = _iris()
    clf = MLPClassifier(**FAST, class_weight={"setosa": 2.0}).fit(X[:120], y[:120],
                                                                 X_val=X[120:], y_val=y[120:])
    loaded = _round_trip(clf, tmp_path / "clf.safetensors")
    assert type(loaded) is MLPClassifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    for name in ("n_iter_", "loss_", "loss_curve_", "validation_loss_curve_",
                 "validation_scores_", "best_loss_", "best_validation_score_",
                 "n_features_in_", "n_outputs_", "out_activation_"):
        assert getattr(loaded, name) == getattr(clf, name), name
    for est in (clf, loaded):
        est.partial_fit(X, y)
        est.partial_fit(X, y)
    _weights_equal(clf, loaded)


def test_regressor_with_lm_and_feature_names(tmp_path: Path) -> None:
    """An LM regressor (μ and the other solver scalars in the file) fitted on a DataFrame
    keeps its column names; a warm start continues identically."""
    X, y = make_regression(n_samples=80, n_features=3, noise=0.1, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lm", max_iter=5, random_state=0,
                       warm_start=True).fit(frame, y / y.std())
    loaded = _round_trip(reg, tmp_path / "reg.safetensors")
    assert list(loaded.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.predict(frame), reg.predict(frame))
    with pytest.warns(UserWarning, match="feature names"):
        loaded.predict(X)  # the names are checked as after fit
    for est in (reg, loaded):
        est.fit(frame, y / y.std())
    _weights_equal(reg, loaded)


def test_multilabel_and_integer_classes(tmp_path: Path) -> None:
    X, y = _iris()
    labels = np.stack([y == "setosa", y != "virginica", y == "virginica"], axis=1).astype(int)
    multi = _round_trip(MLPClassifier(**FAST).fit(X, labels), tmp_path / "m.safetensors")
    assert multi._multilabel
    np.testing.assert_array_equal(multi.predict(X[:5]).shape, (5, 3))
    ints = MLPClassifier(**FAST).fit(X, np.searchsorted(np.unique(y), y) * 10)
    loaded = _round_trip(ints, tmp_path / "i.safetensors")
    assert loaded.classes_.tolist() == [0, 10, 20]
    np.testing.assert_array_equal(loaded.predict(X), ints.predict(X))


def test_the_file_is_a_model_file_with_a_plain_json_section(tmp_path: Path) -> None:
    X, y = _iris()
    path = tmp_path / "clf.safetensors"
    ffnn.save(MLPClassifier(**FAST).fit(X, y), path)
    with safe_open(str(path), framework="numpy") as f:
        doc = json.loads(f.metadata()["ffnn"])
        names = set(f.keys())
    assert doc["format"] == "ffnn.model" and doc["estimator"]["class"] == "MLPClassifier"
    assert doc["estimator"]["fitted"]["classes_"]["values"] == ["setosa", "versicolor",
                                                                "virginica"]
    assert {"dense/kernel", "dense_1/bias"} <= names
    assert b"pickle" not in path.read_bytes()


def _rewrite(path: Path, change: Any) -> None:
    """Apply ``change`` to the estimator section of the file's JSON document."""
    tensors = safetensors.numpy.load_file(str(path))
    with safe_open(str(path), framework="numpy") as f:
        doc = json.loads(f.metadata()["ffnn"])
    change(doc["estimator"])
    safetensors.numpy.save_file(tensors, str(path), metadata={"ffnn": json.dumps(doc)})


@pytest.mark.parametrize("change, message", [
    (lambda e: e.update({"class": "os.system"}), "class 'os.system' is not one of"),
    (lambda e: e["fitted"].update({"n_features_in_": 5}), "do not match the network"),
    (lambda e: e["fitted"]["classes_"].update({"values": ["a", "b"]}), "2 classes need 1"),
    (lambda e: e["fitted"]["classes_"].update({"dtype": "|O"}), "not a label dtype"),
    (lambda e: e["params"].update({"hidden_layer_sizes": [9]}), "do not match"),
    (lambda e: e["params"].update({"alpha": -1}), "'alpha' parameter must be"),
    (lambda e: e["params"].update({"pickle": 1}), "params must name exactly"),
    (lambda e: e["fitted"].update({"loss_curve_": ["x"]}), "loss_curve_ must be a list"),
    (lambda e: e["fitted"]["rng"].update({"key": [1, 2]}), "rng key must be 624"),
    (lambda e: e["fitted"].pop("n_iter_"), "fitted must have the keys"),
])
def test_a_corrupted_estimator_section_is_refused(tmp_path: Path, change: Any,
                                                  message: str) -> None:
    X, y = _iris()
    path = tmp_path / "clf.safetensors"
    ffnn.save(MLPClassifier(**FAST).fit(X, y), path)
    _rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        ffnn.load(path)


def test_what_cannot_be_saved_says_so(tmp_path: Path) -> None:
    """The old AttributeError ('history') is gone: unfitted estimators and objects
    without a model get errors that say what save needs."""
    with pytest.raises(NotFittedError):
        ffnn.save(MLPClassifier(), tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="needs a Sequential or a fitted ffnn estimator"):
        ffnn.save(PerceptronClassifier(), tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_the_command_line_reads_an_estimator_file(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`ffnn info` shows the estimator's network (it used to crash with AttributeError)
    and `ffnn export` writes its ONNX model with labels and probabilities."""
    pytest.importorskip("onnx")
    from ffnn.cli import main

    X, y = _iris()
    path = tmp_path / "clf.safetensors"
    ffnn.save(MLPClassifier(**FAST).fit(X, y), path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "a fitted MLPClassifier" in out and "Total params: 67" in out  # 5·8 + 9·3
    assert main(["export", str(path), str(tmp_path / "clf.onnx")]) == 0
    assert "probabilities" in capsys.readouterr().out
