"""The pictures of a command-line run: ``ffnn train --plots DIR`` and ``ffnn report``.

:func:`run_figures` draws, with :mod:`ffnn.plot`, what fits a model file made by
``ffnn train``: the loss per epoch (MATLAB ``plotperform``), the Levenberg–Marquardt /
Bayesian-regularisation state (``plottrainstate``) when the history holds it, and per
data split a confusion matrix (classification) or outputs against targets in the
target's units (regression, ``plotregression``). matplotlib is the ``plot`` extra: a
missing one is reported as a one-line error naming ``pip install ffnn[plot]``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..training import Sequential
from .data import CLIError
from .model import Spec, regress_values

__all__ = ["Figures", "check_plots_dir", "require_matplotlib", "run_figures", "write_pngs"]

#: History keys that only Levenberg–Marquardt and Bayesian regularisation record.
_TRAIN_STATE_KEYS = ("mu", "gamma")


def require_matplotlib(option: str) -> None:
    """CLIError naming the extra when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(f"{option} draws with matplotlib, which is not installed: "
                       "pip install ffnn[plot]") from None


def check_plots_dir(path: str) -> None:
    """Create ``path`` if needed and fail now, not after training, if it cannot be
    written."""
    if path == "":
        raise CLIError("--plots needs a folder name")
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"--plots {path} exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"--plots {path}: cannot create the folder ({exc.strerror or exc})"
                       ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CLIError(f"--plots {path}: the folder is not writable")


@dataclass
class _Regressor:
    """``predict`` in the target's units, for :func:`ffnn.plot.regression`."""

    model: Sequential
    spec: Spec

    def predict(self, x: np.ndarray) -> np.ndarray:
        return regress_values(self.model, self.spec, x)


@dataclass
class Figures:
    """Named matplotlib figures, in drawing order (``name`` is a file stem)."""

    items: dict[str, Any]

    def close(self) -> None:
        from matplotlib import pyplot as plt

        for fig in self.items.values():
            plt.close(fig)


def run_figures(model: Sequential, spec: Spec,
                splits: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Figures:
    """The figures that fit a run: history, train state (LM/BR), and per split a
    confusion matrix or a regression panel.

    Parameters
    ----------
    model : Sequential
        The trained network (its ``history`` is drawn when it has one).
    spec : Spec
        What ``ffnn train`` recorded (task, class names, target scaler).
    splits : mapping of str to (x, y)
        Standardised features and class indices or raw target values, per split.
    """
    from .. import plot

    items: dict[str, Any] = {}
    history = model.history
    if history is not None and history.history.get("loss"):
        items["history"] = plot.history(history)
        if any(history.history.get(key) for key in _TRAIN_STATE_KEYS):
            items["train_state"] = plot.train_state(history)
    if spec.task == "classify":
        for name, (x, y) in splits.items():
            fig = plot.confusion(model, x, y, class_names=spec.classes)
            fig.axes[0].set_title(f"{name}: {fig.axes[0].get_title()}")
            items[f"confusion_{name}"] = fig
    elif splits:
        items["regression"] = plot.regression(_Regressor(model, spec), dict(splits))
    return Figures(items)


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def write_pngs(figures: Figures, folder: str) -> list[str]:
    """Write each figure to ``folder/<name>.png`` atomically; return the paths."""
    from ..io.atomic import atomic_write

    paths = []
    for name, fig in figures.items.items():
        path = os.path.join(folder, f"{name}.png")
        try:
            atomic_write(path, png_bytes(fig))
        except OSError as exc:
            raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None
        paths.append(path)
    return paths
