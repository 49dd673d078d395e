"""Networks of the ``ffnn`` command: building, the metadata ``ffnn train`` stores, scoring.

The model file written by ``ffnn train`` holds, in its metadata, everything needed to
use the network on a new CSV file: the feature names and their scaler, the target's
name, the task, the class names (classification) or the target's scaler (regression)
and a summary of the training run. :class:`Spec` is that record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..nn.layers import Dense
from ..optim import LevenbergMarquardt, Optimizer
from ..training import Sequential
from .data import CLIError, Scaler
from .tables import Columns

__all__ = [
    "FORMAT",
    "TASKS",
    "Spec",
    "build_model",
    "load_model",
    "loss_for",
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


def scores(model: Sequential, spec: Spec, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy (classify) or MSE, MAE and R² in the target's units (regress).

    ``x`` holds standardised features; ``y`` class indices or raw target values.
    """
    if spec.task == "classify":
        _ensure_loss(model, spec.loss)
        loss = model.evaluate(x, spec.fit_targets(y), batch_size=None)
        loss = float(loss[0] if isinstance(loss, list) else loss)
        accuracy = float(np.mean(model.predict(x).argmax(axis=1) == y))
        return {"loss": loss, "accuracy": accuracy}
    pred = regress_values(model, spec, x)
    err = pred - y
    ss_tot = float(np.sum(np.square(y - y.mean())))
    ss_res = float(np.sum(np.square(err)))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    return {"mse": float(np.mean(np.square(err))), "mae": float(np.mean(np.abs(err))), "r2": r2}


def regress_values(model: Sequential, spec: Spec, x: np.ndarray) -> np.ndarray:
    """Predicted target values in the target's units."""
    assert spec.target_scaler is not None
    return spec.target_scaler.inverse(model.predict(x).astype(np.float64))[:, 0]


def predict_labels(model: Sequential, spec: Spec, x: np.ndarray) -> list[str]:
    """Predictions as CSV cells: class names, or numbers with 7 significant digits."""
    if spec.task == "classify":
        assert spec.classes is not None
        return [spec.classes[k] for k in model.predict(x).argmax(axis=1)]
    return [f"{v:.7g}" for v in regress_values(model, spec, x)]
