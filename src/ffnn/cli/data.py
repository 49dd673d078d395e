"""Data handling of the ``ffnn`` command: CSV tables, targets, task inference.

CSV files are read with the standard library's :mod:`csv` module (pandas is not a
runtime dependency). Every problem a user can cause is reported as a
:class:`CLIError` whose message names the file, the line and the column.
"""

from __future__ import annotations

import csv
import math
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

__all__ = [
    "MAX_INFERRED_CLASSES",
    "MISSING_MARKERS",
    "TARGET_LIMIT",
    "CLIError",
    "Table",
    "class_names",
    "encode_labels",
    "infer_task",
    "is_missing",
    "listing",
    "numeric_column",
    "numeric_matrix",
    "read_csv",
    "regression_targets",
]

#: Task inference: an integer-valued target with at most this many distinct values
#: (and at most half as many distinct values as rows) is taken as class labels.
MAX_INFERRED_CLASSES = 20


class CLIError(Exception):
    """A user error: ``main`` prints ``ffnn: error: <message>`` and exits with status 2."""


#: The cells that mean "missing", compared without case and surrounding spaces: the
#: markers pandas' ``read_csv`` takes as missing by default (which include R's ``NA``
#: and Excel's ``#N/A``). They are refused in every column, features and targets alike.
MISSING_MARKERS = frozenset({
    "", "nan", "-nan", "+nan", "na", "n/a", "#n/a", "#n/a n/a", "#na", "<na>", "null",
    "none", "-1.#ind", "1.#ind", "-1.#qnan", "1.#qnan",
})
_MISSING_HELP = ("missing values are not supported: empty cells and NaN, NA, N/A, #N/A, "
                 "<NA>, null and None, in any case, all count as missing")


def is_missing(cell: str) -> bool:
    """Whether a cell is a missing-value marker (see :data:`MISSING_MARKERS`)."""
    return cell.strip().lower() in MISSING_MARKERS


def _missing(where: str, cell: str) -> CLIError:
    what = "empty cell" if not cell.strip() else f"missing value {cell.strip()!r}"
    return CLIError(f"{where}: {what} ({_MISSING_HELP})")


@dataclass
class Table:
    """A CSV file as text: its header and its data rows.

    Attributes
    ----------
    path : str
        The file it came from (for messages).
    columns : list of str
        The header's column names.
    rows : list of list of str
        The data cells, one list per row, as written in the file.
    lines : list of int
        The file line on which each row starts (the header is line 1).
    """

    path: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.rows)

    def index(self, name: str, role: str = "column") -> int:
        """Position of column ``name``; a CLIError listing the columns if it is absent."""
        try:
            return self.columns.index(name)
        except ValueError:
            raise CLIError(
                f"{self.path} has no {role} {name!r}; its columns are: {listing(self.columns)}"
            ) from None

    def column(self, name: str) -> list[str]:
        """The cells of column ``name``, stripped of surrounding spaces."""
        j = self.index(name)
        return [row[j].strip() for row in self.rows]

    def where(self, i: int, name: str) -> str:
        """``line 7, column 'x2'`` for row ``i``: the place of a cell in messages."""
        return f"{self.path}, line {self.lines[i]}, column {name!r}"


def listing(names: Sequence[str], limit: int = 20) -> str:
    """``a, b, c`` — or, for long lists, the first and last few names and the count."""
    if len(names) <= limit:
        return ", ".join(names)
    half = limit // 2
    return f"{', '.join(names[:half])}, ..., {', '.join(names[-half:])} ({len(names)} in all)"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_header(path: str, header: list[str]) -> list[str]:
    names = [h.strip() for h in header]
    if all(_is_number(h) for h in names if h) and any(names):
        raise CLIError(
            f"{path} has no header row: its first line ({','.join(names)}) holds numbers; "
            "add a first line of column names"
        )
    for j, name in enumerate(names):
        if not name:
            raise CLIError(f"{path}: column {j + 1} of the header has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise CLIError(f"{path}: the header names column {name!r} twice")
        seen.add(name)
    return names


def _parse(path: str, fh: Any) -> Table:
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        raise CLIError(f"{path} is empty; a CSV file with a header row is needed")
    columns = _check_header(path, header)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = reader.line_num + 1
    for row in reader:
        if row and any(cell.strip() for cell in row):
            if len(row) != len(columns):
                cells = f"{len(row)} cell" + ("s" if len(row) != 1 else "")
                raise CLIError(
                    f"{path}, line {start}: {cells} but the header has {len(columns)} columns"
                )
            rows.append(row)
            lines.append(start)
        start = reader.line_num + 1
    if not rows:
        raise CLIError(f"{path} has a header but no data rows")
    return Table(path, columns, rows, lines)


def read_csv(path: str) -> Table:
    """Read a CSV file with a header row.

    Blank lines are skipped; every other row must have as many cells as the header.
    A regular file or a pipe (``/dev/stdin``, ``<(command)``) is read; a device is
    refused (``/dev/zero`` would never end, a terminal would wait for typing).

    Raises
    ------
    CLIError
        Missing or unreadable file, a device, empty file, no header, no data rows,
        ragged rows.
    """
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
            raise CLIError(f"{path} is a device or socket, not a CSV file")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return _parse(path, fh)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path} is a directory, not a CSV file") from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path} is not a UTF-8 text file") from None
    except csv.Error as exc:
        raise CLIError(f"{path} is not a valid CSV file: {exc}") from None


