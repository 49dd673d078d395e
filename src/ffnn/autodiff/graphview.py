"""A public view of the dynamic tape: the nodes of a recorded graph, in order.

:func:`graph_nodes` lists what :meth:`Tensor.backward` walks: every tensor and constant
that ``output`` was computed from, oldest first, each with its primitive, value,
parents and local derivatives (the labels of the notes' computation-graph figures),
and its adjoint when one was kept (leaves, and intermediates after
:meth:`Tensor.retain_grad`). ``ffnn.plot.graph`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .backward import _FREED, unbroadcast
from .tensor import Tensor

__all__ = ["GraphNode", "graph_nodes", "local_derivatives"]


@dataclass(frozen=True)
class GraphNode:
    """One vertex of a recorded graph.

    Attributes
    ----------
    index : int
        Position in the list (parents always come first).
    primitive : str
        The primitive's name; ``"input"`` for a tensor no recorded operation made (a
        leaf, or data), ``"constant"`` for a non-tensor operand.
    value : ndarray
        The vertex's value.
    parents : tuple of int
        Indices of the operands, in argument order.
    local : tuple of (ndarray or None)
        Per operand, the local derivative ∂h/∂operand as the VJP of a cotangent of
        ones, Σⱼ ∂hⱼ/∂operand, in the operand's shape: for scalars the plain derivative
        the notes write on each edge, for elementwise operations the elementwise one.
        None where the rule gives none (an integer index, labels).
    tensor : Tensor or None
        The tensor itself (None for constants).
    """

    index: int
    primitive: str
    value: np.ndarray
    parents: tuple[int, ...]
    local: tuple[np.ndarray | None, ...]
    tensor: Tensor | None

    @property
    def adjoint(self) -> np.ndarray | None:
        """∂L/∂h kept by the last backward: a leaf's ``.grad``, or an intermediate's
        after :meth:`Tensor.retain_grad` (None otherwise)."""
        return None if self.tensor is None else self.tensor.grad


def local_derivatives(prim: Any, out: Any, inputs: Any, needs: tuple[bool, ...],
                      params: dict[str, Any]) -> tuple[np.ndarray | None, ...]:
    """Σⱼ ∂outⱼ/∂inputᵢ for each input (None where not needed), by the primitive's VJP."""
    ones = np.ones(np.shape(out), dtype=np.result_type(out))
    grads = prim.vjp(ones, out, *inputs, needs=needs, **params)
    result: list[np.ndarray | None] = []
    for x, need, g in zip(inputs, needs, grads, strict=False):
        if not need or g is None:
            result.append(None)
        else:
            g = np.asarray(g)
            result.append(unbroadcast(g, np.shape(x)) if g.shape != np.shape(x) else g)
    return tuple(result)


def graph_nodes(output: Tensor) -> list[GraphNode]:
    """The vertices of the graph recorded for ``output``, parents before children.

    Tensors that no recorded operation made (leaves, data) are ``"input"`` vertices and
    appear just before their first use; non-tensor operands are ``"constant"``
    vertices, one per use. Call it before ``backward`` or after
    ``backward(retain_graph=True)``: a plain ``backward`` frees the record.

    Raises
    ------
    TypeError
        If ``output`` is not a Tensor.
    ValueError
        If the graph was freed by an earlier ``backward``.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"graph_nodes needs a Tensor, got {type(output).__name__}")
    seen = {id(output)}
    interior: list[Tensor] = []
    stack = [output]
    while stack:
        node = stack.pop()
        if node._op is _FREED:
            raise ValueError(
                "this graph was freed by backward(); call backward(retain_graph=True) to "
                "inspect it afterwards"
            )
        if node._op is None:
            continue
        interior.append(node)
        for p in node._parents:
            if isinstance(p, Tensor) and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    interior.sort(key=lambda t: t._seq)
    out: list[GraphNode] = []
    index: dict[int, int] = {}

    def add(node: GraphNode) -> int:
        out.append(node)
        return node.index

    if output._op is None:  # a bare leaf
        add(GraphNode(0, "input", output.data, (), (), output))
        return out
    for t in interior:
        parents = []
        for p in t._parents:
            if isinstance(p, Tensor):
                k = index.get(id(p))
                if k is None:  # an input, listed before its first use
                    k = index[id(p)] = add(GraphNode(len(out), "input", p.data, (), (), p))
                parents.append(k)
            else:
                parents.append(add(GraphNode(len(out), "constant", np.asarray(p), (), (), None)))
        try:  # every operand's edge, also those that need no gradient
            local = local_derivatives(t._op, t.data, t._inputs, (True,) * len(t._inputs),
                                      t._params)
        except (TypeError, ValueError, AttributeError):  # a rule that cannot serve a constant
            local = local_derivatives(t._op, t.data, t._inputs, t._needs, t._params)
        index[id(t)] = add(GraphNode(len(out), t._op.name, t.data, tuple(parents), local, t))
    return out
