"""Standardisation for the ``ffnn`` command: the scaler stored in model files, and the
check that standardised values fit the model's dtype."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import CLIError, Table

__all__ = ["SCALER_LIMIT", "Scaler", "standardise"]


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


def standardise(x: np.ndarray, scaler: Scaler, dtype: Any, table: Table | None,
                names: Sequence[str], role: str = "feature") -> np.ndarray:
    """``scaler.transform(x)``, checked to fit the model's dtype.

    A value can be a finite float64 and still overflow the network: ``1e308`` in a
    float32 model's input, or a value far outside the range the scaler was fitted on.
    A CLIError names the first such cell by file, line and column (``table`` holds the
    rows of ``x`` in order; ``names`` its columns), says that it overflows the dtype
    and gives the standardised value and the dtype's limit.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        z = scaler.transform(x)
    limit = float(np.finfo(dtype).max)
    bad = ~np.isfinite(z) | (np.abs(z) > limit)
    if not np.any(bad):
        return z
    i, j = (int(k) for k in np.argwhere(bad)[0])
    if table is not None:
        where, cell = table.where(i, names[j]), table.rows[i][table.index(names[j])].strip()
    else:
        where, cell = f"row {i + 1}, {role} {names[j]!r}", f"{x[i, j]:.6g}"
    name = np.dtype(dtype).name
    shown = f"{z[i, j]:.4g}" if np.isfinite(z[i, j]) else "beyond float64"
    raise CLIError(
        f"{where}: {cell} overflows the model's {name} once standardised ((x - mean) / "
        f"scale = {shown}, with the training mean {scaler.mean[j]:.4g} and scale "
        f"{scaler.scale[j]:.4g}; the largest {name} is {limit:.4g})"
    )
