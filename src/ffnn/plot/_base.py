"""What the figures share: the lazy matplotlib import, axes creation, and reading a
training record or a model out of whatever the user passes.

Nothing here imports matplotlib or scikit-learn at import time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..training.callbacks import History
from ..training.model import Sequential

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Record",
    "as_sequential",
    "class_indices",
    "grid_axes",
    "predicted_indices",
    "pyplot",
    "record",
]


def pyplot() -> Any:
    """``matplotlib.pyplot``, or an ImportError that names the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "ffnn.plot draws with matplotlib, which is not installed: "
            "pip install ffnn[plot]"
        ) from exc
    return plt


def grid_axes(ax: Any, n: int, ncols: int = 1, panel_size: tuple[float, float] = (5.0, 2.2),
              sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """``n`` axes: the caller's (one Axes, or a sequence of exactly ``n``), or a new
    figure with ``n`` panels in rows of ``ncols`` (unused cells removed)."""
    plt = pyplot()
    from matplotlib.axes import Axes

    if ax is not None:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) != n or not all(isinstance(a, Axes) for a in axes):
            raise ValueError(f"ax must be {'an Axes or ' if n == 1 else ''}a sequence of {n} "
                             f"matplotlib Axes (one per panel), got {ax!r}")
        return cast("Figure", axes[0].figure), axes
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, grid = plt.subplots(nrows, ncols, squeeze=False, sharex=sharex, layout="constrained",
                             figsize=(panel_size[0] * ncols, panel_size[1] * nrows))
    cells = list(grid.ravel())
    for extra in cells[n:]:
        extra.remove()
    return fig, cells[:n]


class Record:
    """A training record: per-epoch series and the epochs they belong to (1-based)."""

    def __init__(self, series: Mapping[str, Sequence[float]], epochs: Sequence[int] | None = None,
                 source: str = "history") -> None:
        self.series = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
        lengths = {len(v) for v in self.series.values()}
        if len(lengths) > 1:
            raise ValueError(f"the {source}'s series have different lengths: "
                             f"{ {k: len(v) for k, v in self.series.items()} }")
        n = lengths.pop() if lengths else 0
        self.epochs = (np.arange(1, n + 1) if epochs is None or len(epochs) != n
                       else np.asarray(epochs, dtype=np.int64) + 1)
        self.source = source

    def get(self, key: str) -> np.ndarray | None:
        """The series ``key`` if it was recorded and has a finite value, else None."""
        values = self.series.get(key)
        if values is None or not np.isfinite(values).any():
            return None
        return values


def record(source: Any, *, prefer_curve: bool = False) -> Record:
    """The training record of a :class:`History`, a model (its last ``fit``), an
    estimator (``loss_curve_`` when ``prefer_curve``, else its network's history) or a
    mapping of key to per-epoch values (``history.history``)."""
    if isinstance(source, History):
        return Record(source.history, source.epoch)
    if isinstance(source, Sequential):
        if source.history is None:
            raise ValueError("the model has no training history: call fit first")
        return Record(source.history.history, source.history.epoch, "model's history")
    if hasattr(source, "loss_curve_") and prefer_curve:
        return Record({"loss": list(source.loss_curve_)}, source="estimator's loss_curve_")
    if isinstance(getattr(source, "model_", None), Sequential):
        return record(source.model_)
    if isinstance(source, Mapping):
        return Record(source)
    raise TypeError(
        "expected a History, a Sequential model, a fitted ffnn estimator or a dict of "
        f"per-epoch lists, got {type(source).__name__}"
    )


def as_sequential(model: Any) -> Sequential:
    """The network of ``model``: a Sequential itself, or a fitted estimator's ``model_``."""
    if isinstance(model, Sequential):
        return model
    inner = getattr(model, "model_", None)
    if isinstance(inner, Sequential):
        return inner
    raise TypeError(f"expected an ffnn Sequential model or a fitted ffnn estimator, got "
                    f"{type(model).__name__}")


def _integer_labels(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind in "iub":
        return y.astype(np.int64)
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    raise ValueError("for an ffnn network, y must hold class indices 0..K-1 or one-hot rows; "
                     f"got values such as {y[:3].tolist()}")


def class_indices(model: Any, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(classes, true, predicted)``: the class labels and, for each sample, the index
    of its true and of its predicted class in ``classes``.

    A Sequential network's outputs are class probabilities (one column: P(class 1) > ½)
    or scores (several columns: the largest wins), and ``y`` holds class indices or
    one-hot rows. Any other model (estimator, :class:`ffnn.Perceptron`) predicts labels
    with ``predict``; its ``classes_`` (or the labels seen) give the order.
    """
    ya = np.asarray(y)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if isinstance(model, Sequential):
        out = np.asarray(model.predict(x))
        true = ya.argmax(axis=1) if ya.ndim == 2 else _integer_labels(ya)
        k = max(2, out.shape[1], int(true.max(initial=0)) + 1)
        return np.arange(k), true, _network_classes(out)
    labels = _labels(model, x)
    classes = getattr(model, "classes_", None)
    classes = np.unique(np.concatenate([ya, labels])) if classes is None else np.asarray(classes)
    return classes, _positions(classes, ya, "y"), _positions(classes, labels, "the predictions")


def predicted_indices(model: Any, x: Any, classes: np.ndarray) -> np.ndarray:
    """The index in ``classes`` (from :func:`class_indices`) of each predicted class."""
    if isinstance(model, Sequential):
        return _network_classes(np.asarray(model.predict(x)))
    return _positions(classes, _labels(model, x), "the predictions")


def _network_classes(out: np.ndarray) -> np.ndarray:
    return (out[:, 0] > 0.5).astype(np.int64) if out.shape[1] == 1 else out.argmax(axis=1)


def _labels(model: Any, x: Any) -> np.ndarray:
    if not hasattr(model, "predict"):
        raise TypeError(f"expected an ffnn model, estimator or Perceptron, got "
                        f"{type(model).__name__}")
    return np.asarray(model.predict(x)).reshape(-1)


def _positions(classes: np.ndarray, labels: np.ndarray, what: str) -> np.ndarray:
    unknown = set(np.unique(labels).tolist()) - set(classes.tolist())
    if unknown:
        raise ValueError(f"{what} hold labels the model does not know: {sorted(unknown)[:5]}")
    return np.searchsorted(classes, labels)
