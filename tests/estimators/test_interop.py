"""What scikit-learn users reach for first: class_weight, validation data and curves,
callbacks, warm_start's n_iter_, L-BFGS's curve, scikit-learn's parameter names and the
coefs_/intercepts_ views (issue 15, sections 1 and 2)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.preprocessing import StandardScaler

from ffnn.callbacks import Callback, EarlyStopping
from ffnn.estimators import MLPClassifier, MLPRegressor
from ffnn.estimators.params import SKLEARN_SPELLINGS
from ffnn.exceptions import ConvergenceWarning
from ffnn.optimizers import OPTIMIZERS, FullBatchOptimizer


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["setosa", "versicolor", "virginica"])[y]


def _regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=120, n_features=4, noise=0.1, random_state=0)
    return X, y / np.std(y)


FAST = {"hidden_layer_sizes": (8,), "learning_rate": 0.01, "max_iter": 5, "random_state": 0}


# ------------------------------------------------------------------ class_weight
@pytest.mark.parametrize("solver", OPTIMIZERS.names(aliases=False))
def test_class_weight_equals_the_equivalent_sample_weight(solver: str) -> None:
    """For every registered solver (LM/BR fit weighted residuals) the class weights give
    exactly the fit of sample_weight = weight of each sample's class, and change it."""
    X, y = _iris()
    cw = {"setosa": 0.2, "versicolor": 5.0}
    params = {**FAST, "solver": solver}
    by_class = MLPClassifier(**params, class_weight=cw).fit(X, y)
    sw = np.array([cw.get(label, 1.0) for label in y])
    by_sample = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    for a, b in zip(by_class.coefs_ + by_class.intercepts_,
                    by_sample.coefs_ + by_sample.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    plain = MLPClassifier(**params).fit(X, y)
    assert not np.array_equal(plain.coefs_[0], by_class.coefs_[0])


def test_balanced_class_weight_with_early_stopping_and_sample_weight() -> None:
    """"balanced" is n / (n_classes · n_c) on the training labels; it multiplies
    sample_weight, and the held-out validation score is weighted the same way."""
    X, y = _iris()
    keep = np.r_[0:50, 50:70, 100:150]  # 50, 20 and 50 samples
    X, y = X[keep], y[keep]
    counts = {"setosa": 50, "versicolor": 20, "virginica": 50}
    sw = np.linspace(1.0, 2.0, len(y))
    balanced = np.array([len(y) / (3 * counts[label]) for label in y])
    params = {**FAST, "early_stopping": True, "max_iter": 8}
    a = MLPClassifier(**params, class_weight="balanced").fit(X, y, sample_weight=sw)
    b = MLPClassifier(**params).fit(X, y, sample_weight=sw * balanced)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.validation_scores_ == b.validation_scores_


def test_class_weight_errors_name_the_problem() -> None:
    X, y = _iris()
    with pytest.raises(ValueError, match=r"classes \['cat'\] that are not among"):
        MLPClassifier(**FAST, class_weight={"cat": 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="'class_weight' parameter must be None, 'balanced'"):
        MLPClassifier(**FAST, class_weight="auto").fit(X, y)
    with pytest.raises(ValueError, match="partial_fit cannot use it"):
        MLPClassifier(**FAST, class_weight="balanced").partial_fit(X, y, classes=np.unique(y))
    with pytest.raises(ValueError, match="not supported for multi-label"):
        MLPClassifier(**FAST, class_weight={0: 2.0}).fit(X, np.eye(3)[np.arange(150) % 3] > 0)


# ------------------------------------------------------------ validation data
def test_validation_data_give_the_validation_loss_curve() -> None:
    """fit(X, y, X_val=..., y_val=...): one validation loss per epoch, the last equal to
    the network's objective on the validation set; scores are the validation R²."""
    X, y = _regression()
    reg = MLPRegressor(**{**FAST, "max_iter": 6}).fit(X[:90], y[:90], X_val=X[90:],
                                                       y_val=y[90:])
    assert len(reg.validation_loss_curve_) == len(reg.loss_curve_) == reg.n_iter_ == 6
    last = reg.model_.evaluate(X[90:], y[90:], verbose=0)
    assert reg.validation_loss_curve_[-1] == pytest.approx(last, rel=1e-12)
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X[90:], y[90:]), rel=1e-12)
    assert reg.best_loss_ is not None  # no early stopping: the training-loss rule


def test_early_stopping_uses_the_given_validation_data() -> None:
    X, y = _iris()
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    clf = MLPClassifier(**{**FAST, "max_iter": 60}, early_stopping=True, n_iter_no_change=3)
    clf.fit(X[:100], y[:100], X_val=X[100:], y_val=y[100:])
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.validation_loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X[100:], y[100:]) == clf.best_validation_score_  # best weights kept


