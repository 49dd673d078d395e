"""Tests of the scikit-learn estimators: the full estimator-check suite, scikit-learn's
tools (Pipeline, GridSearchCV, cross_val_score, clone, pickle), and each parameter."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_blobs, make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from ffnn.estimators import MLPClassifier, MLPRegressor, PerceptronClassifier
from ffnn.exceptions import ConvergenceWarning
from ffnn.regularizers import L2


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    """Short training runs warn that they did not converge; that is expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@parametrize_with_checks([MLPClassifier(), MLPRegressor(), PerceptronClassifier()])
def test_sklearn_compatible(estimator: Any, check: Any) -> None:
    """Every scikit-learn estimator check passes with the default parameters."""
    check(estimator)


# ------------------------------------------------------------------ data
def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _regression(n_outputs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=120, n_features=4, n_targets=n_outputs, noise=0.1,
                           random_state=0)
    return X, y / np.std(y, axis=0)


FAST = {"hidden_layer_sizes": (16,), "learning_rate": 0.01, "max_iter": 150}


# ------------------------------------------------------- scikit-learn tools
def test_pipeline_with_standard_scaler() -> None:
    """The unscaled iris data are learnt inside a Pipeline with StandardScaler."""
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**FAST, random_state=0)).fit(X, y)
    assert pipe.score(X, y) > 0.95
    assert pipe.predict_proba(X).shape == (150, 3)


def test_grid_search() -> None:
    X, y = _iris()
    grid = GridSearchCV(MLPClassifier(**FAST, random_state=0),
                        {"hidden_layer_sizes": [(2,), (16,)], "alpha": [1e-4, 1e-2]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.85
    assert set(grid.best_params_) == {"hidden_layer_sizes", "alpha"}
    assert grid.best_estimator_.score(X, y) > 0.9


def test_cross_val_score() -> None:
    X, y = _regression()
    scores = cross_val_score(MLPRegressor(**FAST, random_state=0), X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.8


@pytest.mark.parametrize("make", [
    lambda: (MLPClassifier(**FAST, random_state=3), *_iris()),
    lambda: (MLPRegressor(**FAST, random_state=3), *_regression(2)),
    lambda: (PerceptronClassifier(random_state=3), *_iris()),
])
def test_clone_and_pickle_give_identical_predictions(make: Any) -> None:
    est, X, y = make()
    method = "predict_proba" if hasattr(est, "predict_proba") else "predict"
    unfitted_copy = pickle.loads(pickle.dumps(est))
    reference = getattr(clone(est).fit(X, y), method)(X)
    for other in (est, unfitted_copy, clone(est), clone(unfitted_copy)):
        np.testing.assert_array_equal(getattr(other.fit(X, y), method)(X), reference)
    fitted_copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(getattr(fitted_copy, method)(X), reference)
    with pytest.raises(NotFittedError):
        clone(est).predict(X)


def test_random_state_reseeds_every_fit() -> None:
    X, y = _iris()
    clf = MLPClassifier(**FAST, random_state=7)
    first = clf.fit(X, y).predict_proba(X)
    curve = list(clf.loss_curve_)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), first)
    assert clf.loss_curve_ == curve
    other = clf.set_params(random_state=8).fit(X, y).predict_proba(X)
    assert not np.allclose(other, first)


# --------------------------------------------------------------- solvers
@pytest.mark.parametrize("solver", ["lm", "trainlm", "br", "lbfgs"])
def test_full_batch_solvers_regression(solver: str) -> None:
    X = np.linspace(-1, 1, 40).reshape(-1, 1)
    y = np.sin(3 * X[:, 0])
    reg = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", solver=solver, max_iter=100,
                       random_state=0)
    assert reg.fit(X, y).score(X, y) > 0.99
    assert reg.n_iter_ >= 1
    assert not hasattr(reg, "partial_fit")


@pytest.mark.parametrize("solver", ["lm", "lbfgs"])
def test_full_batch_solvers_classification(solver: str) -> None:
    """LM fits the softmax probabilities to one-hot targets by mean squared error."""
    X, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=60, random_state=0)
    assert clf.fit(X, y).score(X, y) > 0.95
    expected = "mse" if solver == "lm" else "categorical_crossentropy"
    assert clf.model_.loss.name == expected
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_lbfgs_max_iter_counts_lbfgs_iterations() -> None:
    X, y = _regression()
    reg = MLPRegressor(solver="lbfgs", max_iter=7, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=7"):
        reg.fit(X, y)
    assert reg.n_iter_ == 7


def test_bayesian_regularisation_replaces_alpha() -> None:
    X, y = _regression()
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="br", max_iter=5, random_state=0)
    reg.fit(X, y)
    assert all(layer.kernel_regularizer is None for layer in reg.model_.layers)


