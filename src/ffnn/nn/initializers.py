"""Parameter initialisers: ``init(shape, rng, dtype=np.float32) -> ndarray``.

Every initialiser draws from the ``numpy.random.Generator`` it is given (there is no
global random state), in float64, and converts to ``dtype``: the same seed gives the
same values in float32 and float64. Weight matrices have shape (units, inputs), so for
shapes of two or more axes fan_in = shape[−1] and fan_out = Π shape[:−1]; for a vector
fan_in = fan_out = shape[0]. :data:`INITIALIZERS` maps names to classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from .._registry import Registry
from .._validation import cast_float, check_number

__all__ = [
    "INITIALIZERS",
    "Constant",
    "CustomInitializer",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "Ones",
    "Orthogonal",
    "Uniform",
    "Zeros",
    "compute_fans",
    "get",
]

Shape = tuple[int, ...]


def compute_fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out): (shape[−1], Π shape[:−1]) for ≥ 2 axes, (n, n) for (n,), (1, 1) for ()."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[-1], math.prod(shape[:-1])


def _check(shape: Any, rng: Any, dtype: Any, needs_rng: bool) -> tuple[Shape, np.dtype[Any]]:
    """Validate the arguments of an initialiser call; returns the shape tuple and dtype."""
    items = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in items
    ):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    shape = tuple(int(s) for s in items)
    if needs_rng and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"initialisers need a numpy.random.Generator, got {type(rng).__name__}; "
            "create one with numpy.random.default_rng(seed)"
        )
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"initialisers produce float32 or float64, got dtype {dt}")
    return shape, dt


class Initializer:
    """Base class. Subclasses set :attr:`name` and implement :meth:`sample`.

    Calling ``init(shape, rng, dtype=np.float32)`` validates the arguments and returns a
    new C-contiguous array of ``shape`` and ``dtype``.
    """

    name: str = ""
    needs_rng: bool = True

    def __call__(self, shape: Any, rng: np.random.Generator | None,
                 dtype: Any = np.float32) -> np.ndarray:
        shape, dt = _check(shape, rng, dtype, self.needs_rng)
        out = self.sample(shape, rng)  # type: ignore[arg-type]
        return cast_float(f"initializer {self.name!r}", np.asarray(out), dt)

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """The values in float64."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The JSON-serialisable config ``{"name": ..., **params}``."""
        return {"name": self.name, **self.__dict__}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({args})"


class _VarianceScaling(Initializer):
    """Zero-mean draws of variance scale / n, where n is given by :attr:`mode`.

    "normal" draws are *not* truncated (as PyTorch's ``xavier_normal_`` and
    ``kaiming_normal_``; Keras truncates at 2σ and rescales): the variance is exactly
    the formula's. "uniform" draws are U(−a, a) with a = √(3·scale/n).
    """

    scale: float = 1.0
    mode: str = "fan_in"
    distribution: str = "normal"

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(n, 1)
        if self.distribution == "uniform":
            a = math.sqrt(3.0 * var)
            return rng.uniform(-a, a, size=shape)
        return rng.standard_normal(shape) * math.sqrt(var)


class GlorotUniform(_VarianceScaling):
    """W ~ U(−a, a), a = √(6 / (fan_in + fan_out)); Var = 2 / (fan_in + fan_out).

    Glorot & Bengio (2010), "Xavier"; keeps activation and gradient variances for tanh
    and logistic units. The default for dense layers.
    """

    name, mode, distribution = "glorot_uniform", "fan_avg", "uniform"


class GlorotNormal(_VarianceScaling):
    """W ~ N(0, 2 / (fan_in + fan_out)), not truncated (as PyTorch; Keras truncates)."""

    name, mode, distribution = "glorot_normal", "fan_avg", "normal"


class HeUniform(_VarianceScaling):
    """W ~ U(−a, a), a = √(6 / fan_in); Var = 2 / fan_in (He et al., 2015, for ReLU)."""

    name, scale, mode, distribution = "he_uniform", 2.0, "fan_in", "uniform"


class HeNormal(_VarianceScaling):
    """W ~ N(0, 2 / fan_in), not truncated (He et al., 2015, for ReLU units)."""

    name, scale, mode, distribution = "he_normal", 2.0, "fan_in", "normal"


