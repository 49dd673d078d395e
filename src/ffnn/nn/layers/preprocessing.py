"""Preprocessing layers fitted to training data: MATLAB's ``processFcns`` inside the model.

Each layer learns its statistics from data with :meth:`adapt` (the shape of Keras's
``Normalization.adapt``), keeps them in its config, so a saved model takes raw inputs,
and has no trainable parameters (optimisers never move them). ``fit`` adapts, on the
training rows, every layer not adapted yet: the leading ones on the inputs, the
trailing inverted ones (``invert=True``, the reverse of MATLAB's output processing) on
the targets, so the model learns in normalised units and answers in the original ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autodiff import Tensor
from .base import Layer, Shape, _features

__all__ = ["MapMinMax", "MapStd", "RemoveConstantRows", "adapt_layers", "is_preprocessing"]


def _matrix(data: Any, what: str) -> np.ndarray:
    """``data`` as a finite float64 matrix (N, F) with N ≥ 1 (a vector is one feature)."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        a = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: adapt needs numeric data ({exc})") from None
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{what}: adapt needs data of shape (samples, features), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: adapt got non-finite values (NaN or inf)")
    return a


def _vector(values: Any, what: str, low: float | None = None) -> np.ndarray | None:
    """A saved statistic as a finite float64 vector (None stays None)."""
    if values is None:
        return None
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a list of numbers, got {values!r}") from None
    if a.ndim != 1 or a.size < 1 or not np.isfinite(a).all():
        raise ValueError(f"{what} must be a non-empty list of finite numbers, got {values!r}")
    if low is not None and (a < low).any():
        raise ValueError(f"{what} must be >= {low:g}, got {values!r}")
    return a


