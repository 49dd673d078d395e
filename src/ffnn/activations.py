"""Public module ``ffnn.activations``: re-exports :mod:`ffnn.nn.activations`."""

from .nn.activations import *  # noqa: F403
from .nn.activations import __all__ as __all__
