"""The common layers: ``Dense``, ``Activation`` and ``Dropout``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import autodiff as ad
from ..._validation import check_bool, check_number, check_positive_int, check_seed
from ...autodiff import Tensor
from ...autodiff.fused import FUSED_ACTIVATIONS
from .. import activations, initializers, regularizers
from .base import RANK, JacobianRule, Layer, Shape, _features, _weights_config, affine_rule

__all__ = ["Activation", "Dense", "Dropout"]


class Dense(Layer):
    """Fully connected layer: a = f(x Wᵀ + b), with W of shape (units, inputs).

    Parameters
    ----------
    units : int
        Number of output units.
    activation : str, dict or callable, optional
        Any name of the activation registry (``"relu"``, ``"sigmoid"``, ...); None is
        linear.
    input_dim : int, optional
        Number of input features; lets the model build before seeing data.
    input_shape : tuple of one int, optional
        Keras's other spelling: ``input_shape=(100,)`` is ``input_dim=100``.
    use_bias : bool, default True
    kernel_initializer, bias_initializer : str, dict or callable
        Names of the initializer registry; defaults Glorot uniform and zeros.
    kernel_regularizer : str, dict or callable, optional
        e.g. ``ffnn.regularizers.l2(1e-3)``, adding (λ/2)‖W‖²_F to the loss. Biases are
        never regularised.
    name : str, optional
    output_dim : int, optional
        Deprecated spelling of ``units`` (Keras 0.x, as in the notes).

    Notes
    -----
    Computed with the fused ``linear`` primitive: one graph node for the affine map.
    """

    def __init__(
        self,
        units: int | None = None,
        activation: Any = None,
        input_dim: int | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        name: str | None = None,
        output_dim: int | None = None,
        input_shape: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(name)
        if input_shape is not None:
            input_dim = _declared_features(input_shape, input_dim)
        if output_dim is not None:
            warnings.warn(
                "Dense(output_dim=...) is deprecated; use Dense(units=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            if units is not None and units != output_dim:
                raise ValueError(f"Dense got units={units} and output_dim={output_dim}")
            units = output_dim
        if units is None:
            raise ValueError("Dense needs the number of units, e.g. Dense(64)")
        self.units = check_positive_int("Dense units", units)
        self.input_dim = None if input_dim is None else check_positive_int("input_dim", input_dim)
        self.activation = activations.get(activation).check_rank(RANK)
        self._fused = (
            self.activation.name in FUSED_ACTIVATIONS
            and not self.activation.is_custom
            and not self.activation.params
        )
        self.use_bias = check_bool("Dense use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create W (units, inputs) and b (units,)."""
        n_in = _features(input_shape, "Dense")
        if self.input_dim is not None and n_in != self.input_dim:
            raise ValueError(
                f"Dense {self.name!r} was declared with input_dim={self.input_dim} but "
                f"receives {n_in} features"
            )
        self._params = {}
        self.kernel = self.add_param(
            "kernel", self.kernel_initializer((self.units, n_in), rng, dtype), order="F"
        )
        self.bias = (
            self.add_param("bias", self.bias_initializer((self.units,), rng, dtype))
            if self.use_bias
            else None
        )
        super().build(input_shape, rng, dtype)

    def linear(self, x: Tensor) -> Tensor:
        """The pre-activation z = x Wᵀ + b."""
        return ad.linear(x, self.kernel, self.bias)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """a = f(x Wᵀ + b), one fused graph node for linear, relu, sigmoid and tanh."""
        if self._fused:
            return ad.dense(x, self.kernel, self.bias, activation=self.activation.name)
        return self.activation(self.linear(x))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """(batch, units)."""
        return (*tuple(input_shape)[:-1], self.units)

    def parameter_count(self, n_inputs: int) -> int:
        """units·inputs (+ units with a bias)."""
        return self.units * n_inputs + (self.units if self.use_bias else 0)

    def linearize(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, JacobianRule]:
        """a = f(z), z = x Wᵀ + b: the affine rule (per sample ∂/∂W = δₙ xₙᵀ, ∂/∂b = δₙ)."""
        with ad.no_grad():
            z = Tensor(self.linear(Tensor(x)).data, requires_grad=True)
        with ad.enable_grad():
            h = self.activation(z)
        return h.data, affine_rule(x, z, h, self.kernel, self.bias)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, nested objects as their configs."""
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "input_dim": self.input_dim,
            "use_bias": self.use_bias,
            **_weights_config(self),
            "name": self.name,
        }


def _declared_features(input_shape: Any, input_dim: int | None) -> int:
    """The features of Keras's ``input_shape=(n,)``, which must agree with ``input_dim``."""
    if not isinstance(input_shape, tuple) or len(input_shape) != 1:
        raise ValueError("Dense input_shape must be a tuple of one integer, the number of "
                         f"features, e.g. (100,); got {input_shape!r}")
    n = check_positive_int("input_shape", input_shape[0])
    if input_dim is not None and input_dim != n:
        raise ValueError(f"Dense got input_dim={input_dim} and input_shape={tuple(input_shape)}")
    return n


class Activation(Layer):
    """Applies an activation function elementwise (softmax along the last axis).

    Parameters
    ----------
    activation : str, dict or callable
        A name of the activation registry, e.g. ``Activation("relu")``.
    **params
        The activation's parameters, e.g. ``Activation("leaky_relu", gamma=0.1)``.
    """

    def __init__(self, activation: Any = "linear", name: str | None = None, **params: Any) -> None:
        super().__init__(name)
        if params:
            if not isinstance(activation, str):
                raise TypeError("activation parameters need the activation given by name")
            activation = {"name": activation, **params}
        self.activation = activations.get(activation).check_rank(RANK)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """f(x)."""
        return self.activation(x)

    def get_config(self) -> dict[str, Any]:
        """The activation's config and the layer name."""
        return {"activation": activations.serialize(self.activation), "name": self.name}


class Dropout(Layer):
    """Inverted dropout: during training each input is zeroed with probability ``rate``
    and the survivors are scaled by 1 / (1 − rate); at inference it is the identity.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping a unit.
    """

    def __init__(self, rate: float, name: str | None = None) -> None:
        super().__init__(name)
        self.rate = check_number("Dropout rate", rate, low=0.0, high=1.0, high_open=True)
        self.rng: np.random.Generator | None = None

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Take a child generator for the masks (``fit(seed=...)`` replaces it)."""
        self.rng = np.random.default_rng(rng.integers(2**63))
        super().build(input_shape, rng, dtype)

    @property
    def stochastic(self) -> bool:
        """True when ``rate`` > 0: the masks are random in training mode."""
        return self.rate > 0

    def reseed(self, seed: Any) -> None:
        """Draw future masks from ``numpy.random.default_rng(seed)`` (``seed``: None, a
        non-negative integer or a SeedSequence; TypeError/ValueError naming it otherwise)."""
        self.rng = np.random.default_rng(check_seed(seed, "Dropout seed"))

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """x · m / (1 − rate) with m ~ Bernoulli(1 − rate) when training; x otherwise."""
        if not training or self.rate == 0.0:
            return x
        assert self.rng is not None
        keep = self.rng.random(x.shape) >= self.rate
        return x * (keep.astype(x.dtype) / np.asarray(1.0 - self.rate, dtype=x.dtype))

    def get_config(self) -> dict[str, Any]:
        """Rate and name."""
        return {"rate": self.rate, "name": self.name}