def test_solver_options_reach_the_optimizer() -> None:
    X, y = _regression()
    reg = MLPRegressor(solver="sgd", learning_rate=0.05, solver_options={"momentum": 0.9},
                       max_iter=3, random_state=0).fit(X, y)
    assert reg.model_.optimizer.momentum == 0.9
    assert reg.model_.optimizer.learning_rate == 0.05
    lm = MLPRegressor(solver="lm", solver_options={"mu": 0.5}, max_iter=1, random_state=0)
    assert lm.fit(X, y).model_.optimizer.mu == 0.5


# ------------------------------------------------------------- partial_fit
def test_partial_fit_keeps_the_optimizer_state() -> None:
    """Two partial_fit epochs equal fit with max_iter=2 (full batch: the shuffling
    order does not matter); restarting Adam's moments would make them differ."""
    X, y = _regression()
    params = {"hidden_layer_sizes": (8,), "learning_rate": 0.05, "random_state": 0}
    fitted = MLPRegressor(**params, max_iter=2).fit(X, y)
    online = MLPRegressor(**params)
    online.partial_fit(X, y)
    optimizer = online.model_.optimizer
    online.partial_fit(X, y)
    assert online.model_.optimizer is optimizer and optimizer.iterations == 2
    assert online.n_iter_ == 2 and len(online.loss_curve_) == 2
    np.testing.assert_allclose(online.predict(X), fitted.predict(X), rtol=1e-10, atol=1e-12)
    restarted = MLPRegressor(**params)
    restarted.partial_fit(X, y)
    restarted.model_.compile(optimizer="adam", loss="mse")  # a fresh optimizer
    restarted.partial_fit(X, y)
    assert not np.allclose(restarted.predict(X), fitted.predict(X))


def test_classifier_partial_fit_needs_classes_first() -> None:
    X, y = _iris()
    clf = MLPClassifier(**FAST, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    assert clf.predict_proba(X).shape == (150, 3)
    for _ in range(50):
        clf.partial_fit(X, y)
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 1)


def test_first_partial_fit_rejects_labels_outside_classes() -> None:
    """Guards against the first partial_fit silently accepting labels missing from
    ``classes``: a LabelBinarizer fitted on ``classes`` encodes them as all-zero rows
    (multiclass) or as the negative class (binary) instead of raising, as scikit-learn
    does. Later calls must reject labels outside ``classes_`` too."""
    X, y = _iris()
    labels = np.array(["a", "b", "c"])[y]
    odd = np.where(labels == "c", "zzz", labels)
    for classes in (["a", "b", "c"], ["a", "b"]):
        clf = MLPClassifier(**FAST, random_state=0)
        with pytest.raises(ValueError, match="zzz"):
            clf.partial_fit(X, odd, classes=classes)
        assert not hasattr(clf, "model_")
    clf = MLPClassifier(**FAST, random_state=0).partial_fit(X, labels, classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="zzz"):
        clf.partial_fit(X, odd)


def test_multilabel_partial_fit_accepts_classes() -> None:
    """Guards against multi-label partial_fit(X, Y, classes=...) failing with "The object
    was not fitted with multilabel input.": the binarizer must be fitted on the indicator
    matrix whatever ``classes`` is, and ``classes`` must match its number of columns."""
    X, y = _iris()
    Y = np.column_stack([y == 0, y == 2, X[:, 0] > 0]).astype(int)
    clf = MLPClassifier(**FAST, random_state=0).partial_fit(X, Y, classes=[0, 1, 2])
    clf.partial_fit(X, Y)
    assert list(clf.classes_) == [0, 1, 2] and clf.n_outputs_ == 3
    assert clf.predict(X).shape == Y.shape
    with pytest.raises(ValueError, match="3 columns"):
        MLPClassifier(**FAST).partial_fit(X, Y, classes=[0, 1])


