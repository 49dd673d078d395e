"""The machinery shared by the scikit-learn estimators of :mod:`ffnn.estimators`.

:class:`BaseMLP` holds the parameters, their validation (done in ``fit``, never in
``__init__``), the construction of the :class:`ffnn.Sequential`, and the training
driver with scikit-learn's stopping rules (:class:`SklearnStopping`). The public
classes in :mod:`.mlp` add the target encoding and the prediction methods.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .. import _validation as validation
from .. import optim
from ..exceptions import ConvergenceWarning
from ..nn.activations import ACTIVATIONS
from ..nn.layers import Dense
from ..nn.regularizers import L2
from ..training import Sequential
from ..training.callbacks import Callback

__all__ = ["BaseMLP", "SklearnStopping", "check_bool", "check_choice", "check_number"]

ACCEPT_SPARSE = ("csr", "csc", "coo")
FLOAT_DTYPES = (np.float64, np.float32)
_SEED_MAX = np.iinfo(np.int32).max


def _parameter(name: str) -> str:
    return f"the {name!r} parameter"


def check_choice(name: str, value: Any, choices: list[str]) -> str:
    """``value`` lower-cased if it is one of ``choices`` (case-insensitive), else ValueError."""
    lowered = value.lower() if isinstance(value, str) else value
    return validation.check_choice(_parameter(name), lowered, choices)


def check_number(
    name: str, value: Any, kind: type = numbers.Real, low: float = 0.0, strict: bool = False
) -> Any:
    """``value`` if it is a finite ``kind`` (Real or Integral) ≥ ``low`` (> if ``strict``).

    Always ValueError, as scikit-learn's parameter validation (a wrong type is a wrong
    value of the parameter), with its bound in the message."""
    if kind is numbers.Integral:
        ok = validation.is_int(value)
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    ok = ok and np.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        what = "an integer" if kind is numbers.Integral else "a finite number"
        raise ValueError(f"{_parameter(name)} must be {what} {'>' if strict else '>='} "
                         f"{low:g}; got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is True or False, else a ValueError."""
    try:
        return validation.check_bool(_parameter(name), value)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def check_sample_weight(sample_weight: Any, X: np.ndarray) -> np.ndarray:
    """``sample_weight`` as a finite, non-negative float array of shape (n_samples,) in
    X's dtype, not all zero (a scalar weighs every sample the same), with scikit-learn's public
    ``check_array`` for the conversion; ValueError naming the problem otherwise."""
    n = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        return np.full(n, sample_weight, dtype=X.dtype)
    sw = check_array(sample_weight, ensure_2d=False, dtype=X.dtype, order="C",
                     input_name="sample_weight")
    if sw.ndim != 1 or sw.shape[0] != n:
        raise ValueError(f"sample_weight must have shape ({n},), got {sw.shape}")
    if (sw < 0).any():
        raise ValueError("sample_weight must be non-negative (negative values are not "
                         "allowed)")
    if n and not sw.any():
        raise ValueError("sample_weight is zero for every sample: there is nothing to fit")
    return sw


