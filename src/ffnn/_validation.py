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
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_positive_int",
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
