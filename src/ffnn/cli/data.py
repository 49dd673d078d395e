"""Data handling of the ``ffnn`` command: CSV tables, targets, task inference, scaling.

CSV files are read with the standard library's :mod:`csv` module (pandas is not a
runtime dependency). Every problem a user can cause is reported as a
:class:`CLIError` whose message names the file, the line and the column.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

__all__ = [
    "MAX_INFERRED_CLASSES",
    "CLIError",
    "Scaler",
    "Table",
    "class_names",
    "encode_labels",
    "infer_task",
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

    Raises
    ------
    CLIError
        Missing or unreadable file, empty file, no header, no data rows, ragged rows.
    """
    try:
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

    Empty cells, text, NaN and infinities are all rejected.
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
        if not cell:
            raise CLIError(f"{where}: empty cell (missing values are not supported)")
        if not _is_number(cell):
            raise CLIError(f"{role} column {name!r} is not numeric: {where} holds {cell!r}")
        if math.isnan(float(cell)):
            raise CLIError(f"{where}: NaN (missing values are not supported)")
        if not math.isfinite(float(cell)):
            raise CLIError(f"{where}: infinite value {cell!r}")
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
        if not cell:
            raise CLIError(f"{table.where(i, target)}: empty target cell")
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
    """The target column as float64 values; a CLIError naming a non-numeric cell."""
    cells = _target_cells(table, target)
    for i, cell in enumerate(cells):
        if not _is_number(cell):
            raise CLIError(
                f"target column {target!r} is not numeric ({table.where(i, target)} holds "
                f"{cell!r}), so it cannot be regressed"
            )
    return numeric_column(table, target, role="target")


#: Scaler entries must stay below this in absolute value (and be finite float64), so
#: that standardising and un-standardising values cannot overflow.
SCALER_LIMIT = 1e308


