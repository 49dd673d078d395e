"""ONNX graphs of the layers of :data:`ffnn.nn.layers.LAYERS` and of a whole network.

:data:`LAYER_EXPORTERS` maps each layer's registry name to an emitter
``emit(g, layer, x) -> str`` that writes the layer's inference-time computation on the
batch ``x`` (a value of shape (batch, inputs)). Parameters become initializers named as
in model files (``dense/kernel``). To export a new layer, add its emitter here;
``tests/io/test_onnx.py`` fails, naming it, until then. The preprocessing layers
(MapMinMax, MapStd, RemoveConstantRows) are emitters like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...nn.layers import LAYERS, RBF, Activation, Dense, Layer, Maxout, PReLU
from ...nn.layers.preprocessing import RemoveConstantRows
from ...training import Sequential
from .activations import emit_activation
from .graph import Graph

__all__ = ["LAYER_EXPORTERS", "emit_layer", "emit_network"]


def _param(g: Graph, layer: Layer, key: str, value: Any = None) -> str:
    """The layer's parameter ``key`` (or ``value``) as an initializer ``<layer>/<key>``."""
    array = layer.named_params[key].data if value is None else value
    return g.const(np.ascontiguousarray(array), f"{layer.name}/{key}")


def _where(layer: Layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})"


def dense(g: Graph, layer: Dense, x: str) -> str:
    """a = f(x Wᵀ + b): ``Gemm(transB=1)`` on W as stored, (units, inputs), then f."""
    inputs = [x, _param(g, layer, "kernel")]
    if layer.bias is not None:
        inputs.append(_param(g, layer, "bias"))
    z = g.op("Gemm", *inputs, transB=1)
    return emit_activation(g, layer.activation, z, _where(layer))


def activation(g: Graph, layer: Activation, x: str) -> str:
    """f(x)."""
    return emit_activation(g, layer.activation, x, _where(layer))


def identity(g: Graph, layer: Layer, x: str) -> str:
    """Dropout: the identity at inference."""
    return x


def maxout(g: Graph, layer: Maxout, x: str) -> str:
    """hᵢ = maxⱼ zᵢⱼ: ``Gemm``, ``Reshape`` to (batch, units, pieces), ``ReduceMax``."""
    z = g.op("Gemm", x, _param(g, layer, "kernel"), _param(g, layer, "bias"), transB=1)
    grouped = g.op("Reshape", z, g.ints([0, layer.units, layer.pieces]))
    return g.op("ReduceMax", grouped, g.ints([-1]), keepdims=0)


def rbf(g: Graph, layer: RBF, x: str) -> str:
    """hᵢ = exp(−γᵢ‖x − cᵢ‖²), from the differences as ffnn computes it (no expansion)."""
    diff = g.op("Sub", g.op("Unsqueeze", x, g.ints([1])), _param(g, layer, "centers"))
    sq = g.op("ReduceSum", g.op("Mul", diff, diff), g.ints([-1]), keepdims=0)
    if layer.log_gamma is not None:  # γᵢ = exp(log γᵢ), the value ffnn computes
        gamma = _param(g, layer, "gamma", np.exp(layer.log_gamma.data))
    else:
        gamma = g.scalar(layer.gamma)
    return g.op("Exp", g.op("Neg", g.op("Mul", sq, gamma)))


def prelu(g: Graph, layer: PReLU, x: str) -> str:
    """x for x > 0, αᵢx otherwise: ``PRelu`` (float64: ``Where``, as ffnn computes it)."""
    alpha = _param(g, layer, "alpha")
    if g.dtype == np.float32:
        return g.op("PRelu", x, alpha)
    return g.op("Where", g.op("Greater", x, g.scalar(0.0)), x, g.op("Mul", x, alpha))


def affine(g: Graph, layer: Any, x: str) -> str:
    """MapMinMax, MapStd (and their inverses): x·scale + shift, as ffnn computes it."""
    scale, shift = layer.affine()
    return g.op("Add", g.op("Mul", x, g.const(scale, f"{layer.name}/scale")),
                g.const(shift, f"{layer.name}/shift"))


def remove_constant_rows(g: Graph, layer: RemoveConstantRows, x: str) -> str:
    """The kept columns: ``Gather(axis=1)``."""
    keep = g.const(np.asarray(layer.keep, dtype=np.int64), f"{layer.name}/keep")
    return g.op("Gather", x, keep, axis=1)


#: Layer registry name → emitter. Keep it in step with LAYERS.
LAYER_EXPORTERS: dict[str, Callable[[Graph, Any, str], str]] = {
    "dense": dense,
    "activation": activation,
    "dropout": identity,
    "maxout": maxout,
    "rbf": rbf,
    "prelu": prelu,
    "mapminmax": affine,
    "mapstd": affine,
    "removeconstantrows": remove_constant_rows,
}


def emit_layer(g: Graph, layer: Layer, x: str) -> str:
    """The ONNX graph of one layer; ValueError naming a layer that cannot be exported."""
    name = type(layer).__name__
    if name not in LAYERS or LAYERS.lookup(name) is not type(layer):
        raise ValueError(f"{_where(layer)} is not in ffnn's layer registry, so it cannot be "
                         f"exported to ONNX (registered layers: {', '.join(LAYERS.names())})")
    emit = LAYER_EXPORTERS.get(LAYERS.canonical(name))
    if emit is None:
        raise ValueError(f"{_where(layer)} has no ONNX export; exportable layers: "
                         f"{', '.join(sorted(LAYER_EXPORTERS))}")
    outer, g.prefix = g.prefix, f"{g.prefix}{layer.name}/"
    try:
        return emit(g, layer, x)
    finally:
        g.prefix = outer


def emit_network(g: Graph, model: Sequential, x: str) -> str:
    """The network's output for the batch ``x`` (of the model's dtype), as
    ``model.predict`` computes it (probabilities for a sigmoid or softmax output)."""
    g.dtype = model.dtype
    for layer in model.layers:
        x = emit_layer(g, layer, x)
    return x
