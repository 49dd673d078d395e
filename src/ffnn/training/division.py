"""Data division (MATLAB's ``dividerand``/``divideblock``/``divideint``), the training
parameters a model can carry (MATLAB's ``trainParam``/``divideParam``) and what ``fit``
does with them before training: divide, adapt the preprocessing layers, add the
``max_fail`` early stopping, warn about unrepresentative validation splits.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_choice, check_int, check_number
from ..nn.layers.preprocessing import adapt_layers, is_preprocessing
from . import data
from .callbacks import Callback, EarlyStopping

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["DIVISIONS", "Division", "TrainParam", "divide_data", "divide_indices"]

DIVISIONS = ("random", "block", "interleave")
_CLASSIFICATION = ("binary_crossentropy", "categorical_crossentropy",
                   "sparse_categorical_crossentropy", "hinge")


def _counts(n: int, ratios: Any) -> tuple[int, int, int]:
    """MATLAB's rounding: validation and test get round(ratio·N), training the rest."""
    try:
        r = [float(v) for v in ratios]
    except (TypeError, ValueError):
        raise ValueError(f"ratios must be three numbers, got {ratios!r}") from None
    if len(r) != 3 or not all(np.isfinite(r)) or min(r) < 0 or sum(r) <= 0:
        raise ValueError(f"ratios must be three non-negative numbers with a positive sum, "
                         f"got {ratios!r}")
    total = sum(r)
    n_val, n_test = (math.floor(r[k] / total * n + 0.5) for k in (1, 2))  # MATLAB's round
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f"ratios {tuple(r)} leave no training rows out of {n}")
    return n_train, n_val, n_test


def divide_indices(n: int, ratios: Any = (0.70, 0.15, 0.15), method: str = "random",
                   seed: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (train, validation, test) of ``n`` rows; see :func:`divide_data`."""
    n = check_int("the number of rows", n, 1)
    method = check_choice("method", method, DIVISIONS)
    counts = _counts(n, ratios)
    if method == "random":
        perm = np.random.default_rng(seed).permutation(n)
        cuts = np.cumsum(counts)[:2]
        return tuple(np.sort(part) for part in np.split(perm, cuts))  # type: ignore[return-value]
    if method == "block":
        cuts = np.cumsum(counts)[:2]
        return tuple(np.split(np.arange(n), cuts))  # type: ignore[return-value]
    # interleave: row i joins the set furthest behind its share of the first i + 1 rows
    share = np.array(counts, dtype=np.float64) / n
    taken = np.zeros(3)
    label = np.empty(n, dtype=np.intp)
    for i in range(n):
        deficit = np.where(taken < counts, share * (i + 1) - taken, -np.inf)
        label[i] = int(np.argmax(deficit))
        taken[label[i]] += 1
    return tuple(np.flatnonzero(label == k) for k in range(3))  # type: ignore[return-value]


def divide_data(x: Any, y: Any, ratios: Any = (0.70, 0.15, 0.15), method: str = "random",
                seed: Any = None) -> tuple[Any, ...]:
    """Divide the rows of (x, y) into training, validation and test sets, as MATLAB does.

    With N rows and ratios (r_train, r_val, r_test) (normalised to sum to 1), the
    validation and test sets get round(r_val·N) and round(r_test·N) rows and training the
    rest. ``method`` chooses which rows:

    * ``"random"`` (``dividerand``): a random permutation, each set's indices sorted;
    * ``"block"`` (``divideblock``): contiguous blocks, in order;
    * ``"interleave"`` (``divideint``): the sets interleaved through the rows, each
      spread evenly (row i joins the set furthest behind its share of rows 0..i).

    Parameters
    ----------
    x, y : array_like
        Samples in rows, the same number of each.
    ratios : three numbers, default (0.70, 0.15, 0.15)
    method : {"random", "block", "interleave"}
    seed : int or numpy.random.Generator, optional
        The random division's seed.

    Returns
    -------
    (x_train, y_train), (x_val, y_val), (x_test, y_test), train_ind, val_ind, test_ind
        NumPy arrays; the index arrays say which rows went where.

    Raises
    ------
    ValueError
        For ratios that are not three non-negative numbers, ratios leaving no training
        row, x and y of different lengths, or an unknown method.
    """
    xa, ya = np.asarray(x), np.asarray(y)
    if xa.ndim == 0 or ya.ndim == 0 or len(xa) != len(ya):
        raise ValueError(f"x and y must have the same number of rows, got shapes {xa.shape} "
                         f"and {ya.shape}")
    parts = divide_indices(len(xa), ratios, method, seed)
    return (*((xa[i], ya[i]) for i in parts), *parts)


@dataclass
class TrainParam:
    """Training defaults a model carries (MATLAB's ``trainParam`` and ``divideParam``);
    ``fit`` uses them when its own arguments do not say otherwise.

    Attributes
    ----------
    epochs : int
        ``fit``'s default number of epochs.
    max_fail : int or None
        Stop after this many epochs without a lower validation loss and restore the
        best weights (``EarlyStopping(patience=max_fail)``); None: no such stop.
    divide : {"random", "block", "interleave"} or None
        The division used when ``fit`` gets no validation data (None: none).
    ratios : (float, float, float)
        Training, validation and test ratios of that division.
    outputs_from_targets : bool
        Size the last Dense layer to the targets' columns (the number of classes for
        integer labels) at the first ``fit``, as MATLAB's ``configure`` does.
    goal : float or None
        Stop once an epoch's training loss is at most ``goal`` (for optimisers without a
        ``goal`` option of their own; None: no such stop).
    """

    epochs: int = 1000
    max_fail: int | None = 6
    divide: str | None = "random"
    ratios: tuple[float, float, float] = (0.70, 0.15, 0.15)
    outputs_from_targets: bool = False
    goal: float | None = None

    def __post_init__(self) -> None:
        self.epochs = check_int("epochs", self.epochs, 0)
        if self.goal is not None:
            self.goal = check_number("goal", self.goal, low=0.0)
        if self.max_fail is not None:
            self.max_fail = check_int("max_fail", self.max_fail, 1)
        if self.divide is not None:
            self.divide = check_choice("divide", self.divide, DIVISIONS)
            _counts(100, self.ratios)


@dataclass
class Division:
    """The rows a model was trained, validated and tested on (``model.division``)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass
