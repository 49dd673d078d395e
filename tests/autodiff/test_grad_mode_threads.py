"""Grad mode is per thread.

Regression: the mode was one global flag, so a thread predicting under ``no_grad``
(GridSearchCV scoring on a thread-based Dask or joblib worker) made another thread's
training step record nothing, and its ``backward()`` raised.
"""

from __future__ import annotations

import threading

import numpy as np

import ffnn


def test_no_grad_in_one_thread_leaves_another_recording() -> None:
    inside, release = threading.Event(), threading.Event()

    def predict() -> None:
        with ffnn.no_grad():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=predict)
    worker.start()
    try:
        assert inside.wait(10)
        assert ffnn.is_grad_enabled()
        x = ffnn.Tensor(np.array([1.0, 2.0]), requires_grad=True)
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    finally:
        release.set()
        worker.join()


def test_a_new_thread_starts_with_recording_on() -> None:
    seen: list[bool] = []
    with ffnn.no_grad():
        thread = threading.Thread(target=lambda: seen.append(ffnn.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not ffnn.is_grad_enabled()
    assert seen == [True]
