"""The fast path of training: one step replayed from a static graph.

``compile(..., graph="static")`` (the default) makes :meth:`Sequential.batch_step` run
the objective's forward and backward from a graph traced once per batch signature
(:func:`ffnn.trace`; the last short batch is a second signature), then the optimiser's
in-place update. No ``Tensor`` and no graph node is made per step, and the values are
the tape's bit for bit.

A model falls back to the tape (``graph="dynamic"``) by itself when its step cannot be
a static graph: a full-batch optimiser (it evaluates the problem itself), a layer that
is random in training mode (Dropout draws a new mask each step), or an objective whose
trace is refused (:class:`~ffnn.autodiff.TraceError`: e.g. PReLU's mask computed in
Python) or differs between two traces on different values of the same signature (an
array computed in Python from the data, which a replay would freeze).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autodiff import Tensor, TraceError
from ..autodiff.static import StaticGraph, TracedFunction
from ..optim.first_order import Optimizer

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["GRAPH_MODES", "StaticStep", "configuration"]

GRAPH_MODES = ("static", "dynamic")


def configuration(model: Sequential) -> tuple[Any, ...]:
    """What a traced step may have frozen besides shapes and parameters: every layer
    attribute (by identity: ``adapt()`` rebinds a preprocessing layer's statistics,
    assigning a regularizer rebinds it) and the configuration of those that have one
    (a regularizer's strength changed in place), and the loss's. Computed once per
    ``fit``/``train_step`` call (:meth:`Sequential.prepare_training`)."""
    state: list[Any] = []
    for layer in model.layers:
        for key, value in vars(layer).items():
            if key != "_params":  # the parameters: their identities are in the step's key
                state.append((key, id(value), _config(value)))
    state.append((id(model.loss), _config(model.loss)))
    return tuple(state)


def _config(obj: Any) -> str | None:
    """``repr(obj.get_config())``, or None for objects without a serialisable one (a
    loss wrapping a plain callable refuses; its identity is what is compared then)."""
    get = getattr(obj, "get_config", None)
    if not callable(get) or isinstance(obj, type):
        return None
    try:
        return repr(get())
    except (TypeError, ValueError, NotImplementedError):
        return None


class StaticStep:
    """The traced objective of one model: graphs per batch signature, or None where the
    step must take the tape."""

    def __init__(self, model: Sequential) -> None:
        self.model = model
        # per signature: (the parameters it was traced for, the graph or None, each
        # parameter's adjoint slot or None for the general path, whether checked)
        self.graphs: dict[tuple[Any, ...], tuple[Any, StaticGraph | None, Any, bool]] = {}
        self.reason: str | None = None  # why the last signature took the tape
        self.state: tuple[Any, ...] | None = None  # configuration() the graphs were traced in

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (and deepcopy) without the graphs: they hold primitives' closures and
        buffers, and are traced again on the first step."""
        return {"model": self.model, "graphs": {}, "reason": None, "state": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _objective(self, x: Tensor, y: np.ndarray, sw: np.ndarray | None = None) -> Any:
        model = self.model
        out = model.forward(x, training=True, logits=model._fused)
        loss = model._train_loss.total(y, out) if sw is None else model._train_loss(y, out, sw)
        reg = model.regularization()
        return (loss if reg is None else loss + reg), out

    def _trace(self, x: np.ndarray, y: np.ndarray, sw: Any) -> StaticGraph | None:
        model = self.model
        if any(getattr(layer, "stochastic", False) for layer in model.layers):
            self.reason = "a layer is random in training mode (Dropout)"
            return None
        args = (x, y) if sw is None else (x, y, sw)
        raw = range(1, len(args))
        try:
            first = TracedFunction(self._objective, copy=False, raw=raw, backward=True)
            g = first._trace(args)
            # a second trace on other values of the same signature: rows reversed
            flipped = tuple(np.ascontiguousarray(a[::-1]) for a in args)
            second = TracedFunction(self._objective, copy=False, raw=raw, backward=True)
            if not g.same_plan(second._trace(flipped)):
                self.reason = ("the objective computes an array in Python from the data, "
                               "which a replay would freeze")
                return None
        except TraceError as exc:
            self.reason = str(exc)
            return None
        self.reason = None
        return g

    def __call__(self, x: np.ndarray, y: np.ndarray,
                 sw: Any = None) -> tuple[float, np.ndarray] | None:
        """The objective before the step and the output, after the update; None when
        this signature must take the tape."""
        model = self.model
        state = getattr(model, "_static_state", None)
        if state is not self.state:
            if state != self.state:  # a layer or the loss changed since the traces
                self.graphs.clear()
            self.state = state
        optimizer = model.optimizer
        params = optimizer._params  # the model's parameters, rebuilt with the model
        key = (x.shape, x.dtype.str, y.shape, y.dtype.str,
               None if sw is None else (np.shape(sw), np.result_type(sw).str),
               model._fused, id(model.loss), id(params),
               tuple(map(id, model._regularized)),
               tuple([p.requires_grad for p in params]))  # a parameter frozen by hand
        entry = self.graphs.get(key)
        if entry is None or entry[0] is not params:  # (an id reused by a new tuple)
            g = self._trace(x, y, sw)
            slots: list[int | None] | None = None
            if g is not None:
                slots = [g.capture_slot(p) for p in params]
                if any(s is None and any(t is p for t in g._captured) for s, p in
                       zip(slots, params, strict=True)):
                    slots = None  # an adjoint needs a cast: take captured_grads()
            entry = self.graphs[key] = (params, g, slots, False)
        _, g, slots, checked = entry
        if g is None:
            return None
        if sw is None:
            g.step(x, y)
        else:
            g.step(x, y, sw)
        adj = g._adj
        grads = None if slots is None else [None if s is None else adj[s] for s in slots]
        if grads is not None and not checked:  # the first replay of this graph: an
            if any(a is not None and a.dtype != p.data.dtype  # adjoint in another dtype
                   for a, p in zip(grads, params, strict=True)):  # than its parameter is
                grads = None  # cast by captured_grads(), as the tape casts it
            self.graphs[key] = (params, g, None if grads is None else slots, True)
        if grads is not None and isinstance(optimizer, Optimizer):
            optimizer._step_checked(grads)
        else:  # (cast adjoints, or an optimiser that only knows step())
            by_id = dict(zip(map(id, g._captured), g.captured_grads(), strict=True))
            optimizer.zero_grad()
            for p in params:
                p.grad = by_id.get(id(p))
            optimizer.step()
        objective, out = (g._vals[s] for s in g._out_slots[:2])
        # the output is the graph's buffer: a copy where fit keeps it for the metrics
        return float(np.asarray(objective).reshape(())), (out.copy() if model.metrics else out)
