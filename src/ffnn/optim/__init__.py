"""Optimisers and learning-rate schedules, with the ``OPTIMIZERS`` registry.

Every optimiser follows the contract of :class:`BaseOptimizer`; the first-order ones
(one ``step()`` per mini-batch) derive from :class:`Optimizer`, the full-batch ones (one
``step_problem(problem)`` per epoch) from :class:`FullBatchOptimizer`. :func:`get`
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
from .base import BaseOptimizer
from .first_order import Optimizer
from .full_batch import FullBatchOptimizer, Problem
from .lbfgs import LBFGS
from .lm import BayesianRegularization, LevenbergMarquardt
from .nadam import Nadam
from .rmsprop import RMSprop
from .rprop import Rprop
from .scg import ScaledConjugateGradient
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
    "BaseOptimizer",
    "BayesianRegularization",
    "CosineDecay",
    "ExponentialDecay",
    "FullBatchOptimizer",
    "LearningRateSchedule",
    "LevenbergMarquardt",
    "Nadam",
    "Optimizer",
    "Problem",
    "RMSprop",
    "Rprop",
    "ScaledConjugateGradient",
    "StepDecay",
    "get",
    "schedules",
]

OPTIMIZERS: Registry[type[BaseOptimizer]] = Registry("optimizer")
for _cls in (SGD, Adam, AdamW, Nadam, RMSprop, Adagrad, LBFGS):
    OPTIMIZERS.register(_cls.name, _cls)
OPTIMIZERS.register(LevenbergMarquardt.name, LevenbergMarquardt, aliases=("trainlm",))
OPTIMIZERS.register(BayesianRegularization.name, BayesianRegularization, aliases=("trainbr",))
OPTIMIZERS.register(ScaledConjugateGradient.name, ScaledConjugateGradient, aliases=("trainscg",))
OPTIMIZERS.register(Rprop.name, Rprop, aliases=("trainrp",))


def get(identifier: Any, **overrides: Any) -> BaseOptimizer:
    """Return an optimiser from a name, a config dict or an instance.

    Parameters
    ----------
    identifier : str, dict or BaseOptimizer
        A registry name (a new unbuilt instance with the defaults, updated with
        ``overrides``), a config dict such as ``{"name": "adam", "learning_rate": 0.01}``
        (updated with ``overrides``), or an optimiser instance (returned as is).
    **overrides
        Constructor options, e.g. ``learning_rate=0.1``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid names) or an unknown option.
    TypeError
        For any other kind of identifier, or ``overrides`` given with an instance.
    """
    return cast(BaseOptimizer, OPTIMIZERS.configure(identifier, overrides, BaseOptimizer, "an"))