# -------------------------------------------------------------- targets
def test_multilabel_indicator_targets() -> None:
    X, y = _iris()
    Y = np.column_stack([y == 0, y == 2, X[:, 0] > 0]).astype(int)
    clf = MLPClassifier(**FAST, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "sigmoid" and clf.n_outputs_ == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and proba.min() >= 0 and proba.max() <= 1
    assert clf.predict(X).shape == Y.shape
    assert clf.score(X, Y) > 0.85  # subset accuracy


def test_string_labels_binary() -> None:
    X, y = make_blobs(n_samples=80, centers=2, random_state=1)
    labels = np.array(["cat", "dog"])[y]
    clf = MLPClassifier(**FAST, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog"] and clf.n_outputs_ == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba)
    assert clf.score(X, labels) > 0.95


def test_multi_output_regression() -> None:
    X, y = _regression(3)
    reg = MLPRegressor(**FAST, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (120, 3) and reg.n_outputs_ == 3
    assert reg.score(X, y) > 0.9


def test_feature_names_from_dataframe() -> None:
    X, y = _iris()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


def test_sample_weight_moves_the_decision() -> None:
    """Weighting class 0 heavily makes it win on an ambiguous point (overlapping blobs)."""
    X, y = make_blobs(n_samples=100, centers=[[0.0], [1.0]], cluster_std=1.5, random_state=0)
    probe = np.array([[0.5]])
    params = {"hidden_layer_sizes": (), "learning_rate": 0.05, "max_iter": 300,
              "random_state": 0}
    p0 = [MLPClassifier(**params).fit(X, y, sample_weight=np.where(y == 0, w, 1.0))
          .predict_proba(probe)[0, 0] for w in (1.0, 5.0)]
    assert p0[1] > p0[0] + 0.2


# ---------------------------------------------------------- loss & stopping
def test_loss_normalisation_is_mean_loss_plus_half_alpha_squared_norm() -> None:
    """The documented objective: mean cross-entropy + ½·alpha·Σ‖W‖² over all layers."""
    X, y = _iris()
    alpha = 0.3
    clf = MLPClassifier(hidden_layer_sizes=(5,), alpha=alpha, max_iter=5, random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    cross_entropy = -np.mean(np.log(proba[np.arange(len(y)), y]))
    penalty = 0.5 * alpha * sum(np.sum(layer.kernel.data ** 2) for layer in clf.model_.layers)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(clf.model_.evaluate(X, onehot), cross_entropy + penalty,
                               rtol=1e-10)


def test_tol_stopping_rule() -> None:
    X, y = _regression()
    reg = MLPRegressor(hidden_layer_sizes=(4,), tol=1e9, n_iter_no_change=3,
                       random_state=0).fit(X, y)
    assert reg.n_iter_ == 5  # the first epoch improves on inf, then 3 + 1 epochs do not
    assert reg.best_loss_ == min(reg.loss_curve_) and reg.validation_scores_ is None


def test_early_stopping_keeps_the_best_weights() -> None:
    X, y = _iris()
    clf = MLPClassifier(**FAST, early_stopping=True, n_iter_no_change=5, random_state=0)
    clf.fit(X, y)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.n_iter_ < FAST["max_iter"]


def test_warm_start_continues_training() -> None:
    X, y = _iris()
    clf = MLPClassifier(**FAST, warm_start=True, random_state=0, tol=0.0)
    weights = clf.fit(X, y).model_.get_weights()
    clf.fit(X, y)
    # n_iter_ counts the last call (scikit-learn >= 1.3); loss_curve_ keeps every epoch
    assert clf.n_iter_ == FAST["max_iter"] and len(clf.loss_curve_) == 2 * clf.n_iter_
    assert clf.loss_curve_[FAST["max_iter"]] < clf.loss_curve_[0]  # not a fresh start
    assert not np.allclose(clf.model_.get_weights()[0], weights[0])
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])
    cold = clf.set_params(warm_start=False).fit(X, y)
    assert cold.n_iter_ == FAST["max_iter"]


def test_warm_start_applies_a_changed_alpha_and_solver() -> None:
    """Guards against a warm start keeping the L2 penalty built into the layers by the
    first fit: after set_params(alpha=...) the layers must carry the new penalty (and
    the objective include it), and a switch to solver "br", which sets its own penalty
    and rejects layer penalties, must drop it instead of failing."""
    X, y = _iris()
    params = {**FAST, "max_iter": 5, "random_state": 0}
    clf = MLPClassifier(**params, alpha=0.0, warm_start=True).fit(X, y)
    assert all(layer.kernel_regularizer is None for layer in clf.model_.layers)
    clf.set_params(alpha=10.0).fit(X, y)
    assert all(layer.kernel_regularizer == L2(10.0) for layer in clf.model_.layers)
    fresh = MLPClassifier(**params, alpha=10.0).fit(X, y)
    assert clf.loss_ > 0.5 * fresh.loss_ > 5.0  # the penalty of alpha=10 is in the loss
    clf.set_params(solver="br").fit(X, y)
    assert all(layer.kernel_regularizer is None for layer in clf.model_.layers)
    clf.set_params(solver="adam", alpha=1e-3).fit(X, y)
    assert all(layer.kernel_regularizer == L2(1e-3) for layer in clf.model_.layers)


def test_partial_fit_applies_a_changed_alpha() -> None:
    """Guards against partial_fit keeping the L2 penalty of its first call after
    set_params(alpha=...), as scikit-learn reads alpha on every call."""
    X, y = _regression()
    reg = MLPRegressor(hidden_layer_sizes=(8,), alpha=0.0, random_state=0).partial_fit(X, y)
    reg.set_params(alpha=10.0).partial_fit(X, y)
    assert all(layer.kernel_regularizer == L2(10.0) for layer in reg.model_.layers)


def test_verbose_prints_one_line_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = _regression()
    MLPRegressor(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""
    MLPRegressor(hidden_layer_sizes=(2,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    assert capsys.readouterr().out.count("loss") == 3


def test_batch_size_larger_than_data_is_clipped() -> None:
    X, y = _regression()
    with pytest.warns(UserWarning, match="batch_size=500"):
        MLPRegressor(batch_size=500, max_iter=1, random_state=0).fit(X, y)


# ------------------------------------------------------------ validation
BAD_PARAMS = [
    ("hidden_layer_sizes", (10, 0), "positive integer"),
    ("hidden_layer_sizes", "big", "positive integer"),
    ("activation", "relux", "relu, sigmoid|relu.*tanh"),
    ("solver", "newton", "adam.*lbfgs.*lm"),
    ("learning_rate", 0.0, "> 0"),
    ("alpha", -1.0, ">= 0"),
    ("batch_size", "big", ">= 1"),
    ("batch_size", 0, ">= 1"),
    ("max_iter", 2.5, "integer"),
    ("early_stopping", "yes", "True or False"),
    ("validation_fraction", 1.0, r"\(0, 1\)"),
    ("n_iter_no_change", 0, ">= 1"),
    ("tol", float("nan"), "finite"),
    ("verbose", -1, "integer >= 0"),
    ("solver_options", [("momentum", 0.9)], "dict"),
    ("solver_options", {"learning_rate": 0.1}, "'learning_rate' parameter"),
    ("warm_start", None, "True or False"),
]


@pytest.mark.parametrize(("name", "value", "valid"), BAD_PARAMS)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_parameters_raise_in_fit(cls: Any, name: str, value: Any, valid: str) -> None:
    est = cls(**{name: value})  # __init__ only stores
    assert est.get_params()[name] is value
    X, y = _iris()
    with pytest.raises(ValueError, match=f"'{name}'") as info:
        est.fit(X, y)
    assert info.match(valid)


def test_unknown_solver_option_names_the_parameter() -> None:
    X, y = _iris()
    with pytest.raises(ValueError, match=r"solver_options.*momentum.*valid options"):
        MLPClassifier(solver="adam", solver_options={"momentum": 0.9}).fit(X, y)


def test_one_class_is_rejected() -> None:
    X, y = _iris()
    with pytest.raises(ValueError, match="1 class"):
        MLPClassifier().fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="positive sample_weight; got 1 class"):
        MLPClassifier().fit(X, y, sample_weight=(y == 1).astype(float))


# ------------------------------------------------------------ perceptron
def test_perceptron_binary_separable() -> None:
    X, y = make_blobs(n_samples=60, centers=[[-3, -3], [3, 3]], random_state=0)
    labels = np.array(["neg", "pos"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = PerceptronClassifier(random_state=0).fit(X, labels)
    assert clf.score(X, labels) == 1.0
    assert clf.coef_.shape == (1, 2) and clf.intercept_.shape == (1,)
    assert clf.decision_function(X).shape == (60,)
    assert clf.estimators_[0].converged_


def test_perceptron_one_vs_rest() -> None:
    X, y = make_blobs(n_samples=90, centers=[[-5, 0], [0, 5], [5, 0]], random_state=0)
    clf = PerceptronClassifier(random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 2) and len(clf.estimators_) == 3
    assert clf.decision_function(X).shape == (90, 3)
    assert clf.score(X, y) > 0.95


def test_perceptron_warns_on_xor() -> None:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    with pytest.warns(ConvergenceWarning, match="max_iter=20"):
        PerceptronClassifier(max_iter=20, random_state=0).fit(X, [0, 1, 1, 0])


@pytest.mark.parametrize(("name", "value"), [("learning_rate", -1.0), ("max_iter", 0),
                                             ("shuffle", "no"), ("fit_intercept", 1)])
def test_perceptron_bad_parameters(name: str, value: Any) -> None:
    X, y = make_classification(n_samples=20, random_state=0)
    with pytest.raises(ValueError, match=f"'{name}'"):
        PerceptronClassifier(**{name: value}).fit(X, y)
