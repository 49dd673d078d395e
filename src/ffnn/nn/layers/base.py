"""The :class:`Layer` contract every layer follows, and helpers shared by the layers.

* ``build(input_shape, rng, dtype)`` creates the parameters for inputs of shape
  ``(batch, *input_shape[1:])`` using the Generator ``rng`` (no global random state);
* ``__call__(x, training=False)`` maps a batch Tensor to a batch Tensor;
* ``params`` lists the trainable Tensors, ``named_params`` names them;
* ``get_config()`` / ``from_config()`` give a JSON-serialisable description;
* ``count_params()`` counts the trainable numbers.

Weights follow the notes: W has shape (units, inputs), so one sample maps as
z = W a + b and a batch whose rows are samples as Z = X Wᵀ + b.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autodiff import Tensor

__all__ = ["Layer", "Shape"]

Shape = tuple[int, ...]


class Layer:
    """Base class: a differentiable map from a batch of inputs to a batch of outputs.

    Parameters
    ----------
    name : str, optional
        A name unique within the model (assigned by the model when omitted). It
        prefixes the parameter names in model files.

    Notes
    -----
    Subclasses implement ``build`` (creating parameters with :meth:`add_param`),
    ``call`` and ``compute_output_shape``, and extend ``get_config`` with their own
    constructor arguments so that ``type(layer).from_config(layer.get_config())``
    rebuilds an equivalent, unbuilt layer.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.built = False
        self.input_shape: Shape | None = None
        self._params: dict[str, Tensor] = {}

    # ----------------------------------------------------------------- contract
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create the parameters for inputs of shape ``input_shape`` (batch axis first)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """The layer's computation on a batch (override in subclasses)."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for an input shape (batch axis first, may be None)."""
        return tuple(input_shape)

    def __call__(self, x: Any, training: bool = False) -> Tensor:
        if not self.built:
            raise RuntimeError(
                f"layer {self.name!r} is not built: call build() or add it to a model"
            )
        if not isinstance(x, Tensor):
            x = Tensor(x)
        return self.call(x, training=training)

    # --------------------------------------------------------------- parameters
    def add_param(self, name: str, value: np.ndarray, order: str = "C") -> Tensor:
        """Register a trainable parameter stored in memory ``order`` ("C" or "F").

        Kernels of shape (units, inputs) are stored in Fortran order, i.e. laid out in
        memory as (inputs, units): both x Wᵀ and the weight gradient (Xᵀδ)ᵀ are then
        contiguous matrix products and the optimiser updates contiguous memory.
        """
        arr = np.asfortranarray(value) if order == "F" else np.ascontiguousarray(value)
        t = Tensor(arr, requires_grad=True)
        self._params[name] = t
        return t

    @property
    def params(self) -> list[Tensor]:
        """Trainable parameters in a fixed order."""
        return list(self._params.values())

    @property
    def named_params(self) -> dict[str, Tensor]:
        """Trainable parameters by name (``kernel``, ``bias``, ...)."""
        return dict(self._params)

    def count_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.data.size for p in self._params.values()))

    kernel_regularizer: Any = None  # layers with a kernel set it in __init__

    def regularization_loss(self) -> Tensor | None:
        """The kernel regulariser's penalty on the ``kernel`` parameter (None without one)."""
        if self.kernel_regularizer is None:
            return None
        return self.kernel_regularizer(self._params["kernel"])

    # ------------------------------------------------------------ configuration
    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable constructor arguments."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild an unbuilt layer from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _weights_config(layer: Any) -> dict[str, Any]:
    """The initializer and regularizer entries of an affine layer's config."""
    reg = layer.kernel_regularizer
    return {
        "kernel_initializer": layer.kernel_initializer.get_config(),
        "bias_initializer": layer.bias_initializer.get_config(),
        "kernel_regularizer": None if reg is None else reg.get_config(),
    }


def _features(input_shape: Shape, layer: str) -> int:
    if len(input_shape) != 2:
        raise ValueError(
            f"{layer} expects inputs of shape (batch, features), got shape {input_shape}"
        )
    return int(input_shape[-1])
