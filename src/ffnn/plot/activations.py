"""The activation gallery: each activation and its derivative, as the notes draw them.

The derivative is the one backpropagation uses: the engine's gradient of f at each
point (one ``backward`` pass through the activation), not a hand-written formula, so
the picture shows what training sees, kinks included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_int, check_number
from ..autodiff import Tensor
from ..nn import activations as _activations

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from ._base import grid_axes

__all__ = ["GALLERY", "activation_curves", "activations"]

#: The notes' gallery (lecture 4, figures 4.2–4.5 and table 4.3, then GELU): the
#: default of :func:`activations`. Leaky ReLU with γ = 0.1, so its slope is visible.
GALLERY: tuple[Any, ...] = (
    "sigmoid", "tanh", "hard_logistic", "hard_tanh", "relu",
    {"name": "leaky_relu", "gamma": 0.1}, "elu", "softplus", "swish", "gelu",
)

# Activations that are not elementwise: f(x)ᵢ depends on other entries of x.
_NOT_ELEMENTWISE = frozenset({"softmax"})


def activation_curves(activation: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` of an elementwise activation at the points ``x`` (float64).

    f' is the engine's gradient: one backward pass of Σᵢ f(xᵢ).

    Parameters
    ----------
    activation : str, dict or ActivationFunction
        Any identifier :func:`ffnn.activations.get` accepts.
    x : array_like
        The points.

    Raises
    ------
    ValueError
        For softmax, which is not elementwise.
    """
    act = _activations.get(activation)
    if act.name in _NOT_ELEMENTWISE:
        raise ValueError(f"{act.name} is not elementwise (each output depends on every "
                         "input), so it has no curve f(x); choose an elementwise activation")
    xt = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
    out = act(xt)
    if out.requires_grad:
        out.backward(np.ones_like(out.data))
    grad = np.zeros_like(xt.data) if xt.grad is None else np.asarray(xt.grad, dtype=np.float64)
    return np.array(out.data, dtype=np.float64), grad


def _title(act: _activations.ActivationFunction) -> str:
    defaults = _activations.ActivationFunction(act.name).params if not act.is_custom else {}
    changed = {k: v for k, v in act.params.items() if defaults.get(k) != v}
    return act.name + "".join(f", {k}={v:g}" if isinstance(v, float) else f", {k}={v}"
                              for k, v in changed.items())


def activations(names: Sequence[Any] | None = None, *, ax: Any = None,
                x_range: tuple[float, float] = (-4.0, 4.0), n_points: int = 801,
                ncols: int = 4) -> Figure:
    """Each activation f (solid) and its derivative f' (dashed), one panel each.

    Parameters
    ----------
    names : sequence of str or dict, optional
        Registered activations by name (``"relu"``, ``"logsig"``, ...) or config
        (``{"name": "elu", "gamma": 0.5}``); by default the notes' gallery
        :data:`GALLERY`.
    ax : sequence of matplotlib Axes, optional
        One Axes per activation; a new figure when omitted.
    x_range : (float, float), default (-4, 4)
    n_points : int, default 801
        Points on the x axis (an odd count puts one at 0 for a symmetric range).
    ncols : int, default 4
        Panels per row of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    chosen = list(GALLERY if names is None else names)
    if not chosen:
        raise ValueError("names is empty: pass at least one activation")
    lo = check_number("x_range[0]", x_range[0])
    hi = check_number("x_range[1]", x_range[1], low=lo, low_open=True)
    x = np.linspace(lo, hi, check_int("n_points", n_points, low=2))
    acts = [_activations.get(n) for n in chosen]
    curves = [activation_curves(a, x) for a in acts]
    fig, axes = grid_axes(ax, len(acts), ncols=check_int("ncols", ncols, low=1),
                          panel_size=(3.2, 2.6))
    for axis, act, (f, df) in zip(axes, acts, curves, strict=True):
        axis.axhline(0.0, color="0.75", linewidth=0.8)
        axis.axvline(0.0, color="0.75", linewidth=0.8)
        axis.plot(x, f, color="tab:blue", label="f(x)")
        axis.plot(x, df, color="tab:red", linestyle="--", label="f′(x)")
        axis.set_title(_title(act))
        axis.set_xlim(lo, hi)
    axes[0].legend(loc="upper left", fontsize="small")
    return fig
