"""Public module ``ffnn.optimizers``: re-exports :mod:`ffnn.optim`."""

from .optim import *  # noqa: F403
from .optim import __all__ as __all__
