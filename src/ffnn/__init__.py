"""ffnn: feedforward neural networks trained by backpropagation on a transparent
reverse-mode autodiff engine over NumPy.

The engine's names (``Tensor``, ``grad``, ``exp``, ...) live at the top level; layers,
losses, optimisers and callbacks in their public modules (``ffnn.layers``,
``ffnn.losses``, ``ffnn.optimizers``, ``ffnn.callbacks``, ...). scikit-learn and
matplotlib are imported only by the parts that need them.
"""

import logging

from . import (
    activations,
    autodiff,
    callbacks,
    datasets,
    diagnostics,
    exceptions,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from .autodiff import *  # noqa: F403 - the engine's public names, listed in autodiff.__all__
from .exceptions import ConvergenceWarning, NotFittedError
from .nn.layers import RBF, Activation, Dense, Dropout, Maxout, PReLU
from .perceptron import Perceptron
from .training import Sequential

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "RBF",
    "Activation",
    "ConvergenceWarning",
    "Dense",
    "Dropout",
    "Maxout",
    "NotFittedError",
    "PReLU",
    "Perceptron",
    "Sequential",
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "diagnostics",
    "exceptions",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
    *autodiff.__all__,
]
