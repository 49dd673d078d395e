"""A small network drawn as the notes draw it: columns of units joined by weighted edges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_int
from ..nn.layers import Activation, Dense, Dropout
from ..nn.layers.preprocessing import is_preprocessing
from ._base import as_sequential, grid_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["network"]

_MAX_WIDTH = 4.0  # line width of the largest |weight|
_MIN_WIDTH = 0.3  # line width of a zero weight


def _columns(model: Any) -> list[tuple[Dense, str]]:
    """(Dense layer, activation name) per column after the inputs: an Activation layer
    names the activation of the column before it; Dropout is the identity when
    predicting; preprocessing layers (MapMinMax & co) hold no units and are skipped."""
    columns: list[tuple[Dense, str]] = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            columns.append((layer, layer.activation.name))
        elif isinstance(layer, Activation) and columns:
            columns[-1] = (columns[-1][0], layer.activation.name)
        elif not isinstance(layer, (Dropout, Activation)) and not is_preprocessing(layer):
            raise ValueError(f"network draws Dense, Activation and Dropout layers; layer "
                             f"{layer.name!r} is a {type(layer).__name__}")
    if not columns:
        raise ValueError("the model has no Dense layer to draw")
    return columns


def _heights(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)[::-1] - (n - 1) / 2


def network(model: Any, *, ax: Axes | None = None, max_units: int = 16,
            cmap: str = "coolwarm") -> Figure:
    """Draw a small network: one column of units per layer, an edge per weight.

    Unit k of a column sits at height (n − 1)/2 − k; the edge from input unit i to
    unit j of the next column stands for the weight W[j, i] (weights have the notes'
    shape (units, inputs)). Its colour is ``cmap`` at W[j, i] on a scale symmetric
    about 0 (blue negative, red positive with the default map) and its width grows
    linearly with |W[j, i]|, from 0.3 for 0 to 4 for the largest |weight| of the
    network. A unit's fill colour is its bias on the same scale (inputs are white).

    Parameters
    ----------
    model : Sequential or fitted estimator
        A built network of Dense layers (Activation, Dropout and preprocessing layers
        allowed; the input column shows the features a RemoveConstantRows keeps).
    ax : matplotlib Axes, optional
    max_units : int, default 16
        The widest column drawn; a wider layer is refused (its edges would be
        unreadable). Raise it knowingly.
    cmap : str, default "coolwarm"
        A diverging matplotlib colormap.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For an unbuilt model, a layer other than Dense/Activation/Dropout, or a column
        wider than ``max_units``.
    """
    net = as_sequential(model)
    if not net.built:
        raise ValueError("the model is not built: fit it, or give the first layer input_dim")
    columns = _columns(net)
    kernels = [np.asarray(d.kernel.data, np.float64) for d, _ in columns]
    biases = [np.zeros(d.units) if d.bias is None else np.asarray(d.bias.data, np.float64)
              for d, _ in columns]
    sizes = [kernels[0].shape[1], *(k.shape[0] for k in kernels)]
    _check_size(sizes, columns, check_int("max_units", max_units, low=1))
    from matplotlib.colors import Normalize

    scale = max(float(max(np.abs(w).max(initial=0.0) for w in kernels + biases)), 1e-12)
    norm = Normalize(-scale, scale)
    colours = _colormap(cmap)
    fig, (axis,) = grid_axes(ax, 1, panel_size=(1.6 * len(sizes) + 1.5, 0.5 * max(sizes) + 2))
    for col, (w, (dense, _)) in enumerate(zip(kernels, columns, strict=True)):
        _draw_edges(axis, col, w, str(dense.name), colours(norm(w.ravel())), scale)
    captions = ["input", *(f"{dense.name}\n{act}" for dense, act in columns)]
    for col, (n, caption) in enumerate(zip(sizes, captions, strict=True)):
        face = ["white"] * n if col == 0 else list(colours(norm(biases[col - 1])))
        axis.scatter(np.full(n, col), _heights(n), s=420, c=face, edgecolors="black",
                     zorder=2)
        axis.text(col, _heights(max(sizes))[-1] - 0.9, f"{caption}\n({n})", ha="center",
                  va="top", fontsize="small")
    _finish(fig, axis, sizes, norm, colours)
    return fig


def _check_size(sizes: list[int], columns: list[tuple[Dense, str]], limit: int) -> None:
    if max(sizes) <= limit:
        return
    widest = int(np.argmax(sizes))
    name = "the input" if widest == 0 else f"layer {columns[widest - 1][0].name!r}"
    raise ValueError(f"{name} has {sizes[widest]} units; drawing more than {limit} per "
                     "column is unreadable (pass max_units to draw it anyway)")


def _draw_edges(axis: Axes, col: int, w: np.ndarray, name: str, colors: np.ndarray,
                scale: float) -> None:
    """One segment per weight W[j, i], from unit i of column ``col`` to unit j of the
    next, in the row-major order of W."""
    from matplotlib.collections import LineCollection

    src, dst = _heights(w.shape[1]), _heights(w.shape[0])
    segments = [((col, src[i]), (col + 1, dst[j]))
                for j in range(w.shape[0]) for i in range(w.shape[1])]
    widths = _MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * np.abs(w.ravel()) / scale
    axis.add_collection(LineCollection(segments, colors=colors, linewidths=widths, zorder=1,
                                       label=name))


def _colormap(name: str) -> Any:
    import matplotlib

    return matplotlib.colormaps[name]


def _finish(fig: Any, axis: Axes, sizes: list[int], norm: Any, colours: Any) -> None:
    from matplotlib.cm import ScalarMappable

    half = max(sizes) / 2
    axis.set_xlim(-0.5, len(sizes) - 0.5)
    axis.set_ylim(-half - 1.6, half + 0.2)
    axis.set_axis_off()
    fig.colorbar(ScalarMappable(norm=norm, cmap=colours), ax=axis, shrink=0.6,
                 label="weight (edges), bias (units)")
