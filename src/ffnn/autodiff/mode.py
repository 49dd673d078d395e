"""Grad mode: whether operations are recorded (:func:`no_grad`, :func:`enable_grad`).

The mode is per thread, as in PyTorch: a thread predicting under ``no_grad`` must not
stop another thread's training from recording (thread-based workers, e.g. Dask's or
joblib's, fit several models at once in one process).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]


class _GradMode(threading.local):
    """Recording on or off, for the current thread (each thread starts with it on)."""

    def __init__(self) -> None:
        self.enabled = True


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
