"""The flat parameter vector used by the second-order optimisers and ``model.jacobian``.

The vector θ lists every trainable scalar of a model: the parameters in
``model.params`` order (layer by layer; within a layer in its ``named_params`` order,
e.g. ``kernel`` then ``bias``), each one flattened in C order. A Dense kernel W of shape
(units, inputs) therefore contributes w₁₁, w₁₂, …, w₁ₘ, w₂₁, … (row by row), followed by
its bias b₁ … bᵤ. Column j of ``model.jacobian(x)`` is the derivative with respect to θⱼ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .autodiff import Tensor

__all__ = ["flatten_params", "unflatten_params"]


def _arrays(params: Any) -> list[np.ndarray]:
    """The arrays of a model (``.params``), a sequence of Tensors or of arrays."""
    if hasattr(params, "params") and not isinstance(params, (Tensor, np.ndarray)):
        params = params.params
    if isinstance(params, (Tensor, np.ndarray)) or not isinstance(params, Sequence):
        raise TypeError(
            "params must be a model or a sequence of Tensors or arrays, got "
            f"{type(params).__name__}"
        )
    return [p.data if isinstance(p, Tensor) else np.asarray(p) for p in params]


def flatten_params(params: Any, dtype: Any = None) -> np.ndarray:
    """Concatenate parameters into one flat vector θ = [vec(p₁); vec(p₂); …] (C order).

    Parameters
    ----------
    params : Sequential, sequence of Tensor or sequence of ndarray
        A model (its ``params``) or the parameters themselves, in order.
    dtype : dtype, optional
        Type of the result; by default the parameters' common type.

    Returns
    -------
    ndarray of shape (n_params,)
        A new array (never a view of the parameters).

    Examples
    --------
    >>> import numpy as np
    >>> flatten_params([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])])
    array([1., 2., 3., 4., 5., 6.])
    """
    arrays = _arrays(params)
    if not arrays:
        return np.zeros(0, dtype=dtype or np.float64)
    return np.concatenate([a.ravel() for a in arrays]).astype(dtype or arrays[0].dtype, copy=False)


def unflatten_params(vector: Any, params: Any) -> list[np.ndarray]:
    """Split a flat vector θ back into arrays shaped like ``params`` (the inverse of
    :func:`flatten_params`).

    Parameters
    ----------
    vector : array_like of shape (n_params,)
    params : Sequential, sequence of Tensor or sequence of ndarray
        Gives the shapes (and order); its values are not read.

    Returns
    -------
    list of ndarray
        Copies with the shapes of ``params`` and the dtype of ``vector``; pass them to
        ``model.set_weights`` to load θ into a model.

    Raises
    ------
    ValueError
        If ``vector`` is not one-dimensional or its length differs from the number of
        parameters.
    """
    shapes = [a.shape for a in _arrays(params)]
    v = np.asarray(vector)
    total = int(sum(int(np.prod(s)) for s in shapes))
    if v.ndim != 1 or v.shape[0] != total:
        raise ValueError(f"vector has shape {v.shape}, expected ({total},) for these parameters")
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(v[start : start + size].reshape(shape).copy())
        start += size
    return out
