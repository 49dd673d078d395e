"""Training diagnostics: dead ReLU units, saturated units and per-layer gradient norms.

The notes (note 1, on choosing activations) advise using ReLU "while monitoring the share
of dead neurons in the network", switching to leaky ReLU or maxout when it is too high;
saturated sigmoid/tanh units and gradients that shrink toward the input are the classic
symptoms of vanishing gradients. :func:`report` measures all three on a probe batch and
:class:`DiagnosticsCallback` records them in the training history every epoch.

Definitions
-----------
dead unit
    A unit of a hidden ReLU layer whose output is exactly zero for every sample of the
    probe batch. Its pre-activation is ≤ 0 everywhere, so no gradient reaches its
    weights and it cannot recover. Only ``relu`` units are counted: leaky ReLU, ELU,
    PReLU, softplus, swish and GELU keep a gradient for negative inputs, which is why
    the notes recommend them when too many ReLU units die.
saturated unit
    A unit of a hidden sigmoid, tanh, hard_logistic or hard_tanh layer whose output
    lies within ``tol·(hi − lo)`` of one of the asymptotes ``lo``/``hi`` (0 and 1, or −1
    and 1) for at least ``fraction`` of the probe samples. For sigmoid and tanh a
    relative distance t from an asymptote means the derivative is at most 4t(1 − t)
    of its maximum (σ' = a(1 − a) ≤ t(1 − t) against ¼; tanh' = (1 − a)(1 + a) ≤
    4t(1 − t) against 1). For the hard variants the sample counts only when the output
    is *at* a bound, where the derivative is exactly zero.

    The defaults ``tol=0.01`` and ``fraction=0.95`` mean: on 95 % of the samples the unit
    passes less than 4 % of its peak derivative, so averaged over the batch its
    weights receive at most 0.05 + 0.95·0.04 ≈ 9 % of the gradient a responsive unit
    would, i.e. the unit learns at under a tenth of its normal rate.
gradient norm
    For each layer with parameters, the Frobenius norm of ∂L/∂W, the Euclidean norm of
    ∂L/∂b (and of any other parameter, by name), and their combination
    sqrt(‖∂L/∂W‖² + ‖∂L/∂b‖²), from one backward pass of the compiled training
    objective (loss plus penalties, the quantity ``fit`` minimises) on (x, y) with
    ``training=False`` (dropout off, so the result is deterministic).

A Dense layer with ``activation="relu"`` and a linear Dense followed by
``Activation("relu")`` (with any Dropout layers in between) are recognised alike; in
the second case the statistics are reported under the Dense layer's name, next to its
gradient norms. Only hidden layers get unit statistics: the last layer with parameters
(and the activation layers after it) produce the output, whose saturation is expected
when the network is confident.

The callback that adds these values to the history each epoch is
:class:`ffnn.callbacks.DiagnosticsCallback` (it lives with the other callbacks, above
this module in the import order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import autodiff as ad
from ..autodiff import Tensor
from ..nn.layers import Activation, Dense, Dropout, Layer
from . import data

if TYPE_CHECKING:
    from .model import Sequential

__all__ = [
    "DEAD_ACTIVATIONS",
    "SATURATING_ACTIVATIONS",
    "DiagnosticsReport",
    "LayerDiagnostics",
    "check_options",
    "log_keys",
    "report",
]

#: Activations whose units can die (output exactly zero on every sample).
DEAD_ACTIVATIONS: frozenset[str] = frozenset({"relu"})

#: Saturating activations: (lower bound, upper bound, bounds reached exactly).
SATURATING_ACTIVATIONS: dict[str, tuple[float, float, bool]] = {
    "sigmoid": (0.0, 1.0, False),
    "tanh": (-1.0, 1.0, False),
    "hard_logistic": (0.0, 1.0, True),
    "hard_tanh": (-1.0, 1.0, True),
    "saturating_linear": (0.0, 1.0, True),
}


@dataclass
class LayerDiagnostics:
    """The diagnostics of one layer (see the module docstring for the definitions).

    Attributes
    ----------
    name : str
        The layer's name in the model.
    activation : str or None
        Canonical name of the activation whose units were inspected (None when none).
    hidden : bool
        False for the output layer (which gets no unit statistics).
    units : int or None
        Number of units inspected.
    dead_share : float or None
        Share of dead units; None unless this is a hidden ``relu`` layer.
    dead_units : tuple of int
        Indices of the dead units.
    saturated_share : float or None
        Share of saturated units; None unless this is a hidden saturating layer.
    saturated_units : tuple of int
        Indices of the saturated units.
    grad_norms : dict[str, float]
        Norm of the gradient of each parameter (``kernel``, ``bias``, ...); empty when
        no targets were given or the layer has no parameters.
    grad_norm : float or None
        sqrt of the sum of the squared ``grad_norms``.
    """

    name: str
    activation: str | None = None
    hidden: bool = True
    units: int | None = None
    dead_share: float | None = None
    dead_units: tuple[int, ...] = ()
    saturated_share: float | None = None
    saturated_units: tuple[int, ...] = ()
    grad_norms: dict[str, float] = field(default_factory=dict)
    grad_norm: float | None = None

    @property
    def kernel_grad_norm(self) -> float | None:
        """‖∂L/∂W‖ (Frobenius), or None."""
        return self.grad_norms.get("kernel")

    @property
    def bias_grad_norm(self) -> float | None:
        """‖∂L/∂b‖, or None."""
        return self.grad_norms.get("bias")


@dataclass
class DiagnosticsReport:
    """What :func:`report` found, layer by layer in model order.

    Attributes
    ----------
    layers : list of LayerDiagnostics
        One entry per layer with parameters or with inspected units.
    n_samples : int
        Size of the probe batch.
    tol, fraction : float
        The saturation criterion used.
    loss : float or None
        The training objective at which the gradients were taken (None without ``y``).
    """

    layers: list[LayerDiagnostics]
    n_samples: int
    tol: float
    fraction: float
    loss: float | None = None

    def __getitem__(self, name: str) -> LayerDiagnostics:
        for entry in self.layers:
            if entry.name == name:
                return entry
        raise KeyError(f"no diagnostics for a layer named {name!r}; "
                       f"have: {', '.join(e.name for e in self.layers)}")

    def to_logs(self) -> dict[str, float]:
        """Flat ``{"dead_relu/<layer>", "saturated/<layer>", "grad_norm/<layer>": value}``."""
        logs: dict[str, float] = {}
        for e in self.layers:
            if e.dead_share is not None:
                logs[f"dead_relu/{e.name}"] = e.dead_share
            if e.saturated_share is not None:
                logs[f"saturated/{e.name}"] = e.saturated_share
            if e.grad_norm is not None:
                logs[f"grad_norm/{e.name}"] = e.grad_norm
        return logs

    def to_text(self) -> str:
        """A readable table: one row per layer."""
        head = ("layer", "activation", "units", "dead ReLU", "saturated", "|dL/dW|",
                "|dL/db|", "|grad|")
        rows = [head] + [_row(e) for e in self.layers]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            f"Diagnostics on {self.n_samples} probe samples (saturated: within "
            f"{self.tol:g} of the output range from an asymptote on >= "
            f"{self.fraction:.0%} of the samples)",
            *("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows),
        ]
        if self.loss is not None:
            lines.append(f"objective: {self.loss:.6g}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _share(share: float | None, idx: tuple[int, ...], units: int | None) -> str:
    if share is None:
        return "-"
    return f"{len(idx)}/{units} ({share:.0%})"


def _norm(value: float | None) -> str:
    return "-" if value is None else f"{value:.3e}"


def _row(e: LayerDiagnostics) -> tuple[str, ...]:
    name = e.name if e.hidden else f"{e.name} (output)"
    return (name, e.activation or "-", "-" if e.units is None else str(e.units),
            _share(e.dead_share, e.dead_units, e.units),
            _share(e.saturated_share, e.saturated_units, e.units),
            _norm(e.kernel_grad_norm), _norm(e.bias_grad_norm), _norm(e.grad_norm))


# ------------------------------------------------------------------ model structure
def _activation_name(layer: Layer) -> str | None:
    return getattr(getattr(layer, "activation", None), "name", None)


def _unit_owner(layers: Sequence[Layer], i: int) -> Layer:
    """The layer whose units layer ``i`` (an Activation) activates: a preceding linear
    layer with parameters (skipping Dropout), else the Activation layer itself."""
    j = i - 1
    while j >= 0 and isinstance(layers[j], Dropout):
        j -= 1
    if j >= 0 and layers[j].params and _activation_name(layers[j]) in (None, "linear"):
        return layers[j]
    return layers[i]


def _plan(layers: Sequence[Layer]) -> list[tuple[Layer, int | None, str | None, bool]]:
    """Entries in model order: (owner layer, index of the layer whose output holds the
    units or None, activation name, hidden)."""
    with_params = [i for i, lay in enumerate(layers) if lay.params]
    last = with_params[-1] if with_params else -1
    entries: dict[int, tuple[Layer, int | None, str | None, bool]] = {}
    for i, layer in enumerate(layers):
        act = _activation_name(layer)
        inspect = act in DEAD_ACTIVATIONS or act in SATURATING_ACTIVATIONS
        if isinstance(layer, Activation) and inspect:
            owner = _unit_owner(layers, i)
            entries[id(owner)] = (owner, i, act, i < last)
        elif layer.params or (inspect and isinstance(layer, Dense)):
            entries[id(layer)] = (layer, i if inspect else None, act if inspect else None,
                                  i < last)
    order = {id(lay): k for k, lay in enumerate(layers)}
    return sorted(entries.values(), key=lambda e: order[id(e[0])])


# ------------------------------------------------------------------ measurements
def check_options(tol: float, fraction: float) -> None:
    """Validate the saturation criterion (ValueError naming the bad value)."""
    if not (isinstance(tol, (int, float)) and 0.0 <= tol < 0.5):
        raise ValueError(f"tol must be a number in [0, 0.5), got {tol!r}")
    if not (isinstance(fraction, (int, float)) and 0.0 < fraction <= 1.0):
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")


def _probe(model: Sequential, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated arrays (building the model if needed)."""
    if y is not None:
        xa, ya, _ = model.validate_data(x, y)
        return xa, ya
    xa = data.as_features(x, model.dtype, model.input_dim)
    model.ensure_built(xa.shape[1])
    return xa, None


