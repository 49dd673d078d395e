"""Public module ``ffnn.regularizers``: re-exports :mod:`ffnn.nn.regularizers`."""

from .nn.regularizers import *  # noqa: F403
from .nn.regularizers import __all__ as __all__