class SklearnStopping(Callback):
    """scikit-learn's MLP stopping rule as an ffnn callback.

    After each epoch the training loss is appended to the estimator's ``loss_curve_``.
    Without validation data an epoch counts as "no improvement" when its loss exceeds
    ``best_loss − tol``; with validation data (early stopping) when the validation
    score (accuracy or R²) is below ``best_score + tol``, and the weights of the
    best-scoring epoch are kept in :attr:`best_weights`. Training stops after
    ``n_iter_no_change + 1`` consecutive such epochs, as in scikit-learn's MLP.

    Parameters
    ----------
    estimator : BaseMLP
        Provides ``tol``, ``n_iter_no_change``, ``loss_curve_`` and the scorer.
    validation : (X, y, sample_weight) or None
    best_loss : float
        The best loss before this training run (``inf`` for a fresh one).
    no_improvement : int
        Epochs without improvement before this run.
    """

    def __init__(self, estimator: BaseMLP, validation: tuple[Any, Any, Any] | None,
                 best_loss: float = np.inf, no_improvement: int = 0) -> None:
        self.estimator = estimator
        self.validation = validation
        self.best_loss = best_loss
        self.best_score = -np.inf
        self.scores: list[float] = []
        self.no_improvement = no_improvement
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Record the epoch and stop training when it has stopped improving."""
        est, logs = self.estimator, logs if logs is not None else {}
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        if self.validation is not None:
            score = est._score_arrays(*self.validation)
            logs["val_score"] = score
            self.scores.append(score)
            improved = score >= self.best_score + est.tol
            if score > self.best_score:
                self.best_score = score
                self.best_weights = self.model.get_weights()
            what = "Validation score"
        else:
            improved = loss <= self.best_loss - est.tol
            what = "Training loss"
        self.best_loss = min(self.best_loss, loss)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.no_improvement > est.n_iter_no_change:
            self.model.stop_training = True
            self.model.stop_reason = (
                f"{what} did not improve more than tol={est.tol} for "
                f"{est.n_iter_no_change} consecutive epochs"
            )


class BaseMLP(BaseEstimator):
    """Parameters, validation, network construction and training of the MLP estimators.

    Subclasses implement ``_encode_targets`` (targets → network targets),
    ``_output_layer`` (units, activation, loss), ``_score_arrays`` and ``_stratify``.
    See :class:`ffnn.estimators.MLPClassifier` for the parameters.
    """

    def __ffnn_onnx_plan__(self) -> Any:
        """The ONNX export plan of this fitted estimator (see :func:`ffnn.export_onnx`)."""
        from sklearn.base import is_classifier
        from sklearn.utils.validation import check_is_fitted

        from .onnx_plans import mlp_plan

        check_is_fitted(self)
        return mlp_plan(self, classifier=is_classifier(self))

    _no_improvement_count: int = 0  # carried between partial_fit calls

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        solver: str = "adam",
        learning_rate: float = 1e-3,
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        random_state: Any = None,
        verbose: bool | int = False,
        solver_options: dict[str, Any] | None = None,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.solver_options = solver_options
        self.warm_start = warm_start

    # ---------------------------------------------------------------- checks
    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
        try:
            out = tuple(sizes)
        except TypeError:
            out = (None,)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and int(s) > 0
                   for s in out):
            raise ValueError(
                "the 'hidden_layer_sizes' parameter must be a positive integer or a sequence "
                f"of positive integers (one per hidden layer); got {self.hidden_layer_sizes!r}"
            )
        return tuple(int(s) for s in out)

    def _check_params(self) -> None:
        """Validate every parameter; each error names the parameter and the valid values."""
        self._hidden_sizes()
        check_choice("activation", self.activation, ACTIVATIONS.names())
        check_choice("solver", self.solver, optim.OPTIMIZERS.names())
        check_number("learning_rate", self.learning_rate, strict=True)
        check_number("alpha", self.alpha)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_number("batch_size", self.batch_size, numbers.Integral, low=1)
        check_number("max_iter", self.max_iter, numbers.Integral, low=1)
        check_bool("early_stopping", self.early_stopping)
        frac = check_number("validation_fraction", self.validation_fraction, strict=True)
        if frac >= 1:
            raise ValueError("the 'validation_fraction' parameter must lie in (0, 1); "
                             f"got {frac!r}")
        check_number("n_iter_no_change", self.n_iter_no_change, numbers.Integral, low=1)
        check_number("tol", self.tol)
        verbose = self.verbose
        if not isinstance(verbose, (bool, np.bool_, numbers.Integral)) or int(verbose) < 0:
            raise ValueError("the 'verbose' parameter must be True, False or an integer >= 0; "
                             f"got {verbose!r}")
        check_bool("warm_start", self.warm_start)
        options = self.solver_options
        if options is not None and not isinstance(options, Mapping):
            raise ValueError("the 'solver_options' parameter must be None or a dict of "
                             f"options for the {self.solver!r} optimizer; got {options!r}")
        if options is not None and "learning_rate" in options:
            raise ValueError("set the learning rate with the 'learning_rate' parameter, not "
                             "in 'solver_options'")

    @property
    def _solver_class(self) -> type[optim.BaseOptimizer]:
        return optim.OPTIMIZERS.lookup(check_choice("solver", self.solver,
                                                    optim.OPTIMIZERS.names()))

    @property
    def _full_batch(self) -> bool:
        return issubclass(self._solver_class, optim.FullBatchOptimizer)

    def _optimizer(self) -> optim.BaseOptimizer:
        """A fresh optimiser: ``learning_rate`` (if the solver has one) and solver_options."""
        cls = self._solver_class
        options: dict[str, Any] = {}
        if cls is optim.LBFGS:  # as scikit-learn: max_iter iterations, gtol = tol
            options.update(maxiter=int(self.max_iter), gtol=float(self.tol), max_fun=15000)
        elif not issubclass(cls, optim.FullBatchOptimizer):
            options["learning_rate"] = float(self.learning_rate)
        options.update(self.solver_options or {})
        try:
            return optim.get(self.solver, **options)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid 'solver_options' {self.solver_options!r} for solver "
                             f"{self.solver!r}: {exc}") from None

    # ---------------------------------------------------------------- network
    def _architecture(self, n_features: int, n_outputs: int) -> tuple[Any, ...]:
        return (n_features, self._hidden_sizes(), self.activation.lower(), n_outputs)

    def _build_model(self, n_features: int, n_outputs: int, dtype: Any,
                     optimizer: optim.BaseOptimizer) -> Sequential:
        """Dense hidden layers and the output layer, each weight matrix with the penalty
        ½·alpha·‖W‖² (none under Bayesian regularisation, which sets its own), compiled
        with ``optimizer``."""
        units, out_activation, loss = self._output_layer(n_outputs)
        reg = self._regularizer(optimizer)
        layers = [Dense(h, activation=self.activation.lower(), kernel_regularizer=reg)
                  for h in self._hidden_sizes()]
        layers.append(Dense(units, activation=out_activation, kernel_regularizer=reg))
        model = Sequential(layers, seed=int(self._rng.randint(_SEED_MAX)), dtype=dtype)
        model.build(n_features)
        self._compile(model, optimizer, loss)
        return model

    def _regularizer(self, optimizer: optim.BaseOptimizer) -> L2 | None:
        """The weight penalty ½·alpha·‖W‖² of the current ``alpha``, or None when alpha is
        0 or ``optimizer`` is Bayesian regularisation (which sets its own penalty)."""
        if getattr(optimizer, "bayesian", False) or self.alpha == 0:
            return None
        return L2(float(self.alpha))

    def _reset_regularizers(self, optimizer: optim.BaseOptimizer) -> None:
        """Give every Dense layer of ``model_`` the penalty of the current ``alpha`` and
        solver, so that a continued fit honours parameters changed since the last one."""
        reg = self._regularizer(optimizer)
        for layer in self.model_.layers:
            if isinstance(layer, Dense):
                layer.kernel_regularizer = reg

    @staticmethod
    def _compile(model: Sequential, optimizer: optim.BaseOptimizer, loss: str) -> None:
        if isinstance(optimizer, optim.LevenbergMarquardt):
            loss = "mse"  # Levenberg–Marquardt and BR need a least-squares loss
        model.compile(optimizer=optimizer, loss=loss)

    # ------------------------------------------------------------------ data
    def _validate_X(self, X: Any, reset: bool = False) -> np.ndarray:
        X = validate_data(self, X, reset=reset, accept_sparse=ACCEPT_SPARSE,
                          dtype=FLOAT_DTYPES)
        return X.toarray() if sparse.issparse(X) else X

    def _validate_Xy(self, X: Any, y: Any, reset: bool, y_numeric: bool) -> tuple[Any, Any]:
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=ACCEPT_SPARSE,
                             dtype=FLOAT_DTYPES, multi_output=True, y_numeric=y_numeric)
        return (X.toarray() if sparse.issparse(X) else X), y

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray(self.model_.predict(self._validate_X(X)))

    # ------------------------------------------------------------------ fit
    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool,
             classes: Any = None) -> Any:
        self._check_params()
        optimizer = self._optimizer()
        first = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = self._validate_Xy(X, y, reset=first, y_numeric=self._y_numeric)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        targets = self._encode_targets(y, first=first, incremental=incremental,
                                       classes=classes)
        sw = None
        if sample_weight is not None:
            sw = check_sample_weight(sample_weight, X)
            self._check_weighted_targets(y, sw, incremental)
        if not incremental or first:
            self._rng = check_random_state(self.random_state)
        arch = self._architecture(X.shape[1], targets.shape[1])
        if first:
            self.model_ = self._build_model(X.shape[1], targets.shape[1], X.dtype, optimizer)
            self._arch = arch
            self.n_iter_ = 0
            self.loss_curve_: list[float] = []
        elif arch != self._arch:
            how = "partial_fit" if incremental else "warm_start"
            raise ValueError(f"{how} cannot continue training with a different architecture: "
                             f"the model has (n_features, hidden_layer_sizes, activation, "
                             f"n_outputs) = {self._arch}; these data and parameters need {arch}")
        elif not incremental:  # warm start: keep the weights, start a fresh optimiser
            self._reset_regularizers(optimizer)  # alpha or the solver may have changed
            self._compile(self.model_, optimizer, self._output_layer(targets.shape[1])[2])
        else:  # partial_fit keeps the compiled optimiser, but honours a changed alpha
            self._reset_regularizers(self.model_.optimizer)
        self._train(X, targets, y, sw, incremental)
        return self

    def _split(self, X: np.ndarray, targets: np.ndarray, y: np.ndarray, sw: Any,
               early: bool) -> tuple[tuple[Any, ...], tuple[Any, Any, Any] | None]:
        if not early:
            return (X, targets, sw), None
        idx = np.arange(X.shape[0])
        try:
            train, val = train_test_split(idx, test_size=self.validation_fraction,
                                          random_state=self._rng, stratify=self._stratify(y))
        except ValueError as exc:
            raise ValueError(f"early_stopping: cannot hold out validation_fraction="
                             f"{self.validation_fraction} of {len(idx)} samples: {exc}") from None
        sw_train, sw_val = (None, None) if sw is None else (sw[train], sw[val])
        return (X[train], targets[train], sw_train), (X[val], y[val], sw_val)

    def _batch_size(self, n_samples: int) -> int | None:
        if self._full_batch:
            return None
        if isinstance(self.batch_size, str):
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(f"batch_size={self.batch_size} is larger than the {n_samples} "
                          "training samples; it is clipped to the number of samples",
                          UserWarning, stacklevel=5)
        return min(int(self.batch_size), n_samples)

    def _train(self, X: np.ndarray, targets: np.ndarray, y: np.ndarray, sw: Any,
               incremental: bool) -> None:
        lbfgs = self._solver_class is optim.LBFGS
        early = bool(self.early_stopping) and not incremental and not lbfgs
        (xt, tt, swt), val = self._split(X, targets, y, sw, early)
        if swt is not None and np.all(swt == swt[0]):
            swt = None  # equal weights: the weighted mean is the mean (and bit-identical)
        best = getattr(self, "best_loss_", None) if incremental else None
        stopper = SklearnStopping(self, val, np.inf if best is None else best,
                                  self._no_improvement_count if incremental else 0)
        epochs = 1 if incremental or lbfgs else int(self.max_iter)
        history = self.model_.fit(
            xt, tt, epochs=epochs, batch_size=self._batch_size(len(xt)), shuffle=True,
            callbacks=[stopper], verbose=2 if self.verbose else 0,
            seed=int(self._rng.randint(_SEED_MAX)), sample_weight=swt)
        if stopper.best_weights is not None:
            self.model_.set_weights(stopper.best_weights)
        ran = len(history.epoch)
        self.n_iter_ += int(self.model_.optimizer.epoch_logs["iterations"]) if lbfgs else ran
        self.loss_ = self.loss_curve_[-1]
        self._no_improvement_count = stopper.no_improvement
        self.best_loss_ = None if early else stopper.best_loss
        self.validation_scores_ = stopper.scores if early else None
        self.best_validation_score_ = stopper.best_score if early else None
        if not (incremental or history.stop_reason or ran < epochs):
            warnings.warn(f"{type(self).__name__}: solver {self.solver!r} reached max_iter="
                          f"{self.max_iter} without converging", ConvergenceWarning,
                          stacklevel=4)

    # ------------------------------------------------------------ subclasses
    _y_numeric = False

    def _output_layer(self, n_outputs: int) -> tuple[int, str, str]:
        raise NotImplementedError

    def _encode_targets(self, y: np.ndarray, first: bool, incremental: bool,
                        classes: Any) -> np.ndarray:
        raise NotImplementedError

    def _check_weighted_targets(self, y: np.ndarray, sw: np.ndarray, incremental: bool) -> None:
        """Hook: reject weights that leave a degenerate problem (classifiers)."""

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        return None

    def _score_arrays(self, X: np.ndarray, y: np.ndarray, sw: Any) -> float:
        raise NotImplementedError
