"""Warnings and exceptions raised by ffnn.

ffnn reports bad input with the built-in ``ValueError``/``TypeError`` (naming the bad
value); the classes here are for conditions that have no built-in equivalent.
"""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "ModelFileError", "NotFittedError"]


class ConvergenceWarning(UserWarning):
    """An iterative method stopped at its iteration limit without converging.

    Raised, for example, by :class:`ffnn.Perceptron` when an epoch budget runs out on
    data that are not linearly separable (XOR), and by the scikit-learn estimators when
    ``max_iter`` is reached. It plays the role of
    ``sklearn.exceptions.ConvergenceWarning`` (ffnn has one such class, and ``import
    ffnn`` does not import scikit-learn); filter it with
    ``warnings.simplefilter("ignore", ffnn.ConvergenceWarning)``.
    """


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` (a ValueError and an AttributeError, as in
    scikit-learn, so either ``except`` clause catches it)."""


class ModelFileError(ValueError):
    """A model or checkpoint file cannot be loaded: unreadable, truncated, corrupted,
    from an unsupported format version, or naming something outside ffnn's registries.

    Raised by :func:`ffnn.load` (and ``fit(resume_from=...)``) for every load failure,
    with a message naming the file and what is wrong. It is a ``ValueError``, so code
    that catches bad input generally also catches it.
    """
