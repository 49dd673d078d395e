"""Public module ``ffnn.losses``: re-exports :mod:`ffnn.nn.losses`."""

from .nn.losses import *  # noqa: F403
from .nn.losses import __all__ as __all__
