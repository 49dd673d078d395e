"""``ffnn evaluate``, ``ffnn predict`` and ``ffnn info``: using a trained model file."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from ..training import Sequential
from .data import (
    CLIError,
    Table,
    encode_labels,
    listing,
    read_csv,
    regression_targets,
)
from .files import check_output, write_text
from .model import Spec, load_model, number, predict_labels, scores
from .scaling import standardise
from .text import printable

__all__ = ["feature_matrix", "run_evaluate", "run_info", "run_predict"]


def feature_matrix(table: Table, spec: Spec, extra: set[str], dtype: Any,
                   notes: list[str] | None = None) -> np.ndarray:
    """The model's feature columns of ``table``, by name, made into network inputs by
    the stored column rules (numbers, one-hot categories, fill values) and standardised,
    each value checked to fit ``dtype`` (the model's) once standardised.

    The table must hold every feature column; besides them only the columns in
    ``extra`` (the target) are allowed, so that a file meant for another model is
    caught rather than silently misread. What the rules changed (cells filled,
    unknown categories ignored, with counts) is appended to ``notes``.
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
    done = spec.table_columns.transform(table)
    if notes is not None:
        notes.extend(done.notes())
    return standardise(done.x, spec.scaler, dtype, table, spec.table_columns.input_columns)


def _lines(table: Table) -> Callable[[int], str]:
    """Names data row i by its file and line, for messages."""
    return lambda i: f"{table.path}, line {table.lines[i]}"


def _load(path: str) -> tuple[Sequential, Spec]:
    model, metadata = load_model(path)
    return model, Spec.from_metadata(metadata, model, path)


def run_evaluate(args: argparse.Namespace) -> int:
    """The ``evaluate`` subcommand."""
    model, spec = _load(args.model)
    table = read_csv(args.data)
    target = args.target or spec.target
    table.index(target, "target column")
    notes: list[str] = []
    x = feature_matrix(table, spec, {target}, model.dtype, notes)
    if spec.task == "classify":
        assert spec.classes is not None
        y = encode_labels(table, target, spec.classes)
    else:
        y = regression_targets(table, target)
    results = scores(model, spec, x, y, _lines(table))
    print(printable(f"{len(table)} rows of {args.data}, target {target!r} ({spec.task})"))
    for note in notes:
        print(printable(note))
    for name, value in results.items():
        print(f"{name}: {number(value)}")
    return 0


def _write_predictions(out: TextIO, table: Table, column: str, labels: list[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table.columns, column])
    for row, label in zip(table.rows, labels, strict=True):
        writer.writerow([*row, label])


def run_predict(args: argparse.Namespace) -> int:
    """The ``predict`` subcommand."""
    if args.out is not None:
        check_output(args.out, "--out", {"model": args.model, "data": args.data})
    model, spec = _load(args.model)
    table = read_csv(args.data)
    notes: list[str] = []
    x = feature_matrix(table, spec, {spec.target}, model.dtype, notes)
    labels = predict_labels(model, spec, x, _lines(table))
    column = spec.target if spec.target not in table.columns else f"{spec.target}_predicted"
    if args.out is None:
        for note in notes:  # standard output holds the CSV
            print(printable(f"ffnn: note: {note}"), file=sys.stderr)
        if sys.stdout.isatty():  # a terminal: make control characters visible
            table = Table(table.path, [printable(c) for c in table.columns],
                          [[printable(c) for c in row] for row in table.rows], table.lines)
            column, labels = printable(column), [printable(v) for v in labels]
        _write_predictions(sys.stdout, table, column, labels)
        return 0
    text = io.StringIO()
    _write_predictions(text, table, column, labels)
    write_text(args.out, text.getvalue())
    print(printable(f"wrote {len(labels)} predictions ({column!r}) to {args.out}"))
    for note in notes:
        print(printable(note))
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
    columns = spec.table_columns
    preprocessing = [f"  {line}" for line in columns.describe()] if not columns.plain or \
        columns.impute else []
    missing = ("missing cells filled (median / most frequent)" if columns.impute
               else "missing cells refused")
    return [
        f"task:        {task}",
        f"features:    {len(spec.features)} ({listing(spec.features, 12)}) → "
        f"{columns.width} inputs, standardised; {missing}",
        *preprocessing,
        f"loss:        {loss}",
        *_training_lines(spec.training),
    ]


def run_info(args: argparse.Namespace) -> int:
    """The ``info`` subcommand: architecture, parameter count and training summary."""
    model, metadata = load_model(args.model)
    network = getattr(model, "model_", model)  # a saved scikit-learn estimator's network
    lines = [f"file: {args.model}"]
    if network is not model:
        lines.append(f"estimator: a fitted {type(model).__name__} (ffnn.load returns it)")
    lines.append(network.summary())
    try:
        lines += _spec_lines(Spec.from_metadata(metadata, network, args.model))
    except CLIError as exc:
        lines.append(f"metadata:    {exc}")
        if metadata:
            lines.append(f"raw:         {json.dumps(metadata)[:500]}")
    print(printable("\n".join(lines), keep_newlines=True))  # names come from the file
    return 0
