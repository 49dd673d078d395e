"""Models and the training loop."""

from . import callbacks
from .model import Sequential

__all__ = ["Sequential", "callbacks"]
