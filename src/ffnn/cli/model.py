"""Networks of the ``ffnn`` command: building, the metadata ``ffnn train`` stores, scoring.

The model file written by ``ffnn train`` holds, in its metadata, everything needed to
use the network on a new CSV file: the feature names and their scaler, the target's
name, the task, the class names (classification) or the target's scaler (regression)
and a summary of the training run. :class:`Spec` is that record.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..nn import metrics
from ..nn.layers import Dense
from ..optim import LevenbergMarquardt, Optimizer
from ..training import Sequential
from .data import CLIError
from .scaling import Scaler
from .tables import Columns

__all__ = [
    "FORMAT",
    "TASKS",
    "Spec",
    "build_model",
    "load_model",
    "loss_for",
    "number",
    "outputs",
    "predict_labels",
    "scores",
]

#: Version of the metadata layout below (key ``"ffnn_cli"`` of the model's metadata).
FORMAT = 1
TASKS = ("classify", "regress")


def loss_for(task: str, optimizer: Optimizer) -> str:
    """The training loss: sparse categorical cross-entropy (classify) or mse (regress).

    Levenberg–Marquardt and Bayesian regularisation minimise sums of squares, so with
    them a classifier is trained on one-hot targets with the mse loss (the softmax
    output still gives class probabilities).
    """
    if task == "regress" or isinstance(optimizer, LevenbergMarquardt):
        return "mse"
    return "sparse_categorical_crossentropy"


def build_model(
    n_in: int, n_out: int, hidden: list[int], activation: str, task: str, seed: int
) -> Sequential:
    """Dense layers of ``hidden`` units, then a softmax (classify) or linear output."""
    sizes = [*hidden, n_out]
    layers = []
    for i, units in enumerate(sizes):
        last = i == len(sizes) - 1
        act = ("softmax" if task == "classify" else "linear") if last else activation
        layers.append(Dense(units, activation=act, input_dim=n_in if i == 0 else None))
    return Sequential(layers, seed=seed)


@dataclass
class Spec:
    """What ``ffnn train`` records about a network and its data (see the module doc).

    Attributes
    ----------
    task : {"classify", "regress"}
    target : str
        Name of the target column.
    features : list of str
        Names of the feature columns, in the table's order.
    scaler : Scaler
        Standardisation of the network inputs (after ``columns``).
    loss : str
        The loss the network was trained with.
    classes : list of str, optional
        Class names in output order (classify).
    target_scaler : Scaler, optional
        Standardisation of the target (regress); predictions are mapped back with it.
    training : dict
        Summary of the training run (epochs, final losses, metrics, options).
    columns : Columns, optional
        How each feature column becomes inputs (numbers, one-hot categories, fill
        values); None means number columns without imputation (files written before
        ffnn read text columns).
    """

    task: str
    target: str
    features: list[str]
    scaler: Scaler
    loss: str
    classes: list[str] | None = None
    target_scaler: Scaler | None = None
    training: dict[str, Any] = field(default_factory=dict)
    columns: Columns | None = None

    @property
    def table_columns(self) -> Columns:
        """The column rules (number columns without imputation when none are stored)."""
        return self.columns if self.columns is not None else Columns.numbers(self.features)

    @property
    def one_hot(self) -> bool:
        """Whether classification targets are one-hot rows (least-squares loss)."""
        return self.task == "classify" and self.loss != "sparse_categorical_crossentropy"

    def to_metadata(self) -> dict[str, Any]:
        """The JSON-serialisable metadata to save with the model."""
        return {
            "ffnn_cli": {
                "format": FORMAT,
                "task": self.task,
                "target": self.target,
                "features": list(self.features),
                "scaler": self.scaler.to_dict(),
                "loss": self.loss,
                "classes": self.classes,
                "target_scaler": (
                    None if self.target_scaler is None else self.target_scaler.to_dict()
                ),
                "training": self.training,
                **({} if self.columns is None else {"columns": self.columns.to_dict()}),
            }
        }

    @classmethod
    def from_metadata(cls, metadata: Any, model: Sequential, path: str) -> Spec:
        """Read and check the record against the network; CLIError if it is unusable."""
        meta = metadata.get("ffnn_cli") if isinstance(metadata, dict) else None
        if not isinstance(meta, dict):
            raise CLIError(
                f"{path} has no 'ffnn train' metadata (feature names and scaler), so the "
                "command line cannot use it; it can still be loaded with ffnn.load()"
            )
        bad = f"{path}: invalid 'ffnn train' metadata"
        if meta.get("format") != FORMAT or meta.get("task") not in TASKS:
            raise CLIError(f"{bad}: unknown format {meta.get('format')!r} or task")
        n_in, n_out = _io_sizes(model)
        features, target = meta.get("features"), meta.get("target")
        columns = None
        if "columns" in meta:
            width = len(features) if isinstance(features, list) else -1
            if not isinstance(features, list) or not _names(features, width) or not isinstance(
                target, str
            ):
                raise CLIError(f"{bad}: expected distinct feature names and a target name")
            columns = Columns.from_dict(meta["columns"], features, n_in, f"{bad} columns")
        elif not isinstance(features, list) or not _names(features, n_in) or not isinstance(
            target, str
        ):
            raise CLIError(f"{bad}: expected {n_in} feature names and a target name")
        task, loss = meta["task"], meta.get("loss")
        if loss not in ("mse", "sparse_categorical_crossentropy"):
            raise CLIError(f"{bad}: unknown loss {loss!r}")
        classes, target_scaler = meta.get("classes"), None
        if task == "classify" and (not _names(classes, n_out) or n_out < 2):
            raise CLIError(f"{bad}: expected {n_out} class names")
        if task == "regress":
            classes = None
            if n_out != 1:
                raise CLIError(f"{bad}: a regression network needs one output, it has {n_out}")
            target_scaler = Scaler.from_dict(meta.get("target_scaler"), 1, f"{bad} target scaler")
        scaler = Scaler.from_dict(meta.get("scaler"), n_in, f"{bad} feature scaler")
        training = meta.get("training")
        return cls(task, target, features, scaler, loss, classes, target_scaler,
                   training if isinstance(training, dict) else {}, columns)

    def fit_targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the network is trained on them (labels, one-hot rows or scaled)."""
        if self.task == "regress":
            assert self.target_scaler is not None
            return self.target_scaler.transform(y.reshape(-1, 1))
        if self.one_hot:
            assert self.classes is not None
            return np.eye(len(self.classes))[y]
        return y