def test_validation_data_are_checked() -> None:
    X, y = _iris()
    with pytest.raises(ValueError, match="need both X_val and y_val"):
        MLPClassifier(**FAST).fit(X, y, X_val=X)
    with pytest.raises(ValueError, match=r"y_val has classes \['dog'\]"):
        MLPClassifier(**FAST).fit(X, y, X_val=X[:2], y_val=["dog", "setosa"])
    with pytest.raises(ValueError, match="features"):
        MLPClassifier(**FAST).fit(X, y, X_val=X[:, :2], y_val=y)


# ----------------------------------------------------------------- callbacks
class _Epochs(Callback):
    def __init__(self) -> None:
        self.logs: list[dict[str, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.logs.append(dict(logs or {}))


def test_callbacks_parameter_takes_ffnn_callbacks() -> None:
    """ffnn callbacks see every epoch with the validation values; EarlyStopping on
    val_loss stops the estimator; clone keeps the parameter."""
    X, y = _regression()
    seen = _Epochs()
    reg = MLPRegressor(**{**FAST, "max_iter": 4}, callbacks=[seen])
    reg.fit(X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    assert [log["val_loss"] for log in seen.logs] == reg.validation_loss_curve_
    assert [log["val_score"] for log in seen.logs] == reg.validation_scores_
    stop = MLPRegressor(**{**FAST, "max_iter": 200, "learning_rate": 0.5},
                        callbacks=[EarlyStopping(monitor="val_loss", patience=0)])
    stop.fit(X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    assert stop.n_iter_ < 200
    assert isinstance(clone(stop).callbacks[0], EarlyStopping)
    with pytest.raises(ValueError, match="list of ffnn callbacks"):
        MLPRegressor(callbacks=[print]).fit(X, y)


# ------------------------------------------------------ iterations and curves
def test_lbfgs_loss_curve_has_one_value_per_iteration() -> None:
    X, y = _regression()
    reg = MLPRegressor(solver="lbfgs", max_iter=15, tol=0.0, random_state=0).fit(X, y)
    assert reg.n_iter_ == 15 == len(reg.loss_curve_)
    assert reg.loss_ == reg.loss_curve_[-1]
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    reg.set_params(warm_start=True).fit(X, y)
    assert reg.n_iter_ == 15 and len(reg.loss_curve_) == 30


def test_partial_fit_still_counts_every_call() -> None:
    X, y = _regression()
    reg = MLPRegressor(**FAST)
    for _ in range(3):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 3 == len(reg.loss_curve_)


# ---------------------------------------------------- scikit-learn's spellings
@pytest.mark.parametrize("name", sorted(SKLEARN_SPELLINGS))
def test_sklearn_parameter_names_fail_naming_ffnns(name: str) -> None:
    with pytest.raises(TypeError, match=f"{name!r} \\(scikit-learn's spelling\\); in ffnn use"):
        MLPClassifier(**{name: 0.5})


def test_sklearn_learning_rate_schedule_names_learning_rate_init() -> None:
    X, y = _iris()
    with pytest.raises(ValueError, match="learning_rate_init"):
        MLPClassifier(learning_rate="adaptive").fit(X, y)


def test_identity_activation_and_shuffle() -> None:
    """activation="identity" is scikit-learn's name of the linear unit; shuffle=False
    trains on the samples in order (reproducible whatever the shuffling stream)."""
    X, y = _regression()
    reg = MLPRegressor(**FAST, activation="identity").fit(X, y)
    assert reg.model_.layers[0].activation.name == "linear"
    kept = [MLPRegressor(**{**FAST, "batch_size": 16}, shuffle=False).fit(X, y)
            for _ in range(2)]
    shuffled = MLPRegressor(**{**FAST, "batch_size": 16}).fit(X, y)
    np.testing.assert_array_equal(kept[0].coefs_[0], kept[1].coefs_[0])
    assert not np.array_equal(kept[0].coefs_[0], shuffled.coefs_[0])


def test_coefs_and_intercepts_are_read_only_views_in_sklearn_layout() -> None:
    X, y = _iris()
    clf = MLPClassifier(**{**FAST, "hidden_layer_sizes": (7, 5)}).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    W = clf.model_.get_weights()
    np.testing.assert_array_equal(clf.coefs_[0], W[0].T)
    np.testing.assert_array_equal(clf.intercepts_[2], W[5])
    with pytest.raises(ValueError, match="read-only"):
        clf.coefs_[0][0, 0] = 1.0
    manual = X @ clf.coefs_[0] + clf.intercepts_[0]
    np.testing.assert_allclose(manual, X @ W[0].T + W[1], rtol=1e-12)
    with pytest.raises(AttributeError, match="not fitted"):
        _ = MLPClassifier().coefs_


def test_full_batch_solvers_are_in_the_registry_test() -> None:
    """The class_weight parametrisation covers the full-batch solvers (LM, BR, L-BFGS)."""
    names = OPTIMIZERS.names(aliases=False)
    assert {"lm", "br", "lbfgs"} <= set(names)
    assert any(issubclass(OPTIMIZERS.lookup(n), FullBatchOptimizer) for n in names)