def _number(value: Any, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


class _Affine(Layer):
    """A per-feature affine map y = x·scale + shift fitted by :meth:`adapt` (or its
    inverse with ``invert=True``); subclasses define the statistics."""

    _stats: tuple[str, ...] = ()

    def __init__(self, invert: bool = False, name: str | None = None) -> None:
        super().__init__(name)
        if not isinstance(invert, (bool, np.bool_)):
            raise ValueError(f"invert must be true or false, got {invert!r}")
        self.invert = bool(invert)

    @property
    def adapted(self) -> bool:
        """Whether the statistics are known (given or learnt by :meth:`adapt`)."""
        return all(getattr(self, key) is not None for key in self._stats)

    def _check_lengths(self) -> None:
        given = [getattr(self, key) for key in self._stats]
        if any(v is None for v in given) and any(v is not None for v in given):
            raise ValueError(f"{type(self).__name__} needs all of {list(self._stats)} or none")
        if len({len(v) for v in given if v is not None}) > 1:
            raise ValueError(f"{type(self).__name__} statistics {list(self._stats)} must have "
                             "one entry per feature each")

    def _forward_map(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _ready(self, n_features: int) -> None:
        """After adapt: usable on its own, ``layer(x)``, as Keras's adapted layers are."""
        self.build((1, n_features), np.random.default_rng(0))

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(scale, shift) in float64 with output = input·scale + shift (inverted if asked)."""
        if not self.adapted:
            raise RuntimeError(f"{type(self).__name__} layer {self.name!r} is not adapted: call "
                               "layer.adapt(data) or fit the model")
        scale, shift = self._forward_map()
        if self.invert:
            return 1.0 / scale, -shift / scale
        return scale, shift

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Check the number of features against the statistics, if known."""
        n = _features(input_shape, type(self).__name__)
        stat = getattr(self, self._stats[0])
        if stat is not None and len(stat) != n:
            raise ValueError(f"{type(self).__name__} layer {self.name!r} was adapted to "
                             f"{len(stat)} features but gets {n}")
        super().build(input_shape, rng, dtype)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """x·scale + shift, with the constants in x's dtype."""
        scale, shift = self.affine()
        if scale.shape[0] != x.data.shape[-1]:
            raise ValueError(f"{type(self).__name__} layer {self.name!r} was adapted to "
                             f"{scale.shape[0]} features but gets {x.data.shape[-1]}")
        return x * scale.astype(x.data.dtype) + shift.astype(x.data.dtype)

    def parameter_count(self, n_inputs: int) -> int:
        """None: the statistics live in the config."""
        return 0

    def get_config(self) -> dict[str, Any]:
        """The options and the fitted statistics (lists of floats, or None)."""
        stats = {key: None if getattr(self, key) is None else getattr(self, key).tolist()
                 for key in self._stats}
        return {**self._options(), "invert": self.invert, **stats, "name": self.name}

    def _options(self) -> dict[str, Any]:
        return {}


class MapMinMax(_Affine):
    """Map each feature's training range [x_min, x_max] to [y_min, y_max] (MATLAB ``mapminmax``).

    .. math::

        y = (y_{\\max} - y_{\\min}) \\frac{x - x_{\\min}}{x_{\\max} - x_{\\min}} + y_{\\min}

    A feature with x_max = x_min gets gain 1 (y = x − x_min + y_min), as ``mapminmax``
    does. With ``invert=True`` the layer applies the reverse map: placed last and adapted
    to the targets, it returns outputs in the targets' original units.

    Parameters
    ----------
    y_min, y_max : float, default -1, 1
        The output range (``mapminmax``'s ``ymin``, ``ymax``).
    invert : bool, default False
    x_min, x_max : list of float, optional
        The fitted ranges (set by :meth:`adapt`; saved in model files).
    """

    _stats = ("x_min", "x_max")

    def __init__(self, y_min: float = -1.0, y_max: float = 1.0, invert: bool = False,
                 x_min: Sequence[float] | None = None, x_max: Sequence[float] | None = None,
                 name: str | None = None) -> None:
        super().__init__(invert, name)
        self.y_min = _number(y_min, "y_min")
        self.y_max = _number(y_max, "y_max")
        if not self.y_max > self.y_min:
            raise ValueError(f"y_max must exceed y_min, got y_min={y_min!r}, y_max={y_max!r}")
        self.x_min = _vector(x_min, "x_min")
        self.x_max = _vector(x_max, "x_max")
        self._check_lengths()
        if self.x_min is not None and self.x_max is not None and (self.x_max < self.x_min).any():
            raise ValueError("x_max must be >= x_min for every feature")

    def adapt(self, data: Any) -> None:
        """Learn x_min and x_max per feature (column) of ``data`` (N, F)."""
        a = _matrix(data, f"MapMinMax layer {self.name!r}")
        self.x_min, self.x_max = a.min(axis=0), a.max(axis=0)
        self._ready(a.shape[1])

    def _forward_map(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.x_min is not None and self.x_max is not None
        span = self.x_max - self.x_min
        gain = np.ones_like(span)
        np.divide(self.y_max - self.y_min, span, out=gain, where=span > 0)
        return gain, self.y_min - self.x_min * gain

    def _options(self) -> dict[str, Any]:
        return {"y_min": self.y_min, "y_max": self.y_max}


class MapStd(_Affine):
    """Map each feature's training mean and standard deviation to y_mean, y_std (MATLAB ``mapstd``).

    .. math::

        y = (x - \\bar x) \\frac{y_{\\mathrm{std}}}{s_x} + y_{\\mathrm{mean}}

    with s_x the sample standard deviation (divisor N − 1, as MATLAB's ``std``). A
    feature with s_x = 0 gets gain 1. ``invert=True`` applies the reverse map.

    Parameters
    ----------
    y_mean, y_std : float, default 0, 1
    invert : bool, default False
    mean, std : list of float, optional
        The fitted statistics (set by :meth:`adapt`; saved in model files).
    """

    _stats = ("mean", "std")

    def __init__(self, y_mean: float = 0.0, y_std: float = 1.0, invert: bool = False,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 name: str | None = None) -> None:
        super().__init__(invert, name)
        self.y_mean = _number(y_mean, "y_mean")
        self.y_std = _number(y_std, "y_std")
        if not self.y_std > 0:
            raise ValueError(f"y_std must be > 0, got {y_std!r}")
        self.mean = _vector(mean, "mean")
        self.std = _vector(std, "std", low=0.0)
        self._check_lengths()

    def adapt(self, data: Any) -> None:
        """Learn the mean and the sample standard deviation of each column of ``data``."""
        a = _matrix(data, f"MapStd layer {self.name!r}")
        self.mean = a.mean(axis=0)
        self.std = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])
        self._ready(a.shape[1])

    def _forward_map(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.mean is not None and self.std is not None
        gain = np.ones_like(self.std)
        np.divide(self.y_std, self.std, out=gain, where=self.std > 0)
        return gain, self.y_mean - self.mean * gain

    def _options(self) -> dict[str, Any]:
        return {"y_mean": self.y_mean, "y_std": self.y_std}


class RemoveConstantRows(Layer):
    """Drop the input features that were constant in the training data (MATLAB
    ``removeconstantrows``; MATLAB's "rows" are ffnn's columns).

    A feature is kept when max − min over the adapted data exceeds ``max_range``.

    Parameters
    ----------
    max_range : float, default 0
    keep : list of int, optional
        Indices of the kept features (set by :meth:`adapt`; saved in model files).
    n_inputs : int, optional
        The number of features it was adapted to.
    """

    def __init__(self, max_range: float = 0.0, keep: Sequence[int] | None = None,
                 n_inputs: int | None = None, name: str | None = None) -> None:
        super().__init__(name)
        self.max_range = _number(max_range, "max_range")
        if self.max_range < 0:
            raise ValueError(f"max_range must be >= 0, got {max_range!r}")
        if (keep is None) != (n_inputs is None):
            raise ValueError("RemoveConstantRows needs both keep and n_inputs, or neither")
        self.keep: list[int] | None = None
        self.n_inputs: int | None = None
        if keep is not None:
            self._set(keep, n_inputs)

    def _set(self, keep: Any, n_inputs: Any) -> None:
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
            raise ValueError(f"n_inputs must be a positive integer, got {n_inputs!r}")
        if (not isinstance(keep, (list, tuple)) or not keep
                or any(isinstance(i, bool) or not isinstance(i, int) for i in keep)
                or list(keep) != sorted(set(keep)) or keep[0] < 0 or keep[-1] >= n_inputs):
            raise ValueError(f"keep must be increasing feature indices in [0, {n_inputs}), "
                             f"got {keep!r}")
        self.keep, self.n_inputs = [int(i) for i in keep], int(n_inputs)

    @property
    def adapted(self) -> bool:
        """Whether the kept features are known."""
        return self.keep is not None

    def adapt(self, data: Any) -> None:
        """Keep the columns of ``data`` whose range exceeds ``max_range``."""
        a = _matrix(data, f"RemoveConstantRows layer {self.name!r}")
        keep = np.flatnonzero(a.max(axis=0) - a.min(axis=0) > self.max_range)
        if keep.size == 0:
            raise ValueError(f"RemoveConstantRows layer {self.name!r}: every one of the "
                             f"{a.shape[1]} features is constant in the data")
        self._set(keep.tolist(), a.shape[1])
        self.build((1, a.shape[1]), np.random.default_rng(0))  # usable alone, as Keras's

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """(batch, number of kept features); known only once adapted."""
        if self.keep is None:
            raise RuntimeError(f"RemoveConstantRows layer {self.name!r} is not adapted: call "
                               "layer.adapt(x) (fit does it before building the model)")
        return (*tuple(input_shape)[:-1], len(self.keep))

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Check the number of features."""
        n = _features(input_shape, "RemoveConstantRows")
        self.compute_output_shape(input_shape)
        if n != self.n_inputs:
            raise ValueError(f"RemoveConstantRows layer {self.name!r} was adapted to "
                             f"{self.n_inputs} features but gets {n}")
        super().build(input_shape, rng, dtype)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """The kept columns of x."""
        assert self.keep is not None
        return x[:, self.keep]

    def parameter_count(self, n_inputs: int) -> int:
        """None."""
        return 0

    def get_config(self) -> dict[str, Any]:
        """max_range, the kept indices and the adapted width."""
        return {"max_range": self.max_range, "keep": self.keep, "n_inputs": self.n_inputs,
                "name": self.name}


_PREPROCESSING = (MapMinMax, MapStd, RemoveConstantRows)


def is_preprocessing(layer: Layer) -> bool:
    """Whether ``layer`` is one of this module's adaptable layers."""
    return isinstance(layer, _PREPROCESSING)


def adapt_layers(layers: Sequence[Layer], x: np.ndarray, y: np.ndarray | None) -> bool:
    """Adapt the preprocessing layers of a network that are not adapted yet: the leading
    ones in turn on ``x`` (each sees the previous one's output), the trailing inverted
    ones on ``y`` (the last layer on y itself, the one before it on its normalised y).
    Returns whether any layer was adapted. ValueError names an unadapted preprocessing
    layer elsewhere (adapt it yourself)."""
    changed = False
    lead = 0
    a = np.asarray(x, dtype=np.float64)
    while lead < len(layers) and is_preprocessing(layers[lead]) and not getattr(
            layers[lead], "invert", False):
        layer: Any = layers[lead]
        if not layer.adapted:
            layer.adapt(a)
            changed = True
        a = _apply(layer, a)
        lead += 1
    tail = len(layers)
    t = None if y is None else np.asarray(y, dtype=np.float64)
    while tail > lead and getattr(layers[tail - 1], "invert", False):
        layer = layers[tail - 1]
        if not layer.adapted:
            if t is None:
                raise ValueError(f"layer {layer.name!r} is adapted to targets; none given")
            layer.adapt(t)
            changed = True
        if t is not None:
            scale, shift = layer.affine()
            t = t.reshape(len(t), -1) * (1.0 / scale) - shift / scale  # its forward map
        tail -= 1
    for layer in layers[lead:tail]:
        if is_preprocessing(layer) and not getattr(layer, "adapted", True):
            raise ValueError(f"preprocessing layer {layer.name!r} sits between trainable layers "
                             "and is not adapted: call its adapt() yourself")
    return changed


def _apply(layer: Any, a: np.ndarray) -> np.ndarray:
    if isinstance(layer, RemoveConstantRows):
        assert layer.keep is not None
        return a[:, layer.keep]
    scale, shift = layer.affine()
    return a * scale + shift
