"""The multi-layer perceptron estimators: :class:`MLPClassifier` and :class:`MLPRegressor`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

from ..training.callbacks import Callback
from ..training.class_weights import sample_weights_for_labels
from .base import BaseMLP

__all__ = ["MLPClassifier", "MLPRegressor"]


def _stochastic(estimator: BaseMLP) -> bool:
    """``partial_fit`` exists for solvers that take one step per mini-batch."""
    try:
        return not estimator._full_batch
    except ValueError:  # an unknown solver: let partial_fit report it
        return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier trained by backpropagation (scikit-learn API).

    A network of ``Dense`` hidden layers and an output layer fitted by minimising the
    cross-entropy plus ½·alpha·‖W‖² for every weight matrix W (biases are not
    penalised): sigmoid outputs with binary cross-entropy for two classes (one output)
    and for multi-label targets (one output per label), softmax outputs with
    categorical cross-entropy for more than two classes.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        Units of each hidden layer; ``()`` gives a (multinomial) logistic regression.
    activation : str, default "relu"
        Hidden-layer activation, any name of ``ffnn.activations.ACTIVATIONS``
        (``"relu"``, ``"tanh"``, ``"logistic"``, ``"elu"``, ...).
    solver : str, default "adam"
        Any name of ``ffnn.optimizers.OPTIMIZERS``: the mini-batch solvers ``"sgd"``,
        ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"`` and the full-batch ones
        ``"lbfgs"``, ``"lm"``/``"trainlm"`` (Levenberg–Marquardt) and
        ``"br"``/``"trainbr"`` (Bayesian regularisation). Levenberg–Marquardt needs a
        least-squares loss, so with ``"lm"`` and ``"br"`` the classifier fits its output
        probabilities to the one-hot targets by mean squared error instead of
        cross-entropy (``predict_proba`` is still a softmax/sigmoid output).
    learning_rate : float, default 1e-3
        Step size of the mini-batch solvers (ignored by lbfgs, lm and br).
    alpha : float, default 1e-4
        L2 penalty ½·alpha·‖W‖²_F added per weight matrix to the mean loss
        (``ffnn.regularizers.l2(alpha)``). scikit-learn's MLP adds
        alpha/(2·n_batch)·‖W‖², so the same alpha regularises n_batch times more here.
        Ignored by ``"br"``, which estimates its own penalty.
    batch_size : int or "auto", default "auto"
        Mini-batch size; "auto" is min(200, n_samples). Full-batch solvers ignore it.
    max_iter : int, default 200
        Maximum number of epochs (for lbfgs: of L-BFGS iterations, as scikit-learn).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified) and stop
        when the validation accuracy stops improving; the best weights are kept.
        Not used by lbfgs nor by ``partial_fit``.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float, default 1e-4
        Improvement threshold of the stopping rule (lbfgs: its gradient tolerance).
    random_state : int, RandomState instance or None, default None
        Seeds the initial weights, the shuffling and the validation split; re-applied
        on every call to ``fit``.
    verbose : bool or int, default False
        Print one line per epoch.
    solver_options : dict, optional
        Options of the solver's constructor, e.g. ``{"momentum": 0.9}`` for sgd,
        ``{"beta_1": 0.8}`` for adam, ``{"mu": 0.01}`` for lm, ``{"history_size": 20}``
        for lbfgs. They take precedence over the values derived from other parameters.
    warm_start : bool, default False
        Let ``fit`` continue from the current weights (with a fresh optimiser).
    shuffle : bool, default True
        Reshuffle the samples every epoch (mini-batch solvers).
    callbacks : list of ffnn.callbacks.Callback, optional
        Run every epoch after the stopping rule, on ``model_``; their logs hold
        ``loss``, ``val_loss`` and ``val_score`` (with validation data).
    class_weight : dict or "balanced", optional
        ``{class label: weight}`` (unnamed classes weigh 1) or "balanced", scikit-learn's
        n_samples / (n_classes · n_c) on the labels given to ``fit``. Each sample's weight
        is its class's weight times its ``sample_weight``, in training and validation
        alike; not for multi-label targets, and "balanced" not for ``partial_fit``.

    Notes
    -----
    scikit-learn's spellings that ffnn spells otherwise (``learning_rate_init``,
    ``momentum``, ``beta_1``, ...) raise a TypeError naming ffnn's spelling.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (label indices for multi-label targets).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_outputs_ : int
        Network outputs: 1 for two classes, else the number of classes or labels.
    out_activation_ : str
        "sigmoid" or "softmax".
    model_ : ffnn.Sequential
        The trained network.
    coefs_, intercepts_ : list of ndarray
        Read-only views of the weights in scikit-learn's layout, (inputs, units).
    n_iter_ : int
        Epochs run (L-BFGS iterations for lbfgs) in the last ``fit`` call (as
        scikit-learn ≥ 1.3 with warm_start); ``partial_fit`` adds one per call.
    loss_ : float
        The training objective (loss + penalty) of the last epoch.
    loss_curve_ : list of float
        The training objective of every epoch (of every L-BFGS iteration), over all calls.
    validation_loss_curve_ : list of float
        The objective on the validation data of every epoch (empty without them).
    best_loss_ : float or None
        The lowest training objective seen; None with early stopping.
    validation_scores_ : list of float or None
        The validation accuracy of every epoch with validation data (``X_val`` or
        early stopping), else None.
    best_validation_score_ : float or None

    See Also
    --------
    MLPRegressor, PerceptronClassifier, sklearn.neural_network.MLPClassifier

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from ffnn.estimators import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

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
        class_weight: Any = None,
    ) -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            learning_rate=learning_rate, alpha=alpha, batch_size=batch_size,
            max_iter=max_iter, early_stopping=early_stopping,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            tol=tol, random_state=random_state, verbose=verbose,
            solver_options=solver_options, warm_start=warm_start, shuffle=shuffle,
            callbacks=callbacks)
        self.class_weight = class_weight

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, X_val: Any = None,
            y_val: Any = None, sample_weight_val: Any = None) -> MLPClassifier:
        """Fit the network to ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Sparse input stays sparse; the network densifies one batch at a time.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (any type), or a 0/1 indicator matrix for multi-label problems.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; the loss is the weighted mean Σ wᵢ lᵢ / Σ wᵢ.
        X_val, y_val : array-like, optional
            Validation data (scikit-learn's spelling, as in
            ``HistGradientBoostingClassifier.fit``): their loss is recorded in
            ``validation_loss_curve_`` and their accuracy in ``validation_scores_``
            every epoch; with ``early_stopping`` they replace the held-out
            ``validation_fraction``.
        sample_weight_val : array-like of shape (n_val_samples,), optional
            Weights of the validation samples.

        Returns
        -------
        self
        """
        validation = None if X_val is None and y_val is None \
            else (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)``, keeping the optimiser's state between calls.

        Only for mini-batch solvers. The first call needs ``classes``, all the labels
        that will ever appear (for multi-label targets it may be omitted; if given, it
        must have one entry per column of ``y``). A label of ``y`` outside ``classes``
        (later: ``classes_``) raises a ValueError.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True,
                         classes=classes)

    # ------------------------------------------------------------- targets
    def _output_layer(self, n_outputs: int) -> tuple[int, str, str]:
        if n_outputs == 1 or self._multilabel:
            return n_outputs, "sigmoid", "binary_crossentropy"
        return n_outputs, "softmax", "categorical_crossentropy"

    def _encode_targets(self, y: np.ndarray, first: bool, incremental: bool,
                        classes: Any) -> np.ndarray:
        check_classification_targets(y)
        if first:
            multilabel = type_of_target(y).startswith("multilabel")
            if incremental and classes is None and not multilabel:
                raise ValueError("classes must be passed on the first call to partial_fit")
            if multilabel and classes is not None and np.size(classes) != y.shape[1]:
                raise ValueError(f"classes has {np.size(classes)} labels but the multi-label "
                                 f"indicator y has {y.shape[1]} columns")
            self._binarizer = LabelBinarizer()
            self._binarizer.fit(y if classes is None or multilabel
                                else self._check_classes(y, classes))
            self.classes_ = self._binarizer.classes_
            self._multilabel = self._binarizer.y_type_.startswith("multilabel")
            if not self._multilabel and len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; "
                                 f"got 1 class: {self.classes_.tolist()}")
        else:
            seen = unique_labels(y)
            if self.warm_start and not incremental and set(seen) != set(self.classes_):
                raise ValueError("warm_start needs y to have the same classes as in the "
                                 f"previous fit: {self.classes_.tolist()}; y has "
                                 f"{seen.tolist()}")
            unknown = np.setdiff1d(seen, self.classes_)
            if len(unknown):
                raise ValueError(f"y has classes {unknown.tolist()} that are not in "
                                 f"classes_ {self.classes_.tolist()}")
        self.n_outputs_ = 1 if len(self.classes_) == 2 and not self._multilabel \
            else len(self.classes_)
        self.out_activation_ = self._output_layer(self.n_outputs_)[1]
        return self._binarizer.transform(y).astype(np.float64)

    @staticmethod
    def _check_classes(y: np.ndarray, classes: Any) -> np.ndarray:
        """``classes`` as an array, after checking that every label of ``y`` is in it
        (a LabelBinarizer fitted on ``classes`` would silently encode the others as
        all-zero rows or as the negative class)."""
        classes = np.asarray(classes)
        unknown = np.setdiff1d(unique_labels(y), classes)
        if len(unknown):
            raise ValueError(f"y has classes {unknown.tolist()} that are not in classes "
                             f"{classes.tolist()}")
        return classes

    def _check_weighted_targets(self, y: np.ndarray, sw: np.ndarray, incremental: bool) -> None:
        if incremental or self._multilabel:
            return
        kept = np.unique(y[sw > 0])
        if len(kept) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes with "
                             f"positive sample_weight; got 1 class: {kept.tolist()}")

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        return None if self._multilabel else y

    def _class_weights(self, y: np.ndarray, sw: np.ndarray | None, dtype: Any,
                       incremental: bool) -> np.ndarray | None:
        """``sample_weight`` times the weight of each sample's class (``class_weight``)."""
        cw = self.class_weight
        if cw is None:
            return sw
        if not (isinstance(cw, Mapping) or (isinstance(cw, str) and cw == "balanced")):
            raise ValueError("the 'class_weight' parameter must be None, 'balanced' or a dict "
                             f"{{class label: weight}}; got {cw!r}")
        if self._multilabel:
            raise ValueError("class_weight is not supported for multi-label targets; use "
                             "sample_weight")
        if incremental and isinstance(cw, str):
            raise ValueError("class_weight='balanced' needs all the data, so partial_fit "
                             "cannot use it; give a dict computed with "
                             "sklearn.utils.class_weight.compute_class_weight")
        weights = sample_weights_for_labels(cw, y, self.classes_)
        if sw is not None:
            weights = weights * sw.astype(np.float64)
        return np.ascontiguousarray(weights, dtype=dtype)

    def _encode_validation(self, y: np.ndarray) -> np.ndarray:
        if self._multilabel:
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(f"y_val must be a {len(self.classes_)}-column indicator "
                                 f"matrix like y; got shape {y.shape}")
        else:
            unknown = np.setdiff1d(unique_labels(y), self.classes_)
            if len(unknown):
                raise ValueError(f"y_val has classes {unknown.tolist()} that are not in "
                                 f"classes_ {self.classes_.tolist()}")
        return self._binarizer.transform(y).astype(np.float64)

    def _score_arrays(self, X: np.ndarray, y: np.ndarray, sw: Any) -> float:
        pred = self._binarizer.inverse_transform(self.model_.predict(X))
        return float(accuracy_score(y, pred, sample_weight=sw))

    # ------------------------------------------------------------- predict
    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (labels over 0.5 for multi-label).

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        out = self._outputs(X)
        return self._binarizer.inverse_transform(out)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1, except for multi-label targets, where each column is the
            probability of one label.
        """
        out = self._outputs(X)
        if self.n_outputs_ == 1 and not self._multilabel:
            return np.hstack([1.0 - out, out])
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba` (−inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


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

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predicted targets, shape (n_samples,) for one output, else (n_samples, n_outputs).

        With ``return_std=True`` (``solver="br"`` or ``"lm"``), also the predictive
        standard deviation of a new target, of the same shape: MacKay's evidence
        approximation (see ``ffnn.Sequential.predict``), as ``BayesianRidge`` and
        ``GaussianProcessRegressor`` return it.
        """
        if not return_std:
            out = self._outputs(X)
            return out.ravel() if out.shape[1] == 1 else out
        check_is_fitted(self)
        out, std = self.model_.predict(self._validate_X(X), return_std=return_std)
        if out.shape[1] == 1:
            return out.ravel(), std.ravel()
        return out, std

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
