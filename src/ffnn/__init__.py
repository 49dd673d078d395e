"""ffnn: feedforward neural networks trained by backpropagation on a transparent
reverse-mode autodiff engine over NumPy.

The engine's names (``Tensor``, ``grad``, ``exp``, ...) live at the top level; layers,
losses, optimisers and callbacks in their modules (``ffnn.layers``, ``ffnn.losses``,
``ffnn.optimizers``, ``ffnn.callbacks``, ...). scikit-learn and matplotlib are
imported only by the parts that need them.
"""

import logging

from . import autodiff, datasets
from . import optim as optimizers
from .autodiff import *  # noqa: F403 - the engine's public names, listed in autodiff.__all__
from .nn import activations, initializers, layers, losses, metrics, regularizers
from .nn.layers import RBF, Activation, Dense, Dropout, Maxout, PReLU
from .training import Sequential, callbacks

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "RBF",
    "Activation",
    "Dense",
    "Dropout",
    "Maxout",
    "PReLU",
    "Sequential",
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
    *autodiff.__all__,
]
