"""The Rosenblatt perceptron: f(x) = sign(w·x + b), trained by the perceptron rule.

The single-layer perceptron of the notes (note 3): a linear binary classifier whose
output is sign(w·x + b) ∈ {−1, +1}. It is not trained by gradient descent but by
Rosenblatt's error-correction rule, which converges on linearly separable data and
never converges on data that are not, such as XOR (Minsky & Papert, 1969) — the
limitation that a hidden layer (:class:`ffnn.Sequential`) removes.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from .exceptions import ConvergenceWarning, NotFittedError
from .training import data

__all__ = ["Perceptron"]


class Perceptron:
    """Rosenblatt's perceptron: f(x) = sign(w·x + b), trained by the perceptron rule.

    Training starts from w = 0, b = 0 and sweeps the samples in order (or in a fresh
    random order each epoch with ``shuffle=True``). Each sample (xᵢ, yᵢ) with
    yᵢ ∈ {−1, +1} whose margin is not positive is a mistake and moves the boundary::

        if yᵢ (w·xᵢ + b) ≤ 0:     (a point on the boundary, w·xᵢ + b = 0, is a mistake)
            w ← w + η yᵢ xᵢ
            b ← b + η yᵢ          (only with fit_intercept=True)

    Epochs repeat until one makes no mistake (the weights then classify every training
    point correctly) or ``max_epochs`` have run; in the second case a
    :class:`~ffnn.exceptions.ConvergenceWarning` gives the number of training points
    the final weights misclassify.

    Parameters
    ----------
    learning_rate : float, default 1.0
        The step η > 0. Starting from zero weights, η only rescales w and b, so the
        mistakes made and the predictions do not depend on it (the notes take
        0 < η < 1; any positive value is accepted).
    max_epochs : int, default 100
        Maximum number of passes over the training data.
    shuffle : bool, default False
        Visit the samples in a new random order every epoch.
    random_state : int, numpy.random.Generator or None
        Seeds the shuffling; re-applied on every call to :meth:`fit`.
    fit_intercept : bool, default True
        Learn the bias b (otherwise b = 0 and the boundary passes through the origin).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels, sorted; ``classes_[0]`` is coded −1 and ``classes_[1]`` +1.
        Labels {−1, 1} keep their meaning; with {0, 1}, 0 becomes −1.
    coef_ : ndarray of shape (n_features,)
        The weight vector w.
    intercept_ : float
        The bias b.
    n_features_in_ : int
    n_epochs_ : int
        Epochs run (the last one the mistake-free check when converged).
    errors_ : list of int
        Mistakes (updates) made in each epoch.
    converged_ : bool
        Whether the final weights classify every training point with positive margin.
    n_misclassified_ : int
        Training points with yᵢ (w·xᵢ + b) ≤ 0 under the final weights.

    Notes
    -----
    Convergence theorem (Novikoff, 1962): if some unit vector u and bias c separate the
    data with margin γ = minᵢ yᵢ (u·xᵢ + c) > 0 and ‖(xᵢ, 1)‖ ≤ R, the rule makes at
    most (R/γ)² mistakes in total, whatever η and the visiting order.

    Examples
    --------
    >>> import numpy as np
    >>> clf = Perceptron().fit(np.array([[1.0, 2.0], [2.0, 0.0], [-1.0, -1.0]]), [1, -1, -1])
    >>> clf.coef_, clf.intercept_, clf.errors_
    (array([-1.,  2.]), 0.0, [2, 0])
    """

    def __init__(
        self,
        learning_rate: float = 1.0,
        max_epochs: int = 100,
        shuffle: bool = False,
        random_state: int | np.random.Generator | None = None,
        fit_intercept: bool = True,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any, y: Any) -> Perceptron:
        """Train by the perceptron rule (see the class docstring).

        Parameters
        ----------
        x : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)
            Exactly two distinct labels (any type; sorted, the first is coded −1).

        Returns
        -------
        self
        """
        eta, max_epochs = self._check_params()
        xa = data.as_features(x, np.float64)
        signs = self._encode(y, xa.shape[0])
        rng = np.random.default_rng(self.random_state)
        w = np.zeros(xa.shape[1])
        b = 0.0
        self.errors_: list[int] = []
        for _ in range(max_epochs):
            order = rng.permutation(len(xa)) if self.shuffle else range(len(xa))
            mistakes = 0
            for i in order:
                if signs[i] * (xa[i] @ w + b) <= 0.0:
                    w += (eta * signs[i]) * xa[i]
                    if self.fit_intercept:
                        b += eta * signs[i]
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                break
        self.coef_ = w
        self.intercept_ = float(b)
        self.n_features_in_ = int(xa.shape[1])
        self.n_epochs_ = len(self.errors_)
        self.n_misclassified_ = int(np.sum(signs * (xa @ w + b) <= 0.0))
        self.converged_ = self.n_misclassified_ == 0
        if not self.converged_:
            warnings.warn(
                f"Perceptron did not converge in {max_epochs} epochs: "
                f"{self.n_misclassified_} of {len(xa)} training points are misclassified "
                "by the final weights (the data may not be linearly separable, as XOR is)",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _check_params(self) -> tuple[float, int]:
        eta = self.learning_rate
        if (isinstance(eta, bool) or not isinstance(eta, numbers.Real)
                or not math.isfinite(eta) or eta <= 0):
            raise ValueError(f"learning_rate must be a positive finite number, got {eta!r}")
        n = self.max_epochs
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {n!r}")
        return float(eta), int(n)

    def _encode(self, y: Any, n_samples: int) -> np.ndarray:
        """Map the two labels to −1/+1 and set ``classes_``."""
        ya = np.asarray(y)
        if ya.ndim == 2 and ya.shape[1] == 1:
            ya = ya[:, 0]
        if ya.ndim != 1 or ya.shape[0] != n_samples:
            raise ValueError(
                f"y must have shape ({n_samples},) to match x, got shape {ya.shape}"
            )
        if ya.dtype.kind == "f" and not np.all(np.isfinite(ya)):
            raise ValueError(f"y contains {int(np.sum(~np.isfinite(ya)))} NaN or inf values")
        classes = np.unique(ya)
        if len(classes) != 2:
            raise ValueError(
                f"the perceptron needs exactly two classes in y, got {len(classes)}: "
                f"{classes.tolist()[:10]}"
            )
        self.classes_ = classes
        return np.where(ya == classes[1], 1.0, -1.0)

    # ------------------------------------------------------------------ use
    def decision_function(self, x: Any) -> np.ndarray:
        """The score w·x + b of each sample, shape (n_samples,)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("this Perceptron is not fitted yet; call fit(x, y) first")
        xa = data.as_features(x, np.float64, self.n_features_in_)
        return xa @ self.coef_ + self.intercept_

    def predict(self, x: Any) -> np.ndarray:
        """``classes_[1]`` where w·x + b > 0, else ``classes_[0]`` (sign, with 0 ↦ −1)."""
        positive = self.decision_function(x) > 0
        return self.classes_[positive.astype(np.intp)]

    def score(self, x: Any, y: Any) -> float:
        """Accuracy: the share of samples whose predicted label equals ``y``."""
        pred = self.predict(x)
        ya = np.asarray(y).reshape(-1)
        if ya.shape[0] != pred.shape[0]:
            raise ValueError(f"y has {ya.shape[0]} labels but x has {pred.shape[0]} samples")
        return float(np.mean(pred == ya))
