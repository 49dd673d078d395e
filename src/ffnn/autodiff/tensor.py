"""The Tensor: a NumPy array that records the operations applied to it.

A :class:`Tensor` created with ``requires_grad=True`` is a *leaf*. Every primitive
applied to tensors that require gradients returns a *node* that remembers its
primitive, its inputs and its parameters; :meth:`Tensor.backward` walks these nodes in
reverse topological order (iteratively, so graphs of any depth work) and calls each
primitive's vector-Jacobian product. The engine, not each rule, sums broadcast axes
back to every input's shape. That reverse pass lives in :mod:`ffnn.autodiff.backward`.

The hot path (``apply``) does no validation beyond what NumPy does: dtypes are checked
once, when data enters the engine through :class:`Tensor` or as a constant array.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .backward import _NO_PARAMS, _run_backward
from .mode import _MODE, _refuse_in_trace, enable_grad, is_grad_enabled, no_grad
from .ops import PRIMITIVES as _P

if TYPE_CHECKING:
    from .primitive import Primitive

__all__ = [
    "Tensor",
    "apply",
    "as_array",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "tensor",
    "zero_grad",
]

DEFAULT_DTYPE = np.dtype(np.float32)
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Nodes are numbered as they are created: sorting the reachable nodes by this number,
# newest first, is a valid reverse topological order (an input always predates its use).
_SEQUENCE = itertools.count(1)


def _check_dtype(dtype: np.dtype[Any], what: str = "data") -> None:
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"unsupported dtype {dtype} for {what}: ffnn computes in float32 or float64 "
            "(integers and booleans are converted to float32; complex, object, string and "
            "float16 data are rejected)"
        )


def float_dtype(dtype: Any, what: str) -> np.dtype[Any]:
    """``dtype`` as a NumPy dtype if it is float32 or float64; TypeError naming ``what``."""
    dt = np.dtype(dtype)
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"{what}: unsupported dtype {dt}; use float32 or float64")
    return dt


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to a float32/float64 ndarray following the engine's dtype rules.

    Python numbers, lists, integer and boolean arrays become float32 (or ``dtype``);
    float32 and float64 arrays keep their dtype unless ``dtype`` is given. Complex,
    object, string and float16 data raise :class:`TypeError` naming the dtype.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        _check_dtype(dtype, "the requested dtype")
        arr = np.asarray(data)
        if arr.dtype.kind not in "fiub":
            _check_dtype(arr.dtype)
        return np.asarray(arr, dtype=dtype)
    arr = np.asarray(data)
    kind = arr.dtype.kind
    if kind in "iub":
        return arr.astype(DEFAULT_DTYPE)
    if arr.dtype in _FLOAT_DTYPES:
        if kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
            return arr.astype(DEFAULT_DTYPE)  # Python floats and lists: the default dtype
        return arr
    _check_dtype(arr.dtype)
    return arr  # pragma: no cover - _check_dtype raised


def _constant(value: Any) -> Any:
    """Validate a non-Tensor operand; Python scalars pass through untouched (NEP 50)."""
    tv = type(value)
    if tv is float or tv is int or tv is bool:
        return value
    if isinstance(value, np.ndarray) and value.dtype in _FLOAT_DTYPES:
        return value
    if isinstance(value, np.floating) and value.dtype in _FLOAT_DTYPES:
        return value
    return as_array(value)


def apply(prim: Primitive, *args: Any, **params: Any) -> Tensor:
    """Apply a primitive to tensors and constants, recording a node when needed."""
    datas = []
    needs = []
    versions = []
    record = False
    for a in args:
        if isinstance(a, Tensor):
            datas.append(a.data)
            rg = a.requires_grad
            needs.append(rg)
            versions.append(a._version)
            record = record or rg
        else:
            datas.append(_constant(a))
            needs.append(False)
            versions.append(-1)
    record = record and _MODE.enabled
    if prim.saves:  # a dict for the forward's intermediates, kept for the VJP
        params = {**params, "saved": {} if record else None}
    out = prim.forward(*datas, **params)
    t = Tensor.__new__(Tensor)
    t.data = out
    t.grad = None
    t._g = None
    t._version = 0
    t._retains = False
    if record:
        t.requires_grad = True
        t._op = prim
        t._parents = args
        t._inputs = datas
        t._params = params
        t._needs = tuple(needs)
        t._saved_versions = tuple(versions)
        t._seq = next(_SEQUENCE)
    else:
        t.requires_grad = False
        t._op = None
        t._parents = ()
        t._inputs = ()
        t._params = _NO_PARAMS
        t._needs = ()
        t._saved_versions = ()
        t._seq = 0
    tracer = _MODE.tracer
    if tracer is not None:
        tracer.record(prim, args, params, t)
    return t


class Tensor:
    """An n-dimensional array that records operations for reverse-mode autodiff.

    Parameters
    ----------
    data : array_like
        The values. Python numbers, lists, integer and boolean arrays become float32;
        float32 and float64 arrays keep their dtype (never silently upcast).
    requires_grad : bool, default False
        Whether gradients with respect to this tensor are computed by :meth:`backward`.
    dtype : dtype, optional
        ``float32`` or ``float64`` to convert to.

    Notes
    -----
    Arithmetic operators, ``@``, ``**`` and the reduction methods build graph nodes.
    Comparison operators return plain boolean ndarrays (they have no gradient).
    ``.grad`` accumulates across :meth:`backward` calls until :meth:`zero_grad`.
    """

    __slots__ = (
        "_g",
        "_inputs",
        "_needs",
        "_op",
        "_params",
        "_parents",
        "_retains",
        "_saved_versions",
        "_seq",
        "_version",
        "data",
        "grad",
        "name",
        "requires_grad",
    )
    __array_ufunc__ = None  # make ndarray <op> Tensor defer to Tensor's reflected ops

    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = as_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._op: Any = None
        self._parents: Sequence[Any] = ()
        self._inputs: Sequence[Any] = ()
        self._params: dict[str, Any] = _NO_PARAMS
        self._needs: tuple[bool, ...] = ()
        self._seq = 0
        self._g: np.ndarray | None = None
        self._version = 0
        self._saved_versions: tuple[int, ...] = ()
        self.name: str | None = None  # e.g. "dense/kernel" for a layer's parameter
        self._retains = False

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of :attr:`data`."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of :attr:`data` (float32 or float64)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._op is None

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        _refuse_in_trace("bool()")
        return bool(self.data)

    def __float__(self) -> float:
        _refuse_in_trace("float()")
        return float(self.data)

    def __int__(self) -> int:
        _refuse_in_trace("int()")
        return int(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4)
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.data.dtype}{extra})"

    def numpy(self) -> np.ndarray:
        """Return the underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """Return the value of a one-element tensor as a Python float."""
        _refuse_in_trace("item()")
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(()))

    def detach(self) -> Tensor:
        """Return a new leaf sharing this tensor's data, outside any graph."""
        return Tensor(self.data)

    @property
    def version(self) -> int:
        """How many in-place changes ffnn made to :attr:`data` (0 for a new tensor).

        Every in-place change made through ffnn bumps it (optimiser steps,
        ``set_weights``, checkpoint restores, full-batch solvers; see
        :meth:`mark_modified`). A recorded node keeps the versions of its inputs, and
        :meth:`backward` refuses to run through a node whose input moved on since: its
        gradient would mix the old graph with the new values. Writing to ``.data``
        directly does not bump it: that is the escape hatch (as in PyTorch).
        """
        return self._version

    def mark_modified(self) -> None:
        """Record an in-place change of :attr:`data` (bump :attr:`version`).

        Call it after changing ``.data`` in place (``np.copyto(t.data, ...)``) when
        graphs recorded before the change must no longer be backpropagated through.
        """
        self._version += 1

    def retain_grad(self) -> Tensor:
        """Keep this intermediate's adjoint in :attr:`grad` at the next :meth:`backward`.

        Interior nodes normally pass their adjoint ∂L/∂self on and drop it; after
        ``retain_grad()`` it accumulates into ``.grad`` like a leaf's (the notes' h̄ᵢ).
        A leaf keeps its gradient anyway. Returns ``self``.
        """
        self._retains = True
        return self

    def zero_grad(self) -> None:
        """Reset the accumulated gradient to ``None``."""
        self.grad = None

    def astype(self, dtype: Any) -> Tensor:
        """Return a differentiable copy converted to ``dtype`` (float32 or float64)."""
        return apply(_P["astype"], self, dtype=float_dtype(dtype, "astype"))

    # ---------------------------------------------------------------- backward
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor, accumulating into the leaves' ``.grad``.

        Parameters
        ----------
        grad : array_like, optional
            The cotangent ∂L/∂self. Defaults to 1 for a one-element tensor; a tensor
            with more elements requires it.
        retain_graph : bool, default False
            Keep the graph so that ``backward`` can be called through it again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input of "
                "its graph had requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a scalar output, but this tensor "
                    f"has shape {self.shape}; pass grad= of the same shape"
                )
            seed = np.array(1, dtype=self.data.dtype).reshape(self.data.shape)
        else:
            seed = as_array(grad, self.data.dtype)
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward() grad has shape {seed.shape} but the tensor has shape {self.shape}"
                )
        _run_backward(self, seed, retain_graph)

    # -------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return apply(_P["add"], self, other)

    def __radd__(self, other: Any) -> Tensor:
        return apply(_P["add"], other, self)

    def __sub__(self, other: Any) -> Tensor:
        return apply(_P["subtract"], self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return apply(_P["subtract"], other, self)

    def __mul__(self, other: Any) -> Tensor:
        return apply(_P["multiply"], self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return apply(_P["multiply"], other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return apply(_P["divide"], self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return apply(_P["divide"], other, self)

    def __pow__(self, other: Any) -> Tensor:
        return apply(_P["power"], self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return apply(_P["power"], other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return apply(_P["matmul"], self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return apply(_P["matmul"], other, self)

    def __neg__(self) -> Tensor:
        return apply(_P["negative"], self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return apply(_P["abs"], self)

    def __getitem__(self, index: Any) -> Tensor:
        return apply(_P["getitem"], self, index=_plain_index(index))

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other: Any) -> np.ndarray:
        _refuse_in_trace("comparison <")
        return self.data < _data(other)

    def __le__(self, other: Any) -> np.ndarray:
        _refuse_in_trace("comparison <=")
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> np.ndarray:
        _refuse_in_trace("comparison >")
        return self.data > _data(other)

    def __ge__(self, other: Any) -> np.ndarray:
        _refuse_in_trace("comparison >=")
        return self.data >= _data(other)

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        _refuse_in_trace("comparison ==")
        return self.data == _data(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        _refuse_in_trace("comparison !=")
        return self.data != _data(other)

    __hash__ = object.__hash__

    # ----------------------------------------------------------- method mirrors
    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed)."""
        return apply(_P["transpose"], self, axes=None)

    def transpose(self, *axes: int) -> Tensor:
        """Permute axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(_P["transpose"], self, axes=tuple(axes) if axes else None)

    def reshape(self, *shape: Any) -> Tensor:
        """Return the same data with a new shape."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(_P["reshape"], self, shape=tuple(shape))

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return apply(_P["sum"], self, axis=_axis_arg(axis), keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return apply(_P["mean"], self, axis=_axis_arg(axis), keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties share the gradient equally."""
        return apply(_P["max"], self, axis=_axis_arg(axis), keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties share the gradient equally."""
        return apply(_P["min"], self, axis=_axis_arg(axis), keepdims=keepdims)

    def exp(self) -> Tensor:
        """Elementwise exponential."""
        return apply(_P["exp"], self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return apply(_P["log"], self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return apply(_P["sqrt"], self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return apply(_P["tanh"], self)

    def sigmoid(self) -> Tensor:
        """Elementwise logistic sigmoid."""
        return apply(_P["sigmoid"], self)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        """Clip values to ``[a_min, a_max]``."""
        return apply(_P["clip"], self, a_min=a_min, a_max=a_max)


def _axis_arg(axis: Any) -> Any:
    """None, an int, or a tuple (lists are accepted like NumPy's)."""
    return tuple(axis) if isinstance(axis, list) else axis


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _plain_index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a :class:`Tensor` (same arguments as the class)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zero_grad(params: Sequence[Tensor]) -> None:
    """Reset ``.grad`` of every tensor in ``params`` to ``None``."""
    for p in params:
        p.grad = None