class Prepared:
    """``fit``'s data after the model's division, and the callbacks it adds."""

    x: Any
    y: Any
    sample_weight: Any
    validation_data: Any
    test_data: Any
    callbacks: list[Callback]


def prepare_fit(model: Sequential, x: Any, y: Any, sample_weight: Any, validation_split: float,
                validation_data: Any, test_data: Any, callbacks: list[Callback],
                seed: np.random.SeedSequence) -> Prepared:
    """Apply the model's :class:`TrainParam` (division, max_fail) and adapt its
    preprocessing layers on the training rows, before ``fit`` validates and builds."""
    param: TrainParam | None = getattr(model, "train_param", None)
    extra: list[Callback] = []
    if param is not None and param.outputs_from_targets and not model.built:
        _configure_outputs(model, y)
    if (param is not None and param.divide is not None and validation_data is None
            and not validation_split):
        xa = data.as_features(x, model.dtype, model.input_dim)
        ya = np.asarray(y)
        if len(ya) != len(xa):
            raise ValueError(f"x has {len(xa)} rows but y has {len(ya)}")
        parts = divide_indices(len(xa), param.ratios, param.divide, seed)
        model.division = Division(*parts)
        sw = None if sample_weight is None else np.asarray(sample_weight)
        train, val, test = parts

        def pick(rows: np.ndarray) -> tuple[Any, ...]:
            return (xa[rows], ya[rows]) + (() if sw is None else (sw[rows],))

        if len(val):
            validation_data = pick(val)
        if len(test) and test_data is None:
            test_data = pick(test)[:2]
        x, y, sample_weight = xa[train], ya[train], None if sw is None else sw[train]
    has_validation = validation_data is not None or bool(validation_split)
    if (param is not None and param.max_fail is not None and has_validation
            and not any(isinstance(c, EarlyStopping) for c in callbacks)):
        extra.append(EarlyStopping(monitor="val_loss", patience=param.max_fail,
                                   restore_best_weights=True))
    if param is not None and param.goal is not None:
        extra.append(_Goal(param.goal))
    _adapt(model, x, y, validation_split)
    return Prepared(x, y, sample_weight, validation_data, test_data, extra)


class _Goal(Callback):
    """MATLAB's ``goal``: stop once the epoch's training loss is at most ``goal``."""

    def __init__(self, goal: float) -> None:
        self.goal = goal

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and loss <= self.goal:
            self.model.stop_training = True
            self.model.stop_reason = f"loss goal reached: {loss:.6g} <= goal {self.goal:g}"


def _configure_outputs(model: Sequential, y: Any) -> None:
    """Give the last Dense layer one unit per target column (per class for labels)."""
    dense = [lay for lay in model.layers if hasattr(lay, "units")]
    if not dense:
        return
    ya = np.asarray(y)
    if getattr(model.loss, "name", "") == "sparse_categorical_crossentropy":
        units = int(ya.max()) + 1 if ya.size else 1
    else:
        units = 1 if ya.ndim < 2 else int(np.prod(ya.shape[1:]))
    dense[-1].units = max(units, 1)


def _adapt(model: Sequential, x: Any, y: Any, validation_split: float) -> None:
    """Adapt the model's unadapted preprocessing layers on the training rows."""
    if not any(is_preprocessing(lay) and not lay.adapted for lay in model.layers):  # type: ignore[attr-defined]
        return
    xa = data.as_features(x, model.dtype, model.input_dim)
    ya = np.asarray(y, dtype=np.float64) if _numeric(y) else None
    n = len(xa)
    if validation_split and 0.0 < validation_split < 1.0:
        n -= int(n * validation_split)
    adapt_layers(model.layers, xa[:n], None if ya is None else ya[:n].reshape(n, -1))


def _numeric(y: Any) -> bool:
    try:
        np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def warn_unrepresentative(model: Sequential, y_train: np.ndarray, y_val: np.ndarray) -> None:
    """Warn when ``validation_split``'s last rows plainly differ from the training rows:
    a class in validation that training never sees, or targets sorted over the rows."""
    name = getattr(model.loss, "name", "")
    if name in _CLASSIFICATION:
        labels = [_labels(a) for a in (y_train, y_val)]
        missing = sorted(set(labels[1].tolist()) - set(labels[0].tolist()))
        if missing:
            warnings.warn(
                f"validation_split holds out the last rows, and classes {missing} appear in "
                "them but not in the training rows; shuffle the data first or pass "
                "validation_data (e.g. from ffnn.divide_data)", UserWarning, stacklevel=6)
            return
    y = np.concatenate([y_train, y_val]).reshape(len(y_train) + len(y_val), -1)
    if y.shape[1] == 1 and len(y) > 2:
        step = np.diff(y[:, 0])
        if np.ptp(y[:, 0]) > 0 and ((step >= 0).all() or (step <= 0).all()):
            warnings.warn(
                "validation_split holds out the last rows and the targets are sorted, so "
                "validation covers only the end of their range; shuffle the data first or "
                "pass validation_data (e.g. from ffnn.divide_data)", UserWarning, stacklevel=6)


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return y.reshape(-1)
