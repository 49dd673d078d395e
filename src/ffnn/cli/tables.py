"""Real tables for the ``ffnn`` command: text feature columns and missing cells.

``ffnn train`` turns each feature column into network inputs by one rule, learned on
the training rows and stored in the model file as plain JSON (:class:`Columns`):

* a **number** column (every present cell is a finite number) is one input; a missing
  cell is replaced by the column's median on the training rows (scikit-learn's
  ``SimpleImputer(strategy="median")``);
* a **category** column (some present cell is not a number) is one-hot encoded, one
  input per category seen in training, sorted as text (scikit-learn's
  ``OneHotEncoder(handle_unknown="ignore")``): a category not seen in training gives a
  row of zeros and is counted, a missing cell takes the most frequent category
  (``SimpleImputer(strategy="most_frequent")``: ties go to the first in sorted order).

Missing cells are the usual markers, the same in every column (the target included):
those of :data:`ffnn.cli.data.MISSING_MARKERS` (an empty cell, ``NaN``, ``NA``,
``N/A``, ``#N/A``, ``<NA>``, ``null``, ``None``, in any letter case). With
``impute=False`` (``--no-impute``) a missing cell is refused, as ffnn did before it
imputed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import CLIError, Table, is_missing, listing
from .scaling import SCALER_LIMIT

__all__ = ["Column", "Columns"]

_KINDS = ("number", "category")


def _value(table: Table, name: str, i: int, cell: str) -> float | None:
    """The cell's finite float value; None for text (or a NaN spelling the markers do
    not list, which counts as missing). A CLIError for an infinity or a number beyond
    float64, naming the file, line and column."""
    try:
        value = float(cell)
    except ValueError:
        return None
    if math.isfinite(value) or math.isnan(value):
        return value
    where = table.where(i, name)
    if "inf" in cell.lower():
        raise CLIError(f"{where}: infinite value {cell!r}")
    raise CLIError(f"{where}: {cell} overflows float64 (the largest float64 is "
                   f"{np.finfo(np.float64).max:.4g})")


def _missing(cell: str) -> bool:
    """A missing marker, or a number spelling of NaN (``-nan``, ``+NaN``)."""
    if is_missing(cell):
        return True
    try:
        return math.isnan(float(cell))
    except ValueError:
        return False


@dataclass
class Column:
    """How one feature column becomes network inputs.

    Attributes
    ----------
    name : str
    kind : {"number", "category"}
    fill : float or str or None
        The value a missing cell takes (median or most frequent category); None when
        the column was learned with imputation off.
    categories : list of str
        The one-hot categories, in input order (category columns only).
    """

    name: str
    kind: str
    fill: float | str | None = None
    categories: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        """Number of network inputs this column makes."""
        return len(self.categories) if self.kind == "category" else 1

    @property
    def input_names(self) -> list[str]:
        """``name`` for a number column, ``name=category`` for each category."""
        if self.kind == "number":
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "fill": self.fill}
        if self.kind == "category":
            out["categories"] = list(self.categories)
        return out

    @classmethod
    def from_dict(cls, data: Any, what: str) -> Column:
        """Rebuild and check one entry of :meth:`Columns.to_dict`; CLIError if bad."""
        if not isinstance(data, dict) or set(data) - {"name", "kind", "fill", "categories"}:
            raise CLIError(f"{what}: each column must be a mapping of name, kind, fill "
                           "(and categories)")
        name, kind, fill = data.get("name"), data.get("kind"), data.get("fill")
        if not isinstance(name, str) or kind not in _KINDS:
            raise CLIError(f"{what}: a column needs a name and a kind in {_KINDS}")
        if kind == "number":
            if fill is not None and (isinstance(fill, bool) or not isinstance(fill, (int, float))
                                     or not abs(fill) < SCALER_LIMIT):
                raise CLIError(f"{what}: column {name!r} has fill {fill!r}, not a finite "
                               "number")
            if "categories" in data:
                raise CLIError(f"{what}: number column {name!r} has categories")
            return cls(name, kind, None if fill is None else float(fill))
        categories = data.get("categories")
        if (not isinstance(categories, list) or not categories
                or not all(isinstance(c, str) and c and not is_missing(c) for c in categories)
                or len(set(categories)) != len(categories)):
            raise CLIError(f"{what}: category column {name!r} needs a list of distinct, "
                           "non-empty category names")
        if fill is not None and fill not in categories:
            raise CLIError(f"{what}: column {name!r} fills missing cells with {fill!r}, "
                           "which is not one of its categories")
        return cls(name, kind, fill, list(categories))


@dataclass
class Transformed:
    """The network inputs of a table and what :class:`Columns` did to get them."""

    x: np.ndarray
    imputed: dict[str, int]
    unknown: dict[str, int]

    def notes(self) -> list[str]:
        """One line per kind of change, for the command's output (empty if none)."""
        lines = []
        if self.imputed:
            lines.append("filled missing cells: " + ", ".join(
                f"{name} {n}" for name, n in self.imputed.items()))
        if self.unknown:
            lines.append("ignored unknown categories (their inputs are all 0): " + ", ".join(
                f"{name} {n}" for name, n in self.unknown.items()))
        return lines


