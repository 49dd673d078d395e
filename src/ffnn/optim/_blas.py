"""``y ← y + a·x`` in place, in one pass, through the BLAS that NumPy itself links.

NumPy has no fused multiply-add, so ``p -= lr * g`` is two passes over the parameters
(``tmp = lr·g``, then ``p −= tmp``). For large parameters the update of plain SGD is
memory-bound and those passes cost more than the arithmetic. BLAS ``axpy`` does it in
one pass, on all of the BLAS library's threads (OpenBLAS threads it above 10,000
elements).

SGD uses it for its whole update: its step reads the gradient the weight-gradient
product just wrote and the parameters the previous step wrote, both on the BLAS
threads. Adam computes its step in single-threaded NumPy passes first and uses it only
for the last one, ``p ← p − η′·step`` (3–10 % off Adam's epoch on the 784-256-128-10
network, batches 32 to 1024); a threaded pass *between* those NumPy passes moved the
arrays from one core's cache to the other's and back, and made Adam's step 1.4–3×
slower, RMSprop's up to 1.7× (measured in training, not in isolation, where each pass
alone was faster).

The routine is looked up in NumPy's own BLAS, through the symbols visible from NumPy's
extension module, so the update runs in the same thread pool as the matrix products.
SciPy's ``scipy.linalg.blas`` is deliberately not used: SciPy wheels bundle a second
OpenBLAS whose worker threads fight NumPy's over the cores (an epoch of the peers
benchmark took 6 s instead of 0.5 s). Where no routine is found (a NumPy without a
CBLAS, or a platform whose loader does not search dependencies) or a self-test fails,
and for small, mixed-layout or overlapping arrays, a zero scale or counts beyond the
routine's integers, :func:`axpy` takes the two NumPy passes instead, which round
``a·x`` before the addition where BLAS may fuse it: the results can differ in the last
bit.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["axpy", "blas_axpy_available"]

# Below this many elements the two NumPy passes are as fast as the foreign call.
MIN_SIZE = 4096

# Candidate symbols, most specific first: NumPy's wheels bundle scipy-openblas with
# 64-bit integers ("scipy_cblas_saxpy64_"); other builds export the plain CBLAS name.
_NAMES = ("scipy_cblas_{}axpy64_", "cblas_{}axpy64_", "scipy_cblas_{}axpy", "cblas_{}axpy")

_Routine = Callable[..., None]
# dtype -> (routine, the largest element count it takes)
_ROUTINES: dict[np.dtype[Any], tuple[_Routine, int]] = {}


def _lookup(lib: Any, letter: str, ctype: Any) -> tuple[_Routine, int] | None:
    for pattern in _NAMES:
        fn = getattr(lib, pattern.format(letter), None)
        if fn is not None:
            # The integers are passed as 64-bit. In the registers of every 64-bit ABI a
            # routine built with 32-bit integers reads the low half: the same value for
            # counts below 2³¹, and larger arrays are left to NumPy.
            fn.restype = None
            fn.argtypes = [ctypes.c_int64, ctype, ctypes.c_void_p, ctypes.c_int64,
                           ctypes.c_void_p, ctypes.c_int64]
            return fn, (2**63 - 1 if pattern.endswith("64_") else 2**31 - 1)
    return None


def _self_test(fn: _Routine, dtype: Any) -> bool:
    """The routine must compute y + a·x on a small strided-free case, exactly."""
    x = np.arange(1, 8, dtype=dtype)
    y = np.full(7, 0.5, dtype=dtype)
    expected = y + 2.0 * x  # exact in both dtypes
    fn(7, 2.0, x.ctypes.data, 1, y.ctypes.data, 1)
    return bool(np.array_equal(y, expected))


def _load() -> None:
    if ctypes.sizeof(ctypes.c_void_p) != 8:  # the 64-bit integer argument needs a 64-bit ABI
        return
    try:
        import importlib

        path = importlib.import_module("numpy._core._multiarray_umath").__file__
        lib = ctypes.CDLL(path)
    except (ImportError, OSError, AttributeError):  # pragma: no cover - platform dependent
        return
    for letter, dtype, ctype in (("s", np.float32, ctypes.c_float),
                                 ("d", np.float64, ctypes.c_double)):
        found = _lookup(lib, letter, ctype)
        try:
            ok = found is not None and _self_test(found[0], dtype)
        except (OSError, ctypes.ArgumentError):  # pragma: no cover - a broken library
            ok = False
        if ok:
            _ROUTINES[np.dtype(dtype)] = found  # type: ignore[assignment]


_load()


def blas_axpy_available(dtype: Any) -> bool:
    """Whether :func:`axpy` can use BLAS for arrays of ``dtype``."""
    return np.dtype(dtype) in _ROUTINES


def axpy(a: float, x: np.ndarray, y: np.ndarray, tmp: np.ndarray) -> None:
    """``y ← y + a·x`` in place.

    Parameters
    ----------
    a : float
        The scale of ``x``.
    x : ndarray
        Not written to.
    y : ndarray
        Updated in place; same shape as ``x``.
    tmp : ndarray
        Scratch of ``y``'s shape and dtype for the NumPy fallback (may be ``x`` itself
        when ``x`` is scratch too).

    Notes
    -----
    BLAS is used when ``x`` and ``y`` have the same float dtype, shape and memory order
    (both C- or both Fortran-contiguous), ``y`` is writable, neither overlaps the other,
    they hold at least ``MIN_SIZE`` elements (and no more than the routine's integers
    count) and ``a`` is not 0; otherwise two NumPy passes do it. BLAS skips the product
    when ``a`` is 0, where NumPy (and PyTorch) turn an inf or NaN in ``x`` into NaN.
    """
    found = _ROUTINES.get(y.dtype) if y.size >= MIN_SIZE and a != 0 else None
    if (
        found is not None
        and y.size <= found[1]
        and x.dtype == y.dtype
        and x.shape == y.shape
        and y.flags.writeable
        and x.flags.aligned
        and y.flags.aligned
        and (
            (x.flags.c_contiguous and y.flags.c_contiguous)
            or (x.flags.f_contiguous and y.flags.f_contiguous)
        )
        and not np.may_share_memory(x, y)
    ):
        found[0](y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
        return
    np.multiply(x, a, out=tmp)
    np.add(y, tmp, out=y)
