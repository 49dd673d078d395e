"""ffnn: feedforward neural networks trained by backpropagation on a transparent
reverse-mode autodiff engine over NumPy."""

import logging

from . import autodiff
from .autodiff import *  # noqa: F403 - the engine's public names, listed in autodiff.__all__

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__", *autodiff.__all__]
