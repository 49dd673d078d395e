"""``ffnn report MODEL DATA.csv --out report.html``: one self-contained HTML page.

The page holds the model summary, the training summary stored in the file, a
description of the data (rows, per-feature statistics, the target's classes or
range), the metrics on the data and the figures of :mod:`ffnn.cli.figures`, embedded
as ``data:`` PNG images. It loads nothing from the network (no scripts, no style
sheets, no fonts) and every string taken from the model file or the data is escaped
with :func:`html.escape`, so a hostile class name or column name stays text.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
from typing import Any

import numpy as np

from .data import encode_labels, read_csv, regression_targets
from .figures import Figures, png_bytes, require_matplotlib, run_figures
from .files import check_output, write_text
from .model import Spec, scores
from .text import printable
from .use import _load, _training_lines, feature_matrix

__all__ = ["render_report", "run_report"]

_STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
img { max-width: 100%; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: float) -> str:
    return f"{value:.4g}"


def _data_section(spec: Spec, raw: np.ndarray, y: np.ndarray, path: str) -> str:
    rows = [[name, _number(float(col.mean())), _number(float(col.std())),
             _number(float(col.min())), _number(float(col.max()))]
            for name, col in zip(spec.table_columns.input_names, raw.T, strict=True)]
    parts = [f"<p>{_e(path)}: {len(y)} rows, {len(spec.features)} feature columns, "
             f"target {_e(spec.target)!s}.</p>",
             _table(["input", "mean", "std", "min", "max"], rows)]
    if spec.classes is not None:
        counts = np.bincount(y, minlength=len(spec.classes))
        parts.append(_table(["class", "rows"],
                            [[c, int(n)] for c, n in zip(spec.classes, counts, strict=True)]))
    else:
        parts.append(_table(["target", "mean", "std", "min", "max"],
                            [[spec.target, _number(float(y.mean())), _number(float(y.std())),
                              _number(float(y.min())), _number(float(y.max()))]]))
    return "".join(parts)


def render_report(model: Any, spec: Spec, model_path: str, data_path: str, raw: np.ndarray,
                  x: np.ndarray, y: np.ndarray, figures: Figures) -> str:
    """The HTML page (a string) for a model, its data and the figures drawn of them."""
    metrics = scores(model, spec, x, y)
    images = "".join(
        f'<figure><img alt="{_e(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png_bytes(fig)).decode("ascii")}"><figcaption>{_e(name)}'
        "</figcaption></figure>"
        for name, fig in figures.items.items()
    )
    training = "\n".join(_training_lines(spec.training)) if spec.training else "not recorded"
    title = f"ffnn report: {os.path.basename(model_path)}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f"<h2>Metrics on {_e(os.path.basename(data_path))}</h2>"
        + _table(["metric", "value"], [[k, _number(v)] for k, v in metrics.items()])
        + "<h2>Model</h2>"
        f"<p>{_e(spec.task)} {_e(spec.target)}; loss {_e(spec.loss)}; "
        f"{model.count_params()} parameters.</p><pre>{_e(model.summary())}</pre>"
        f"<h2>Training</h2><pre>{_e(training)}</pre>"
        "<h2>Data</h2>" + _data_section(spec, raw, y, data_path)
        + f"<h2>Figures</h2>{images}</body></html>\n"
    )


def run_report(args: argparse.Namespace) -> int:
    """The ``report`` subcommand."""
    require_matplotlib("ffnn report")
    check_output(args.out, "--out", {"model": args.model, "data": args.data})
    model, spec = _load(args.model)
    table = read_csv(args.data)
    target = args.target or spec.target
    table.index(target, "target column")
    x = feature_matrix(table, spec, {target}, model.dtype)
    raw = spec.table_columns.transform(table).x
    if spec.task == "classify":
        assert spec.classes is not None
        y = encode_labels(table, target, spec.classes)
    else:
        y = regression_targets(table, target)
    figures = run_figures(model, spec, {"data": (x, y)})
    try:
        page = render_report(model, spec, args.model, args.data, raw, x, y, figures)
    finally:
        figures.close()
    write_text(args.out, page)
    print(printable(f"wrote the report on {len(y)} rows of {args.data} to {args.out}"))
    return 0
