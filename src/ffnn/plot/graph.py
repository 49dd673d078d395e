"""The computation graph of a function, a loss or a traced static graph (the notes'
figure of f(x; w, b) = 1/(exp(−(wx+b))+1) with its adjoints)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autodiff import GraphNode, Tensor, graph_nodes
from ..autodiff.static import StaticGraph, TracedFunction
from ._base import pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Vertex", "graph", "graph_vertices"]


@dataclass(frozen=True)
class Vertex:
    """One drawn vertex: its name (h1, h2, ... for operations), primitive, value,
    adjoint (None when not known), parents and the local derivative on each edge."""

    name: str
    primitive: str
    value: np.ndarray
    adjoint: np.ndarray | None
    parents: tuple[int, ...]
    local: tuple[np.ndarray | None, ...]


def _fmt(a: Any) -> str:
    arr = np.asarray(a)
    if arr.size == 1:
        v = float(arr.reshape(()))
        return "0" if v == 0 else f"{v:.4g}"
    return f"array{arr.shape}"


def _from_tape(nodes: list[GraphNode], names: dict[int, str]) -> list[Vertex]:
    out: list[Vertex] = []
    k = 0
    for n in nodes:
        if n.primitive == "input":
            t = n.tensor
            name = names.get(id(t)) or (t.name if t is not None and t.name else f"x{len(out)}")
        elif n.primitive == "constant":
            name = _fmt(n.value)
        else:
            k += 1
            name = f"h{k}"
        out.append(Vertex(name, n.primitive, np.asarray(n.value), n.adjoint, n.parents, n.local))
    return out


def _from_function(fn: Callable[..., Any], args: tuple[Any, ...]) -> list[Vertex]:
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        params = []
    leaves = []
    names: dict[int, str] = {}
    for i, a in enumerate(args):
        t = a if isinstance(a, Tensor) else Tensor(np.asarray(a, dtype=np.float64),
                                                   requires_grad=True)
        leaves.append(t)
        names[id(t)] = params[i] if i < len(params) else f"x{i}"
    out = fn(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"graph: the function must return a Tensor, got {type(out).__name__}")
    for n in graph_nodes(out):
        if n.primitive not in ("input", "constant") and n.tensor is not None:
            n.tensor.retain_grad()
    if out.requires_grad:
        out.backward(np.ones(out.shape, dtype=out.dtype), retain_graph=True)
    return _from_tape(graph_nodes(out), names)


def _from_static(g: StaticGraph) -> list[Vertex]:
    out: list[Vertex] = []
    index: dict[str, int] = {}
    has_adjoints = g._grad_inputs is not None
    for n in g.nodes:
        parents = []
        for pos, src in enumerate(n.inputs):
            if src == "const":
                value = np.asarray(g._ops[n.index].template[pos])
                parents.append(len(out))
                out.append(Vertex(_fmt(value), "constant", value, None, (), ()))
                continue
            if src not in index:
                index[src] = len(out)
                adjoint = None
                slot = (g._inputs if src[0] == "x" else g._capture_slots)[int(src[1:])]
                if has_adjoints:
                    adjoint = g._adj[slot]
                out.append(Vertex(src, "input", np.asarray(g._vals[slot]), adjoint, (), ()))
            parents.append(index[src])
        index[f"n{n.index}"] = len(out)
        out.append(Vertex(f"h{n.index + 1}", n.primitive, np.asarray(g.value(n)),
                          g.adjoint(n) if has_adjoints else None, tuple(parents), g.local(n)))
    return out


def graph_vertices(obj: Any, *args: Any) -> list[Vertex]:
    """The vertices :func:`graph` draws for ``obj`` (a function with its arguments, a
    Tensor, or a traced function / static graph), parents first."""
    if isinstance(obj, TracedFunction):
        if obj.graph is None:  # pragma: no cover - trace() always traces once
            raise ValueError("the traced function has no graph yet")
        return _from_static(obj.graph)
    if isinstance(obj, StaticGraph):
        return _from_static(obj)
    if isinstance(obj, Tensor):
        if args:
            raise TypeError("graph(tensor) takes no further arguments")
        return _from_tape(graph_nodes(obj), {})
    if callable(obj):
        return _from_function(obj, args)
    raise TypeError(
        f"graph needs a function with its arguments, a Tensor or a traced function, got "
        f"{type(obj).__name__}"
    )


def _layout(vertices: list[Vertex]) -> list[tuple[float, float]]:
    depth = [0] * len(vertices)
    for i, v in enumerate(vertices):
        if v.parents:
            depth[i] = 1 + max(depth[p] for p in v.parents)
    for i, v in enumerate(vertices):  # inputs and constants: just before their first use
        if not v.parents:
            users = [depth[j] for j, u in enumerate(vertices) if i in u.parents]
            depth[i] = min(users) - 1 if users else 0
    columns: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        columns.setdefault(d, []).append(i)
    pos = [(0.0, 0.0)] * len(vertices)
    for d, members in columns.items():
        for k, i in enumerate(members):
            pos[i] = (float(d), (len(members) - 1) / 2 - k)
    return pos


def graph(obj: Any, *args: Any, ax: Axes | None = None) -> Figure:
    """Draw a computation graph: vertices by primitive and value, edges by local derivative.

    Each operation hₖ is drawn at the column of its longest path from the inputs, as
    ``"hₖ = primitive"`` over its value and, when known, its adjoint h̄ₖ = ∂f/∂hₖ; the
    edge from an operand to hₖ carries the local derivative ∂hₖ/∂operand (for tensors,
    Σⱼ ∂hₖⱼ/∂operand). For the notes' f(x; w, b) = 1/(exp(−(wx+b))+1) at x=1, w=0,
    b=0 this is their table: h̄₁ = 0.25 = ∂f/∂w.

    Parameters
    ----------
    obj : callable, Tensor, TracedFunction or StaticGraph
        A function (called on ``args`` lifted to float64 leaves, then backpropagated
        with every intermediate's adjoint kept), an output Tensor (before ``backward``
        or after ``backward(retain_graph=True)``; adjoints appear where
        :meth:`Tensor.retain_grad` kept them), or a traced function (adjoints when it
        traced ``value_and_grad``).
    *args
        The function's arguments.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    vertices = graph_vertices(obj, *args)
    plt = pyplot()
    if ax is None:
        width = max(4.0, 1.9 * (1 + max(x for x, _ in _layout(vertices))))
        fig, ax = plt.subplots(figsize=(width, 3.2))
    else:
        fig = ax.figure
    pos = _layout(vertices)
    for i, v in enumerate(vertices):
        for p, d in zip(v.parents, v.local, strict=False):
            (x0, y0), (x1, y1) = pos[p], pos[i]
            ax.plot([x0 + 0.22, x1 - 0.22], [y0, y1], color="0.4", lw=1, marker=">",
                    markevery=[1], markersize=4, gid="edge")
            if d is not None:
                ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, _fmt(d), ha="center",
                        va="bottom", fontsize=7, color="tab:blue", gid="edge")
    for i, v in enumerate(vertices):
        x, y = pos[i]
        if v.primitive == "constant":
            lines = [v.name]
        elif v.primitive == "input":
            lines = [v.name, f"= {_fmt(v.value)}"]
        else:
            lines = [f"{v.name} = {v.primitive}", f"= {_fmt(v.value)}"]
        if v.adjoint is not None:
            lines.append(f"adj {_fmt(v.adjoint)}")
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8, gid="vertex",
                bbox={"boxstyle": "round", "fc": "white" if v.primitive != "input"
                      else "0.9", "ec": "0.3"})
    xs = [p[0] for p in pos] or [0.0]
    ys = [p[1] for p in pos] or [0.0]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    ax.set_title("computation graph (edges: local derivatives; adj: ∂f/∂h)")
    return fig
