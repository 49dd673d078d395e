"""``ParamsMixin``: the parameters of :class:`~ffnn.training.Sequential` as a whole.

Building the layers' parameters, listing, counting, copying and overwriting them, the
summary table of their counts and the Jacobian with respect to them. ``Sequential``
inherits these methods; they are part of its public API and documented there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import cast_float, check_seed
from ..autodiff import Tensor
from ..nn.layers import Layer
from . import data
from .model_checks import check_memory

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """Parameter methods of :class:`~ffnn.training.Sequential`, which sets these attributes."""

    layers: list[Layer]
    name: str
    seed: int | None
    dtype: np.dtype[Any]
    dtype_given: bool
    optimizer: Any
    built: bool
    output_shape: tuple[Any, ...]

    # ------------------------------------------------------------ structure
    @property
    def input_dim(self) -> int | None:
        """Number of input features if known (declared or seen)."""
        if self.layers and self.layers[0].input_shape is not None:
            return int(self.layers[0].input_shape[-1])
        return getattr(self.layers[0], "input_dim", None) if self.layers else None

    def build(self, input_dim: int | None = None, seed: Any = None) -> None:
        """Create every layer's parameters for ``input_dim`` features."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        input_dim = input_dim if input_dim is not None else self.input_dim
        if input_dim is None:
            raise ValueError(
                "the number of input features is unknown: give the first layer input_dim= "
                "or call fit/predict with data"
            )
        seed = check_seed(seed)
        seed = self.seed if self.seed is not None else seed
        check_memory(self, int(input_dim))  # before any weight is allocated
        for layer in self.layers:
            _check_options_fit(layer, self.dtype)
        rng = np.random.default_rng(seed)
        shape: tuple[Any, ...] = (None, int(input_dim))
        for layer in self.layers:
            layer.build(shape, rng, self.dtype)
            shape = layer.compute_output_shape(shape)
        self.output_shape = shape
        self.built = True
        if self.optimizer is not None:
            self.optimizer.build(self.params)

    def build_declared(self) -> None:
        """Build now if the first layer declares its input size and the model is not
        built yet (Keras builds such a model at once)."""
        if not self.built and self.layers and self.input_dim is not None:
            self.build()

    def cast(self, dtype: Any) -> None:
        """Convert the model (its parameters, if built) to ``dtype``, float32 or float64,
        keeping each array's memory order; call before ``compile`` builds the optimiser."""
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        for p in (p for layer in self.layers for p in layer.params):
            p.data = p.data.astype(dtype, order="K")
        self.dtype = dtype

    def ensure_built(self, n_features: int, seed: Any = None) -> None:
        """Build for ``n_features`` inputs (weights from ``seed``) unless already built."""
        if not self.built:
            self.build(n_features, seed)

    @property
    def params(self) -> list[Tensor]:
        """All trainable parameters, layer by layer (building a model whose input size
        is declared)."""
        self.build_declared()
        return [p for layer in self.layers for p in layer.params]

    def count_params(self) -> int:
        """Total trainable scalars: Σ (M_l + 1)·M_{l+1} for a stack of dense layers."""
        self.build_declared()
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all parameter arrays, in :attr:`params` order."""
        return [p.data.copy() for p in self.params]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Overwrite the parameters in place from arrays in :attr:`params` order."""
        params = self.params
        if len(weights) != len(params):
            raise ValueError(f"set_weights got {len(weights)} arrays; the model has {len(params)}")
        arrays = []
        for i, (p, w) in enumerate(zip(params, weights, strict=True)):
            arr = np.asarray(w)
            if arr.shape != p.data.shape:
                raise ValueError(
                    f"set_weights: array {i} has shape {arr.shape}, parameter needs {p.data.shape}"
                )
            if arr.dtype.kind not in "fiu":
                raise ValueError(f"set_weights: array {i} has dtype {arr.dtype}; numbers needed")
            data.check_finite(arr, f"set_weights array {i}")
            arr = cast_float(f"set_weights array {i}", arr, p.data.dtype)
            arrays.append(arr)
        for p, arr in zip(params, arrays, strict=True):  # all checked: now copy
            np.copyto(p.data, arr)
            p.mark_modified()

    # --------------------------------------------------------------- summary
    def summary(self, print_fn: Any = None) -> str:
        """A table of layers, output shapes and parameter counts (returned as text)."""
        if not self.built:
            self.build()  # needs input_dim on the first layer
        rows = [("Layer (type)", "Output shape", "Param #")]
        shape: tuple[Any, ...] = (None, self.input_dim)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            rows.append(
                (f"{layer.name} ({type(layer).__name__})", str(shape), str(layer.count_params()))
            )
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "-" * sum(widths)
        out = [f'Model: "{self.name}"', line]
        out += ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows[:1]]
        out.append(line)
        out += ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows[1:]]
        out.append(line)
        out.append(f"Total params: {self.count_params():,}")
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text


def _check_options_fit(layer: Layer, dtype: np.dtype[Any]) -> None:
    """Refuse a layer option (its activation's parameters, RBF's γ, an initialiser's or
    regulariser's number) too large for the model's dtype: it would turn into ±inf in
    the layer's arithmetic. Layers holding plain callables (no config) are skipped."""
    try:
        config = layer.get_config()
    except TypeError:
        return
    limit = float(np.finfo(dtype).max)

    def walk(where: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{where}{key}" if not where else f"{where}.{key}", item)
        elif isinstance(value, float) and math.isfinite(value) and abs(value) > limit:
            raise ValueError(f"layer {layer.name!r} option {where} = {value!r} overflows "
                             f"{dtype} (largest finite {dtype} value: {limit:.7g})")

    walk("", config)
