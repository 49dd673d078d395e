"""The replay of a static graph, compiled to straight-line Python.

A :class:`~ffnn.autodiff.static.StaticGraph` knows its nodes, their slots and which
of them have a kernel (:mod:`.kernels`) before it first runs, so its forward and
backward passes are generated once as two Python functions with one line per node:
a kernel node is a direct call on the slots it reads (``vals[7] = k3(vals[2], vals[5],
vals[6])``), a gradient with a single consumer is stored without a test, and any other
node runs through :func:`forward_op` / :func:`backward_op`, the general interpreter.
This removes the interpreter's per-node work (building argument lists, looking up
parameters, testing shapes) from every step; the NumPy calls and their order are the
same, so the values are too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backward import unbroadcast

__all__ = ["accumulate", "backward_op", "compile_replay", "forward_op"]


def forward_op(op: Any, vals: list[Any]) -> None:
    """Run one node's forward on the slot values (the general case)."""
    ins = list(op.template)
    for i, s in op.slot_pos:
        ins[i] = vals[s]
    for k, s in op.param_slots:
        op.params[k] = vals[s]
    buf = op.acc
    if buf is not None:
        op.kernel(*ins, out=buf)
        vals[op.out] = buf
        return
    if op.saved is not None:
        op.saved.clear()  # a forward that saves nothing this time must not leave the last
        r = op.fwd(*ins, saved=op.saved, **op.params)  # call's arrays to its VJP
    elif op.prim.saves:
        r = op.fwd(*ins, saved=None, **op.params)
    else:
        r = op.fwd(*ins, **op.params)
    if (op.kernel is not None and type(r) is np.ndarray and r.base is None
            and r.ndim and r.flags.writeable
            and not any(r is vals[s] for _, s in op.slot_pos)):
        op.acc = r  # an elementwise result: the node's buffer from now on (out=)
    vals[op.out] = r


def accumulate(s: int, gi: Any, adj: list[Any], accs: list[Any],
               shapes: Sequence[tuple[int, ...]]) -> None:
    """Add the contribution ``gi`` to the adjoint of slot ``s`` (summed back to the
    slot's shape), into a buffer kept for that slot once it has two."""
    if gi is None:
        return
    if gi.shape != shapes[s]:
        gi = unbroadcast(gi, shapes[s])
    prev = adj[s]
    if prev is None:
        adj[s] = gi
        return
    buf = accs[s]
    if buf is None or buf is gi:
        buf = accs[s] = prev + gi
    else:
        np.add(prev, gi, out=buf)
    adj[s] = buf


def backward_op(op: Any, vals: list[Any], adj: list[Any], accs: list[Any],
                shapes: Sequence[tuple[int, ...]]) -> None:
    """Run one node's VJP and pass its gradients to its inputs (the general case)."""
    g = adj[op.out]
    if g is None:
        return
    ins = list(op.template)
    for i, s in op.slot_pos:
        ins[i] = vals[s]
    if op.k is not None:
        grads = op.k.backward(g, vals[op.out], *ins)
    elif op.saved is not None:
        grads = op.vjp(g, vals[op.out], *ins, needs=op.needs, saved=op.saved, **op.params)
    elif op.prim.saves:
        grads = op.vjp(g, vals[op.out], *ins, needs=op.needs, saved=None, **op.params)
    else:
        grads = op.vjp(g, vals[op.out], *ins, needs=op.needs, **op.params)
    for i, s in op.slot_pos:
        if op.needs[i]:
            accumulate(s, grads[i], adj, accs, shapes)


def compile_replay(
    ops: Sequence[Any], backward_ops: Sequence[Any]
) -> tuple[Callable[[list[Any]], None], Callable[..., None]]:
    """Generate ``forward(vals)`` and ``backward(vals, adj, accs, shapes)`` for the
    nodes ``ops`` (execution order) and ``backward_ops`` (reverse order, those on the
    path to the output)."""
    ns: dict[str, Any] = {"_fop": forward_op, "_bop": backward_op, "_acc": accumulate,
                          "ops": list(ops)}
    index = {id(op): j for j, op in enumerate(ops)}

    def operands(j: int, op: Any) -> str:
        args = []
        slots = dict(op.slot_pos)
        for i, value in enumerate(op.template):
            if i in slots:
                args.append(f"vals[{slots[i]}]")
            else:
                ns[f"c{j}_{i}"] = value
                args.append(f"c{j}_{i}")
        return ", ".join(args)

    lines = ["def forward(vals):"]
    for j, op in enumerate(ops):
        if op.k is None:
            lines.append(f"    _fop(ops[{j}], vals)")
        else:
            ns[f"kf{j}"] = op.k.forward
            lines.append(f"    vals[{op.out}] = kf{j}({operands(j, op)})")
    lines.append("    return None")
    lines.append("")
    # how many gradients each slot receives: one is stored as is (a kernel's gradients
    # have its operands' traced shapes: the factories decline broadcasting operands),
    # more are summed
    count = Counter(s for op in backward_ops for i, s in op.slot_pos if op.needs[i])
    lines.append("def backward(vals, adj, accs, shapes):")
    for op in backward_ops:
        j = index[id(op)]
        if op.k is None:
            lines.append(f"    _bop(ops[{j}], vals, adj, accs, shapes)")
            continue
        ns[f"kb{j}"] = op.k.backward
        lines.append(f"    g = adj[{op.out}]")
        lines.append("    if g is not None:")
        lines.append(f"        r = kb{j}(g, vals[{op.out}], {operands(j, op)})")
        for i, s in op.slot_pos:
            if not op.needs[i]:
                continue
            if count[s] == 1:
                lines.append(f"        adj[{s}] = r[{i}]")
            else:
                lines.append(f"        _acc({s}, r[{i}], adj, accs, shapes)")
    lines.append("    return None")
    # the source holds only slot numbers and the generated names above: nothing read
    # from data, files or user strings enters it
    exec(compile("\n".join(lines), "<ffnn static replay>", "exec"), ns)
    return ns["forward"], ns["backward"]
