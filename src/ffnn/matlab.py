"""MATLAB's shallow networks in one line: :func:`fitnet`, :func:`patternnet`,
:func:`feedforwardnet`, and :func:`divide_data` (``dividerand`` & co).

Each returns an ordinary compiled :class:`~ffnn.Sequential` with MATLAB's defaults: the
transfer functions, the training function, the performance function, the input and
output processing (:mod:`ffnn.layers`' ``MapMinMax`` & co, fitted by ``fit`` on the
training rows and saved in model files) and the training parameters (``epochs`` 1000,
``goal`` 0, ``min_grad``, ``max_fail`` 6, a random 70/15/15 division when ``fit`` gets
no validation data), carried by ``model.train_param``. docs/matlab.md maps the rest of
MATLAB's names.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from .nn.layers import Dense, Layer, MapMinMax, MapStd, RemoveConstantRows
from .optim import OPTIMIZERS, FullBatchOptimizer
from .training import Sequential
from .training.division import TrainParam, divide_data

__all__ = ["PROCESS_FCNS", "TrainParam", "divide_data", "feedforwardnet", "fitnet",
           "patternnet"]

#: MATLAB's processing function names → ffnn's layers.
PROCESS_FCNS = {"mapminmax": MapMinMax, "mapstd": MapStd,
                "removeconstantrows": RemoveConstantRows}


def _processing(names: Sequence[str], invert: bool) -> list[Layer]:
    if isinstance(names, str):
        names = [names]
    layers: list[Layer] = []
    for name in names:
        key = str(name).lower()
        if key not in PROCESS_FCNS:
            raise ValueError(f"unknown processing function {name!r}; valid: "
                             f"{', '.join(PROCESS_FCNS)}")
        if invert and key == "removeconstantrows":
            continue  # targets keep their columns; a constant target is simply learnt
        layers.append(PROCESS_FCNS[key](invert=True) if invert else PROCESS_FCNS[key]())
    return layers[::-1] if invert else layers


def _own_goal(train_fcn: Any) -> bool:
    """Whether the training function stops at goal and min_grad itself (lm, br, scg)."""
    cls = OPTIMIZERS.lookup(train_fcn) if isinstance(train_fcn, str) else type(train_fcn)
    return issubclass(cls, FullBatchOptimizer) and "goal" in inspect.signature(cls).parameters


def _optimizer(train_fcn: Any, goal: float, min_grad: float | None,
               options: dict[str, Any]) -> Any:
    if _own_goal(train_fcn):
        options = {"goal": goal, **options}
        if min_grad is not None:
            options["min_grad"] = min_grad
    if isinstance(train_fcn, str):
        return {"name": train_fcn, **options}
    return train_fcn


def feedforwardnet(
    hidden: int | Sequence[int] = 10,
    train_fcn: Any = "trainlm",
    *,
    transfer: str = "tansig",
    output: str = "purelin",
    loss: str = "mse",
    input_processing: Sequence[str] = ("removeconstantrows", "mapminmax"),
    output_processing: Sequence[str] = ("removeconstantrows", "mapminmax"),
    epochs: int = 1000,
    goal: float = 0.0,
    min_grad: float | None = None,
    max_fail: int | None = 6,
    divide: str | None = "random",
    ratios: Sequence[float] = (0.70, 0.15, 0.15),
    outputs: int | None = None,
    seed: int | None = None,
    dtype: Any = "float64",
    name: str | None = None,
    **optimizer_options: Any,
) -> Sequential:
    """A compiled feedforward network with MATLAB ``feedforwardnet``'s defaults.

    inputs → input processing → hidden layers (``transfer``) → output layer (``output``)
    → reverse output processing → outputs in the targets' units.

    Parameters
    ----------
    hidden : int or sequence of int, default 10
        Hidden layer sizes (``hiddenSizes``).
    train_fcn : str, dict or optimizer, default "trainlm"
        Any name of the optimizer registry (MATLAB's ``trainlm``, ``trainbr``,
        ``trainscg``, ``trainrp`` are aliases).
    transfer, output : str, default "tansig", "purelin"
        Activation names (MATLAB's transfer-function names are aliases).
    loss : str, default "mse"
        ``performFcn``.
    input_processing, output_processing : sequence of str
        ``processFcns``: "removeconstantrows", "mapminmax" ([−1, 1]), "mapstd". On the
        output side the layers are inverted and placed last (removeconstantrows is not
        applied to targets).
    epochs, goal, min_grad, max_fail : MATLAB's ``trainParam``
        ``goal`` and ``min_grad`` go to the optimisers that stop on them (lm, br, scg;
        ``min_grad`` None: the optimiser's own default, 1e-7 for trainlm/trainbr, 1e-6
        for trainscg); for the others ``goal`` is a callback on the epoch's training
        loss and ``min_grad`` is not applied; ``max_fail``
        stops after that many epochs without a lower validation loss and restores the
        best weights; ``epochs`` is ``fit``'s default.
    divide, ratios : ``divideFcn`` and ``divideParam``
        "random" (``dividerand``), "block", "interleave" or None, used when ``fit`` gets
        no validation data; the rows are kept in ``model.division``.
    outputs : int, optional
        Output units; by default the number of target columns seen by the first ``fit``.
    seed : int, optional
        Seed of the initial weights.
    dtype : default "float64"
        MATLAB computes in double precision.
    **optimizer_options
        The training function's own ``trainParam`` (``mu``, ``mu_dec``, ``mu_inc``,
        ``mu_max``, ``sigma``, ``lambda_``, ``learning_rate``, ...).

    Returns
    -------
    Sequential
        Compiled; ``model.train_param`` holds the training parameters.
    """
    sizes = [hidden] if isinstance(hidden, int) else list(hidden)
    if not sizes or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in sizes):
        raise ValueError(f"hidden must be a positive integer or a list of them, got {hidden!r}")
    layers: list[Layer] = _processing(input_processing, invert=False)
    layers += [Dense(h, activation=transfer) for h in sizes]
    layers.append(Dense(outputs or 1, activation=output))
    layers += _processing(output_processing, invert=True)
    model = Sequential(layers, name=name, seed=seed, dtype=dtype)
    model.compile(_optimizer(train_fcn, goal, min_grad, optimizer_options), loss)
    model.train_param = TrainParam(epochs=epochs, max_fail=max_fail, divide=divide,
                                   ratios=tuple(ratios),  # type: ignore[arg-type]
                                   outputs_from_targets=outputs is None,
                                   goal=None if _own_goal(train_fcn) else goal)
    return model


def fitnet(hidden: int | Sequence[int] = 10, train_fcn: Any = "trainlm",
           **options: Any) -> Sequential:
    """Function fitting (MATLAB ``fitnet``): :func:`feedforwardnet` with its defaults,
    tansig hidden units, a purelin output, ``trainlm`` and mse, inputs and targets
    processed by removeconstantrows and mapminmax. ``options`` as :func:`feedforwardnet`.
    """
    return feedforwardnet(hidden, train_fcn, **options)


def patternnet(hidden: int | Sequence[int] = 10, train_fcn: Any = "trainscg",
               **options: Any) -> Sequential:
    """Pattern recognition (MATLAB ``patternnet``): tansig hidden units, a softmax
    output, ``trainscg`` and cross-entropy on one-hot targets (``categorical_crossentropy``;
    pass ``loss="sparse_categorical_crossentropy"`` and ``outputs=K`` for integer labels),
    inputs processed by removeconstantrows and mapminmax, targets not processed.
    ``options`` as :func:`feedforwardnet`.
    """
    defaults: dict[str, Any] = {"output": "softmax", "loss": "categorical_crossentropy",
                                "output_processing": ()}
    return feedforwardnet(hidden, train_fcn, **{**defaults, **options})
