"""Loss functions: ``loss(y_true, y_pred) -> scalar Tensor``; the :data:`LOSSES` registry.

The contract and its normalisation rules are documented in :mod:`.base`; the
regression losses live in :mod:`.regression`, the cross-entropies and the hinge in
:mod:`.classification`. Every class is registered here, once.
"""

from __future__ import annotations

from typing import Any, cast

from ..._registry import Registry
from .base import CustomLoss, Loss
from .classification import (
    EPSILON,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Hinge,
    SparseCategoricalCrossentropy,
)
from .regression import (
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    QuadraticCost,
    SumSquaredError,
)

__all__ = [
    "EPSILON",
    "LOSSES",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CustomLoss",
    "Hinge",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "QuadraticCost",
    "SparseCategoricalCrossentropy",
    "SumSquaredError",
    "get",
]

LOSSES: Registry[type[Loss]] = Registry("loss")
LOSSES.register("mse", MeanSquaredError, aliases=("mean_squared_error",))
LOSSES.register("sse", SumSquaredError, aliases=("sum_squared_error",))
LOSSES.register("quadratic", QuadraticCost)
LOSSES.register("mae", MeanAbsoluteError, aliases=("mean_absolute_error",))
LOSSES.register("huber", Huber)
LOSSES.register("binary_crossentropy", BinaryCrossentropy)
LOSSES.register("categorical_crossentropy", CategoricalCrossentropy)
LOSSES.register("sparse_categorical_crossentropy", SparseCategoricalCrossentropy)
LOSSES.register("hinge", Hinge)


def get(identifier: Any) -> Loss:
    """Resolve a loss identifier.

    Parameters
    ----------
    identifier : str, dict, Loss or callable
        A registry name (``"mse"``), a config
        (``{"name": "categorical_crossentropy", "from_logits": True}``), a :class:`Loss`
        (returned as is) or a callable ``fn(y_true, y_pred) -> Tensor`` (wrapped in
        :class:`CustomLoss`).

    Raises
    ------
    ValueError
        For an unknown name (listing the valid names) or unexpected parameters.
    TypeError
        For any other kind of identifier, including None.
    """
    return cast(Loss, LOSSES.resolve(
        identifier, Loss, CustomLoss, "a", "a Loss or a callable(y_true, y_pred)"))
