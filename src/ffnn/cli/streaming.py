"""Streaming of tables larger than memory for ``ffnn train``: ``.npy`` files and numeric
CSV files read once, in chunks, with the column statistics of the same pass."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import MAX_INFERRED_CLASSES, CLIError, _check_header, _is_number, listing
from .scaling import SCALER_LIMIT, Scaler

__all__ = ["CHUNK_ROWS", "ColumnStats", "read_npy", "stream_columns", "stream_csv"]


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
