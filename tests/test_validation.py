"""ffnn._validation: the argument checks every part of the library shares."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ffnn import _validation as v


@pytest.mark.parametrize("value", [0, 3, np.int64(7), np.uint8(2), np.int32(0)])
def test_check_int_accepts_python_and_numpy_integers(value) -> None:
    out = v.check_int("n", value)
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [True, np.bool_(False), 1.0, 2.5, "3", None, np.float64(2)])
def test_check_int_refuses_bools_floats_and_strings(value) -> None:
    with pytest.raises(ValueError, match=r"^n must be a non-negative integer, got"):
        v.check_int("n", value)


@pytest.mark.parametrize(("low", "high", "value", "wording"), [
    (1, None, 0, "a positive integer"),
    (0, None, -1, "a non-negative integer"),
    (5, None, 4, "an integer >= 5"),
    (0, 3, 4, r"an integer in \[0, 3\]"),
    (None, None, 1.5, "an integer"),
])
def test_check_int_names_the_range(low, high, value, wording) -> None:
    with pytest.raises(ValueError, match=f"^k must be {wording}, got"):
        v.check_int("k", value, low, high)


def test_check_int_raises_the_requested_error() -> None:
    class FileError(Exception):
        pass

    with pytest.raises(FileError, match="seed"):
        v.check_int("seed", -1, error=FileError)


def test_check_positive_int() -> None:
    assert v.check_positive_int("units", np.int16(4)) == 4
    with pytest.raises(ValueError, match="units must be a positive integer, got 0"):
        v.check_positive_int("units", 0)


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int64(1)])
def test_check_number_returns_a_float(value) -> None:
    out = v.check_number("lr", value, low=0.0, high=1.0)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [True, "0.1", None, [0.1], np.array([0.1])])
def test_check_number_refuses_non_numbers_with_type_error(value) -> None:
    with pytest.raises(TypeError, match=r"^lr must be a number"):
        v.check_number("lr", value)


@pytest.mark.parametrize(("kwargs", "value", "interval"), [
    ({"low": 0.0, "low_open": True}, 0.0, r"\(0, inf\)"),
    ({"low": 0.0, "high": 1.0, "high_open": True}, 1.0, r"\[0, 1\)"),
    ({"low": 0.0, "high": 1.0}, 1.5, r"\[0, 1\]"),
    ({}, math.nan, r"\(-inf, inf\)"),
    ({}, math.inf, r"\(-inf, inf\)"),
])
def test_check_number_names_the_interval(kwargs, value, interval) -> None:
    with pytest.raises(ValueError, match=f"x must be finite and in {interval}"):
        v.check_number("x", value, **kwargs)


def test_check_bool_and_choice() -> None:
    assert v.check_bool("flag", np.bool_(True)) is True
    with pytest.raises(TypeError, match="flag must be True or False, got 1"):
        v.check_bool("flag", 1)
    assert v.check_choice("form", "dual", ("primal", "dual")) == "dual"
    with pytest.raises(ValueError, match="form must be one of 'primal', 'dual'; got 'Dual'"):
        v.check_choice("form", "Dual", ("primal", "dual"))
