"""Optimisers and learning-rate schedules, with the ``OPTIMIZERS`` registry.

Every optimiser follows the contract documented in :class:`Optimizer`. :func:`get`
turns a name, a config dict or an instance into an optimiser; the same registry backs
``compile(optimizer=...)``, the estimators' ``solver`` validation, the command line and
the model-file loader.
"""

from __future__ import annotations

from typing import Any, cast

from .._registry import Registry
from . import schedules
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer
from .lbfgs import LBFGS
from .lm import BayesianRegularization, LevenbergMarquardt
from .rmsprop import RMSprop
from .schedules import (
    SCHEDULES,
    CosineDecay,
    ExponentialDecay,
    LearningRateSchedule,
    StepDecay,
)
from .sgd import SGD

__all__ = [
    "LBFGS",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "BayesianRegularization",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "LevenbergMarquardt",
    "Optimizer",
    "RMSprop",
    "StepDecay",
    "get",
    "schedules",
]

OPTIMIZERS: Registry[type[Optimizer]] = Registry("optimizer")
for _cls in (SGD, Adam, AdamW, RMSprop, Adagrad, LBFGS):
    OPTIMIZERS.register(_cls.name, _cls)
OPTIMIZERS.register(LevenbergMarquardt.name, LevenbergMarquardt, aliases=("trainlm",))
OPTIMIZERS.register(BayesianRegularization.name, BayesianRegularization, aliases=("trainbr",))


def get(identifier: Any, **overrides: Any) -> Optimizer:
    """Return an optimiser from a name, a config dict or an instance.

    Parameters
    ----------
    identifier : str, dict or Optimizer
        A registry name (a new unbuilt instance with the defaults, updated with
        ``overrides``), a config dict such as ``{"name": "adam", "learning_rate": 0.01}``
        (updated with ``overrides``), or an :class:`Optimizer` (returned as is).
    **overrides
        Constructor options, e.g. ``learning_rate=0.1``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid names) or an unknown option.
    TypeError
        For any other kind of identifier, or ``overrides`` given with an instance.
    """
    return cast(Optimizer, OPTIMIZERS.configure(identifier, overrides, Optimizer, "an"))