def numeric_column(table: Table, name: str, role: str = "feature") -> np.ndarray:
    """Column ``name`` as float64; a CLIError naming the first bad cell otherwise.

    Missing values (:func:`is_missing`), text, infinities and numbers beyond float64's
    range are all rejected.
    """
    cells = table.column(name)
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.all(np.isfinite(values)):
        return values
    for i, cell in enumerate(cells):
        where = table.where(i, name)
        if is_missing(cell):
            raise _missing(where, cell)
        if not _is_number(cell):
            raise CLIError(f"{role} column {name!r} is not numeric: {where} holds {cell!r}")
        if not math.isfinite(float(cell)):
            if "inf" in cell.lower():
                raise CLIError(f"{where}: infinite value {cell!r}")
            raise CLIError(f"{where}: {cell} overflows float64 (the largest float64 is "
                           f"{np.finfo(np.float64).max:.4g})")
    raise AssertionError("unreachable: a column failed to convert but no cell is bad")


def numeric_matrix(table: Table, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` as a (rows, len(names)) float64 array."""
    if not names:
        raise CLIError(f"{table.path} has no feature columns besides the target")
    return np.column_stack([numeric_column(table, name) for name in names])


#: The identity of a class label: ``(0, value)`` for a finite number, compared exactly
#: by decimal value; ``(1, text)`` for anything else, compared as written.
_LabelKey = tuple[int, Decimal | str]


def _label_value(cell: str) -> Decimal | None:
    """The exact decimal value of a numeric label, or None for text (and NaN, infinities
    and numbers whose exponent is beyond what :mod:`decimal` can hold)."""
    if not _is_number(cell):
        return None
    try:
        value = Decimal(cell)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _label(cell: str) -> _LabelKey:
    """The key that decides which labels are the same class.

    Numbers are compared exactly by value with :class:`decimal.Decimal` — "1", "1.0" and
    "01" are one class, so are "0.1" and "0.10", while 12345678901234567890 and
    12345678901234567891 are two (a float would merge them). Other labels are compared
    as written.
    """
    value = _label_value(cell)
    return (1, cell) if value is None else (0, value)


def _label_key(label: str) -> tuple[int, Decimal, str]:
    """Sort numbers by value, before text sorted alphabetically."""
    value = _label_value(label)
    return (1, Decimal(0), label) if value is None else (0, value, "")


def _target_cells(table: Table, target: str) -> list[str]:
    cells = table.column(target)
    for i, cell in enumerate(cells):
        if is_missing(cell):
            raise _missing(f"{table.where(i, target)} (the target)", cell)
    return cells


def infer_task(table: Table, target: str) -> str:
    """``"classify"`` or ``"regress"`` for the target column, by this rule:

    classify when any target value is not a number, or when every value is an integer
    and there are at most :data:`MAX_INFERRED_CLASSES` (20) distinct values, no more than
    half the number of rows; regress otherwise.
    """
    cells = _target_cells(table, target)
    if not all(_is_number(c) for c in cells):
        return "classify"
    values = [_label_value(c) for c in cells]
    if any(v is None or v != v.to_integral_value() for v in values):
        return "regress"
    n_distinct = len(set(values))
    few = n_distinct <= MAX_INFERRED_CLASSES and n_distinct <= len(values) / 2
    return "classify" if few else "regress"


def class_names(table: Table, target: str) -> list[str]:
    """The distinct labels of the target column (at least two), numbers by value first.

    Labels that are the same class (see :func:`_label`) are named by their first
    spelling in the file: ``007`` stays ``007``, not ``7``.
    """
    first: dict[_LabelKey, str] = {}
    for cell in _target_cells(table, target):
        first.setdefault(_label(cell), cell)
    labels = sorted(first.values(), key=_label_key)
    if len(labels) < 2:
        raise CLIError(
            f"target column {target!r} holds a single class ({labels[0]!r}); "
            "classification needs at least two"
        )
    return labels


def encode_labels(table: Table, target: str, classes: Sequence[str]) -> np.ndarray:
    """The target column as indices into ``classes``; a CLIError for an unknown label."""
    index: dict[_LabelKey, int] = {}
    for position, name in enumerate(classes):
        index.setdefault(_label(name), position)
    cells = _target_cells(table, target)
    out = np.empty(len(cells), dtype=np.int64)
    for i, cell in enumerate(cells):
        k = index.get(_label(cell))
        if k is None:
            raise CLIError(
                f"{table.where(i, target)}: class {cell!r} is not one the model knows "
                f"({', '.join(classes)})"
            )
        out[i] = k
    return out


def regression_targets(table: Table, target: str) -> np.ndarray:
    """The target column as float64 values; a CLIError naming a non-numeric cell or a
    value of :data:`TARGET_LIMIT` or more in absolute value."""
    cells = _target_cells(table, target)
    for i, cell in enumerate(cells):
        if not _is_number(cell):
            raise CLIError(
                f"target column {target!r} is not numeric ({table.where(i, target)} holds "
                f"{cell!r}), so it cannot be regressed"
            )
    values = numeric_column(table, target, role="target")
    big = np.flatnonzero(np.abs(values) >= TARGET_LIMIT)
    if len(big):
        i = int(big[0])
        raise CLIError(
            f"{table.where(i, target)}: target value {cells[i]} is too large to regress; "
            f"targets must stay below {TARGET_LIMIT:.0e} in absolute value so that "
            "squared errors (mse) fit in float64: rescale the column, e.g. to other units"
        )
    return values


#: Regression targets must stay below this in absolute value, so that squared errors
#: (the mse ffnn reports in the target's units) fit in float64.
TARGET_LIMIT = 1e150
