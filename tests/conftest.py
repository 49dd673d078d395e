"""Shared fixtures: every random thing in the suite is seeded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ffnn", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("ffnn")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded NumPy generator, fresh for every test."""
    return np.random.default_rng(12345)