@dataclass
class Columns:
    """The feature columns' rules, in the table's order (see the module docstring)."""

    columns: list[Column]
    impute: bool = True

    @property
    def names(self) -> list[str]:
        """The feature columns, by name."""
        return [c.name for c in self.columns]

    @property
    def input_names(self) -> list[str]:
        """The network inputs, by name (``colour=red`` for one-hot inputs)."""
        return [n for c in self.columns for n in c.input_names]

    @property
    def input_columns(self) -> list[str]:
        """The column each network input comes from."""
        return [c.name for c in self.columns for _ in range(c.width)]

    @property
    def width(self) -> int:
        """Number of network inputs."""
        return sum(c.width for c in self.columns)

    @property
    def plain(self) -> bool:
        """Every column is a number (what the ONNX export and old files know)."""
        return all(c.kind == "number" for c in self.columns)

    @classmethod
    def fit(cls, table: Table, names: Sequence[str], rows: np.ndarray | None = None,
            impute: bool = True) -> Columns:
        """Learn each column's rule from the table's ``rows`` (default: all rows).

        Raises
        ------
        CLIError
            No feature columns; a missing cell with ``impute=False`` (naming file, line
            and column); an infinite number; a column with no value on the rows.
        """
        if not names:
            raise CLIError(f"{table.path} has no feature columns besides the target")
        picked = range(len(table)) if rows is None else [int(i) for i in rows]
        return cls([_fit_column(table, name, picked, impute) for name in names], impute)

    def transform(self, table: Table) -> Transformed:
        """The table's network inputs, (rows, :attr:`width`) float64."""
        blocks, imputed, unknown = [], {}, {}
        for column in self.columns:
            cells = table.column(column.name)
            block, n_missing, n_unknown = _transform_column(table, column, cells, self.impute)
            blocks.append(block)
            if n_missing:
                imputed[column.name] = n_missing
            if n_unknown:
                unknown[column.name] = n_unknown
        return Transformed(np.column_stack(blocks), imputed, unknown)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the model file."""
        return {"impute": self.impute, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Any, features: Sequence[str], width: int, what: str) -> Columns:
        """Rebuild and check against the feature names and the network's input width."""
        if not isinstance(data, dict) or set(data) != {"impute", "columns"} \
                or not isinstance(data["impute"], bool) or not isinstance(data["columns"], list):
            raise CLIError(f"{what}: expected a mapping of impute and columns")
        columns = [Column.from_dict(entry, what) for entry in data["columns"]]
        if [c.name for c in columns] != list(features):
            raise CLIError(f"{what}: the columns do not match the feature names")
        built = cls(columns, data["impute"])
        if built.width != width:
            raise CLIError(f"{what}: the columns make {built.width} inputs, the network takes "
                           f"{width}")
        if built.impute and any(c.fill is None for c in columns):
            raise CLIError(f"{what}: imputation is on but a column has no fill value")
        return built

    @classmethod
    def numbers(cls, names: Sequence[str]) -> Columns:
        """Number columns without imputation: what a file from before tables held."""
        return cls([Column(name, "number") for name in names], impute=False)

    def describe(self) -> list[str]:
        """One line per column for ``ffnn info``."""
        lines = []
        for c in self.columns:
            if c.kind == "number":
                fill = f"missing → median {c.fill:.6g}" if c.fill is not None else "no missing"
                lines.append(f"{c.name}: number, standardised; {fill}")
            else:
                fill = f"missing → {c.fill!r}" if c.fill is not None else "no missing"
                lines.append(f"{c.name}: category, one-hot over {len(c.categories)} "
                             f"({listing(c.categories, 8)}); {fill}; unknown → all 0")
        return lines


def _refuse_missing(table: Table, name: str, i: int) -> CLIError:
    cell = table.column(name)[i].strip()
    what = "empty cell" if not cell else f"missing value {cell!r}"
    return CLIError(f"{table.where(i, name)}: {what}; missing values are not filled for this "
                    "model (--no-impute): remove the row, or train without --no-impute to "
                    "fill them")


def _fit_column(table: Table, name: str, rows: Sequence[int], impute: bool) -> Column:
    cells = table.column(name)
    if not impute:  # refused on every row, the first in the file first
        for i, cell in enumerate(cells):
            if _missing(cell):
                raise _refuse_missing(table, name, i)
    present: list[str] = []
    values: list[float | None] = []
    for i in rows:
        cell = cells[i]
        if _missing(cell):
            continue
        present.append(cell)
        values.append(_value(table, name, i, cell))
    if not present:
        raise CLIError(f"feature column {name!r} of {table.path} has no value on the training "
                       "rows; remove the column")
    if all(v is not None for v in values):
        fill = float(np.median(np.array(values, dtype=np.float64))) if impute else None
        return Column(name, "number", fill)
    categories = sorted(set(present))
    fill_cat = None
    if impute:  # most frequent, ties to the first in sorted order (scikit-learn's rule)
        counts = Counter(present)
        top = max(counts.values())
        fill_cat = next(c for c in categories if counts[c] == top)
    return Column(name, "category", fill_cat, categories)


def _transform_column(table: Table, column: Column, cells: list[str],
                      impute: bool) -> tuple[np.ndarray, int, int]:
    n_missing = n_unknown = 0
    if column.kind == "number":
        out = np.empty(len(cells))
        for i, cell in enumerate(cells):
            if _missing(cell):
                if not impute or column.fill is None:
                    raise _refuse_missing(table, column.name, i)
                out[i] = column.fill
                n_missing += 1
                continue
            value = _value(table, column.name, i, cell)
            if value is None:
                raise CLIError(f"feature column {column.name!r} is not numeric: "
                               f"{table.where(i, column.name)} holds {cell!r} (the model "
                               "reads the column as numbers)")
            out[i] = value
        return out, n_missing, n_unknown
    index = {c: k for k, c in enumerate(column.categories)}
    block = np.zeros((len(cells), len(column.categories)))
    for i, cell in enumerate(cells):
        if _missing(cell):
            if not impute or column.fill is None:
                raise _refuse_missing(table, column.name, i)
            cell = str(column.fill)
            n_missing += 1
        k = index.get(cell)
        if k is None:
            n_unknown += 1
        else:
            block[i, k] = 1.0
    return block, n_missing, n_unknown
