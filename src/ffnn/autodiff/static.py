"""Static graphs: trace a function once, replay it without the tape.

The notes contrast two ways to run a computation graph: *dynamic* (built anew on every
run: the tape of :mod:`.tensor`) and *static* (built once, then replayed; it can be
preallocated, inspected and optimised). :func:`trace` gives the static half:

1. it runs ``fn`` once on example inputs with a recorder attached to
   :func:`~ffnn.autodiff.tensor.apply`, which sees every primitive call;
2. the record becomes a :class:`StaticGraph`: an ordered list of primitives, each with
   its input slots (graph inputs, constants, tensors captured from the enclosing scope,
   outputs of earlier nodes), its output slot, shape and dtype;
3. calling the graph with arrays of the same shapes and dtypes runs the same primitive
   functions over plain arrays (no ``Tensor``, no node per call). Elementwise and
   matrix primitives write into output buffers kept from the first replay (NumPy
   ``out=``); adjoints that receive several contributions are summed into buffers kept
   likewise. The same functions in the same order give bit-identical results to the
   tape.

A new signature (shapes, dtypes, static Python arguments) traces again; the graphs are
cached per signature in :class:`TracedFunction`. Tracing ``value_and_grad(f, argnums)``
records forward and backward as one graph, as ``jax.jit(jax.value_and_grad(f))`` does.

Limits: Python control flow that reads a traced value (``bool()``, ``float()``,
``.item()``, comparisons) raises :class:`~ffnn.autodiff.mode.TraceError` at trace time;
arrays captured by closure and index/condition arrays are constants of the graph;
tensors captured by closure (a layer's weights) are read afresh at every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .functional import ValueAndGrad
from .mode import _MODE, TraceError
from .primitive import Primitive
from .replay import compile_replay
from .tensor import Tensor, as_array

__all__ = ["Node", "StaticGraph", "TraceError", "TracedFunction", "trace"]

# Slot kinds.
_INPUT, _CAPTURE, _NODE = "input", "capture", "node"


def _maximum0(x: Any, *, out: np.ndarray) -> Any:
    return np.maximum(x, 0, out=out)


# Primitives whose forward is one NumPy call that takes ``out=`` and gives the same bits
# as the forward without it (see ops.py: forward(a, b) == ufunc(a, b)).
_OUT_KERNELS: dict[str, Callable[..., Any]] = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": np.true_divide,
    "negative": np.negative,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
    "sigmoid": special.expit,
    "erf": special.erf,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "relu": _maximum0,
}


@dataclass(frozen=True)
class Node:
    """One primitive call of a static graph (what :attr:`StaticGraph.nodes` lists).

    Attributes
    ----------
    index : int
        Position in execution order.
    primitive : str
        The primitive's name (a key of :data:`ffnn.autodiff.PRIMITIVES`).
    inputs : tuple
        Per operand: the producing slot's label (``"x0"`` for graph input 0, ``"c0"``
        for captured tensor 0, ``"n3"`` for node 3) or ``"const"``.
    input_shapes : tuple of tuple of int
        The operands' shapes (``()`` for Python scalars).
    shape : tuple of int
        The output's shape.
    dtype : numpy.dtype
        The output's dtype.
    flops : int
        Floating-point operations of the forward (2·m·n·k for a product, one per
        output element for elementwise work, one per input element for reductions).
    """

    index: int
    primitive: str
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    flops: int


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Recorder:
    """Receives every :func:`apply` call while a trace runs."""

    def __init__(self) -> None:
        self.kinds: list[str] = []  # per slot
        self.labels: list[str] = []
        self.shapes: list[tuple[int, ...]] = []
        self.dtypes: list[np.dtype[Any]] = []
        self.captured: list[Tensor] = []
        self.capture_slots: list[int] = []
        self.input_slots: list[int] = []
        self.slot_of_tensor: dict[int, int] = {}
        self.slot_of_array: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps ids unique while tracing
        self.ops: list[tuple[Any, ...]] = []
        self.requires: list[bool] = []  # per slot: requires_grad on the tape

    def new_slot(self, kind: str, value: np.ndarray, requires: bool) -> int:
        slot = len(self.kinds)
        self.kinds.append(kind)
        count = sum(k == kind for k in self.kinds) - 1
        self.labels.append({_INPUT: "x", _CAPTURE: "c", _NODE: "n"}[kind] + str(count))
        self.shapes.append(np.shape(value))
        self.dtypes.append(np.result_type(value))
        self.requires.append(requires)
        self.slot_of_array[id(value)] = slot
        self.keep.append(value)
        return slot

    def add_input(self, t: Tensor) -> None:
        slot = self.new_slot(_INPUT, t.data, t.requires_grad)
        self.slot_of_tensor[id(t)] = slot
        self.keep.append(t)
        self.input_slots.append(slot)

    def operand(self, a: Any) -> Any:
        if isinstance(a, Tensor):
            slot = self.slot_of_tensor.get(id(a))
            if slot is not None:
                return slot
            slot = self.slot_of_array.get(id(a.data))
            if slot is not None and not a.requires_grad:  # a detached view of a value
                return slot
            slot = self.new_slot(_CAPTURE, a.data, a.requires_grad)
            self.slot_of_tensor[id(a)] = slot
            self.keep.append(a)
            self.captured.append(a)
            self.capture_slots.append(slot)
            return slot
        if isinstance(a, np.ndarray):
            slot = self.slot_of_array.get(id(a))
            if slot is not None:  # e.g. x.data of a traced value used as a constant
                return slot
        return _Const(a)

    def record(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any], t: Tensor
    ) -> None:
        operands = [self.operand(a) for a in args]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        params = {k: v for k, v in params.items() if k != "saved"}
        param_slots = []
        for k, v in params.items():
            if isinstance(v, np.ndarray) and self.slot_of_array.get(id(v)) in self.input_slots:
                param_slots.append((k, self.slot_of_array[id(v)]))  # e.g. labels=y
            elif isinstance(v, np.ndarray) or (
                    isinstance(v, tuple) and any(isinstance(i, np.ndarray) for i in v)):
                raise TraceError(
                    f"{prim.name}: its {k}= is an array that is not an argument of the "
                    "traced function (a mask computed in Python such as x.data > 0, an "
                    "index array, labels captured by closure); a static graph would replay "
                    "it as a constant for every input. Pass it as an argument, or use the "
                    "dynamic path: call the function directly without ffnn.trace (or "
                    "compile(..., graph='dynamic') for a model)"
                )
        self.ops.append((prim, operands, params, -1, prim.saves, needs, tuple(param_slots)))
        slot = self.new_slot(_NODE, t.data, t.requires_grad)
        self.slot_of_tensor[id(t)] = slot
        self.keep.append(t)
        self.ops[-1] = (*self.ops[-1][:3], slot, *self.ops[-1][4:])


def _flops(name: str, in_shapes: Sequence[tuple[int, ...]], shape: tuple[int, ...]) -> int:
    size = math.prod(shape)
    if name in ("matmul", "linear", "dense") and len(in_shapes) >= 2:
        k = in_shapes[0][-1] if in_shapes[0] else 1
        return 2 * size * k
    if name in ("sum", "mean", "max", "min", "logsumexp", "sum_squares", "squared_error",
                "softmax_cross_entropy"):
        return max(math.prod(in_shapes[0]), size)
    if name in ("reshape", "transpose", "getitem"):
        return 0
    return size


class _Op:
    """A node as the replay needs it (precomputed positions and buffers)."""

    __slots__ = ("acc", "fwd", "k", "kernel", "needs", "out", "param_slots", "params", "prim",
                 "saved", "slot_pos", "template", "vjp")

    def __init__(self, prim: Primitive, operands: list[Any], params: dict[str, Any], out: int,
                 saves: bool, needs: tuple[bool, ...],
                 param_slots: tuple[tuple[str, int], ...]) -> None:
        self.param_slots = param_slots
        self.prim = prim
        self.fwd = prim.forward
        self.vjp = prim.vjp
        self.out = out
        self.params = params
        self.needs = needs
        self.template = [None if isinstance(o, int) else o.value for o in operands]
        self.slot_pos = tuple((i, o) for i, o in enumerate(operands) if isinstance(o, int))
        self.saved: dict[str, Any] | None = {} if saves else None
        self.kernel = _OUT_KERNELS.get(prim.name) if not params else None
        self.acc: Any = None  # the output buffer, kept from the first replay
        self.k: Any = None  # the primitive's kernel for the traced shapes, if it has one


class StaticGraph:
    """A traced function: ordered primitives over slots, replayed without the tape.

    Made by :func:`trace` (one per signature); call it with arrays of the traced shapes
    and dtypes. With ``grad_inputs`` it also runs the backward pass and returns
    ``(value, grads)`` like :func:`~ffnn.autodiff.functional.value_and_grad`.

    The values and adjoints of the last call can be read by node (:meth:`value`,
    :meth:`adjoint`); :attr:`nodes`, :attr:`flops`, :attr:`buffer_bytes` and
    :meth:`to_dot` describe the plan.
    """

    def __init__(self, rec: _Recorder, out_slots: list[int], structure: Any,
                 grad_inputs: tuple[int, ...] | None, single: bool, copy: bool) -> None:
        self._kinds = rec.kinds
        self._labels = rec.labels
        self._shapes = rec.shapes
        self._dtypes = rec.dtypes
        self._inputs = rec.input_slots
        self._captured = rec.captured
        self._capture_slots = rec.capture_slots
        self._out_slots = out_slots
        self._structure = structure
        self._copy = copy
        self._single = single
        self._ops = [_Op(*op) for op in rec.ops]
        self._vals: list[Any] = [None] * len(rec.kinds)
        self._adj: list[Any] = [None] * len(rec.kinds)
        self._accs: list[Any] = [None] * len(rec.kinds)
        self._node_slots = [op.out for op in self._ops]
        self._grad_inputs = grad_inputs
        self._backward_ops: list[_Op] = []
        self._seed: np.ndarray | None = None
        self._zeros: dict[int, np.ndarray] = {}
        self._replay: tuple[Callable[..., None], Callable[..., None]] | None = None
        self._capture_specs = [(slot, t, rec.shapes[slot], rec.dtypes[slot])
                               for slot, t in zip(rec.capture_slots, rec.captured, strict=True)]
        if grad_inputs is not None:
            self._plan_backward(rec.requires)
        self._plan_kernels(rec)
        nodes = []
        for i, (op, raw) in enumerate(zip(self._ops, rec.ops, strict=True)):
            operands = raw[1]
            labels = tuple(rec.labels[o] if isinstance(o, int) else "const" for o in operands)
            in_shapes = tuple(rec.shapes[o] if isinstance(o, int) else np.shape(o.value)
                              for o in operands)
            shape = rec.shapes[op.out]
            nodes.append(Node(i, op.prim.name, labels, in_shapes, shape, rec.dtypes[op.out],
                              _flops(op.prim.name, in_shapes, shape)))
        self.nodes: list[Node] = nodes

    # ---------------------------------------------------------------- planning
    def _plan_backward(self, requires: list[bool]) -> None:
        """Keep the nodes that lie between the graph inputs and the output."""
        root = self._out_slots[0]
        live = {root}
        keep: list[_Op] = []
        for op in reversed(self._ops):
            if op.out in live and requires[op.out]:
                keep.append(op)
                live.update(s for (i, s) in op.slot_pos if op.needs[i])
        self._backward_ops = keep  # already in reverse order
        self._root_requires = requires[root]
        if not any(op.saved is not None for op in self._ops):
            return
        kept = {id(op) for op in keep}
        for op in self._ops:  # a saving forward fills its dict only when recorded
            if op.saved is not None and id(op) not in kept:
                op.saved = None

    def _plan_kernels(self, rec: _Recorder) -> None:
        """Give each node whose primitive has a kernel for its shapes that kernel: its
        forward and VJP then compute into buffers allocated here, once."""
        backward = {id(op) for op in self._backward_ops}
        for op, raw in zip(self._ops, rec.ops, strict=True):
            factory = op.prim.kernel
            if factory is None or op.param_slots:
                continue
            operands = raw[1]
            if not all(isinstance(o, int) or isinstance(o.value, np.ndarray)
                       for o in operands):
                continue  # a list or scalar constant: the primitive takes it as it is
            shapes = tuple(rec.shapes[o] if isinstance(o, int) else o.value.shape
                           for o in operands)
            dtypes = tuple(rec.dtypes[o] if isinstance(o, int) else o.value.dtype
                           for o in operands)
            needs = op.needs if id(op) in backward else (False,) * len(op.needs)
            op.k = factory(shapes, dtypes, rec.dtypes[op.out], needs, **op.params)

    # ------------------------------------------------------------------ replay
    def _forward(self, arrays: Sequence[np.ndarray]) -> None:
        vals = self._vals
        if len(arrays) != len(self._inputs):
            raise TypeError(f"this static graph takes {len(self._inputs)} arrays, got "
                            f"{len(arrays)}")
        shapes, dtypes = self._shapes, self._dtypes
        for slot, a in zip(self._inputs, arrays, strict=True):
            if not isinstance(a, np.ndarray) or a.shape != shapes[slot] or \
                    a.dtype != dtypes[slot]:
                got = (f"{np.shape(a)} {np.result_type(a)}" if isinstance(a, np.ndarray)
                       else type(a).__name__)
                raise TraceError(
                    f"input {self._inputs.index(slot)} of this static graph was traced as "
                    f"an array of shape {shapes[slot]} {dtypes[slot]}, got {got}; call the "
                    "TracedFunction instead (ffnn.trace), which traces each new signature"
                )
            vals[slot] = a
        for slot, t, shape, dtype in self._capture_specs:
            d = t.data
            if d.shape != shape or d.dtype != dtype:
                raise TraceError(
                    f"a tensor captured by the traced function changed from shape "
                    f"{shape} {dtype} to {d.shape} {d.dtype} since it was traced; trace "
                    "again (ffnn.trace) after changing it"
                )
            vals[slot] = d
        if self._replay is None:
            self._replay = compile_replay(self._ops, self._backward_ops)
        self._replay[0](vals)

    def _backward(self) -> None:
        vals, adj, accs, shapes = self._vals, self._adj, self._accs, self._shapes
        for i in range(len(adj)):
            adj[i] = None
        root = self._out_slots[0]
        if self._seed is None:
            out = vals[root]
            self._seed = np.array(1, dtype=np.result_type(out)).reshape(np.shape(out))
        adj[root] = self._seed
        assert self._replay is not None  # compiled by the forward
        self._replay[1](vals, adj, accs, shapes)

    def _grad_of(self, slot: int) -> np.ndarray:
        g = self._adj[slot]
        dtype = self._dtypes[slot]
        if g is None:
            z = self._zeros.get(slot)
            if z is None:
                z = self._zeros[slot] = np.zeros(self._shapes[slot], dtype=dtype)
            return z.copy() if self._copy else z
        if g.dtype != dtype:
            return g.astype(dtype)
        if self._copy or not g.flags.writeable:
            return np.array(g, copy=True)
        return g

    def step(self, *arrays: np.ndarray) -> None:
        """Replay forward and backward (a graph traced in step mode) without collecting
        the outputs: the training step's entry point, which reads :meth:`slot_value` and
        the captured tensors' adjoints (:meth:`capture_slot`) itself."""
        self._forward(arrays)
        if self._root_requires:
            self._backward()
        else:
            self._adj = [None] * len(self._adj)

    def capture_slot(self, t: Tensor) -> int | None:
        """The slot of captured tensor ``t`` whose adjoint has ``t``'s dtype (None if
        ``t`` is not captured or its adjoint needs a cast: see :meth:`captured_grads`)."""
        for slot, u, _, dtype in self._capture_specs:
            if u is t:
                return slot if dtype == t.data.dtype else None
        return None

    def __call__(self, *arrays: np.ndarray) -> Any:
        """Replay on ``arrays`` (one per traced array argument, same shapes and dtypes)."""
        self._forward(arrays)
        if not self._grad_inputs:  # forward only, or (step mode) forward and backward
            if self._grad_inputs is not None:
                if self._root_requires:
                    self._backward()
                else:
                    self._adj = [None] * len(self._adj)
            outs = [self._vals[s] for s in self._out_slots]
            if self._copy:
                outs = [np.array(o, copy=True) if isinstance(o, np.ndarray) else o for o in outs]
            return _unflatten(self._structure, outs)
        root = self._out_slots[0]
        if self._root_requires:
            self._backward()
        else:
            self._adj = [None] * len(self._adj)
        value = float(np.asarray(self._vals[root]).reshape(()))
        grads = [self._grad_of(self._inputs[i]) for i in self._grad_inputs]
        return value, (grads[0] if self._single else tuple(grads))

    def same_plan(self, other: StaticGraph) -> bool:
        """Whether ``other`` (traced from the same function on other values of the same
        signature) recorded the same plan: primitives, wiring, constants, parameters
        and captured tensors. A difference means the function computed something in
        Python from the data (a mask, a derived array): replaying either would be wrong.
        """
        if len(self._ops) != len(other._ops) or self._kinds != other._kinds:
            return False
        for t, u in zip(self._captured, other._captured, strict=True):
            if t is not u and not _equal(t.data, u.data):
                return False
        for a, b in zip(self._ops, other._ops, strict=True):
            if (a.prim is not b.prim or a.slot_pos != b.slot_pos or a.needs != b.needs
                    or a.param_slots != b.param_slots or a.out != b.out):
                return False
            if not all(_equal(u, v) for u, v in zip(a.template, b.template, strict=True)):
                return False
            if a.params.keys() != b.params.keys():
                return False
            fixed = {k for k, _ in a.param_slots}
            if not all(_equal(a.params[k], b.params[k]) for k in a.params if k not in fixed):
                return False
        return True

    # --------------------------------------------------------------- inspection
    def _slot(self, node: int | Node) -> int:
        index = node.index if isinstance(node, Node) else node
        if not -len(self._ops) <= index < len(self._ops):
            raise IndexError(f"node {index} out of range: the graph has {len(self._ops)} nodes")
        return self._node_slots[index]

    def value(self, node: int | Node) -> Any:
        """The output of ``node`` (index or :class:`Node`) in the last call."""
        return self._vals[self._slot(node)]

    def adjoint(self, node: int | Node) -> np.ndarray | None:
        """∂output/∂(output of ``node``) from the last backward (None if not on the path).

        The notes' adjoint h̄ᵢ of the intermediate hᵢ.
        """
        if self._grad_inputs is None:
            raise ValueError(
                "this graph has no backward pass: trace ffnn.value_and_grad(f, argnums) to "
                "get adjoints"
            )
        return self._adj[self._slot(node)]

    @property
    def captured(self) -> list[Tensor]:
        """The tensors the traced function captured from its scope (read at each call)."""
        return list(self._captured)

    def captured_grads(self) -> list[np.ndarray | None]:
        """Adjoints of the captured tensors from the last backward (None off the path),
        in :attr:`captured` order: the gradients the tape would add to their ``.grad``."""
        out = []
        for slot, t in zip(self._capture_slots, self._captured, strict=True):
            g = self._adj[slot]
            if g is not None and g.dtype != t.data.dtype:
                g = g.astype(t.data.dtype)
            elif g is not None and self._copy:  # fresh arrays; else the graph's buffers
                g = g.copy()
            out.append(g)
        return out

    def local(self, node: int | Node) -> tuple[np.ndarray | None, ...]:
        """Per operand of ``node``, its local derivative Σⱼ ∂hⱼ/∂operand at the last
        call's values (see :func:`ffnn.autodiff.graphview.local_derivatives`)."""
        from .graphview import local_derivatives

        self._slot(node)  # validates the index
        op = self._ops[node.index if isinstance(node, Node) else node]
        ins = list(op.template)
        for i, s in op.slot_pos:
            ins[i] = self._vals[s]
        params = dict(op.params)
        if op.prim.saves:
            params["saved"] = None
        return local_derivatives(op.prim, self._vals[op.out], ins, (True,) * len(ins), params)

    def input_adjoint(self, i: int) -> np.ndarray | None:
        """The adjoint of graph input ``i`` from the last backward."""
        return self._adj[self._inputs[i]]

    @property
    def flops(self) -> int:
        """Floating-point operations of one forward (the sum over :attr:`nodes`)."""
        return sum(n.flops for n in self.nodes)

    @property
    def buffer_bytes(self) -> int:
        """Bytes of the values one call holds (every node's output, traced sizes)."""
        return sum(math.prod(n.shape) * np.dtype(n.dtype).itemsize for n in self.nodes)

    def to_dot(self) -> str:
        """The graph in Graphviz DOT: inputs, captured tensors and primitive nodes."""
        lines = ["digraph ffnn {", "  rankdir=LR;"]
        for slot, kind in enumerate(self._kinds):
            if kind != _NODE:
                label = f"{self._labels[slot]}\\n{self._shapes[slot]} {self._dtypes[slot]}"
                lines.append(f'  {self._labels[slot]} [shape=box, label="{label}"];')
        for n in self.nodes:
            lines.append(f'  n{n.index} [label="{n.primitive}\\n{n.shape} {n.dtype}"];')
            for src in n.inputs:
                if src != "const":
                    lines.append(f"  {src} -> n{n.index};")
        lines.append("}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"StaticGraph({len(self.nodes)} nodes, {self.flops} flops, "
                f"{self.buffer_bytes} buffer bytes)")


def _equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (np.shape(a) == np.shape(b) and np.result_type(a) == np.result_type(b)
                and bool(np.array_equal(a, b, equal_nan=np.result_type(a).kind == "f")))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_equal(u, v) for u, v in zip(a, b, strict=True))
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):  # pragma: no cover - exotic parameters
        return False


