"""Public module ``ffnn.callbacks``: re-exports :mod:`ffnn.training.callbacks`."""

from .training.callbacks import *  # noqa: F403
from .training.callbacks import __all__ as __all__