def _in_range(value: Any) -> bool:
    """A JSON number a scaler may hold: an int or float, finite, below SCALER_LIMIT.

    Python compares ints with floats exactly, so a 400-digit integer is rejected here
    rather than overflowing on its way to float64.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) < SCALER_LIMIT  # False for NaN; inf is not below the limit


@dataclass
class Scaler:
    """Standardisation z = (x − mean) / scale, stored as plain lists (JSON, no pickle).

    ``scale`` is the population standard deviation (ddof=0), with 1 for constant
    columns, as in scikit-learn's ``StandardScaler``.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, names: Sequence[str] | None = None,
            role: str = "feature") -> Scaler:
        """Means and standard deviations of the columns of ``x``.

        Each column is divided by a power of two near its largest absolute value
        before the moments are taken (exactly, so ordinary data give the same numbers
        as ``x.std()``), so that values near the float64 limit (1e200 and up) do not
        overflow the sum of squares. A CLIError names the column (``names[j]``, a
        ``role`` column) whose mean or scale still is not a finite number below
        :data:`SCALER_LIMIT`, or whose standardised values are not finite.
        """
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            peak = np.max(np.abs(x), axis=0) if len(x) else np.zeros(x.shape[1:])
            # 2**(e-1) <= peak < 2**e; 2**e itself would be inf for peaks near 1.8e308
            unit = np.where(peak > 0, np.ldexp(1.0, np.frexp(peak)[1] - 1), 1.0)
            mean = (x / unit).mean(axis=0) * unit
            std = (x / unit).std(axis=0) * unit
            scale = np.where(std > 0, std, 1.0)
            z = (x - mean) / scale
        bad = ~(np.isfinite(mean) & np.isfinite(scale) & (np.abs(mean) < SCALER_LIMIT)
                & (scale < SCALER_LIMIT) & np.all(np.isfinite(z), axis=0))
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            name = names[j] if names is not None else f"#{j + 1}"
            raise CLIError(
                f"{role} column {name!r} cannot be standardised: its values are too large "
                f"(mean {mean[j]:.3g}, standard deviation {std[j]:.3g}; the limit is "
                f"{SCALER_LIMIT:.0e}); rescale the column, e.g. to other units"
            )
        return cls(mean, scale)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardise ``x``."""
        return (x - self.mean) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`."""
        return z * self.scale + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        """``{"mean": [...], "scale": [...]}``, JSON-serialisable."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: Any, size: int, what: str) -> Scaler:
        """Rebuild from :meth:`to_dict`: ``size`` finite numbers each, below
        :data:`SCALER_LIMIT` in absolute value, and scale > 0; a CLIError otherwise."""
        if not isinstance(data, dict):
            raise CLIError(f"{what} is missing or not a mapping")
        arrays = []
        for key in ("mean", "scale"):
            values = data.get(key)
            if (
                not isinstance(values, list)
                or len(values) != size
                or not all(_in_range(v) for v in values)
            ):
                raise CLIError(
                    f"{what}: {key!r} must be a list of {size} finite numbers below "
                    f"{SCALER_LIMIT:.0e} in absolute value"
                )
            arrays.append(np.array(values, dtype=np.float64))
        if np.any(arrays[1] <= 0):
            raise CLIError(f"{what}: 'scale' must be positive")
        return cls(arrays[0], arrays[1])


#: Rows per chunk when a large .npy file is streamed.
CHUNK_ROWS = 65536


@dataclass
class ColumnStats:
    """Count, mean and sum of squared deviations of columns, merged chunk by chunk in one
    pass (Chan, Golub & LeVeque's pairwise update), so a file larger than memory is read
    once."""

    n: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> ColumnStats:
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=0)
        return cls(len(x), mean, np.square(x - mean).sum(axis=0))

    def merge(self, other: ColumnStats) -> ColumnStats:
        n = self.n + other.n
        if n == 0:
            return self
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + np.square(delta) * (self.n * other.n / n)
        return ColumnStats(n, mean, m2)

    def scaler(self, names: Sequence[str], role: str = "feature") -> Scaler:
        """The standardisation (population standard deviation, 1 for constant columns);
        a CLIError naming a column whose moments are not finite."""
        std = np.sqrt(self.m2 / max(self.n, 1))
        bad = ~(np.isfinite(self.mean) & np.isfinite(std) & (np.abs(self.mean) < SCALER_LIMIT)
                & (std < SCALER_LIMIT))
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            raise CLIError(f"{role} column {names[j]!r} cannot be standardised: mean "
                           f"{self.mean[j]:.3g}, standard deviation {std[j]:.3g}")
        return Scaler(self.mean, np.where(std > 0, std, 1.0))


def read_npy(path: str) -> np.ndarray:
    """A 2-D ``.npy`` file of numbers, memory-mapped read-only (nothing is read yet)."""
    try:
        data = np.load(path, mmap_mode="r")
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"{path} is not a readable .npy file: {exc}") from None
    if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 2:
        raise CLIError(f"{path} must hold a 2-D array of rows with at least two columns "
                       f"(features and the target), got shape {data.shape}")
    if data.dtype.kind not in "fiu":
        raise CLIError(f"{path} holds {data.dtype} values; ffnn needs numbers")
    return data


class _Streamed:
    """Statistics gathered chunk by chunk: features, target, the target's labels."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.features: ColumnStats | None = None
        self.targets: ColumnStats | None = None
        self.labels: set[float] | None = set()

    def add(self, chunk: np.ndarray, where: Any) -> None:
        """Merge a float64 chunk; ``where(i)`` names row i of the chunk in errors."""
        finite = np.isfinite(chunk)
        if not finite.all():
            raise CLIError(f"{where(int(np.argwhere(~finite)[0][0]))}: NaN or infinite "
                           "value (missing values are not supported)")
        t = chunk[:, self.target]
        f = ColumnStats.of(np.delete(chunk, self.target, axis=1))
        ts = ColumnStats.of(t[:, None])
        self.features = f if self.features is None else self.features.merge(f)
        self.targets = ts if self.targets is None else self.targets.merge(ts)
        if self.labels is not None and np.all(t == np.round(t)):
            self.labels |= set(np.unique(t).tolist())
            self.labels = self.labels if len(self.labels) <= MAX_INFERRED_CLASSES else None
        else:
            self.labels = None

    def result(self) -> tuple[ColumnStats, ColumnStats, set[float] | None]:
        assert self.features is not None and self.targets is not None
        return self.features, self.targets, self.labels


def stream_columns(data: np.ndarray, target: int, path: str
                   ) -> tuple[ColumnStats, ColumnStats, set[float] | None]:
    """One pass over a memory-mapped table in chunks of :data:`CHUNK_ROWS` rows: the
    statistics of the feature columns and of the target column, and the target's
    distinct values while they are integers and at most MAX_INFERRED_CLASSES (else None).
    A CLIError names the first row holding NaN or an infinity."""
    from ..training.data import release_pages

    stats = _Streamed(target)
    for start in range(0, len(data), CHUNK_ROWS):
        chunk = np.asarray(data[start : start + CHUNK_ROWS], dtype=np.float64)
        stats.add(chunk, lambda i, s=start: f"{path}, row {s + i}")
        release_pages(data)
    return stats.result()


def stream_csv(path: str, target: str | None, folder: str
               ) -> tuple[np.ndarray, int, list[str], tuple[ColumnStats, ColumnStats,
                                                            set[float] | None]]:
    """Read a numeric CSV file once, :data:`CHUNK_ROWS` rows at a time, into a float64
    table in ``folder`` (memory-mapped back), with the column statistics of
    :func:`stream_columns` from the same pass. Returns the table, the target's column,
    the feature names and the statistics."""
    try:
        fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    raw_path = os.path.join(folder, "table.f64")
    with fh, open(raw_path, "wb") as raw:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise CLIError(f"{path} is empty; a CSV file with a header row is needed")
        columns = _check_header(path, header)
        if target is None or target not in columns:
            raise CLIError(f"--target must name a column of {path}: {listing(columns)}")
        j = columns.index(target)
        stats, count = _Streamed(j), 0
        rows: list[list[float]] = []
        lines: list[int] = []
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append(_numbers(path, reader.line_num, columns, row))
                lines.append(reader.line_num)
            if len(rows) == CHUNK_ROWS:
                count += _flush(rows, lines, stats, raw, path)
        count += _flush(rows, lines, stats, raw, path)
    if count == 0:
        raise CLIError(f"{path} has a header but no data rows")
    table = np.memmap(raw_path, dtype=np.float64, mode="r", shape=(count, len(columns)))
    return table, j, [c for c in columns if c != target], stats.result()


def _numbers(path: str, line: int, columns: list[str], row: list[str]) -> list[float]:
    if len(row) != len(columns):
        raise CLIError(f"{path}, line {line}: {len(row)} cells but the header has "
                       f"{len(columns)} columns")
    try:
        return [float(cell) for cell in row]
    except ValueError:
        bad = next(k for k, cell in enumerate(row) if not _is_number(cell))
        raise CLIError(f"{path}, line {line}, column {columns[bad]!r}: {row[bad]!r} is not a "
                       "number (--stream reads numeric tables)") from None


def _flush(rows: list[list[float]], lines: list[int], stats: _Streamed, raw: Any,
           path: str) -> int:
    if not rows:
        return 0
    chunk = np.array(rows, dtype=np.float64)
    stats.add(chunk, lambda i: f"{path}, line {lines[i]}")
    chunk.tofile(raw)
    n = len(rows)
    rows.clear()
    lines.clear()
    return n