def _flatten(out: Any) -> tuple[list[Any], Any]:
    if isinstance(out, (tuple, list)):
        items: list[Any] = []
        structure = []
        for o in out:
            sub, st = _flatten(o)
            structure.append((len(items), len(sub), st))
            items.extend(sub)
        return items, (type(out), structure)
    return [out], None


def _unflatten(structure: Any, items: list[Any]) -> Any:
    if structure is None:
        return items[0]
    kind, parts = structure
    return kind(_unflatten(st, items[i:i + n]) for i, n, st in parts)


def _is_array(a: Any) -> bool:
    return isinstance(a, (np.ndarray, Tensor))


def _signature(args: Sequence[Any]) -> tuple[Any, ...]:
    key: list[Any] = []
    for i, a in enumerate(args):
        if _is_array(a):
            d = a.data if isinstance(a, Tensor) else a
            key.append((d.shape, d.dtype.str))
        elif a is None or isinstance(a, (bool, int, float, str)):
            key.append(("static", type(a).__name__, a))
        else:
            raise TypeError(
                f"ffnn.trace: argument {i} is a {type(a).__name__}; a traced function takes "
                "arrays or Tensors (traced) and None/bool/int/float/str (static, part of the "
                "signature)"
            )
    return tuple(key)


class TracedFunction:
    """A function with its static graphs, one per signature (what :func:`trace` returns).

    Calling it looks up the graph of the arguments' shapes, dtypes and static values,
    tracing on a miss, and replays it. :attr:`graph` is the graph of the last call;
    :attr:`nodes`, :attr:`flops`, :attr:`buffer_bytes`, :meth:`to_dot`,
    :meth:`value` and :meth:`adjoint` read it.
    """

    def __init__(self, fn: Callable[..., Any], copy: bool = True,
                 raw: Sequence[int] = (), backward: bool = False) -> None:
        self.fn = fn
        self.copy = copy
        self.raw = frozenset(raw)  # positions passed to fn as ndarrays, not Tensors
        self.backward = backward  # step mode: backpropagate from the first output
        self.graphs: dict[tuple[Any, ...], StaticGraph] = {}
        self.graph: StaticGraph | None = None

    def _trace(self, args: Sequence[Any]) -> StaticGraph:
        fn = self.fn
        if isinstance(fn, ValueAndGrad):
            inner, nums, single = fn.fn, fn.argnums, fn.single
            for i in nums:
                if not -len(args) <= i < len(args):
                    raise ValueError(f"argnums {i} is out of range for {len(args)} "
                                     "positional arguments")
                if not _is_array(args[i]) and not isinstance(args[i], (int, float)):
                    raise TypeError(f"argnums {i}: a differentiated argument must be an array")
            grad_set = {i % len(args) for i in nums}
        else:
            inner, nums, single, grad_set = fn, None, False, set()
        rec = _Recorder()
        lifted: list[Any] = []
        array_positions: list[int] = []
        for i, a in enumerate(args):
            if i in grad_set:
                t = Tensor(as_array(a), requires_grad=True)
            elif isinstance(a, np.ndarray) and (a.dtype.kind not in "f" or i in self.raw):
                rec.input_slots.append(rec.new_slot(_INPUT, a, False))  # labels: passed raw
                array_positions.append(i)
                lifted.append(a)
                continue
            elif _is_array(a):
                t = Tensor(a.data if isinstance(a, Tensor) else a)
            else:
                lifted.append(a)
                continue
            rec.add_input(t)
            array_positions.append(i)
            lifted.append(t)
        if _MODE.tracer is not None:
            raise TraceError("ffnn.trace cannot be nested: a trace is already running")
        _MODE.tracer = rec
        try:
            out = inner(*lifted)
        finally:
            _MODE.tracer = None
        items, structure = _flatten(out)
        out_slots = []
        for o in items:
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"ffnn.trace: the traced function must return Tensors (or a tuple of "
                    f"them), got {type(o).__name__}"
                )
            out_slots.append(rec.operand(o))
        grad_inputs: tuple[int, ...] | None = () if self.backward else None
        if self.backward and math.prod(rec.shapes[out_slots[0]]) != 1:
            raise ValueError("a traced step backpropagates from its first output, which must "
                             f"be a scalar; got shape {rec.shapes[out_slots[0]]}")
        if nums is not None:
            if len(out_slots) != 1 or math.prod(rec.shapes[out_slots[0]]) != 1:
                raise ValueError("grad needs f to return a scalar, got shape "
                                 f"{rec.shapes[out_slots[0]] if out_slots else None}")
            grad_inputs = tuple(array_positions.index(i % len(args)) for i in nums)
        graph = StaticGraph(rec, out_slots, structure, grad_inputs, single, self.copy)
        graph._array_positions = array_positions  # type: ignore[attr-defined]
        return graph

    def __call__(self, *args: Any) -> Any:
        key = _signature(args)
        graph = self.graphs.get(key)
        if graph is None:
            graph = self.graphs[key] = self._trace(args)
        self.graph = graph
        arrays = []
        positions: list[int] = graph._array_positions  # type: ignore[attr-defined]
        grad_pos = (set() if graph._grad_inputs is None
                    else {positions[i] for i in graph._grad_inputs})
        for i in positions:
            a = args[i]
            d = a.data if isinstance(a, Tensor) else a
            arrays.append(as_array(d) if i in grad_pos else d)
        return graph(*arrays)

    def _last(self) -> StaticGraph:
        if self.graph is None:  # pragma: no cover - trace() always runs once
            raise RuntimeError("nothing traced yet")
        return self.graph

    @property
    def nodes(self) -> list[Node]:
        """The nodes of the last call's graph (primitive, shapes, dtype, FLOPs)."""
        return self._last().nodes

    @property
    def flops(self) -> int:
        """Forward FLOPs of the last call's graph."""
        return self._last().flops

    @property
    def buffer_bytes(self) -> int:
        """Bytes of the values the last call's graph holds."""
        return self._last().buffer_bytes

    def to_dot(self) -> str:
        """Graphviz DOT of the last call's graph."""
        return self._last().to_dot()

    def value(self, node: int | Node) -> Any:
        """Output of ``node`` in the last call."""
        return self._last().value(node)

    def adjoint(self, node: int | Node) -> np.ndarray | None:
        """Adjoint of ``node``'s output in the last call (traced ``value_and_grad`` only)."""
        return self._last().adjoint(node)

    def captured_grads(self) -> list[np.ndarray | None]:
        """Adjoints of the captured tensors in the last call (see StaticGraph)."""
        return self._last().captured_grads()

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", self.fn)
        return f"TracedFunction({name!r}, {len(self.graphs)} signatures)"