def _layer_outputs(layers: Sequence[Layer], xa: np.ndarray) -> list[np.ndarray]:
    outs = []
    with ad.no_grad():
        t = Tensor(xa)
        for layer in layers:
            t = layer(t, training=False)
            outs.append(t.data)
    return outs


def _unit_stats(out: np.ndarray, act: str, tol: float, fraction: float,
                entry: LayerDiagnostics) -> None:
    """Fill the dead or saturated share of ``entry`` from the (samples, units) output."""
    out = out.reshape(out.shape[0], -1)
    entry.units = out.shape[1]
    if act in DEAD_ACTIVATIONS:
        dead = np.all(out == 0, axis=0)
        entry.dead_units = tuple(int(k) for k in np.flatnonzero(dead))
        entry.dead_share = float(dead.mean())
        return
    lo, hi, exact = SATURATING_ACTIVATIONS[act]
    if exact:
        at_bound = (out <= lo) | (out >= hi)
    else:
        at_bound = np.minimum(out - lo, hi - out) <= tol * (hi - lo)
    saturated = at_bound.mean(axis=0) >= fraction
    entry.saturated_units = tuple(int(k) for k in np.flatnonzero(saturated))
    entry.saturated_share = float(saturated.mean())


def _gradient_norms(model: Sequential, xa: np.ndarray,
                    ya: np.ndarray) -> tuple[float, list[list[float]]]:
    """One backward pass of the training objective; the parameters' ``.grad`` are
    restored afterwards. Returns the objective and, per layer, each parameter's norm."""
    params = model.params
    saved = [p.grad for p in params]
    try:
        for p in params:
            p.grad = None
        model.prepare_training()
        with ad.enable_grad():
            objective, _ = model.objective(xa, ya, None, training=False)
            objective.backward()
        norms = [[0.0 if p.grad is None else float(np.linalg.norm(np.asarray(p.grad, np.float64)))
                  for p in layer.params] for layer in model.layers]
        return float(objective.data), norms
    finally:
        for p, g in zip(params, saved, strict=True):
            p.grad = g


