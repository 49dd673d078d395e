"""The multi-layer perceptron regressor, :class:`MLPRegressor`."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from .base import BaseMLP
from .params import stochastic as _stochastic

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor trained by backpropagation (scikit-learn API).

    A network of ``Dense`` hidden layers and a linear output layer fitted by minimising
    the mean squared error (1/(n·k)) Σᵢ Σⱼ (yᵢⱼ − ŷᵢⱼ)² over n samples and k outputs,
    plus ½·alpha·‖W‖² for every weight matrix W. (scikit-learn's MLPRegressor
    minimises half of that mean squared error.) Multi-output targets are supported.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        Units of each hidden layer; ``()`` gives a linear regression.
    activation : str, default "relu"
        Hidden-layer activation, any name of ``ffnn.activations.ACTIVATIONS``.
    solver : str, default "adam"
        Any name of ``ffnn.optimizers.OPTIMIZERS`` (sgd, adam, adamw, rmsprop, adagrad,
        lbfgs, lm/trainlm, br/trainbr).
    learning_rate : float, default 1e-3
        Step size of the mini-batch solvers (ignored by lbfgs, lm and br).
    alpha : float, default 1e-4
        L2 penalty ½·alpha·‖W‖²_F per weight matrix, added to the mean loss
        (scikit-learn adds alpha/(2·n_batch)·‖W‖²). Ignored by ``"br"``.
    batch_size : int or "auto", default "auto"
        Mini-batch size; "auto" is min(200, n_samples).
    max_iter : int, default 200
        Maximum number of epochs (for lbfgs: of L-BFGS iterations).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data and stop when the validation R²
        stops improving; the best weights are kept. Not used by lbfgs.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
    tol : float, default 1e-4
    random_state : int, RandomState instance or None, default None
        Re-applied on every call to ``fit``.
    verbose : bool or int, default False
    solver_options : dict, optional
        Options of the solver's constructor, e.g. ``{"mu": 0.01}`` for lm.
    warm_start : bool, default False
    shuffle : bool, default True
    callbacks : list of ffnn.callbacks.Callback, optional
        See :class:`MLPClassifier`.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    out_activation_ : str
        "linear".
    model_ : ffnn.Sequential
    coefs_, intercepts_ : list of ndarray
        Read-only views of the weights in scikit-learn's layout, (inputs, units).
    n_iter_ : int
        Epochs of the last ``fit`` call (``partial_fit`` adds one per call).
    loss_ : float
    loss_curve_ : list of float
    validation_loss_curve_ : list of float
    best_loss_ : float or None
    validation_scores_ : list of float or None
        The validation R² of every epoch with validation data, else None.
    best_validation_score_ : float or None

    See Also
    --------
    MLPClassifier, sklearn.neural_network.MLPRegressor

    Examples
    --------
    >>> import numpy as np
    >>> from ffnn.estimators import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(10,), solver="lm", max_iter=50,
    ...                    random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.score(X, X[:, 0] ** 2) > 0.99
    True
    """

    _y_numeric = True

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, X_val: Any = None,
            y_val: Any = None, sample_weight_val: Any = None) -> MLPRegressor:
        """Fit the network to ``X`` and targets ``y`` of shape (n_samples,) or
        (n_samples, n_outputs); validation data as in :meth:`MLPClassifier.fit`
        (``validation_scores_`` then holds their R²)."""
        validation = None if X_val is None and y_val is None \
            else (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, keeping the optimiser's state between calls
        (mini-batch solvers only)."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _output_layer(self, n_outputs: int) -> tuple[int, str, str]:
        return n_outputs, "linear", "mse"

    def _encode_targets(self, y: np.ndarray, first: bool, incremental: bool,
                        classes: Any) -> np.ndarray:
        targets = y.reshape(len(y), -1).astype(np.float64, copy=False)
        self.n_outputs_ = targets.shape[1]
        self.out_activation_ = "linear"
        return targets

    def _encode_validation(self, y: np.ndarray) -> np.ndarray:
        targets = y.reshape(len(y), -1).astype(np.float64, copy=False)
        if targets.shape[1] != self.n_outputs_:
            raise ValueError(f"y_val has {targets.shape[1]} outputs but y has "
                             f"{self.n_outputs_}")
        return targets

    def _score_arrays(self, X: np.ndarray, y: np.ndarray, sw: Any) -> float:
        return float(r2_score(y, self.model_.predict(X).reshape(y.shape), sample_weight=sw))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape (n_samples,) for one output, else (n_samples, n_outputs)."""
        out = self._outputs(X)
        return out.ravel() if out.shape[1] == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