def trace(fn: Callable[..., Any], *example_args: Any, copy: bool = True) -> TracedFunction:
    """Trace ``fn`` on ``example_args`` into a static graph; return the replayable function.

    ``fn`` receives every array argument as a :class:`Tensor` (Python scalars, strings
    and None are static: part of the signature) and returns a Tensor or a tuple of
    them. Calling the result with arrays of the same shapes and dtypes replays the
    recorded primitives over plain arrays; another signature traces again (cached).
    ``trace(value_and_grad(f, argnums), *args)`` records forward and backward as one
    graph and returns ``(value, grads)`` as :func:`value_and_grad` does.

    Parameters
    ----------
    fn : callable
        The function to trace, or a :func:`~ffnn.autodiff.functional.value_and_grad`.
    *example_args
        Arguments to trace with (the first graph's signature).
    copy : bool, default True
        Return fresh arrays. With False the results are the graph's own buffers,
        overwritten by the next call (no allocation per call).

    Returns
    -------
    TracedFunction
        Callable; ``.graph`` is the :class:`StaticGraph` of the last call.

    Raises
    ------
    TraceError
        When ``fn`` reads a traced value in Python (``bool()``, ``float()``,
        ``.item()``, comparisons): such control flow needs the dynamic tape.
    """
    traced = TracedFunction(fn, copy=copy)
    traced.graph = traced.graphs[_signature(example_args)] = traced._trace(example_args)
    return traced
