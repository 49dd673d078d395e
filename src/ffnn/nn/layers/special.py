"""Less common layers: maxout units, radial basis functions and the parametric ReLU."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import autodiff as ad
from ..._validation import check_bool, check_number, check_positive_int
from ...autodiff import Tensor
from .. import initializers, regularizers
from .base import JacobianRule, Layer, Shape, _features, _weights_config, affine_rule

__all__ = ["RBF", "Maxout", "PReLU"]


class Maxout(Layer):
    """Maxout units: hᵢ = maxⱼ (xᵀW_{ij} + b_{ij}) over ``pieces`` affine pieces per unit.

    Parameters
    ----------
    units : int
        Number of maxout units.
    pieces : int
        Affine pieces k per unit (k ≥ 2 makes a piecewise-linear convex function).
    kernel_initializer, bias_initializer : str, dict or callable
    kernel_regularizer : optional

    Notes
    -----
    The kernel has shape (units·pieces, inputs); rows ``i·pieces … i·pieces + k − 1``
    are the pieces of unit i.
    """

    def __init__(
        self,
        units: int,
        pieces: int = 2,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.units = check_positive_int("Maxout units", units)
        self.pieces = check_positive_int("Maxout pieces", pieces)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create W (units·pieces, inputs) and b (units·pieces,)."""
        n_in = _features(input_shape, "Maxout")
        rows = self.units * self.pieces
        self._params = {}
        self.kernel = self.add_param(
            "kernel", self.kernel_initializer((rows, n_in), rng, dtype), order="F"
        )
        self.bias = self.add_param("bias", self.bias_initializer((rows,), rng, dtype))
        super().build(input_shape, rng, dtype)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """Max over the pieces of each unit."""
        z = ad.linear(x, self.kernel, self.bias)
        return z.reshape(-1, self.units, self.pieces).max(axis=-1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """(batch, units)."""
        return (input_shape[0], self.units)

    def parameter_count(self, n_inputs: int) -> int:
        """units·pieces·(inputs + 1)."""
        return self.units * self.pieces * (n_inputs + 1)

    def linearize(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, JacobianRule]:
        """h = max over pieces of z, z = x Wᵀ + b: the affine rule through the max."""
        with ad.no_grad():
            z = Tensor(ad.linear(Tensor(x), self.kernel, self.bias).data, requires_grad=True)
        with ad.enable_grad():
            h = z.reshape(-1, self.units, self.pieces).max(axis=-1)
        return h.data, affine_rule(x, z, h, self.kernel, self.bias)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "units": self.units,
            "pieces": self.pieces,
            **_weights_config(self),
            "name": self.name,
        }


