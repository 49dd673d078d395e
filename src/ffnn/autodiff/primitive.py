"""The primitive: one differentiable operation, its forward and its VJP side by side.

A primitive is ``Primitive(name, forward, vjp)``:

* ``forward(*inputs, **params) -> ndarray`` computes the value from NumPy arrays (or
  Python scalars for constant operands);
* ``vjp(g, out, *inputs, needs, **params) -> tuple`` returns one entry per input, the
  gradient of the loss with respect to that input given ``g`` = ∂L/∂out, or ``None``
  where ``needs[i]`` is false (the rule may skip that work). Gradients may keep the
  broadcast shape: the engine sums them back to each input's shape.

:func:`define` creates a primitive and enters it in :data:`PRIMITIVES`, the one table
of every primitive by name; :mod:`.ops` (the elementary operations) and :mod:`.fused`
(several operations in one node) define them all.

A primitive may also give a ``kernel`` factory for static graphs (:mod:`.static`):
``kernel(in_shapes, in_dtypes, out_dtype, needs, **params)`` returns an object whose
``forward(*inputs)`` and ``backward(g, out, *inputs)`` compute exactly what ``forward``
and ``vjp`` compute (the same NumPy calls in the same order, so the same bits) but into
buffers it allocated once for those shapes, or ``None`` where it does not serve them.
The buffers are overwritten by the next call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["PRIMITIVES", "Array", "Needs", "Primitive", "define"]

Array = np.ndarray
Needs = tuple[bool, ...]


class Primitive:
    """A differentiable operation: its name, forward function and VJP rule.

    A primitive that ``saves`` gets a keyword ``saved`` in both functions: a dict the
    forward may fill with intermediate arrays when the call is recorded for backward
    (``None`` otherwise), handed to the VJP unchanged. The VJP must not modify what it
    finds there (``retain_graph=True`` runs it again) and must still work without it.
    """

    __slots__ = ("forward", "kernel", "name", "saves", "vjp")

    def __init__(
        self, name: str, forward: Callable[..., Any], vjp: Callable[..., Any], saves: bool = False,
        kernel: Callable[..., Any] | None = None,
    ):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.saves = saves
        self.kernel = kernel

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


PRIMITIVES: dict[str, Primitive] = {}


def define(
    name: str, forward: Callable[..., Any], vjp: Callable[..., Any], saves: bool = False,
    kernel: Callable[..., Any] | None = None,
) -> Primitive:
    """Create the primitive ``name`` and enter it in :data:`PRIMITIVES` (once)."""
    if name in PRIMITIVES:  # pragma: no cover - a programming error in ops/fused
        raise RuntimeError(f"primitive {name!r} defined twice")
    prim = Primitive(name, forward, vjp, saves, kernel)
    PRIMITIVES[name] = prim
    return prim
