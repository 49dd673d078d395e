"""The :class:`Layer` contract every layer follows, and helpers shared by the layers.

* ``build(input_shape, rng, dtype)`` creates the parameters for inputs of shape
  ``(batch, *input_shape[1:])`` using the Generator ``rng`` (no global random state);
* ``__call__(x, training=False)`` maps a batch Tensor to a batch Tensor;
* ``params`` lists the trainable Tensors, ``named_params`` names them;
* ``get_config()`` / ``from_config()`` give a JSON-serialisable description;
* ``count_params()`` counts the trainable numbers;
* ``linearize(x, training)`` runs the layer and returns its per-sample backward rule
  (the per-sample Jacobians of Levenberg–Marquardt and Bayesian regularisation);
* ``parameter_count(n_inputs)`` says, before building, how many numbers ``build`` will
  allocate (model files check it against their size before building anything).

Weights follow the notes: W has shape (units, inputs), so one sample maps as
z = W a + b and a batch whose rows are samples as Z = X Wᵀ + b.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import autodiff as ad
from ...autodiff import Tensor

__all__ = ["RANK", "JacobianRule", "Layer", "Shape", "affine_rule", "tape_vjp"]

Shape = tuple[int, ...]

#: The rank of the arrays every layer maps: (batch, features). Options that depend on it
#: (a softmax's axis) are checked against it when the layer is constructed.
RANK = 2

#: A layer's per-sample backward rule: ``rule(g, need_input)`` takes the cotangent of its
#: output for all N samples, (N, out), and returns the per-sample gradients of its
#: parameters (one (N, size) array per parameter, in ``named_params`` order) and the
#: cotangent of its input (None when ``need_input`` is false).
JacobianRule = Callable[[np.ndarray, bool], tuple[list[np.ndarray], "np.ndarray | None"]]


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
    rebuilds an equivalent, unbuilt layer. A layer with parameters also implements
    :meth:`linearize` (its per-sample Jacobian rule) and :meth:`parameter_count`; a
    layer that is random in training mode says so with :attr:`stochastic`.
    """

    def __init__(self, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"a layer name must be a string or None, got "
                            f"{type(name).__name__} {name!r}")
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
        t.name = f"{self.name or type(self).__name__.lower()}/{name}"  # named in errors
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

    @property
    def stochastic(self) -> bool:
        """Whether the layer is random in training mode (Dropout with a rate > 0)."""
        return False

    def parameter_count(self, n_inputs: int) -> int:
        """The number of parameters :meth:`build` creates for ``n_inputs`` features,
        computed from the (unbuilt) layer's options alone.

        The default is exact for parameter-free layers only if they have no integer
        options: it bounds the count by (inputs + 1) times the product of the layer's
        integer options other than ``input_dim``; layers with parameters override it.
        """
        sizes = [v for k, v in self.get_config().items()
                 if isinstance(v, int) and not isinstance(v, bool) and k != "input_dim"]
        return (n_inputs + 1) * math.prod(max(v, 1) for v in sizes) if sizes else 0

    # ------------------------------------------------------ per-sample Jacobians
    def linearize(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, JacobianRule]:
        """Run the layer on ``x`` (N, features) and return its output and its per-sample
        backward rule (see :data:`JacobianRule`).

        The default serves parameter-free layers: the rule backpropagates through the
        layer's own small tape. A layer with parameters must override it, giving for
        sample n the gradient of ⟨gₙ, outₙ⟩ with respect to its parameters (e.g. δₙ xₙᵀ
        and δₙ for a dense layer, the notes' Lemma 1 without the sum over samples).
        """
        if self.params:
            raise ValueError(
                f"layer {self.name!r} of type {type(self).__name__} has parameters but no "
                "per-sample Jacobian rule (Layer.linearize)"
            )
        xt = Tensor(x, requires_grad=True)
        with ad.enable_grad():
            out = self(xt, training=training)

        def rule(g: np.ndarray, need_input: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
            return [], (tape_vjp(xt, out, g) if need_input else None)

        return out.data, rule

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
        """Rebuild an unbuilt layer from :meth:`get_config`'s output.

        Raises
        ------
        ValueError
            For an option the constructor does not take (the message lists them); the
            constructor checks the values (TypeError/ValueError naming the option).
        """
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            valid = [k for k in params if k != "self"]
            unknown = sorted(set(config) - set(valid))
            if unknown:
                raise ValueError(f"layer {cls.__name__} got unknown option(s) "
                                 f"{', '.join(map(repr, unknown))}; it takes: {', '.join(valid)}")
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def tape_vjp(leaf: Tensor, out: Tensor, g: np.ndarray) -> np.ndarray:
    """∂⟨g, out⟩/∂leaf through the small tape from ``leaf`` to ``out`` (kept for reuse)."""
    if out is leaf:
        return g
    leaf.grad = None
    out.backward(g, retain_graph=True)
    return leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data)


def affine_rule(x: np.ndarray, z: Tensor, h: Tensor, kernel: Tensor,
                bias: Tensor | None) -> JacobianRule:
    """The rule of h = f(z), z = x Wᵀ + b: per sample, ∂/∂W = δₙ xₙᵀ and ∂/∂b = δₙ with
    δ = ∂⟨g, h⟩/∂z, and the input's cotangent δ W."""

    def rule(g: np.ndarray, need_input: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
        dz = tape_vjp(z, h, g)
        n = len(x)
        grads = [(dz[:, :, None] * x[:, None, :]).reshape(n, -1)]
        if bias is not None:
            grads.append(dz)
        return grads, (dz @ kernel.data if need_input else None)

    return rule


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
