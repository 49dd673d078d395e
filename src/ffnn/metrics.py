"""Public module ``ffnn.metrics``: re-exports :mod:`ffnn.nn.metrics`."""

from .nn.metrics import *  # noqa: F403
from .nn.metrics import __all__ as __all__
