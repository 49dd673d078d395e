"""The reverse-mode automatic differentiation engine (imports NumPy and scipy.special)."""

from . import functions
from .functional import grad, jacobian, value_and_grad
from .functions import *  # noqa: F403 - the primitives as functions, listed in functions.__all__
from .gradcheck import check_grads
from .graphview import GraphNode, graph_nodes
from .mode import TraceError
from .primitive import PRIMITIVES, Primitive
from .static import StaticGraph, TracedFunction, trace
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, tensor, zero_grad

__all__ = [
    "PRIMITIVES",
    "Primitive",
    "StaticGraph",
    "Tensor",
    "TraceError",
    "TracedFunction",
    "GraphNode",
    "check_grads",
    "enable_grad",
    "grad",
    "graph_nodes",
    "is_grad_enabled",
    "jacobian",
    "no_grad",
    "tensor",
    "trace",
    "value_and_grad",
    "zero_grad",
    *functions.__all__,
]
