"""The machinery shared by the scikit-learn estimators of :mod:`ffnn.estimators`.

:class:`BaseMLP` holds the parameters, their validation (done in ``fit``, never in
``__init__``), the construction of the :class:`ffnn.Sequential`, and the training
driver with scikit-learn's stopping rules (:class:`.stopping.SklearnStopping`). The
public classes in :mod:`.mlp` add the target encoding and the prediction methods; the
parameter checks live in :mod:`.params`, the model-file round trip in :mod:`.persistence`.
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
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .. import optim
from ..exceptions import ConvergenceWarning
from ..nn.activations import ACTIVATIONS
from ..nn.layers import Dense
from ..nn.regularizers import L2
from ..training import Sequential
from ..training.callbacks import Callback
from .params import (
    SklearnSpellings,
    check_bool,
    check_choice,
    check_number,
    check_sample_weight,
)
from .stopping import SklearnStopping

__all__ = ["BaseMLP"]

ACCEPT_SPARSE = ("csr", "csc", "coo")
FLOAT_DTYPES = (np.float64, np.float32)
_SEED_MAX = np.iinfo(np.int32).max


class BaseMLP(BaseEstimator, SklearnSpellings):
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

    def __ffnn_save__(self) -> tuple[Sequential, dict[str, Any]]:
        """The network and the ``"estimator"`` section of this fitted estimator's model
        file (see :func:`ffnn.save` and :mod:`.persistence`)."""
        from .file_state import state

        check_is_fitted(self)
        return state(self)

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
        shuffle: bool = True,
        callbacks: list[Callback] | None = None,
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
        self.shuffle = shuffle
        self.callbacks = callbacks

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
        if isinstance(self.learning_rate, str):
            raise ValueError(f"the 'learning_rate' parameter is the step size, a number > 0 "
                             f"(scikit-learn's learning_rate_init); got {self.learning_rate!r}"
                             "; for a schedule use a learning-rate callback in callbacks=")
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
        check_bool("shuffle", self.shuffle)
        callbacks = self.callbacks
        if callbacks is not None and (not isinstance(callbacks, (list, tuple)) or not all(
                isinstance(cb, Callback) for cb in callbacks)):
            raise ValueError("the 'callbacks' parameter must be None or a list of ffnn "
                             f"callbacks (ffnn.callbacks.Callback); got {callbacks!r}")
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
        return X.tocsr() if sparse.issparse(X) else X  # the network densifies per batch

    def _validate_Xy(self, X: Any, y: Any, reset: bool, y_numeric: bool) -> tuple[Any, Any]:
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=ACCEPT_SPARSE,
                             dtype=FLOAT_DTYPES, multi_output=True, y_numeric=y_numeric)
        return (X.tocsr() if sparse.issparse(X) else X), y

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray(self.model_.predict(self._validate_X(X)))

    # ------------------------------------------------------------------ fit
    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool,
             classes: Any = None, validation: tuple[Any, Any, Any] | None = None) -> Any:
        self._check_params()
        optimizer = self._optimizer()
        first = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = self._validate_Xy(X, y, reset=first, y_numeric=self._y_numeric)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        targets = self._encode_targets(y, first=first, incremental=incremental,
                                       classes=classes)
        sw = None if sample_weight is None else check_sample_weight(sample_weight, X)
        sw = self._class_weights(y, sw, X.dtype, incremental)
        if sw is not None:
            self._check_weighted_targets(y, sw, incremental)
        val = None if validation is None else self._validation_set(*validation, X.dtype,
                                                                    incremental)
        if not incremental or first:
            self._rng = check_random_state(self.random_state)
        arch = self._architecture(X.shape[1], targets.shape[1])
        if first:
            self.model_ = self._build_model(X.shape[1], targets.shape[1], X.dtype, optimizer)
            self._arch = arch
            self.n_iter_ = 0
            self.loss_curve_: list[float] = []
            self.validation_loss_curve_: list[float] = []
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
        self._train(X, targets, y, sw, incremental, val)
        return self

    def _validation_set(self, X_val: Any, y_val: Any, sw_val: Any, dtype: Any,
                        incremental: bool) -> tuple[Any, ...]:
        """(X, network targets, y, sample weights) of the validation data given to fit."""
        if X_val is None or y_val is None:
            raise ValueError("validation data need both X_val and y_val")
        X_val, y_val = self._validate_Xy(X_val, y_val, reset=False,
                                         y_numeric=self._y_numeric)
        X_val = X_val.astype(dtype, copy=False)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val)
        sw = None if sw_val is None else check_sample_weight(sw_val, X_val)
        sw = self._class_weights(y_val, sw, dtype, incremental)
        return X_val, self._encode_validation(y_val), y_val, sw

    def _split(self, X: np.ndarray, targets: np.ndarray, y: np.ndarray, sw: Any,
               early: bool) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
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
        return (X[train], targets[train], sw_train), (X[val], targets[val], y[val], sw_val)

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
               incremental: bool, given: tuple[Any, ...] | None) -> None:
        lbfgs = self._solver_class is optim.LBFGS
        early = bool(self.early_stopping) and not incremental and not lbfgs
        if given is None:
            (xt, tt, swt), val = self._split(X, targets, y, sw, early)
        else:
            (xt, tt, swt), val = (X, targets, sw), given
        if swt is not None and np.all(swt == swt[0]):
            swt = None  # equal weights: the weighted mean is the mean (and bit-identical)
        best = getattr(self, "best_loss_", None) if incremental else None
        stopper = SklearnStopping(self, None if val is None else (val[0], val[2], val[3]),
                                  early, np.inf if best is None else best,
                                  self._no_improvement_count if incremental else 0, lbfgs)
        epochs = 1 if incremental or lbfgs else int(self.max_iter)
        history = self.model_.fit(
            xt, tt, epochs=epochs, batch_size=self._batch_size(xt.shape[0]),
            shuffle=bool(self.shuffle), callbacks=[stopper, *(self.callbacks or ())],
            validation_data=None if val is None else (val[0], val[1], val[3]),
            verbose=2 if self.verbose else 0, seed=int(self._rng.randint(_SEED_MAX)),
            sample_weight=swt)
        if early and stopper.best_weights is not None:
            self.model_.set_weights(stopper.best_weights)
        ran = len(history.epoch)
        if lbfgs:
            self.loss_curve_.extend(self.model_.optimizer.trace)  # one value per iteration
            ran = int(self.model_.optimizer.epoch_logs["iterations"])
        self.n_iter_ = self.n_iter_ + ran if incremental else ran  # per call (scikit-learn ≥1.3)
        self.loss_ = (self.loss_curve_[-1] if self.loss_curve_
                      else float(history.history["loss"][-1]))
        self._no_improvement_count = stopper.no_improvement
        self.best_loss_ = None if early else stopper.best_loss
        self.validation_scores_ = stopper.scores if val is not None else None
        self.best_validation_score_ = stopper.best_score if val is not None else None
        if not (incremental or history.stop_reason or len(history.epoch) < epochs):
            warnings.warn(f"{type(self).__name__}: solver {self.solver!r} reached max_iter="
                          f"{self.max_iter} without converging", ConvergenceWarning,
                          stacklevel=4)

    # ------------------------------------------------------------ sklearn views
    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrices in scikit-learn's layout (inputs, units): read-only views
        of the network's kernels (ffnn stores W as (units, inputs))."""
        return [_read_only(layer.kernel.data.T) for layer in self._dense_layers()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vectors, one per layer: read-only views."""
        return [_read_only(layer.bias.data) for layer in self._dense_layers()
                if layer.bias is not None]  # the estimators' layers always have one

    def _dense_layers(self) -> list[Dense]:
        if "model_" not in vars(self):
            raise AttributeError(f"this {type(self).__name__} is not fitted yet: coefs_ and "
                                 "intercepts_ exist after fit")
        return [lay for lay in self.model_.layers if isinstance(lay, Dense)]

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

    def _class_weights(self, y: np.ndarray, sw: np.ndarray | None, dtype: Any,
                       incremental: bool) -> np.ndarray | None:
        """Hook: the sample weights times the class weights (classifiers)."""
        return sw

    def _encode_validation(self, y: np.ndarray) -> np.ndarray:
        """Hook: validation targets as network targets, checked against the fit's."""
        raise NotImplementedError

    def _score_arrays(self, X: np.ndarray, y: np.ndarray, sw: Any) -> float:
        raise NotImplementedError


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view
