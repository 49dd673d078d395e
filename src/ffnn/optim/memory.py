"""Memory estimates made before allocating: the memory available, and the plan of a
Levenberg–Marquardt step (form and chunk size) that fits in it.

Levenberg–Marquardt and Bayesian regularisation hold matrices whose size grows with
the square of the parameters (JᵀJ, the primal form) or of the residuals (JJᵀ, the dual
form), and the Jacobian J itself. :func:`plan_lm` estimates the bytes of each form
before anything is allocated, picks one that fits and refuses with
:class:`InsufficientMemoryError` when none does. :mod:`ffnn.training.memory` uses the
same estimates for whole training runs.

The memory available is read from ``MemAvailable`` in ``/proc/meminfo`` (Linux), else
from ``os.sysconf`` (available physical pages), and lowered to what a cgroup memory
limit (a container's) or an address-space limit (``ulimit -v``) leaves; the environment variable
``FFNN_MEMORY_LIMIT`` (bytes, or with a K, M, G or T suffix, powers of 1024) overrides
both, e.g. to keep ffnn within a container's limit, or in tests.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

__all__ = [
    "ALWAYS_FITS",
    "MEMORY_LIMIT_ENV",
    "InsufficientMemoryError",
    "LMPlan",
    "available_memory",
    "check_fits",
    "format_bytes",
    "plan_lm",
]

#: Environment variable that overrides the available memory (bytes, or 512M, 4G, ...).
MEMORY_LIMIT_ENV = "FFNN_MEMORY_LIMIT"

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class InsufficientMemoryError(MemoryError, ValueError):
    """A computation would need more memory than is available; raised before allocating.

    It is a ``MemoryError`` and, like every report of a request ffnn refuses, a
    ``ValueError`` (the command line prints it as one line). The message gives the size
    needed, the size available and what to change.
    """


def _parse_limit(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, flags=re.IGNORECASE)
    if match is None:
        raise ValueError(f"{MEMORY_LIMIT_ENV}={text!r} is not a size: give bytes or a number "
                         "with a K, M, G or T suffix, e.g. 512M or 4G")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def _read_kib(path: str, key: str) -> int | None:
    """The value of ``key`` (in kB) of a ``/proc`` file such as meminfo, in bytes."""
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _physical() -> int | None:
    """MemAvailable of /proc/meminfo, else the available pages (os.sysconf)."""
    free = _read_kib("/proc/meminfo", "MemAvailable:")
    if free is not None:
        return free
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    """What a cgroup v2 memory limit (a container's) leaves, if one is set."""
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            return max(0, int(limit) - int(f.read().strip()))
    except (OSError, ValueError):
        return None


def _address_space_room() -> int | None:
    """What the address-space limit (``ulimit -v``) leaves, if one is set."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    used = _read_kib("/proc/self/status", "VmSize:")
    if soft == resource.RLIM_INFINITY or used is None:
        return None
    return max(0, soft - used)


def available_memory() -> int | None:
    """The bytes this process can still allocate without swapping, or None if unknown.

    ``FFNN_MEMORY_LIMIT`` if set; otherwise the smallest of ``MemAvailable`` of
    ``/proc/meminfo`` (else the available pages of ``os.sysconf``), what a cgroup v2
    memory limit leaves and what the address-space limit (``ulimit -v``) leaves.
    """
    limit = os.environ.get(MEMORY_LIMIT_ENV)
    if limit:
        return _parse_limit(limit)
    known = [v for v in (_physical(), _cgroup_room(), _address_space_room()) if v is not None]
    return min(known) if known else None


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units: ``11.9 GiB``, ``512.0 MiB``, ``17 B``."""
    if n < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024.0
        if n < 1024 or unit == "PiB":
            break
    return f"{n:.1f} {unit}"


#: Requests below this size are not checked against the system's memory (reading it
#: costs about 0.1 ms, a noticeable share of a small network's epoch), unless
#: ``FFNN_MEMORY_LIMIT`` sets the limit.
ALWAYS_FITS = 16 * 2**20


def check_fits(needed: float, what: str, alternatives: str,
               available: int | None = None) -> None:
    """Raise :class:`InsufficientMemoryError` if ``needed`` bytes exceed the memory
    available (:func:`available_memory` unless given); nothing when it is unknown, or
    for less than :data:`ALWAYS_FITS` bytes without ``FFNN_MEMORY_LIMIT``."""
    if available is None and needed < ALWAYS_FITS and not os.environ.get(MEMORY_LIMIT_ENV):
        return
    free = available_memory() if available is None else available
    if free is not None and needed > free:
        raise InsufficientMemoryError(
            f"{what} needs about {format_bytes(needed)} of memory but only "
            f"{format_bytes(free)} is available; {alternatives}")


@dataclass(frozen=True)
class LMPlan:
    """How a Levenberg–Marquardt epoch will run: the form, the rows per Jacobian chunk
    (primal form) and the estimated peak bytes."""

    primal: bool
    chunk: int
    bytes: float


def _primal_bytes(p: int, k: int, chunk: int, itemsize: int) -> float:
    """JᵀJ, its damped copy and Cholesky factor (3·P² float64), plus one chunk of J in
    the model's dtype, its float64 copy and the layers' per-sample gradients."""
    return 3.0 * p * p * 8 + float(chunk) * k * p * (2 * itemsize + 8)


def _dual_bytes(m: int, p: int, itemsize: int) -> float:
    """J (m×P) in the model's dtype with the per-sample gradients, its float64 copy
    and J·A⁻¹ (float64), plus JJᵀ, the damped system and its factor (3·m² float64)."""
    return float(m) * p * (2 * itemsize + 16) + 3.0 * m * m * 8


def default_chunk(n_outputs: int, n_params: int) -> int:
    """Samples per chunk of the primal accumulation: about 2²¹ Jacobian entries."""
    return max(1, 2**21 // max(1, n_outputs * n_params))


def plan_lm(n_samples: int, n_outputs: int, n_params: int, itemsize: int, form: str = "auto",
            chunk_size: int | None = None, available: int | None = None) -> LMPlan:
    """Choose the form and chunk size of a Levenberg–Marquardt epoch that fit in memory.

    Parameters
    ----------
    n_samples, n_outputs, n_params : int
        N, K and P: the Jacobian has m = N·K rows and P columns.
    itemsize : int
        Bytes per number of the model's dtype (4 or 8).
    form : {"auto", "primal", "dual"}
        "auto" prefers the dual form when P > m (the smaller system), and otherwise
        the primal, and falls back on the other form when the preferred one does not fit.
    chunk_size : int, optional
        Samples per chunk of the primal form; by default about 2²¹ Jacobian entries,
        fewer when that does not fit.
    available : int, optional
        Bytes available (default :func:`available_memory`; no limit when unknown).

    Raises
    ------
    InsufficientMemoryError
        When no allowed form fits: the message gives the bytes each form needs, the
        bytes available and the alternatives.
    """
    m, p, k = n_samples * n_outputs, n_params, n_outputs
    small = max(_dual_bytes(m, p, itemsize), _primal_bytes(
        p, k, min(n_samples, default_chunk(k, p) if chunk_size is None else chunk_size),
        itemsize)) < ALWAYS_FITS
    if available is None and small and not os.environ.get(MEMORY_LIMIT_ENV):
        free: int | None = None  # both forms fit anywhere: no need to read the system
    else:
        free = available_memory() if available is None else available
    limit = math.inf if free is None else float(free)
    fixed_chunk = chunk_size is not None
    chunk = min(n_samples, default_chunk(k, p) if chunk_size is None else chunk_size)
    primal_need = _primal_bytes(p, k, chunk, itemsize)
    if primal_need > limit and not fixed_chunk:  # fewer rows per chunk, down to one
        room = (limit - _primal_bytes(p, k, 0, itemsize)) // (k * p * (2 * itemsize + 8))
        chunk = max(1, min(chunk, int(max(room, 1))))
        primal_need = _primal_bytes(p, k, chunk, itemsize)
    dual_need = _dual_bytes(m, p, itemsize)
    options = {"primal": LMPlan(True, chunk, primal_need),
               "dual": LMPlan(False, n_samples, dual_need)}
    order = [form] if form != "auto" else (["dual", "primal"] if p > m else ["primal", "dual"])
    for name in order:
        if options[name].bytes <= limit:
            return options[name]
    sizes = " and ".join(
        f"the {name} form {format_bytes(options[name].bytes)}"
        + (f" (JᵀJ of {format_bytes(p * p * 8.0)}, chunks of {chunk} samples)"
           if name == "primal" else f" (J of {format_bytes(m * p * 8.0)}, JJᵀ of "
                                    f"{format_bytes(m * m * 8.0)})")
        for name in order)
    forced = "" if form == "auto" else (
        f"; form={form!r} was requested, form='auto' may choose the other form")
    raise InsufficientMemoryError(
        f"Levenberg–Marquardt on {n_samples} samples × {k} outputs with {p:,} parameters "
        f"needs {sizes}, but only {format_bytes(limit)} is available{forced}; use fewer "
        "parameters, a smaller chunk_size (primal form), fewer samples, or a first-order "
        "optimiser such as 'adam'")
