"""Weight penalties added to the loss: ``reg(W: Tensor) -> scalar Tensor``.

The notes' structural risk is R(W, b) = (1/N) Σₙ L(yₙ, ŷₙ) + (λ/2)‖W‖²_F: the L2
penalty is on the weights only (layers do not regularise biases) and its gradient λW
is the "weight decay" term of the update W ← W − α(δaᵀ + λW).
:data:`REGULARIZERS` maps names to classes; ``l1``, ``l2`` and ``l1_l2`` are the
classes themselves, so ``l2(1e-3)`` builds one.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, cast

from .. import autodiff as F
from .._registry import Registry
from ..autodiff import Tensor

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "REGULARIZERS",
    "CustomRegularizer",
    "Regularizer",
    "get",
    "l1",
    "l1_l2",
    "l2",
]


def _strength(value: Any, what: str) -> float:
    """A penalty strength: a finite, non-negative real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite non-negative number, got {value!r}")
    return float(value)


class Regularizer:
    """Base class: a penalty Ω(W) added to the loss. Subclasses set :attr:`name`."""

    name: str = ""

    def __call__(self, weight: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The JSON-serialisable config ``{"name": ..., **params}``."""
        return {"name": self.name, **self.__dict__}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Regularizer):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


class L2(Regularizer):
    """Ω(W) = (λ/2)‖W‖²_F = (λ/2) Σᵢⱼ wᵢⱼ²; ∇Ω = λW (the notes' weight decay).

    Note the ½: Keras's ``l2(λ)`` is λ‖W‖² (gradient 2λW); ``L2(2λ)`` here equals it.
    """

    name = "l2"

    def __init__(self, lam: float = 0.01) -> None:
        self.lam = _strength(lam, "l2: lam")

    def __call__(self, weight: Tensor) -> Tensor:
        return F.sum_squares(weight, 0.5 * self.lam)


class L1(Regularizer):
    """Ω(W) = λ Σᵢⱼ |wᵢⱼ|; ∇Ω = λ sign(W) (0 at wᵢⱼ = 0). Drives weights to exactly 0."""

    name = "l1"

    def __init__(self, lam: float = 0.01) -> None:
        self.lam = _strength(lam, "l1: lam")

    def __call__(self, weight: Tensor) -> Tensor:
        return F.sum(F.abs(weight)) * self.lam


class L1L2(Regularizer):
    """Ω(W) = λ₁ Σᵢⱼ |wᵢⱼ| + (λ₂/2)‖W‖²_F (the elastic net)."""

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _strength(l1, "l1_l2: l1")
        self.l2 = _strength(l2, "l1_l2: l2")

    def __call__(self, weight: Tensor) -> Tensor:
        return F.sum(F.abs(weight)) * self.l1 + F.sum_squares(weight, 0.5 * self.l2)


class CustomRegularizer(Regularizer):
    """A plain callable ``fn(W: Tensor) -> scalar Tensor`` (not serialisable)."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        self.fn = fn
        self.name = f"custom:{getattr(fn, '__name__', type(fn).__name__)}"

    def __call__(self, weight: Tensor) -> Tensor:
        return self.fn(weight)

    def get_config(self) -> dict[str, Any]:
        raise TypeError(
            f"regularizer {self.name!r} wraps a plain callable and cannot be serialised; "
            f"use one of the registered regularizers: {', '.join(REGULARIZERS.names())}"
        )


l1 = L1
l2 = L2
l1_l2 = L1L2

REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer")
REGULARIZERS.register("l1", L1)
REGULARIZERS.register("l2", L2)
REGULARIZERS.register("l1_l2", L1L2)


def get(identifier: Any) -> Regularizer | None:
    """Resolve a regulariser identifier.

    Parameters
    ----------
    identifier : None, str, dict, Regularizer or callable
        None (no penalty, returned as None), a registry name (``"l2"``, default
        strength 0.01), a config (``{"name": "l2", "lam": 1e-4}``), a
        :class:`Regularizer` (returned as is) or a callable ``fn(W) -> Tensor``
        (wrapped in :class:`CustomRegularizer`).

    Raises
    ------
    ValueError
        For an unknown name (listing the valid names) or unexpected parameters.
    TypeError
        For any other kind of identifier.
    """
    if identifier is None:
        return None
    return cast(Regularizer, REGULARIZERS.resolve(
        identifier, Regularizer, CustomRegularizer, "a", "a Regularizer or a callable",
        prefix="None, "))
