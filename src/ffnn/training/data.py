"""Input validation, validation splits and batching for the training loop.

Inputs may be lists, NumPy arrays, pandas objects or SciPy sparse matrices. They are
converted once, at the door, to C-contiguous float arrays of the model's dtype; every
problem is reported with the numbers that show it (shapes, counts, the first bad
position). Sparse inputs stay sparse (CSR, in the model's dtype) where the caller
accepts them, and :func:`dense` turns each batch into an array just before its step.

Features larger than memory come as a read-only memory map (``np.load(path,
mmap_mode="r")``) of the model's dtype: it is used as it is, never copied; batches are
gathered from the map (:func:`take`), and the pages read are handed back to the
operating system every :data:`MAPPED_BUDGET` bytes (:func:`release_pages`), so the
process's resident memory stays O(batch + parameters) however large the file is (the
file stays in the page cache, shared and reclaimable).
"""

from __future__ import annotations

import mmap
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._validation import cast_float

__all__ = [
    "MAPPED_BUDGET",
    "as_features",
    "as_targets",
    "batches",
    "check_finite",
    "dense",
    "is_sparse",
    "release_pages",
    "split_validation",
    "take",
]


def is_sparse(data: Any) -> bool:
    """Whether ``data`` is a SciPy sparse matrix or array (without importing SciPy)."""
    return type(data).__module__.startswith("scipy.sparse") and hasattr(data, "tocsr")


def dense(x: Any) -> np.ndarray:
    """``x`` as a C-contiguous array: sparse batches are densified, arrays pass through."""
    return np.ascontiguousarray(x.toarray()) if is_sparse(x) else x


def _sparse_features(x: Any, dtype: Any, what: str) -> Any:
    """A sparse input as a CSR matrix of ``dtype`` whose stored values are finite."""
    if x.ndim != 2:
        raise ValueError(f"{what} must be 2-D (samples, features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{what} has no samples (shape {x.shape})")
    if x.dtype.kind not in "fiub":
        raise ValueError(f"{what} is a sparse matrix of dtype {x.dtype}; ffnn needs numbers")
    csr = x.tocsr().astype(dtype)
    check_finite(csr.data, f"{what} (its stored values)")
    return csr


#: Bytes gathered from a read-only memory map between two releases of its pages.
MAPPED_BUDGET = 32 * 2**20

#: Pages a read fault may map (Linux's fault-around maps up to 16 pages around it).
_FAULT_AROUND = 16

_read_since_release: weakref.WeakKeyDictionary[mmap.mmap, int] = weakref.WeakKeyDictionary()


def _read_only_map(arr: Any) -> mmap.mmap | None:
    """The ``mmap`` under ``arr`` if ``arr`` views a read-only ``np.memmap``, else None."""
    read_only = False
    base = arr
    while base is not None and not isinstance(base, mmap.mmap):
        if isinstance(base, np.memmap) and base.mode == "r":
            read_only = True
        base = getattr(base, "base", None)
    return base if read_only and isinstance(base, mmap.mmap) else None


def release_pages(arr: Any) -> None:
    """Hand the pages of a read-only memory map back to the OS (``MADV_DONTNEED``).

    Nothing is lost: the mapping is read-only and shared, so later reads fetch the
    pages again from the page cache or the file. Does nothing for other arrays.
    """
    base = _read_only_map(arr)
    if base is not None and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)
        _read_since_release[base] = 0


def take(arr: np.ndarray, idx: slice | np.ndarray) -> np.ndarray:
    """``arr[idx]``; for a read-only memory map, a copy of the rows, and the map's pages
    released after every :data:`MAPPED_BUDGET` bytes read (see :func:`release_pages`)."""
    base = _read_only_map(arr)
    if base is None:
        return arr[idx]
    rows = np.array(arr[idx])
    touched = rows.nbytes
    if not isinstance(idx, slice):  # scattered rows: each faults in a window of pages
        pages = max(-(-rows[:1].nbytes // mmap.PAGESIZE) + 1, _FAULT_AROUND)
        touched = len(rows) * pages * mmap.PAGESIZE
    read = _read_since_release.get(base, 0) + touched
    _read_since_release[base] = read
    if read >= MAPPED_BUDGET:
        release_pages(arr)
    return rows


def _to_numpy(data: Any, what: str) -> np.ndarray:
    if data is None:
        raise ValueError(f"{what} is None")
    if is_sparse(data):
        data = data.toarray()
    if hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):  # pandas
        data = data.to_numpy()
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} could not be converted to an array: {exc}") from None
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except OverflowError:
            raise ValueError(f"{what} holds an integer too large for float64") from None
        except (ValueError, TypeError):
            raise ValueError(
                f"{what} holds non-numeric values (dtype object); ffnn needs numbers"
            ) from None
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{what} has dtype {arr.dtype}; ffnn needs numeric data")
    return arr