class LecunUniform(_VarianceScaling):
    """W ~ U(−a, a), a = √(3 / fan_in); Var = 1 / fan_in (LeCun et al., 1998)."""

    name, mode, distribution = "lecun_uniform", "fan_in", "uniform"


class LecunNormal(_VarianceScaling):
    """W ~ N(0, 1 / fan_in), not truncated (LeCun et al., 1998; for SELU networks)."""

    name, mode, distribution = "lecun_normal", "fan_in", "normal"


class Normal(Initializer):
    """W ~ N(mean, stddev²)."""

    name = "normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = check_number("normal: mean", mean)
        self.stddev = check_number("normal: stddev", stddev, low=0.0)

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.stddev, size=shape)


class Uniform(Initializer):
    """W ~ U(minval, maxval)."""

    name = "uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval = check_number("uniform: minval", minval)
        self.maxval = check_number("uniform: maxval", maxval)
        if not self.minval <= self.maxval:
            raise ValueError(f"uniform: needs minval <= maxval, got {minval!r} > {maxval!r}")

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, size=shape)


class Constant(Initializer):
    """W = value everywhere; e.g. a small positive bias (0.01–0.1) keeps ReLU units
    active on most inputs at the start, as the notes suggest.
    """

    name = "constant"
    needs_rng = False

    def __init__(self, value: float = 0.0) -> None:
        self.value = check_number("constant: value", value)

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.value)


class Zeros(Constant):
    """W = 0 (the default for biases). Symmetric: never use it for weight matrices."""

    name = "zeros"

    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class Ones(Constant):
    """W = 1."""

    name = "ones"

    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class Orthogonal(Initializer):
    """W = gain·Q, with Q from the QR decomposition of a standard normal matrix.

    The (Π shape[:−1]) × shape[−1] matrix has orthonormal rows or columns, whichever
    are fewer (Saxe et al., 2014); the signs of R's diagonal are folded into Q so that Q
    is uniformly (Haar) distributed.
    """

    name = "orthogonal"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = check_number("orthogonal: gain", gain)

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(f"orthogonal needs a shape of at least 2 axes, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape)


class CustomInitializer(Initializer):
    """A plain callable ``fn(shape, rng, dtype) -> ndarray`` (not serialisable)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = f"custom:{getattr(fn, '__name__', type(fn).__name__)}"

    def __call__(self, shape: Any, rng: np.random.Generator | None,
                 dtype: Any = np.float32) -> np.ndarray:
        shape, dt = _check(shape, rng, dtype, needs_rng=False)
        out = np.asarray(self.fn(shape, rng, dt))
        if out.shape != shape:
            raise ValueError(f"initialiser {self.name!r} returned shape {out.shape}, "
                             f"expected {shape}")
        return cast_float(f"initializer {self.name!r}", out, dt)

    def get_config(self) -> dict[str, Any]:
        raise TypeError(
            f"initialiser {self.name!r} wraps a plain callable and cannot be serialised; "
            f"use one of the registered initialisers: {', '.join(INITIALIZERS.names())}"
        )


INITIALIZERS: Registry[type[Initializer]] = Registry("initializer")
for _cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal,
             Normal, Uniform, Constant, Zeros, Ones, Orthogonal):
    INITIALIZERS.register(_cls.name, _cls)
del _cls


def get(identifier: Any) -> Initializer:
    """Resolve an initialiser identifier.

    Parameters
    ----------
    identifier : str, dict, Initializer or callable
        A registry name (``"he_normal"``), a config (``{"name": "constant",
        "value": 0.1}``), an :class:`Initializer` (returned as is) or a callable
        ``fn(shape, rng, dtype) -> ndarray`` (wrapped in :class:`CustomInitializer`).

    Raises
    ------
    ValueError
        For an unknown name (listing the valid names) or unexpected parameters.
    TypeError
        For any other kind of identifier, including None.
    """
    return cast(Initializer, INITIALIZERS.resolve(
        identifier, Initializer, CustomInitializer, "an", "an Initializer or a callable"))
