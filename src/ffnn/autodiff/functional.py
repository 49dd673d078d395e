"""Function transformations built on the tape: ``grad``, ``value_and_grad``, ``jacobian``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, as_array

__all__ = ["ValueAndGrad", "grad", "jacobian", "value_and_grad"]

ArgNums = int | Sequence[int]


def _lift(args: tuple[Any, ...], argnums: tuple[int, ...]) -> list[Any]:
    lifted = list(args)
    for i in argnums:
        if i >= len(args) or i < -len(args):
            raise ValueError(f"argnums {i} is out of range for {len(args)} positional arguments")
        lifted[i] = Tensor(as_array(args[i]), requires_grad=True)
    return lifted


def _normalise(argnums: ArgNums) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int):
        return (argnums,), True
    return tuple(argnums), False


def _scalar_output(out: Any, name: str) -> Tensor:
    if not isinstance(out, Tensor):
        out = Tensor(out)
    if out.data.size != 1:
        raise ValueError(f"{name} needs f to return a scalar, got shape {out.shape}")
    return out


def value_and_grad(
    f: Callable[..., Any], argnums: ArgNums = 0
) -> Callable[..., tuple[float, Any]]:
    """Return a function computing ``(f(*args), ∂f/∂args[argnums])``.

    ``f`` must return a scalar Tensor. Arguments in ``argnums`` may be arrays, numbers or
    Tensors; they are wrapped as fresh leaves (float64 data stays float64). The
    gradient is an ndarray for an integer ``argnums`` and a tuple for a sequence.
    """
    return ValueAndGrad(f, argnums)


class ValueAndGrad:
    """The function returned by :func:`value_and_grad` (callable).

    It keeps ``fn``, ``argnums`` (a tuple) and ``single`` (whether ``argnums`` was an
    int) so that :func:`ffnn.trace` can record its forward and backward as one static
    graph, as ``jax.jit(jax.value_and_grad(f))`` does.
    """

    def __init__(self, fn: Callable[..., Any], argnums: ArgNums = 0) -> None:
        self.fn = fn
        self.argnums, self.single = _normalise(argnums)
        self.__name__ = f"value_and_grad({getattr(fn, '__name__', repr(fn))})"
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[float, Any]:
        nums, single = self.argnums, self.single
        lifted = _lift(args, nums)
        out = _scalar_output(self.fn(*lifted, **kwargs), "grad")
        grads: list[np.ndarray] = []
        if out.requires_grad:
            out.backward()
        for i in nums:
            leaf = lifted[i]
            grads.append(leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data))
        value = out.item()
        return value, (grads[0] if single else tuple(grads))


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return a function computing the gradient of scalar ``f`` w.r.t. ``args[argnums]``."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return wrapped


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return a function computing the Jacobian of ``f`` w.r.t. ``args[argnums]``.

    The result for one argument has shape ``out.shape + arg.shape``; it is built with
    one backward pass per output element through a retained graph.
    """
    nums, single = _normalise(argnums)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        lifted = _lift(args, nums)
        out = f(*lifted, **kwargs)
        if not isinstance(out, Tensor):
            out = Tensor(out)
        jacs = [np.zeros(out.shape + lifted[i].shape, dtype=out.dtype) for i in nums]
        if out.requires_grad:
            flat = [j.reshape(out.size, -1) for j in jacs]
            seed = np.zeros(out.shape, dtype=out.dtype)
            for k in range(out.size):
                for i in nums:
                    lifted[i].grad = None
                seed.reshape(-1)[k] = 1
                out.backward(seed, retain_graph=True)
                seed.reshape(-1)[k] = 0
                for row, i in zip(flat, nums, strict=True):
                    if lifted[i].grad is not None:
                        row[k] = lifted[i].grad.reshape(-1)
        return jacs[0] if single else tuple(jacs)

    return wrapped
