"""Outputs against targets, one panel per data split (MATLAB's ``plotregression``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import grid_axes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["regression", "regression_line"]


def regression_line(targets: Any, outputs: Any) -> tuple[float, float, float]:
    """``(m, c, R)``: the least-squares line output ≈ m·target + c and the correlation
    coefficient R between outputs and targets (all outputs pooled, as MATLAB does).

    Raises
    ------
    ValueError
        When the two do not have the same number of values or fewer than two.
    """
    t = np.asarray(targets, dtype=np.float64).reshape(-1)
    o = np.asarray(outputs, dtype=np.float64).reshape(-1)
    if t.size != o.size or t.size < 2:
        raise ValueError(f"need as many targets as outputs (at least 2), got {t.size} targets "
                         f"and {o.size} outputs")
    m, c = np.polyfit(t, o, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = float(np.corrcoef(t, o)[0, 1])
    return float(m), float(c), r


def _splits(x: Any, y: Any) -> dict[str, tuple[Any, Any]]:
    if isinstance(x, Mapping):
        if y is not None:
            raise TypeError("pass the splits as one dict {name: (x, y)} without a separate y")
        if not x:
            raise ValueError("the dict of splits is empty")
        for name, pair in x.items():
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"split {name!r} must be an (x, y) pair, got {type(pair).__name__}")
        return {str(k): (v[0], v[1]) for k, v in x.items()}
    if y is None:
        raise TypeError("regression needs targets: regression(model, x, y) or "
                        "regression(model, {'train': (x, y), ...})")
    return {"Data": (x, y)}


def regression(model: Any, x: Any, y: Any = None, *, ax: Any = None) -> Figure:
    """Network outputs against targets, with the fitted line, R and the ideal line
    (MATLAB's ``plotregression``), one panel per data split.

    Each panel scatters every (target, output) pair (all output columns pooled), draws
    the least-squares line output ≈ m·target + c and the ideal line output = target,
    and is titled with R, the correlation between outputs and targets
    (:func:`regression_line`).

    Parameters
    ----------
    model : Sequential, estimator or anything with ``predict``
    x : array_like or dict
        Inputs, or several splits ``{"train": (x, y), "validation": (x, y), ...}``
        (one panel each, in the dict's order).
    y : array_like, optional
        Targets for ``x`` (same number of values as the model's outputs); omit it with
        a dict of splits.
    ax : matplotlib Axes or sequence of Axes, optional
        One per split; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    splits = _splits(x, y)
    fig, axes = grid_axes(ax, len(splits), ncols=min(len(splits), 3), panel_size=(4.0, 4.0))
    for axis, (name, (xs, ys)) in zip(axes, splits.items(), strict=True):
        targets = np.asarray(ys, dtype=np.float64).reshape(-1)
        outputs = np.asarray(model.predict(xs), dtype=np.float64).reshape(-1)
        m, c, r = regression_line(targets, outputs)
        lo = float(min(targets.min(), outputs.min()))
        hi = float(max(targets.max(), outputs.max()))
        ends = np.array([lo, hi])
        axis.scatter(targets, outputs, s=14, facecolors="none", edgecolors="black",
                     linewidths=0.7, label="Data")
        axis.plot(ends, m * ends + c, color="tab:blue", label="Fit")
        axis.plot(ends, ends, color="0.4", linestyle=":", label="Y = T")
        axis.set_title(f"{name}: R={r:.5f}")
        axis.set_xlabel("Target")
        axis.set_ylabel(f"Output ≈ {m:.2g}·Target {'−' if c < 0 else '+'} {abs(c):.2g}")
        axis.legend(loc="upper left", fontsize="small")
    return fig
