"""``ffnn evaluate``, ``ffnn predict`` and ``ffnn info``: using a trained model file."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any, TextIO

import numpy as np

from ..training import Sequential
from .data import (
    CLIError,
    Table,
    encode_labels,
    listing,
    numeric_matrix,
    read_csv,
    regression_targets,
)
from .model import Spec, load_model, predict_labels, scores

__all__ = ["feature_matrix", "run_evaluate", "run_info", "run_predict"]


def feature_matrix(table: Table, spec: Spec, extra: set[str]) -> np.ndarray:
    """The model's feature columns of ``table``, by name, standardised.

    The table must hold every feature column; besides them only the columns in
    ``extra`` (the target) are allowed, so that a file meant for another model is
    caught rather than silently misread.
    """
    missing = [f for f in spec.features if f not in table.columns]
    if missing:
        raise CLIError(
            f"{table.path} lacks the model's feature column(s) {listing(missing)}; its "
            f"columns are: {listing(table.columns)}"
        )
    unknown = [c for c in table.columns if c not in spec.features and c not in extra]
    if unknown:
        raise CLIError(
            f"{table.path} has column(s) the model was not trained on: {listing(unknown)} "
            f"(its features are {listing(spec.features)}; its target is {spec.target!r})"
        )
    return spec.scaler.transform(numeric_matrix(table, spec.features))


def _load(path: str) -> tuple[Sequential, Spec]:
    model, metadata = load_model(path)
    return model, Spec.from_metadata(metadata, model, path)


def run_evaluate(args: argparse.Namespace) -> int:
    """The ``evaluate`` subcommand."""
    model, spec = _load(args.model)
    table = read_csv(args.data)
    target = args.target or spec.target
    table.index(target, "target column")
    x = feature_matrix(table, spec, {target})
    if spec.task == "classify":
        assert spec.classes is not None
        y = encode_labels(table, target, spec.classes)
    else:
        y = regression_targets(table, target)
    results = scores(model, spec, x, y)
    print(f"{len(table)} rows of {args.data}, target {target!r} ({spec.task})")
    for name, value in results.items():
        print(f"{name}: {value:.4f}")
    return 0


def _write_predictions(out: TextIO, table: Table, column: str, labels: list[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table.columns, column])
    for row, label in zip(table.rows, labels, strict=True):
        writer.writerow([*row, label])


def run_predict(args: argparse.Namespace) -> int:
    """The ``predict`` subcommand."""
    model, spec = _load(args.model)
    table = read_csv(args.data)
    labels = predict_labels(model, spec, feature_matrix(table, spec, {spec.target}))
    column = spec.target if spec.target not in table.columns else f"{spec.target}_predicted"
    if args.out is None:
        _write_predictions(sys.stdout, table, column, labels)
        return 0
    try:
        with open(args.out, "w", newline="", encoding="utf-8") as fh:
            _write_predictions(fh, table, column, labels)
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {len(labels)} predictions ({column!r}) to {args.out}")
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    return "n/a" if value is None else str(value)


def _training_lines(t: dict[str, Any]) -> list[str]:
    lines = [
        f"data:        {_fmt(t.get('data'))}; rows {_fmt(t.get('rows'))}",
        f"solver:      {_fmt(t.get('solver'))} (learning rate "
        f"{_fmt(t.get('learning_rate') or 'default')}, "
        f"batch size {_fmt(t.get('batch_size'))}, seed {_fmt(t.get('seed'))})",
        f"epochs:      {_fmt(t.get('epochs'))} of {_fmt(t.get('max_epochs'))}"
        + (" (early stopping)" if t.get("early_stopping") else ""),
    ]
    if t.get("stop_reason"):
        lines.append(f"stopped:     {_fmt(t.get('stop_reason'))}")
    lines.append(f"final epoch: {_fmt(t.get('final'))}")
    metrics = t.get("metrics")
    if isinstance(metrics, dict):
        lines += [f"{name + ':':<12} {_fmt(v)}" for name, v in metrics.items()]
    return lines


def _spec_lines(spec: Spec) -> list[str]:
    if spec.classes is not None:
        task = f"classify {spec.target!r} into {len(spec.classes)} classes: {listing(spec.classes)}"
    else:
        task = f"regress {spec.target!r}"
    loss = spec.loss + (" on one-hot targets" if spec.one_hot else "")
    return [
        f"task:        {task}",
        f"features:    {len(spec.features)} ({listing(spec.features, 12)}), standardised",
        f"loss:        {loss}",
        *_training_lines(spec.training),
    ]


def run_info(args: argparse.Namespace) -> int:
    """The ``info`` subcommand: architecture, parameter count and training summary."""
    model, metadata = load_model(args.model)
    print(f"file: {args.model}")
    network = getattr(model, "model_", model)  # a saved scikit-learn estimator's network
    if network is not model:
        print(f"estimator: a fitted {type(model).__name__} (ffnn.load returns it)")
    print(network.summary())
    try:
        lines = _spec_lines(Spec.from_metadata(metadata, network, args.model))
    except CLIError as exc:
        lines = [f"metadata:    {exc}"]
        if metadata:
            lines.append(f"raw:         {json.dumps(metadata)[:500]}")
    print("\n".join(lines))
    return 0
