"""Public module ``ffnn.initializers``: re-exports :mod:`ffnn.nn.initializers`."""

from .nn.initializers import *  # noqa: F403
from .nn.initializers import __all__ as __all__
