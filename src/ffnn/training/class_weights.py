"""Class weights: per-class factors turned into per-sample weights.

``class_weight`` is a dict ``{class index: weight}`` or ``"balanced"``. The weight of
class c under "balanced" is scikit-learn's n_samples / (n_classes · n_c) over the classes
present, computed by :func:`sklearn.utils.class_weight.compute_class_weight`; a dict
gives 1 to the classes it does not name. The per-sample weight is the weight of the
sample's class, multiplied by its ``sample_weight`` when one is given, so that
``fit(class_weight=cw)`` is exactly ``fit(sample_weight=cw[labels])``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["class_labels", "class_sample_weight", "sample_weights_for_labels"]


def class_labels(y: np.ndarray, integer_labels: bool,
                 n_outputs: int = 0) -> tuple[np.ndarray, int]:
    """The class index of every sample and the number of classes of prepared targets.

    Integer labels (sparse losses) are taken as they are, with ``n_outputs`` classes (the
    model's outputs; more if a label is larger); one-hot rows give the index of their 1;
    a single 0/1 column gives 0 or 1 (two classes). Anything else raises a ValueError:
    class weights need class targets.
    """
    if integer_labels:
        labels = np.asarray(y, dtype=np.intp).reshape(-1)
        return labels, max(n_outputs, int(labels.max()) + 1 if labels.size else 0)
    if y.ndim == 2 and y.shape[1] == 1:
        column = y[:, 0]
        if not np.all((column == 0) | (column == 1)):
            raise ValueError("class_weight needs class targets: a single target column must "
                             "hold 0/1 labels")
        return column.astype(np.intp), 2
    if y.ndim == 2 and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
        return np.argmax(y, axis=1).astype(np.intp), int(y.shape[1])
    raise ValueError("class_weight needs class targets: integer labels, one-hot rows or one "
                     f"0/1 column; got targets of shape {y.shape} that are none of these "
                     "(multi-label and regression targets take sample_weight instead)")


def sample_weights_for_labels(class_weight: Any, labels: np.ndarray,
                              classes: np.ndarray) -> np.ndarray:
    """float64 weight of each sample's class; ``labels`` hold values of ``classes``.

    Parameters
    ----------
    class_weight : dict or "balanced"
        Weights keyed by the entries of ``classes``; missing classes get 1.
    labels : ndarray of shape (n_samples,)
    classes : ndarray of shape (n_classes,)
        Every class the model knows, sorted.
    """
    from sklearn.utils.class_weight import compute_class_weight

    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be a dict or 'balanced', got {class_weight!r}")
        present = np.unique(labels)
        weights = compute_class_weight("balanced", classes=present, y=labels)
        return weights[np.searchsorted(present, labels)]
    if not isinstance(class_weight, Mapping):
        raise ValueError("class_weight must be a dict {class: weight} or 'balanced', got "
                         f"{type(class_weight).__name__}")
    known = set(classes.tolist())
    unknown = [k for k in class_weight if k not in known]
    if unknown:
        raise ValueError(f"class_weight has classes {unknown} that are not among the "
                         f"classes {classes.tolist()}")
    for key, value in class_weight.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value < 0:
            raise ValueError(f"class_weight[{key!r}] must be a finite number >= 0, "
                             f"got {value!r}")
    weights = compute_class_weight(dict(class_weight), classes=classes, y=labels)
    return np.asarray(weights, dtype=np.float64)[np.searchsorted(classes, labels)]


def class_sample_weight(class_weight: Any, y: np.ndarray, integer_labels: bool,
                        sample_weight: np.ndarray | None, dtype: Any,
                        n_outputs: int = 0) -> np.ndarray:
    """The sample weights that ``class_weight`` gives prepared targets ``y`` (of a model
    with ``n_outputs`` outputs), times ``sample_weight`` if given, in ``dtype``;
    ValueError if they are all zero."""
    labels, n_classes = class_labels(y, integer_labels, n_outputs)
    per_sample = sample_weights_for_labels(class_weight, labels, np.arange(n_classes))
    if sample_weight is not None:
        per_sample = per_sample * sample_weight.astype(np.float64)
    out = np.ascontiguousarray(per_sample, dtype=dtype)
    if not out.any():
        raise ValueError("class_weight (times sample_weight) is zero for every sample: there "
                         "is nothing to fit")
    return out
