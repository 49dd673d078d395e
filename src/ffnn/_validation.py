"""The argument checks shared by every part of ffnn: integers, numbers, flags, choices.

Each check returns the value in its plain Python type (NumPy integers and floats are
accepted wherever Python's are, and converted) or raises an error whose message starts
with ``what``, the name of the argument as the caller wants it shown (``"batch_size"``,
``"the 'alpha' parameter"``): ``TypeError`` for a value of the wrong kind, ``ValueError``
for one of the right kind out of range. Booleans are never numbers here, although
Python treats ``True`` as 1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "cast_float",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_positive_int",
    "check_seed",
    "is_int",
]


def is_int(value: Any) -> bool:
    """Whether ``value`` is a Python or NumPy integer (not a bool)."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def check_int(what: str, value: Any, low: int | None = 0, high: int | None = None,
              error: type[Exception] = ValueError) -> int:
    """``int(value)`` for an integer in [``low``, ``high``] (None: unbounded).

    Every failure, a float or a string included, raises ``error`` (ValueError by
    default: an integer argument is one number, and callers catch ValueError)."""
    if not is_int(value) or (low is not None and value < low) or (
            high is not None and value > high):
        if low is not None and high is not None:
            want = f"an integer in [{low}, {high}]"
        elif low == 1:
            want = "a positive integer"
        elif low == 0:
            want = "a non-negative integer"
        elif low is not None:
            want = f"an integer >= {low}"
        else:
            want = "an integer"
        raise error(f"{what} must be {want}, got {value!r}")
    return int(value)


def check_positive_int(what: str, value: Any) -> int:
    """``int(value)`` for an integer ≥ 1, else ValueError naming ``what``."""
    return check_int(what, value, low=1)


def check_number(what: str, value: Any, *, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``float(value)`` for a finite real number in the interval from ``low`` to ``high``.

    The bounds are inclusive unless ``low_open``/``high_open``. Raises TypeError for
    anything that is not a real number (bools, strings, arrays) and ValueError naming
    the interval for NaN, ±inf or a value outside it.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (numbers.Real, np.floating, np.integer)
    ):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}")
    v = float(value)
    below = v <= low if low_open else v < low
    above = v >= high if high_open else v > high
    if not math.isfinite(v) or below or above:
        raise ValueError(f"{what} must be finite and in {_interval(low, high, low_open, high_open)}"
                         f", got {value!r}")
    return v


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low == -math.inf else "["
    right = ")" if high_open or high == math.inf else "]"
    return f"{left}{low:g}, {high:g}{right}"


def check_bool(what: str, value: Any) -> bool:
    """``value`` as a bool if it is True or False (Python or NumPy), else TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def check_choice(what: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (exactly), else ValueError listing them."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, options))}; "
                         f"got {value!r}")
    return value


def check_seed(value: Any, what: str = "seed", sequence: bool = True) -> Any:
    """A seed for ``numpy.random``: None, a non-negative integer (Python or NumPy,
    returned as ``int``, so it can be saved as JSON) or, if ``sequence``, a
    ``numpy.random.SeedSequence``.

    Raises TypeError naming ``what`` for a bool, float, string or anything else, and
    ValueError for a negative integer (NumPy refuses it only later, without the name).
    """
    if value is None or (sequence and isinstance(value, np.random.SeedSequence)):
        return value
    if not is_int(value):
        raise TypeError(f"{what} must be None or a non-negative integer, got "
                        f"{type(value).__name__} {value!r}")
    return check_int(what, value, 0)


def cast_float(what: str, arr: np.ndarray, dtype: Any) -> np.ndarray:
    """``arr`` as a C-contiguous array of the float ``dtype``, refusing finite values
    too large for it.

    Casting float64 to float32 turns anything beyond float32's largest finite value
    (about 3.4e38) into ±inf with a RuntimeWarning; this raises a ValueError instead,
    naming ``what``, the first such value, its index and the dtype. NaN and ±inf are
    left for the caller's finiteness check. No copy when ``arr`` already has ``dtype``,
    and no temporary array unless the result holds a non-finite value (the test is one
    sum of the result); a value that rounds to the largest finite one is in range.
    """
    dtype = np.dtype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        out = np.ascontiguousarray(arr, dtype=dtype)
    if arr.dtype == dtype or not arr.size or arr.dtype.kind not in "fiu":
        return out
    with np.errstate(invalid="ignore", over="ignore"):
        total = np.sum(out)  # finite only if every value of out is
    if np.isfinite(total):
        return out
    limit = float(np.finfo(dtype).max)
    big = np.isfinite(arr) & ~np.isfinite(out)  # exactly what the cast turned into ±inf
    if big.any():
        index = tuple(int(i) for i in np.argwhere(big)[0])
        raise ValueError(
            f"{what} holds the value {arr[index]!s} at index {index}, which overflows "
            f"{dtype} (largest finite {dtype} value: {limit:.7g}); "
            f"{int(big.sum())} value(s) are out of range"
        )
    return out
