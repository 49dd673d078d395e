"""Neural-network building blocks: activations, initialisers, losses, metrics, penalties.

Each family has one registry (``ACTIVATIONS``, ``INITIALIZERS``, ``LOSSES``, ``METRICS``,
``REGULARIZERS``) and a ``get(identifier)`` in its module.
"""

from . import activations, initializers, losses, metrics, regularizers
from .activations import ACTIVATIONS, ActivationFunction
from .initializers import INITIALIZERS, Initializer
from .losses import LOSSES, Loss
from .metrics import METRICS
from .regularizers import REGULARIZERS, Regularizer

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "METRICS",
    "REGULARIZERS",
    "ActivationFunction",
    "Initializer",
    "Loss",
    "Regularizer",
    "activations",
    "initializers",
    "losses",
    "metrics",
    "regularizers",
]
