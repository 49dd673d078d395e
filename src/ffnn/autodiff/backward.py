"""The reverse pass: walking a recorded graph back from a tensor to its leaves.

:meth:`Tensor.backward <ffnn.autodiff.tensor.Tensor.backward>` validates its seed and
hands over to :func:`_run_backward`, which lives here with everything only it uses:

- :func:`_graph` collects the interior nodes reachable from the root, newest first (a
  valid reverse topological order, see ``_SEQUENCE`` in :mod:`ffnn.autodiff.tensor`),
  and the leaves that need a gradient; it is iterative, so graphs of any depth work;
- :func:`unbroadcast` sums a VJP's result back to its input's shape (the engine's job,
  not each rule's);
- :func:`_accumulate_leaf` and :func:`_root` store gradients into ``leaf.grad``
  without aliasing memory that another holder can see;
- ``_FREED`` marks a node whose graph was released (``retain_graph=False``).

The nodes are :class:`~ffnn.autodiff.tensor.Tensor` objects, used here only through
their slots; this module imports ``Tensor`` for type checking only, so that
:mod:`ffnn.autodiff.tensor` can import from it without a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["unbroadcast"]

_NO_PARAMS: dict[str, Any] = {}  # shared by leaves; never mutated


class _Freed:
    """Marker for a node whose graph was released by ``backward``."""

    name = "freed"


_FREED: Any = _Freed()


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach it."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(
            f"a gradient of shape {grad.shape} cannot be reduced to its input's shape "
            f"{shape}: a VJP rule returned the wrong shape"
        )
    return grad


def _graph(root: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Interior nodes reachable from ``root`` (newest first) and the leaves that need grad."""
    seen = {id(root)}
    nodes = [root]
    leaves: list[Tensor] = []
    stack = [root]
    while stack:
        node = stack.pop()
        for p, need in zip(node._parents, node._needs, strict=False):
            if need and id(p) not in seen:
                seen.add(id(p))
                if p._op is None:
                    leaves.append(p)
                else:
                    nodes.append(p)
                    stack.append(p)
    nodes.sort(key=_seq_of, reverse=True)
    return nodes, leaves


def _seq_of(t: Tensor) -> int:
    return t._seq


def _root(a: np.ndarray) -> Any:
    """The object owning ``a``'s memory (``a`` itself unless it is a view)."""
    while isinstance(a, np.ndarray) and a.base is not None:
        a = a.base
    return a


def _accumulate_leaf(leaf: Tensor, g: np.ndarray, owned: bool) -> None:
    """Add ``g`` into ``leaf.grad``; ``owned`` says no other holder can see ``g``'s memory."""
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
        owned = True
    if leaf.grad is None:
        if not owned or not g.flags.writeable:
            g = np.array(g, copy=True)
        leaf.grad = g
    elif leaf.grad.flags.writeable and leaf.grad.shape == g.shape:
        np.add(leaf.grad, g, out=leaf.grad)
    else:
        leaf.grad = leaf.grad + g


def _modified_message(node: Tensor, p: Tensor, saved: int) -> str:
    what = "a leaf tensor" if p._op is None else f"the output of a {p._op.name!r} node"
    name = getattr(p, "name", None)  # unset on tensors made by operations
    if name:
        what = f"{what} {name!r}"
    return (
        f"backward(): {what} of shape {p.data.shape} {p.data.dtype}, an input of the "
        f"{node._op.name!r} node, was modified in place after the graph was recorded "
        f"(version {saved} then, {p._version} now: an optimiser step, set_weights, a "
        "checkpoint restore, ...). Its gradient would mix the old graph with the new "
        "values: run the forward pass again after changing the tensor"
    )


def _run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool) -> None:
    if root._op is None:  # backward() on a leaf
        _accumulate_leaf(root, seed, owned=False)
        return
    nodes, leaves = _graph(root)
    root._g = seed
    try:
        for node in nodes:
            g = node._g
            if g is None:
                continue
            node._g = None
            if node._retains:  # retain_grad(): keep the adjoint (a copy: g may be shared)
                node.grad = np.array(g, copy=True) if node.grad is None else node.grad + g
            op = node._op
            if op is _FREED:
                raise RuntimeError(
                    "trying to backpropagate through a graph that was already freed by an "
                    "earlier backward(); pass retain_graph=True to the first call"
                )
            needs = node._needs
            for p, v in zip(node._parents, node._saved_versions, strict=False):
                if v >= 0 and p._version != v:
                    raise RuntimeError(_modified_message(node, p, v))
            in_grads = op.vjp(g, node.data, *node._inputs, needs=needs, **node._params)
            for p, need, gi in zip(node._parents, needs, in_grads, strict=False):
                if not need or gi is None:
                    continue
                if gi.shape != p.data.shape:
                    gi = unbroadcast(gi, p.data.shape)
                prev = p._g
                p._g = gi if prev is None else prev + gi
            if not retain_graph:
                node._op = _FREED
                node._parents = ()
                node._inputs = ()
                node._params = _NO_PARAMS
                node._saved_versions = ()
        # Leaves last, once every rule has consumed its gradient, so that a leaf's
        # .grad may be updated in place. A rule such as add's passes one array to
        # several inputs, and reshape's a view: memory already handed to a leaf (or the
        # caller's seed) is copied; a rule's fresh result, or a view of it such as the
        # weight gradient (Xᵀδ)ᵀ, is stored as it is.
        shared = {id(_root(seed))}
        for leaf in leaves:
            g = leaf._g
            if g is not None:
                leaf._g = None
                key = id(_root(g))
                _accumulate_leaf(leaf, g, owned=key not in shared)
                shared.add(key)
                if leaf.grad is not g:  # a copy or a sum: its memory is the leaf's now
                    shared.add(id(_root(leaf.grad)))  # type: ignore[arg-type]
    except BaseException:  # on success every slot was consumed and is None already
        for node in nodes:
            node._g = None
        for leaf in leaves:
            leaf._g = None
        raise
