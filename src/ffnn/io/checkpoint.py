"""Checkpoints: model files that also resume training exactly (``fit(resume_from=...)``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import ModelFileError
from ..training import Sequential
from ..training.callbacks import History
from . import schema
from .atomic import atomic_write
from .model_file import encode, read

__all__ = ["Checkpoint", "load_checkpoint", "save_checkpoint"]


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` reads back.

    Attributes
    ----------
    model : Sequential
        The model as :func:`load` returns it (dropout generators restored).
    epoch : int
        Epochs completed: training resumes at this (0-based) epoch.
    history : History
        The history of those epochs.
    shuffle_rng : numpy.random.Generator or None
        The fit loop's shuffling generator, ready for the next epoch.
    dropout_rngs : dict of str to numpy.random.Generator
        Each Dropout layer's mask generator, by layer name.
    """

    model: Sequential
    epoch: int
    history: History
    shuffle_rng: np.random.Generator | None = None
    dropout_rngs: dict[str, np.random.Generator] = field(default_factory=dict)

    def restore(self, model: Sequential) -> None:
        """Copy the weights, optimiser state and dropout generators into ``model``.

        Raises
        ------
        ValueError
            If ``model`` does not have the same parameter names, shapes and dtypes, or
            its optimiser is of another kind.
        """
        mine = {f"{lay.name}/{k}": p for lay in model.layers for k, p in lay.named_params.items()}
        saved = {f"{lay.name}/{k}": p for lay in self.model.layers
                 for k, p in lay.named_params.items()}
        layout = {k: (p.data.shape, p.data.dtype) for k, p in mine.items()}
        if layout != {k: (p.data.shape, p.data.dtype) for k, p in saved.items()}:
            raise ValueError("the checkpoint's parameters (names, shapes, dtypes) differ from "
                             f"this model's: {sorted(saved)} vs {sorted(mine)}")
        for key, p in mine.items():
            np.copyto(p.data, saved[key].data)
            p.mark_modified()
        if self.model.optimizer is not None and self.model.optimizer.built:
            if model.optimizer is None:
                raise ValueError("compile the model before resuming from a checkpoint")
            model.optimizer.load_state_dict(self.model.optimizer.state_dict())
        for layer in model.layers:
            if layer.name in self.dropout_rngs:
                layer.rng = self.dropout_rngs[layer.name]  # type: ignore[attr-defined]


def save_checkpoint(model: Sequential, path: str | os.PathLike[str], epoch: int, *,
                    history: History | None = None,
                    shuffle_rng: np.random.Generator | None = None) -> None:
    """Save a model file that can also resume training exactly (atomically).

    Parameters
    ----------
    model : Sequential
    path : str or path-like
    epoch : int
        Epochs completed.
    history : History, optional
        The history of those epochs.
    shuffle_rng : numpy.random.Generator, optional
        The fit loop's shuffling generator. The state of every layer's ``rng``
        (Dropout) is saved too.

    Raises
    ------
    ValueError
        As :func:`save`, for an epoch that is not an integer >= 0 (which
        :func:`load_checkpoint` would refuse), and for a generator not on PCG64 or
        PCG64DXSM.
    """
    rngs = {layer.name: getattr(layer, "rng", None) for layer in model.layers}
    dropout = {name: schema.generator_state(rng) for name, rng in rngs.items()
               if isinstance(rng, np.random.Generator)}
    training = {"epoch": check_int("checkpoint epoch", epoch), "dropout_rngs": dropout,
                "shuffle_rng": None if shuffle_rng is None else
                schema.generator_state(shuffle_rng)}
    atomic_write(os.fspath(path), encode(model, None, history, training))


def _checkpoint(model: Sequential, section: Any) -> Checkpoint:
    if not isinstance(section, dict) or set(section) != {"epoch", "dropout_rngs", "shuffle_rng"}:
        raise ModelFileError("no valid training section: this is a model file, not a checkpoint")
    epoch = section["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ModelFileError(f"checkpoint epoch must be an integer >= 0, got {epoch!r}")
    rngs = section["dropout_rngs"]
    names = {layer.name for layer in model.layers if hasattr(layer, "rng")}
    if not isinstance(rngs, dict) or not set(rngs) <= names:
        raise ModelFileError("dropout_rngs must map the model's Dropout layers to states")
    dropout = {k: schema.generator(v, f"the generator of layer {k!r}") for k, v in rngs.items()}
    shuffle = section["shuffle_rng"]
    for layer in model.layers:
        if layer.name in dropout:
            layer.rng = dropout[layer.name]  # type: ignore[attr-defined]
    return Checkpoint(model, epoch, model.history or History(), None if shuffle is None else
                      schema.generator(shuffle, "the shuffling generator"), dropout)


def load_checkpoint(path: str | os.PathLike[str], *, allow_nonfinite: bool = False) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (or ``ModelCheckpoint``).

    Raises
    ------
    ModelFileError
        As :func:`load`, and for a model file without training state.
    """
    model, training = read(path, allow_nonfinite)
    try:
        return _checkpoint(model, training)
    except ModelFileError as exc:
        raise ModelFileError(f"cannot load checkpoint {os.fspath(path)!r}: {exc}") from exc
