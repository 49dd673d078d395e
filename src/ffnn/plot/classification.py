"""Classifiers: the confusion matrix and the decision regions of a 2-D problem.

Both accept an ffnn :class:`~ffnn.Sequential` network (class probabilities, one column
for two classes or one per class, with ``y`` as class indices or one-hot rows), a
fitted ffnn estimator and the :class:`~ffnn.Perceptron` (anything with ``predict``
returning labels). scikit-learn's displays do the drawing.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_choice, check_int, check_number
from ._base import class_indices, grid_axes, predicted_indices

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["confusion", "decision_boundary"]

# Region colours (light) and point colours for two classes, as in Higham & Higham's
# figures; more classes take scikit-learn's default palette.
_REGIONS = ("#c6dbef", "#fdd0a2")
_POINTS = ("tab:blue", "tab:orange")
_MARKERS = ("o", "X", "s", "^", "D", "v", "P", "*", "<", ">")


def _names(classes: np.ndarray, class_names: Sequence[str] | None) -> list[str]:
    if class_names is None:
        return [str(c) for c in classes]
    names = [str(c) for c in class_names]
    if len(names) != len(classes):
        raise ValueError(f"class_names has {len(names)} names for {len(classes)} classes")
    return names


def confusion(model: Any, x: Any, y: Any, *, ax: Axes | None = None,
              class_names: Sequence[str] | None = None, normalize: str | None = None,
              cmap: str = "Blues") -> Figure:
    """The confusion matrix of ``model`` on ``(x, y)`` (MATLAB's ``plotconfusion``):
    row i, column j counts the samples of true class i predicted as class j.

    Drawn by :class:`sklearn.metrics.ConfusionMatrixDisplay`.

    Parameters
    ----------
    model : Sequential, estimator or Perceptron
    x : array_like of shape (n_samples, n_features)
    y : array_like
        Labels (estimators, Perceptron) or class indices / one-hot rows (networks).
    ax : matplotlib Axes, optional
    class_names : sequence of str, optional
        Tick labels, one per class (default: the labels or indices).
    normalize : {"true", "pred", "all"}, optional
        Shares over rows, columns or all samples instead of counts.
    cmap : str, default "Blues"

    Returns
    -------
    matplotlib.figure.Figure
    """
    if normalize is not None:
        check_choice("normalize", normalize, ("true", "pred", "all"))
    classes, true, pred = class_indices(model, x, y)
    fig, (axis,) = grid_axes(ax, 1, panel_size=(5.0, 4.2))
    from sklearn.metrics import ConfusionMatrixDisplay

    ConfusionMatrixDisplay.from_predictions(
        true, pred, labels=np.arange(len(classes)), display_labels=_names(classes, class_names),
        normalize=normalize, cmap=cmap, ax=axis)
    accuracy = float(np.mean(true == pred))
    axis.set_title(f"Accuracy {accuracy:.2%} on {len(true)} samples")
    return fig


def _grid(x: np.ndarray, resolution: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    axes = [np.linspace(lo[k] - pad[k], hi[k] + pad[k], resolution) for k in (0, 1)]
    xx0, xx1 = np.meshgrid(*axes)
    return xx0, xx1


def decision_boundary(model: Any, x: Any, y: Any, *, ax: Axes | None = None,
                      grid_resolution: int = 200, margin: float = 0.05,
                      class_names: Sequence[str] | None = None,
                      plot_method: str = "pcolormesh") -> Figure:
    """The class regions of a classifier with two inputs, and the data on top, as in
    Higham & Higham's figures.

    The plane around the data is cut into a ``grid_resolution``² grid; each grid point
    is coloured by the class ``model`` predicts there (drawn by
    :class:`sklearn.inspection.DecisionBoundaryDisplay`); the samples are drawn with
    one marker per true class.

    Parameters
    ----------
    model : Sequential, estimator or Perceptron
        A classifier of 2-D inputs.
    x : array_like of shape (n_samples, 2)
    y : array_like
        Labels (estimators, Perceptron) or class indices / one-hot rows (networks).
    ax : matplotlib Axes, optional
    grid_resolution : int, default 200
        Grid points along each axis.
    margin : float, default 0.05
        Space around the data, as a share of its range on each axis.
    class_names : sequence of str, optional
        Legend labels, one per class.
    plot_method : {"pcolormesh", "contourf", "contour"}, default "pcolormesh"
        How the regions are drawn (``pcolormesh`` shows exactly the grid's predictions).

    Returns
    -------
    matplotlib.figure.Figure
    """
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim != 2 or xa.shape[1] != 2:
        raise ValueError(f"decision_boundary draws 2-D inputs; x has shape {xa.shape}")
    resolution = check_int("grid_resolution", grid_resolution, low=2)
    margin = check_number("margin", margin, low=0.0)
    check_choice("plot_method", plot_method, ("pcolormesh", "contourf", "contour"))
    xx0, xx1 = _grid(xa, resolution, margin)
    grid = np.column_stack([xx0.ravel(), xx1.ravel()])
    classes, true, _ = class_indices(model, xa, y)
    on_grid = predicted_indices(model, grid, classes)
    fig, (axis,) = grid_axes(ax, 1, panel_size=(5.0, 4.5))
    _draw_regions(axis, xx0, xx1, on_grid.reshape(xx0.shape), len(classes), plot_method)
    names = _names(classes, class_names)
    for k in range(len(classes)):
        pts = xa[true == k]
        axis.scatter(pts[:, 0], pts[:, 1], marker=_MARKERS[k % len(_MARKERS)], s=60,
                     color=_POINTS[k] if len(classes) == 2 else f"C{k % 10}",
                     edgecolors="black", linewidths=0.6, label=names[k], zorder=3)
    axis.set_xlim(xx0.min(), xx0.max())
    axis.set_ylim(xx1.min(), xx1.max())
    axis.legend(loc="best", fontsize="small")
    return fig


def _draw_regions(axis: Axes, xx0: np.ndarray, xx1: np.ndarray, response: np.ndarray,
                  n_classes: int, plot_method: str) -> None:
    from matplotlib.colors import ListedColormap
    from sklearn.inspection import DecisionBoundaryDisplay

    params: dict[str, Any] = {"xx0": xx0, "xx1": xx1, "response": response,
                              "xlabel": "x₁", "ylabel": "x₂"}
    if "n_classes" in inspect.signature(DecisionBoundaryDisplay).parameters:  # sklearn ≥ 1.9
        params["n_classes"] = n_classes
    style: dict[str, Any] = {}
    if n_classes == 2:
        style["cmap"] = ListedColormap(list(_REGIONS))
        if plot_method == "contour":
            style = {"colors": "black", "levels": [0.5]}
        elif plot_method == "contourf":
            style["levels"] = [-0.5, 0.5, 1.5]
    else:
        style["alpha"] = 0.35
    if plot_method == "pcolormesh":
        style.update(vmin=0, vmax=n_classes - 1, shading="nearest")
    DecisionBoundaryDisplay(**params).plot(plot_method=plot_method, ax=axis, **style)