def _names(value: Any, size: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == size
        and all(isinstance(v, str) for v in value)
        and len(set(value)) == size
    )


def _io_sizes(model: Sequential) -> tuple[int, int]:
    if not model.built:
        model.build()
    return int(model.input_dim or 0), int(model.output_shape[-1])


def load_model(path: str) -> tuple[Sequential, dict[str, Any]]:
    """Load a model file; returns the network and its metadata (``{}`` if none).

    A missing file or a file that fails validation (``ffnn.ModelFileError``) is a
    CLIError.
    """
    from .. import io as model_io

    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    try:
        model = model_io.load(path)
    except ValueError as exc:  # ModelFileError, a ValueError; its message names the file
        message = str(exc) if path in str(exc) else f"cannot load model file {path!r}: {exc}"
        raise CLIError(message) from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    metadata = getattr(model, "metadata", None)
    return model, metadata if isinstance(metadata, dict) else {}


def _ensure_loss(model: Sequential, loss: str) -> None:
    if getattr(model.loss, "name", None) != loss:
        model.compile(optimizer="sgd", loss=loss)


#: Names the place of row i in messages (e.g. "data.csv, line 7"); None: "row i + 1".
Where = Callable[[int], str] | None


def number(value: float) -> str:
    """A score as printed: 4 decimals, or 4 significant digits in exponent form for
    magnitudes of a million and more (a diverging run's mse is not 30 digits long)."""
    return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4e}"


def outputs(model: Sequential, x: np.ndarray, where: Where = None) -> np.ndarray:
    """``model.predict(x)``, with a CLIError naming the first row whose output is not
    finite: its inputs fit the model's dtype but the network overflows on them (they lie
    far outside the range it was trained on). NumPy's overflow warnings are silenced:
    this check reports the problem instead."""
    with np.errstate(all="ignore"):
        out = model.predict(x)
    bad = np.flatnonzero(~np.all(np.isfinite(out), axis=1))
    if len(bad):
        i = int(bad[0])
        place = where(i) if where is not None else f"row {i + 1}"
        raise CLIError(f"{place}: the network's output overflows {model.dtype.name} (it is "
                       "not finite); the row's features lie far outside the range the model "
                       "was trained on")
    return out


def scores(model: Sequential, spec: Spec, x: np.ndarray, y: np.ndarray,
           where: Where = None) -> dict[str, float]:
    """Loss and accuracy (classify) or MSE, MAE and R² in the target's units (regress).

    ``x`` holds standardised features; ``y`` class indices or raw target values. The
    regression metrics are :mod:`ffnn.nn.metrics`'s, which do not overflow for values
    near the float64 limit. ``where`` names rows in messages (see :func:`outputs`).
    """
    if spec.task == "classify":
        out = outputs(model, x, where)
        _ensure_loss(model, spec.loss)
        with np.errstate(all="ignore"):
            loss = model.evaluate(x, spec.fit_targets(y), batch_size=None)
        loss = float(loss[0] if isinstance(loss, list) else loss)
        accuracy = float(np.mean(out.argmax(axis=1) == y))
        return {"loss": loss, "accuracy": accuracy}
    pred = regress_values(model, spec, x, where)
    results = {"mse": metrics.mse(y, pred), "mae": metrics.mae(y, pred),
               "r2": metrics.r2(y, pred)}
    if not all(np.isfinite(list(results.values()))):  # predictions near the float64 limit
        i = int(np.argmax(np.abs(pred - y)))
        place = where(i) if where is not None else f"row {i + 1}"
        raise CLIError(f"the errors of the predictions overflow float64 ({place}: prediction "
                       f"{pred[i]:.4g} for the target {y[i]:.4g}); the model's predictions "
                       "lie far outside the targets' range, so its scores cannot be computed")
    return results


def regress_values(model: Sequential, spec: Spec, x: np.ndarray,
                   where: Where = None) -> np.ndarray:
    """Predicted target values in the target's units."""
    assert spec.target_scaler is not None
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        values = spec.target_scaler.inverse(outputs(model, x, where).astype(np.float64))[:, 0]
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        place = where(i) if where is not None else f"row {i + 1}"
        raise CLIError(f"{place}: the network's output overflows float64 in the target's "
                       f"units (output × target scale {spec.target_scaler.scale[0]:.4g} + "
                       f"mean {spec.target_scaler.mean[0]:.4g}); the row lies far outside "
                       "the training data")
    return values


def predict_labels(model: Sequential, spec: Spec, x: np.ndarray,
                   where: Where = None) -> list[str]:
    """Predictions as CSV cells: class names, or numbers with 7 significant digits."""
    if spec.task == "classify":
        assert spec.classes is not None
        return [spec.classes[k] for k in outputs(model, x, where).argmax(axis=1)]
    return [f"{v:.7g}" for v in regress_values(model, spec, x, where)]
