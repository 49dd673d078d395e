"""Defensive reading of a safetensors container, for :mod:`ffnn.io`.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON (for
each tensor its ``dtype``, ``shape`` and ``data_offsets`` into the data section, plus an
optional ``__metadata__`` dict of strings) and the raw little-endian tensor data
(https://github.com/huggingface/safetensors#format). Everything here is checked
*before* the ``safetensors`` package sees the bytes, so that a hostile or damaged file
gives a :class:`~ffnn.exceptions.ModelFileError` naming the defect and never a huge
allocation, a hang or a crash:

* only regular files are read (a FIFO or ``/dev/zero`` would block or never end);
* N is at least 2, at most :data:`MAX_HEADER_BYTES` and fits in the file;
* the header is UTF-8 JSON with no duplicate keys, whose tensors have dtype F32 or F64,
  at most :data:`MAX_NDIM` non-negative integer dimensions and offsets whose length
  equals the shape's byte size; sorted by offset the tensors tile the data section
  exactly (no overlap, no gap, no trailing bytes).
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from ..exceptions import ModelFileError

__all__ = ["DTYPES", "MAX_HEADER_BYTES", "MAX_NDIM", "no_duplicate_keys", "parse_container",
           "read_container"]

#: Largest header accepted (the limit the safetensors reference implementation uses).
MAX_HEADER_BYTES = 100 * 2**20
#: Most dimensions a tensor may have.
MAX_NDIM = 8
#: The tensor dtypes ffnn writes, by their safetensors code.
DTYPES: dict[str, np.dtype[Any]] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def _read_bytes(path: str) -> bytes:
    """The whole file, after checking that it is a regular file (opened non-blocking,
    so that a FIFO cannot make ``open`` wait for a writer)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ModelFileError("not a regular file")
            return f.read(info.st_size)
    except OSError as exc:
        raise ModelFileError(f"cannot read the file ({exc.strerror or exc})") from exc


def no_duplicate_keys(what: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A ``json.loads`` ``object_pairs_hook`` that raises :class:`ModelFileError` when
    an object repeats a key (plain ``json`` silently keeps the last value, so a file
    could show one value to a reviewer and another to the loader)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ModelFileError(f"{what} repeats the key {key!r}")
            out[key] = value
        return out

    return hook


_no_duplicates = no_duplicate_keys("the header")


def _reject_constant(token: str) -> Any:
    raise ModelFileError(f"the header contains the non-JSON number {token}")


def _parse_header(data: bytes) -> tuple[dict[str, Any], int]:
    """The header dict and the offset where the data section starts."""
    if len(data) < 8:
        raise ModelFileError(f"truncated: {len(data)} bytes, too short for a safetensors header")
    n = int.from_bytes(data[:8], "little")
    if n < 2 or n > MAX_HEADER_BYTES or n > len(data) - 8:
        raise ModelFileError(
            f"header length {n} is impossible for a file of {len(data)} bytes (it must lie "
            f"between 2 and min(file size - 8, {MAX_HEADER_BYTES})); the file is truncated "
            "or not a safetensors file"
        )
    try:
        text = data[8 : 8 + n].decode("utf-8")
        header = json.loads(text, object_pairs_hook=_no_duplicates,
                            parse_constant=_reject_constant)
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"the header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise ModelFileError("the header is not a JSON object")
    return header, 8 + n


def _dims(name: str, shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or len(shape) > MAX_NDIM or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ModelFileError(
            f"tensor {name!r}: shape {shape!r} is not a list of at most {MAX_NDIM} "
            "non-negative integers"
        )
    return tuple(shape)


def _entry(name: str, info: Any, data_len: int) -> tuple[np.dtype[Any], tuple[int, ...], int, int]:
    """Check one tensor entry; return its dtype, shape and data offsets."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(
            f"tensor {name!r}: the entry must have exactly dtype, shape and data_offsets"
        )
    if info["dtype"] not in DTYPES:
        raise ModelFileError(
            f"tensor {name!r} has dtype {info['dtype']!r}; ffnn files hold only "
            f"{' and '.join(DTYPES)}"
        )
    dtype = DTYPES[info["dtype"]]
    shape = _dims(name, info["shape"])
    offsets = info["data_offsets"]
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        and 0 <= offsets[0] <= offsets[1] <= data_len
    ):
        raise ModelFileError(
            f"tensor {name!r}: data_offsets {offsets!r} are not [begin, end] within the "
            f"{data_len}-byte data section"
        )
    begin, end = offsets
    nbytes = math.prod(shape) * dtype.itemsize
    if end - begin != nbytes:
        raise ModelFileError(
            f"tensor {name!r}: shape {shape} needs {nbytes} bytes but its offsets span "
            f"{end - begin}"
        )
    return dtype, shape, begin, end


def _check_layout(spans: list[tuple[int, int, str]], data_len: int) -> None:
    """The tensors, sorted by offset, must tile the data section exactly."""
    position, previous = 0, ""
    for begin, end, name in sorted(spans):
        if begin < position:
            raise ModelFileError(f"tensors {previous!r} and {name!r} have overlapping offsets")
        if begin > position:
            raise ModelFileError(f"unused bytes {position}..{begin} before tensor {name!r}")
        position, previous = end, name
    if position != data_len:
        raise ModelFileError(
            f"the data section has {data_len} bytes but the tensors cover {position}"
        )


def _metadata(header: dict[str, Any]) -> dict[str, str]:
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError("the header has no __metadata__ dict of strings")
    return meta


def read_container(path: str) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Read and validate a safetensors file (a regular file only).

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    metadata : dict of str to str
        The header's ``__metadata__``.
    tensors : dict of str to ndarray
        The tensors by name.

    Raises
    ------
    ModelFileError
        For any defect, with a message naming it (not the path: the caller adds it).
    """
    return parse_container(_read_bytes(path))


def parse_container(data: bytes) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Validate the bytes of a safetensors file; as :func:`read_container`."""
    header, start = _parse_header(data)
    data_len = len(data) - start
    expected: dict[str, tuple[np.dtype[Any], tuple[int, ...]]] = {}
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, begin, end = _entry(name, info, data_len)
        expected[name] = (dtype, shape)
        spans.append((begin, end, name))
    _check_layout(spans, data_len)
    metadata = _metadata(header)
    try:
        tensors = safetensors.numpy.load(data)
    except (safetensors.SafetensorError, ValueError) as exc:
        raise ModelFileError(f"safetensors rejected the file ({exc})") from exc
    for name, (dtype, shape) in expected.items():
        array = tensors.get(name)
        if array is None or array.dtype != dtype or array.shape != shape:
            raise ModelFileError(f"tensor {name!r} was not decoded as declared")
    return metadata, tensors
