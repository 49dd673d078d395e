"""The scikit-learn wrapper of Rosenblatt's perceptron, :class:`PerceptronClassifier`.

It is re-exported by :mod:`ffnn.estimators`, its public home; import it from there.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import exceptions
from ..perceptron import Perceptron
from .params import check_bool, check_number

__all__ = ["PerceptronClassifier"]


class PerceptronClassifier(ClassifierMixin, BaseEstimator):
    """Rosenblatt's perceptron (:class:`ffnn.Perceptron`) with the scikit-learn API.

    Two classes are learnt by one perceptron (``classes_[1]`` is the positive class);
    more than two by one-vs-rest: one perceptron per class, class k against the rest,
    and a sample gets the class with the largest score w_k·x + b_k. On data that are not
    linearly separable the perceptron rule does not converge; training then stops after
    ``max_iter`` epochs with a ``ConvergenceWarning``.

    Parameters
    ----------
    learning_rate : float, default 1.0
        The step η > 0 of the rule w ← w + η yᵢ xᵢ (sklearn's ``eta0``).
    max_iter : int, default 100
        Maximum epochs per perceptron.
    shuffle : bool, default True
        Visit the samples in a new random order every epoch.
    random_state : int, RandomState instance or None, default None
        Seeds the shuffling; re-applied on every call to ``fit``.
    fit_intercept : bool, default True
        Learn the bias b.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        The largest number of epochs any perceptron ran.
    estimators_ : list of ffnn.Perceptron
        The fitted perceptrons (one, or one per class).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    ffnn.Perceptron, sklearn.linear_model.Perceptron

    Examples
    --------
    >>> from ffnn.estimators import PerceptronClassifier
    >>> X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    >>> PerceptronClassifier(random_state=0).fit(X, [0, 0, 0, 1]).predict(X)  # AND
    array([0, 0, 0, 1])
    """

    def __ffnn_onnx_plan__(self) -> Any:
        """The ONNX export plan of this fitted estimator (see :func:`ffnn.export_onnx`)."""
        from sklearn.utils.validation import check_is_fitted

        from .onnx_plans import perceptron_plan

        check_is_fitted(self)
        return perceptron_plan(self)


    def __init__(
        self,
        learning_rate: float = 1.0,
        max_iter: int = 100,
        shuffle: bool = True,
        random_state: Any = None,
        fit_intercept: bool = True,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any) -> PerceptronClassifier:
        """Train one perceptron (two classes) or one per class (one-vs-rest).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        check_number("learning_rate", self.learning_rate, strict=True)
        check_number("max_iter", self.max_iter, numbers.Integral, low=1)
        check_bool("shuffle", self.shuffle)
        check_bool("fit_intercept", self.fit_intercept)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; "
                             f"got 1 class: {self.classes_.tolist()}")
        rng = check_random_state(self.random_state)
        positives = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.estimators_ = []
        with warnings.catch_warnings():  # one warning for all the perceptrons, below
            warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
            for label in positives:
                perceptron = Perceptron(
                    learning_rate=self.learning_rate, max_epochs=self.max_iter,
                    shuffle=self.shuffle, random_state=int(rng.randint(np.iinfo(np.int32).max)),
                    fit_intercept=self.fit_intercept)
                self.estimators_.append(perceptron.fit(X, (y == label).astype(np.int8)))
        self.coef_ = np.vstack([p.coef_ for p in self.estimators_])
        self.intercept_ = np.array([p.intercept_ for p in self.estimators_])
        self.n_iter_ = max(p.n_epochs_ for p in self.estimators_)
        failed = [str(label) for label, p in zip(positives, self.estimators_, strict=True)
                  if not p.converged_]
        if failed:
            warnings.warn(f"the perceptron rule did not converge in max_iter={self.max_iter} "
                          f"epochs for class(es) {', '.join(failed)} (the data may not be "
                          "linearly separable)", exceptions.ConvergenceWarning, stacklevel=2)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores w·x + b: shape (n_samples,) for two classes (positive means
        ``classes_[1]``), else (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score (for two classes: ``classes_[1]`` where the
        score is positive)."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
