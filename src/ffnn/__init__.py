"""ffnn: feedforward neural networks trained by backpropagation on a transparent
reverse-mode autodiff engine over NumPy.

The engine's names (``Tensor``, ``grad``, ``exp``, ...) live at the top level; layers,
losses, optimisers and callbacks in their public modules (``ffnn.layers``,
``ffnn.losses``, ``ffnn.optimizers``, ``ffnn.callbacks``, ...). scikit-learn and
matplotlib are imported only by the parts that need them.
"""

import importlib
import logging
from typing import TYPE_CHECKING

from . import (
    activations,
    autodiff,
    callbacks,
    datasets,
    diagnostics,
    exceptions,
    initializers,
    io,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
)
from .autodiff import *  # noqa: F403 - the engine's public names, listed in autodiff.__all__
from .exceptions import ConvergenceWarning, ModelFileError, NotFittedError
from .io import load, save
from .matlab import feedforwardnet, fitnet, patternnet
from .nn.layers import RBF, Activation, Dense, Dropout, Maxout, PReLU
from .perceptron import Perceptron
from .training import Sequential
from .training.division import divide_data

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# The scikit-learn estimators import scikit-learn, so they load on first use; so do
# ffnn.plot (its functions import matplotlib when called), the ONNX export (whose onnx
# import waits for the first export) and the skl2onnx converters.
_LAZY = {"MLPClassifier", "MLPRegressor", "PerceptronClassifier"}
_LAZY_FUNCTIONS = {"export_onnx": ".io.onnx", "register_skl2onnx": ".estimators.onnx_export"}


if TYPE_CHECKING:
    from . import estimators, plot
    from .estimators import MLPClassifier, MLPRegressor, PerceptronClassifier
    from .estimators.onnx_export import register_skl2onnx
    from .io.onnx import export_onnx


def __getattr__(name: str) -> object:
    if name in _LAZY or name == "estimators":
        module = importlib.import_module(".estimators", __name__)
        return module if name == "estimators" else getattr(module, name)
    if name == "plot":
        return importlib.import_module(".plot", __name__)
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(_LAZY_FUNCTIONS[name], __name__), name)
    raise AttributeError(f"module 'ffnn' has no attribute {name!r}")

__all__ = [
    "RBF",
    "Activation",
    "ConvergenceWarning",
    "Dense",
    "MLPClassifier",
    "MLPRegressor",
    "Dropout",
    "Maxout",
    "ModelFileError",
    "NotFittedError",
    "PReLU",
    "Perceptron",
    "PerceptronClassifier",
    "Sequential",
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "diagnostics",
    "divide_data",
    "estimators",
    "exceptions",
    "export_onnx",
    "feedforwardnet",
    "fitnet",
    "initializers",
    "io",
    "layers",
    "load",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "patternnet",
    "plot",
    "register_skl2onnx",
    "regularizers",
    "save",
    *autodiff.__all__,
]
