"""Per-epoch curves: the loss (MATLAB's ``plotperform``), the state of LM/BR training
(``plottrainstate``) and the training diagnostics.

Every value drawn is a value of the training record, at its epoch (1-based: the value
after that many epochs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import Record, grid_axes, record

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["diagnostics", "history", "train_state", "validation_failures"]

# (history key, legend label, colour); MATLAB's plotperform draws train blue,
# validation green and test red.
_LOSSES = (("loss", "Train", "tab:blue"), ("val_loss", "Validation", "tab:green"),
           ("test_loss", "Test", "tab:red"))


def _log_scale(*series: np.ndarray) -> bool:
    """A log axis suits values that are all positive and span at least a decade."""
    values = np.concatenate([s[np.isfinite(s)] for s in series])
    return values.size > 0 and bool(np.all(values > 0)) and values.max() >= 10 * values.min()


def _mark_best(ax: Axes, epochs: np.ndarray, values: np.ndarray, what: str,
               best_is_max: bool = False) -> int:
    """Circle the best value, draw a dotted line at its epoch and title the panel."""
    k = int(np.nanargmax(values) if best_is_max else np.nanargmin(values))
    ax.axvline(epochs[k], color="0.4", linestyle=":", linewidth=1)
    ax.plot([epochs[k]], [values[k]], "o", markersize=9, markerfacecolor="none",
            markeredgecolor="black", label="Best")
    ax.set_title(f"Best {what} is {values[k]:.4g} at epoch {epochs[k]}")
    return k


def history(source: Any, *, ax: Axes | None = None, log: bool | None = None) -> Figure:
    """Training, validation and test loss per epoch (MATLAB's ``plotperform``).

    Draws ``loss`` (train), ``val_loss`` (validation) and ``test_loss`` (test) when the
    record has them, and circles the best epoch: the lowest validation loss, or the
    lowest training loss without validation data. For an estimator fitted with
    ``early_stopping=True`` its ``validation_scores_`` are drawn on a second axis and
    the best epoch is the highest score, the one early stopping kept.

    Parameters
    ----------
    source : History, Sequential, estimator or dict
        A ``fit`` result, a trained model (its last ``fit``), a fitted
        ``MLPClassifier``/``MLPRegressor`` (its ``loss_curve_``) or
        ``{"loss": [...], "val_loss": [...]}``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    log : bool, optional
        Logarithmic loss axis; by default when every loss drawn is positive and they
        span at least a factor of 10.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rec = record(source, prefer_curve=True)
    drawn = [(rec.series[k], label, colour) for k, label, colour in _LOSSES
             if rec.get(k) is not None]
    if not drawn:
        raise ValueError(f"the {rec.source} has no finite 'loss', 'val_loss' or 'test_loss' "
                         f"values; it has: {', '.join(rec.series) or 'nothing'}")
    fig, (axis,) = grid_axes(ax, 1, panel_size=(6.0, 4.0))
    for values, label, colour in drawn:
        axis.plot(rec.epochs, values, color=colour, label=label)
    if _log_scale(*(v for v, _, _ in drawn)) if log is None else log:
        axis.set_yscale("log")
    axis.set_xlabel("Epoch")
    axis.set_ylabel("Loss")
    scores = getattr(source, "validation_scores_", None)
    if scores is not None and len(scores) == len(rec.epochs):
        twin = axis.twinx()
        twin.plot(rec.epochs, scores, color="tab:green", linestyle="--",
                  label="Validation score")
        twin.set_ylabel("Validation score")
        _mark_best(twin, rec.epochs, np.asarray(scores, np.float64), "validation score",
                   best_is_max=True)
        twin.legend(loc="upper center")
    elif rec.get("val_loss") is not None:
        _mark_best(axis, rec.epochs, rec.series["val_loss"], "validation loss")
    else:
        _mark_best(axis, rec.epochs, drawn[0][0], f"{drawn[0][1].lower()} loss")
    axis.legend()
    return fig


def validation_failures(val_loss: Any) -> np.ndarray:
    """MATLAB's ``val_fail``: at each epoch, the epochs since the lowest validation loss.

    0 at an epoch whose value is below every earlier one (the first finite value
    included), else one more than at the epoch before; NaN where no value was recorded
    (the count then carries over).
    """
    values = np.asarray(val_loss, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    best, count = np.inf, 0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        count = 0 if v < best else count + 1
        best = min(best, v)
        out[i] = count
    return out


# (key or None for the validation checks, panel title, y label, log scale when positive)
_STATE = (("gradient_norm", "Gradient", "‖∇loss‖", True), ("mu", "Mu", "μ", True),
          ("gamma", "Effective parameters", "γ", False),
          (None, "Validation checks", "val_fail", False))


def train_state(source: Any, *, ax: Any = None) -> Figure:
    """The state of Levenberg–Marquardt or Bayesian-regularisation training per epoch
    (MATLAB's ``plottrainstate``), one panel each.

    Panels, for the quantities the record has: the gradient norm ‖∇loss‖ at the start
    of each epoch (``gradient_norm``), the damping μ after it (``mu``), the effective
    number of parameters γ of Bayesian regularisation (``gamma``) and the validation
    checks (:func:`validation_failures` of ``val_loss``, MATLAB's ``val_fail``).

    Parameters
    ----------
    source : History, Sequential, estimator or dict
        See :func:`history`; an estimator's network history is used.
    ax : sequence of matplotlib Axes, optional
        One Axes per panel drawn; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When the record has none of these quantities (they are logged by the ``lm``
        and ``br`` optimisers; validation checks need validation data).
    """
    rec = record(source)
    panels = []
    for key, title, ylabel, log in _STATE:
        values = rec.get(key) if key else rec.get("val_loss")
        if values is not None:
            values = validation_failures(values) if key is None else values
            panels.append((values, title, ylabel, log))
    if not panels:
        raise ValueError(f"the {rec.source} has none of gradient_norm, mu, gamma, val_loss "
                         "(train with optimizer='lm' or 'br', with validation data for the "
                         f"validation checks); it has: {', '.join(rec.series) or 'nothing'}")
    fig, axes = grid_axes(ax, len(panels), sharex=ax is None)
    for axis, (values, title, ylabel, log) in zip(axes, panels, strict=True):
        axis.plot(rec.epochs, values, color="tab:blue", marker="." if len(values) < 60 else "")
        if log and _log_scale(values):
            axis.set_yscale("log")
        last = np.flatnonzero(np.isfinite(values))[-1]
        axis.set_title(f"{title} = {values[last]:.4g}, at epoch {rec.epochs[last]}")
        axis.set_ylabel(ylabel)
    axes[-1].set_xlabel("Epoch")
    return fig


# (history key prefix, panel title, y label, log scale when positive)
_DIAGNOSTICS = (("dead_relu/", "Dead ReLU units", "share", False),
                ("saturated/", "Saturated units", "share", False),
                ("grad_norm/", "Gradient norm per layer", "‖∂L/∂θ‖", True))


def diagnostics(source: Any, *, ax: Any = None) -> Figure:
    """Dead-ReLU share, saturated share and gradient norm of each layer per epoch.

    Reads the keys :class:`ffnn.callbacks.DiagnosticsCallback` adds to the history
    (``dead_relu/<layer>``, ``saturated/<layer>``, ``grad_norm/<layer>``; see
    :mod:`ffnn.diagnostics` for the definitions), one panel per kind present and one
    line per layer. Epochs the callback skipped (``every > 1``) are left out.

    Parameters
    ----------
    source : History, Sequential, estimator or dict
        See :func:`history`; an estimator's network history is used.
    ax : sequence of matplotlib Axes, optional
        One Axes per panel drawn; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rec = record(source)
    panels = []
    for prefix, title, ylabel, log in _DIAGNOSTICS:
        keys = [k for k in rec.series if k.startswith(prefix) and rec.get(k) is not None]
        if keys:
            panels.append((keys, prefix, title, ylabel, log))
    if not panels:
        raise ValueError(f"the {rec.source} has no diagnostics (dead_relu/*, saturated/*, "
                         "grad_norm/* keys): train with callbacks=[DiagnosticsCallback(x, y)]")
    fig, axes = grid_axes(ax, len(panels), sharex=ax is None)
    for axis, (keys, prefix, title, ylabel, log) in zip(axes, panels, strict=True):
        _draw_layers(axis, rec, keys, prefix)
        if log and _log_scale(*(rec.series[k] for k in keys)):
            axis.set_yscale("log")
        elif not log:
            axis.set_ylim(-0.05, 1.05)
        axis.set_title(title)
        axis.set_ylabel(ylabel)
        axis.legend(fontsize="small")
    axes[-1].set_xlabel("Epoch")
    return fig


def _draw_layers(axis: Axes, rec: Record, keys: list[str], prefix: str) -> None:
    for key in keys:
        values = rec.series[key]
        keep = np.isfinite(values)
        axis.plot(rec.epochs[keep], values[keep], marker="." if keep.sum() < 60 else "",
                  label=key[len(prefix):])
