"""Grad mode: whether operations are recorded (:func:`no_grad`, :func:`enable_grad`).

The mode is per thread, as in PyTorch: a thread predicting under ``no_grad`` must not
stop another thread's training from recording (thread-based workers, e.g. Dask's or
joblib's, fit several models at once in one process).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["TraceError", "enable_grad", "is_grad_enabled", "no_grad"]


class _GradMode(threading.local):
    """Engine state of the current thread (each thread starts with recording on and no
    tracer): whether recording is on, and the active tracer (if any).

    ``tracer`` is set by :func:`ffnn.autodiff.static.trace` while it runs the function
    once; :func:`ffnn.autodiff.tensor.apply` reports every primitive call to it.
    """

    def __init__(self) -> None:
        self.enabled = True
        self.tracer: Any = None


_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """Return whether operations are currently being recorded."""
    return _MODE.enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Context manager inside which no operation is recorded.

    Results created inside have ``requires_grad=False`` whatever their inputs; use it
    for inference and for in-place parameter updates.
    """
    previous = _MODE.enabled
    _MODE.enabled = False
    try:
        yield
    finally:
        _MODE.enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Context manager that turns recording back on (e.g. inside :func:`no_grad`)."""
    previous = _MODE.enabled
    _MODE.enabled = True
    try:
        yield
    finally:
        _MODE.enabled = previous


class TraceError(RuntimeError):
    """A traced function did something a static graph cannot replay.

    Raised at trace time, e.g. when Python control flow depends on a traced value
    (``bool()``, ``float()``, ``.item()``, a comparison used in ``if``): the static
    graph records one path only. Call the function directly (the dynamic tape) instead.
    """


def _refuse_in_trace(what: str) -> None:
    """Raise :class:`TraceError` if a trace is running (``what`` names the operation)."""
    if _MODE.tracer is not None:
        raise TraceError(
            f"{what} on a traced value: Python control flow that depends on the data "
            "cannot be recorded in a static graph (it would replay one branch for every "
            "input). Use the dynamic path instead: call the function directly without "
            "ffnn.trace (or compile(..., graph='dynamic') for a model)"
        )