def report(model: Sequential, x: Any, y: Any = None, *, tol: float = 0.01,
           fraction: float = 0.95) -> DiagnosticsReport:
    """Dead ReLU units, saturated units and gradient norms of ``model`` on a probe batch.

    Parameters
    ----------
    model : Sequential
        A model (built, or buildable from ``x``). Gradient norms need it compiled.
    x : array_like of shape (n_samples, n_features)
        The probe batch.
    y : array_like, optional
        Targets for ``x``; without them no gradient norms are computed.
    tol : float in [0, 0.5), default 0.01
        A unit output within ``tol·(hi − lo)`` of an asymptote counts as saturated on
        that sample (sigmoid: |a − 0| or |a − 1| ≤ 0.01, i.e. |z| ≥ 4.6; tanh:
        |a ∓ 1| ≤ 0.02, i.e. |z| ≥ 2.3).
    fraction : float in (0, 1], default 0.95
        A unit is saturated when saturated on at least this share of the samples.

    Returns
    -------
    DiagnosticsReport
        ``str(result)`` is a table; ``result.to_logs()`` the flat values;
        ``result["dense"]`` one layer's :class:`LayerDiagnostics`.

    Raises
    ------
    ValueError
        For a bad ``tol``/``fraction`` or invalid data (see ``Sequential.fit``).
    RuntimeError
        When ``y`` is given but the model was not compiled.

    Notes
    -----
    The unit statistics come from running the layers one by one under
    :func:`ffnn.no_grad` with ``training=False``; the gradient norms from one backward
    pass of the objective, leaving the parameters' ``.grad`` as they were.
    """
    check_options(tol, fraction)
    xa, ya = _probe(model, x, y)
    layers = list(model.layers)
    outs = _layer_outputs(layers, xa)
    loss, norms = _gradient_norms(model, xa, ya) if ya is not None else (None, None)
    index = {id(lay): k for k, lay in enumerate(layers)}
    entries = []
    for owner, at, act, hidden in _plan(layers):
        entry = LayerDiagnostics(name=str(owner.name), activation=act, hidden=hidden)
        if act is not None and hidden and at is not None:
            _unit_stats(outs[at], act, tol, fraction, entry)
        if norms is not None and owner.params:
            names = list(owner.named_params)
            entry.grad_norms = dict(zip(names, norms[index[id(owner)]], strict=True))
            entry.grad_norm = math.sqrt(sum(v * v for v in entry.grad_norms.values()))
        entries.append(entry)
    return DiagnosticsReport(entries, n_samples=int(xa.shape[0]), tol=float(tol),
                             fraction=float(fraction), loss=loss)


def log_keys(model: Sequential, with_gradients: bool = True) -> list[str]:
    """The history keys :func:`report` produces for ``model`` (in the order it logs them)."""
    keys = []
    for owner, _, act, hidden in _plan(list(model.layers)):
        if hidden and act in DEAD_ACTIVATIONS:
            keys.append(f"dead_relu/{owner.name}")
        if hidden and act in SATURATING_ACTIVATIONS:
            keys.append(f"saturated/{owner.name}")
        if with_gradients and owner.params:
            keys.append(f"grad_norm/{owner.name}")
    return keys
