"""Figures of training and of networks, drawn with matplotlib (the ``plot`` extra).

Every function draws on the ``ax`` it is given (or on a new figure), returns the
matplotlib ``Figure`` and never calls ``show()``; it draws data the model, the
history or the engine already holds, so tests check the drawn data. Importing this
package imports neither matplotlib nor scikit-learn: each function imports them when
called, and without matplotlib raises an ImportError that says
``pip install ffnn[plot]``.

==================== ===========================================================
``history``          loss per epoch: train, validation, test (MATLAB plotperform)
``train_state``      LM/BR state per epoch: gradient, μ, γ, validation checks
                     (MATLAB plottrainstate)
``regression``       outputs against targets with R, per split (plotregression)
``confusion``        confusion matrix (plotconfusion), via scikit-learn's display
``decision_boundary`` class regions of a 2-D classifier and its data
``activations``      activations and their engine derivatives (the notes' gallery)
``network``          a small network: units and weighted edges
``diagnostics``      dead ReLU share, saturation share, gradient norm per layer
``graph``            a computation graph: values, local derivatives, adjoints
==================== ===========================================================
"""

from .activations import GALLERY, activation_curves, activations
from .classification import confusion, decision_boundary
from .curves import diagnostics, history, train_state, validation_failures
from .graph import graph
from .network import network
from .regression import regression, regression_line

__all__ = [
    "GALLERY",
    "activation_curves",
    "activations",
    "confusion",
    "decision_boundary",
    "diagnostics",
    "graph",
    "history",
    "network",
    "regression",
    "regression_line",
    "train_state",
    "validation_failures",
]