def check_finite(arr: np.ndarray, what: str) -> None:
    """Raise a ValueError giving the count and first position of NaN/inf values.

    The sum is checked first: it is finite only if every value is (a sum that overflows
    from large finite values falls through to the exact check).
    """
    if arr.dtype.kind != "f":
        return
    if _read_only_map(arr) is not None and arr.ndim:
        _check_finite_mapped(arr, what)
        return
    with np.errstate(over="ignore", invalid="ignore"):  # large finite values may overflow
        total = np.sum(arr)
    if np.isfinite(total):
        return  # a NaN or inf anywhere makes the sum non-finite (no allocation needed)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} contains {int(bad.sum())} NaN or infinite value(s); the first is at "
            f"index {first}"
        )


def _check_finite_mapped(arr: np.ndarray, what: str) -> None:
    """:func:`check_finite` for a memory map, one budget-sized chunk of rows at a time."""
    step = max(1, MAPPED_BUDGET // max(1, arr[:1].nbytes))
    count, first = 0, None
    for start in range(0, len(arr), step):
        chunk = take(arr, slice(start, start + step))
        if np.isfinite(np.sum(chunk)):
            continue
        bad = ~np.isfinite(chunk)
        count += int(bad.sum())
        if first is None and count:
            pos = np.argwhere(bad)[0]
            first = (int(pos[0]) + start, *(int(i) for i in pos[1:]))
    release_pages(arr)
    if count:
        raise ValueError(f"{what} contains {count} NaN or infinite value(s); the first is at "
                         f"index {first}")


def as_features(x: Any, dtype: Any, n_features: int | None = None, what: str = "x",
                sparse: bool = False) -> Any:
    """Validate inputs as a (samples, features) float array of ``dtype``.

    Parameters
    ----------
    x : array_like or scipy.sparse matrix
        Samples in rows. A 1-D input is treated as one feature per sample.
    dtype : dtype
        The model's dtype.
    n_features : int, optional
        The number of features the model expects.
    what : str
        How to call ``x`` in error messages.
    sparse : bool, default False
        Keep a sparse input sparse (a CSR matrix, densified batch by batch with
        :func:`dense`); otherwise it is densified here.
    """
    if sparse and is_sparse(x):
        csr = _sparse_features(x, dtype, what)
        if n_features is not None and csr.shape[1] != n_features:
            raise ValueError(f"{what} has {csr.shape[1]} features but the model expects "
                             f"{n_features}")
        return csr
    arr = _to_numpy(x, what)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-D (samples, features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{what} has no samples (shape {arr.shape})")
    _check_mapped(x, arr, dtype, what)
    arr = cast_float(what, arr, dtype)
    check_finite(arr, what)
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{what} has {arr.shape[1]} features but the model expects {n_features}")
    return arr


def _check_mapped(x: Any, arr: np.ndarray, dtype: Any, what: str) -> None:
    """A memory map is used in place: ValueError if that would need a copy of it."""
    if not isinstance(x, np.memmap):
        return
    if arr.dtype != np.dtype(dtype) or not arr.flags.c_contiguous:
        layout = "" if arr.flags.c_contiguous else ", not C-contiguous"
        raise ValueError(
            f"{what} is a memory-mapped {arr.dtype} array{layout}, but the model computes in "
            f"{np.dtype(dtype)}: converting it would copy the whole file into memory; save "
            f"the data as C-ordered {np.dtype(dtype)} or build the model with "
            f"dtype={arr.dtype.name!r}"
        )


def as_targets(
    y: Any, dtype: Any, n_samples: int, integer_labels: bool, what: str = "y"
) -> np.ndarray:
    """Validate targets: integer labels (N,) for sparse losses, else a float (N, K) array."""
    arr = _to_numpy(y, what)
    if arr.shape[:1] != (n_samples,):
        raise ValueError(
            f"{what} has {arr.shape[0] if arr.ndim else 0} samples but x has {n_samples}"
        )
    if integer_labels:
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"{what} must hold one integer label per sample for a sparse loss, got "
                f"shape {arr.shape}"
            )
        check_finite(arr, what)
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise ValueError(f"{what} must hold integer class labels for a sparse loss")
        if arr.size and not -(2**62) <= float(arr.min()) <= float(arr.max()) <= 2**62:
            i = int(np.argmax(np.abs(arr.astype(np.float64))))
            raise ValueError(f"{what} holds the label {arr[i]} at index ({i},), too large to "
                             "be a class index")
        return np.ascontiguousarray(arr, dtype=np.intp)
    if arr.ndim == 1:
        arr = arr[:, None]
    arr = cast_float(what, arr, dtype)
    check_finite(arr, what)
    return arr


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out the last ``fraction`` of the samples (before shuffling), as Keras does."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must lie in (0, 1), got {fraction!r}")
    n = x.shape[0]
    n_val = int(n * fraction)
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"validation_split={fraction} of {n} samples leaves {n_val} for validation and "
            f"{n - n_val} for training; both need at least one"
        )
    cut = n - n_val
    return x[:cut], y[:cut], x[cut:], y[cut:]


def batches(
    n: int, batch_size: int | None, perm: np.ndarray | None = None
) -> Iterator[slice | np.ndarray]:
    """Yield slices (or index arrays when ``perm`` is given) covering ``range(n)``."""
    size = n if batch_size is None else batch_size
    for start in range(0, n, size):
        if perm is None:
            yield slice(start, min(start + size, n))
        else:
            yield perm[start : start + size]
