"""Learning-rate schedules: functions of the optimiser's iteration count.

A schedule is called with the optimiser's ``iterations`` (the number of completed
:meth:`~ffnn.optim.Optimizer.step` calls, starting at 0) and returns the learning rate
for the step about to be taken. Schedules therefore advance **per optimiser step**, as
Keras' ``LearningRateSchedule`` objects do, not per epoch as PyTorch's
``lr_scheduler`` classes usually are; to decay per epoch, multiply the step counts by the
number of batches per epoch (or use the ``LearningRateScheduler`` callback).

Every schedule is registered in :data:`SCHEDULES`; :func:`get` turns a name, a config
dict or an instance into a schedule, and ``get_config``/``from_config`` round-trip
through JSON-serialisable dicts.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from .._registry import Registry
from .._validation import check_bool, check_number, check_positive_int

__all__ = [
    "SCHEDULES",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "StepDecay",
    "get",
]


def constructor_args(cls: type) -> tuple[str, ...]:
    """Names of ``cls.__init__``'s arguments other than ``self`` and ``params``.

    These names are the keys of the class's ``get_config()`` (besides ``"name"``).
    """
    names = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return tuple(n for n in names if n not in ("self", "params"))


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float`` plus a JSON-serialisable config.

    Subclasses set the class attribute ``name`` (their registry name), store each
    constructor argument under an attribute of the same name and implement
    ``__call__``. ``step`` is the optimiser's iteration count (0 for the first step).
    """

    name: ClassVar[str] = ""

    def __call__(self, step: int) -> float:
        """Return the learning rate for optimiser step ``step`` (0-based)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Return ``{"name": ..., **constructor arguments}`` (JSON-serialisable)."""
        return {"name": self.name, **{k: getattr(self, k) for k in constructor_args(type(self))}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LearningRateSchedule:
        """Build a schedule from :meth:`get_config`'s output (``"name"`` optional)."""
        config = dict(config)
        name = config.pop("name", cls.name)
        if not isinstance(name, str) or name.lower() != cls.name:
            raise ValueError(f"config name {name!r} does not match schedule {cls.name!r}")
        valid = constructor_args(cls)
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(
                f"unknown {cls.name} option(s) {unknown}; valid options are: {', '.join(valid)}"
            )
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in constructor_args(type(self)))
        return f"{type(self).__name__}({args})"

    @staticmethod
    def _check_step(step: int) -> None:
        if step < 0:
            raise ValueError(f"schedule step must be >= 0, got {step}")


class StepDecay(LearningRateSchedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` optimiser steps.

    .. math:: \\eta_t = \\eta_0 \\, \\gamma^{\\lfloor t / \\text{step\\_size} \\rfloor}

    The same sequence as ``torch.optim.lr_scheduler.StepLR`` when its ``step()`` is
    called after every optimiser step (here ``t`` counts optimiser steps, not epochs).

    Parameters
    ----------
    initial_learning_rate : float
        :math:`\\eta_0`, the rate for steps ``0 .. step_size - 1``.
    step_size : int
        Number of optimiser steps between decays (> 0).
    gamma : float, default 0.1
        Multiplicative factor (> 0), as in PyTorch.
    """

    name = "step_decay"

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float = 0.1) -> None:
        self.initial_learning_rate = check_number(
            "initial_learning_rate", initial_learning_rate, low=0.0)
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_number("gamma", gamma, low_open=True, low=0.0)

    def __call__(self, step: int) -> float:
        """Return :math:`\\eta_0 \\gamma^{\\lfloor step / step\\_size \\rfloor}`."""
        self._check_step(step)
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)


class ExponentialDecay(LearningRateSchedule):
    """Exponential decay, as ``keras.optimizers.schedules.ExponentialDecay``.

    .. math:: \\eta_t = \\eta_0 \\, r^{t / T}
              \\quad(\\text{or } r^{\\lfloor t / T \\rfloor} \\text{ with staircase})

    With ``decay_steps=1`` this is ``torch.optim.lr_scheduler.ExponentialLR(gamma=r)``
    stepped once per optimiser step.

    Parameters
    ----------
    initial_learning_rate : float
        :math:`\\eta_0`.
    decay_steps : int
        :math:`T`, the number of steps over which the rate is multiplied by ``decay_rate``.
    decay_rate : float
        :math:`r` (> 0).
    staircase : bool, default False
        Decay in discrete jumps every ``decay_steps`` steps.
    """

    name = "exponential_decay"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        self.initial_learning_rate = check_number(
            "initial_learning_rate", initial_learning_rate, low=0.0)
        self.decay_steps = check_positive_int("decay_steps", decay_steps)
        self.decay_rate = check_number("decay_rate", decay_rate, low_open=True, low=0.0)
        self.staircase = check_bool("staircase", staircase)

    def __call__(self, step: int) -> float:
        """Return :math:`\\eta_0 r^{step / T}` (floored exponent with ``staircase``)."""
        self._check_step(step)
        p = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate**p


class CosineDecay(LearningRateSchedule):
    """Cosine decay without restarts, as ``keras.optimizers.schedules.CosineDecay``.

    .. math:: \\eta_t = \\eta_0 \\left[(1 - \\alpha)\\,
              \\tfrac12\\left(1 + \\cos\\frac{\\pi \\min(t, T)}{T}\\right) + \\alpha\\right]

    After ``decay_steps`` the rate stays at :math:`\\alpha \\eta_0`. Up to ``T`` this is
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=alpha * eta_0)``.

    Parameters
    ----------
    initial_learning_rate : float
        :math:`\\eta_0`.
    decay_steps : int
        :math:`T`, the number of steps to decay over.
    alpha : float, default 0.0
        Final rate as a fraction of :math:`\\eta_0`, in [0, 1].
    """

    name = "cosine_decay"

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0) -> None:
        self.initial_learning_rate = check_number(
            "initial_learning_rate", initial_learning_rate, low=0.0)
        self.decay_steps = check_positive_int("decay_steps", decay_steps)
        self.alpha = check_number("alpha", alpha, high=1.0, high_open=False, low=0.0)

    def __call__(self, step: int) -> float:
        """Return the cosine-decayed rate for ``step``."""
        self._check_step(step)
        t = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * t))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


SCHEDULES: Registry[type[LearningRateSchedule]] = Registry("learning-rate schedule")
for _cls in (StepDecay, ExponentialDecay, CosineDecay):
    SCHEDULES.register(_cls.name, _cls)


def get(identifier: Any, **kwargs: Any) -> LearningRateSchedule:
    """Return a schedule from a name, a config dict or an instance.

    Parameters
    ----------
    identifier : str, dict or LearningRateSchedule
        A registry name (constructed with ``**kwargs``), a config dict such as
        ``{"name": "cosine_decay", "initial_learning_rate": 0.1, "decay_steps": 100}``
        (updated with ``kwargs``), or a schedule instance (returned as is).
    **kwargs
        Constructor arguments.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid names) or unknown options.
    TypeError
        For any other kind of identifier, or ``kwargs`` given with an instance.
    """
    return cast(LearningRateSchedule,
                SCHEDULES.configure(identifier, kwargs, LearningRateSchedule, "a"))
