"""Public module ``ffnn.layers``: re-exports :mod:`ffnn.nn.layers`."""

from .nn.layers import *  # noqa: F403
from .nn.layers import __all__ as __all__