class RBF(Layer):
    """Radial basis function units: hᵢ = exp(−γᵢ ‖x − cᵢ‖²) with learnable centres cᵢ.

    Parameters
    ----------
    units : int
        Number of centres.
    gamma : float, default 1.0
        Initial width parameter γ > 0 (shared initial value for all units).
    trainable_gamma : bool, default False
        Learn one γᵢ per unit, parameterised as γᵢ = exp(log_gamma_i) to stay positive.
    centers_initializer : str, dict or callable, default uniform on [−1, 1]
        Initial centres, shape (units, inputs).
    """

    def __init__(
        self,
        units: int,
        gamma: float = 1.0,
        trainable_gamma: bool = False,
        centers_initializer: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.units = check_positive_int("RBF units", units)
        self.gamma = check_number("RBF gamma", gamma, low=0.0, low_open=True)
        self.trainable_gamma = check_bool("RBF trainable_gamma", trainable_gamma)
        if centers_initializer is None:
            centers_initializer = {"name": "uniform", "minval": -1.0, "maxval": 1.0}
        self.centers_initializer = initializers.get(centers_initializer)

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create the centres (units, inputs) and, if trainable, log γ (units,)."""
        n_in = _features(input_shape, "RBF")
        self._params = {}
        self.centers = self.add_param(
            "centers", self.centers_initializer((self.units, n_in), rng, dtype)
        )
        self.log_gamma = (
            self.add_param("log_gamma", np.full(self.units, np.log(self.gamma), dtype=dtype))
            if self.trainable_gamma
            else None
        )
        super().build(input_shape, rng, dtype)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """exp(−γ‖x − c‖²), the squared distances taken from the differences directly
        (no ‖x‖² − 2xᵀc + ‖c‖² expansion, which cancels far from the origin)."""
        n_in = self.centers.shape[1]
        diff = x.reshape(-1, 1, n_in) - self.centers.reshape(1, self.units, n_in)
        sq = (diff * diff).sum(axis=-1)
        gamma: Any = ad.exp(self.log_gamma) if self.log_gamma is not None else self.gamma
        return ad.exp(-(sq * gamma))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """(batch, units)."""
        return (input_shape[0], self.units)

    def parameter_count(self, n_inputs: int) -> int:
        """units·inputs centres (+ units log γ when trainable)."""
        return self.units * n_inputs + (self.units if self.trainable_gamma else 0)

    def linearize(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, JacobianRule]:
        """h = exp(−γ s), s = ‖x − c‖²: ∂h/∂c = 2γh(x − c), ∂h/∂log γ = −γ s h."""
        with ad.no_grad():
            h = self(Tensor(x)).data
        # From the differences, as call does (the expansion ‖x‖² − 2xᵀc + ‖c‖² cancels
        # far from the origin, badly so in float32).
        diff = x[:, None, :] - self.centers.data[None, :, :]
        s = (diff * diff).sum(axis=-1)
        gamma = np.exp(self.log_gamma.data) if self.log_gamma is not None else self.gamma

        def rule(g: np.ndarray, need_input: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
            gh = g * h
            ds = (-gamma * gh)[:, :, None]  # ∂/∂s, broadcast over the input axis
            grads = [(-2.0 * ds * diff).reshape(len(x), -1)]
            if self.log_gamma is not None:
                grads.append(-gh * s * gamma)
            dx = 2.0 * (ds * diff).sum(axis=1) if need_input else None
            return grads, dx

        return h, rule

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "units": self.units,
            "gamma": self.gamma,
            "trainable_gamma": self.trainable_gamma,
            "centers_initializer": self.centers_initializer.get_config(),
            "name": self.name,
        }


class PReLU(Layer):
    """Parametric ReLU: f(x) = x for x > 0 and αᵢ·x otherwise, one learnable αᵢ per unit.

    Parameters
    ----------
    alpha_initializer : float, default 0.25
        Initial slope (He et al., 2015).
    """

    def __init__(self, alpha_initializer: float = 0.25, name: str | None = None) -> None:
        super().__init__(name)
        self.alpha_initializer = check_number("PReLU alpha_initializer", alpha_initializer)

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create α of shape (features,)."""
        n = _features(input_shape, "PReLU")
        self._params = {}
        self.alpha = self.add_param("alpha", np.full(n, self.alpha_initializer, dtype=dtype))
        super().build(input_shape, rng, dtype)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """where(x > 0, x, α·x)."""
        return ad.where(x.data > 0, x, x * self.alpha)

    def parameter_count(self, n_inputs: int) -> int:
        """One slope per input."""
        return n_inputs

    def linearize(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, JacobianRule]:
        """f = x (x > 0), αx otherwise: ∂f/∂α = x·I(x ≤ 0)."""
        with ad.no_grad():
            h = self(Tensor(x)).data
        positive = x > 0

        def rule(g: np.ndarray, need_input: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
            grads = [np.where(positive, 0.0, g * x).astype(x.dtype)]
            dx = np.where(positive, g, g * self.alpha.data) if need_input else None
            return grads, dx

        return h, rule

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"alpha_initializer": self.alpha_initializer, "name": self.name}
