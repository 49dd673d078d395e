"""Rebuilding a model from the JSON document of an ffnn model file (for :mod:`.model_file`).

Nothing named by the file is imported or called: every layer, activation, initializer,
regularizer, loss, optimizer, schedule and metric name is looked up in ffnn's own
registries, and the generators' bit generators in :data:`BIT_GENERATORS`. Each helper
raises :class:`~ffnn.exceptions.ModelFileError` (or the registries' ``ValueError`` /
``TypeError``, which :mod:`ffnn.io` turns into one) naming what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import optim
from .._validation import check_int
from ..exceptions import ModelFileError
from ..nn import losses
from ..nn.layers import LAYERS, Layer
from ..training import Sequential
from ..training.callbacks import History

__all__ = [
    "BIT_GENERATORS",
    "build_model",
    "compile_model",
    "generator",
    "generator_state",
    "history",
    "optimizer_state",
    "optimizer_tensor_names",
]

#: The bit generators whose state can be saved (their states hold integers only).
BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM}


def _int(value: Any, what: str, low: int = 0) -> int:
    return check_int(what, value, low, error=ModelFileError)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelFileError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _keys(section: dict[str, Any], what: str, required: set[str]) -> None:
    missing, extra = required - set(section), set(section) - required
    if missing or extra:
        raise ModelFileError(
            f"{what} must have the keys {sorted(required)}; missing {sorted(missing)}, "
            f"unexpected {sorted(extra)}"
        )


def _same(stored: Any, restored: Any) -> bool:
    """Whether a JSON value and the value ``get_config`` gives back mean the same thing:
    a bool only equals a bool (``1`` is not ``true``, ``"no"`` is not ``false``), numbers
    compare by value (``1`` equals ``1.0``; NaN equals NaN), containers elementwise."""
    if isinstance(stored, bool) or isinstance(restored, bool):
        return type(stored) is type(restored) and stored == restored
    if isinstance(stored, (int, float)) and isinstance(restored, (int, float)):
        both_nan = (isinstance(stored, float) and isinstance(restored, float)
                    and math.isnan(stored) and math.isnan(restored))
        return both_nan or stored == restored
    if isinstance(stored, dict) and isinstance(restored, dict):
        return stored.keys() == restored.keys() and all(
            _same(v, restored[k]) for k, v in stored.items())
    if isinstance(stored, list) and isinstance(restored, (list, tuple)):
        return len(stored) == len(restored) and all(
            _same(a, b) for a, b in zip(stored, restored, strict=True))
    return type(stored) is type(restored) and bool(stored == restored)


def _check_config(layer: Layer, config: dict[str, Any], what: str) -> None:
    """Refuse a config that the layer does not read back as written (a string where a
    bool belongs, ``1`` for ``true``, an option its ``get_config`` drops): the file must
    describe exactly the layer that is built."""
    restored = layer.get_config()
    for key in sorted(set(config) | set(restored)):
        if key not in restored:
            raise ModelFileError(f"{what} config has the option {key!r}, which the layer "
                                 "does not save")
        if key not in config:
            raise ModelFileError(f"{what} config lacks the option {key!r}")
        if not _same(config[key], restored[key]):
            raise ModelFileError(f"{what} config {key!r} is {config[key]!r}, which the layer "
                                 f"reads back as {restored[key]!r}; a file must store the "
                                 "value itself (e.g. true/false for a flag)")


def build_model(section: Any, n_numbers: int) -> Sequential:
    """A built model (weights not yet loaded) from the ``"model"`` section.

    Parameters
    ----------
    section : dict
        ``{"name", "seed", "dtype", "input_dim", "layers": [{"class_name", "config"}]}``.
    n_numbers : int
        Total number of elements of the file's tensors. Before anything is built, the
        parameter count of each layer for its input width (``Layer.parameter_count``:
        exact for the built-in layers, an upper bound for others) is added up and must
        not exceed this: a hostile ``units`` or ``input_dim`` never causes an allocation
        larger than the file itself.
    """
    section = _dict(section, "model")
    _keys(section, "model", {"name", "seed", "dtype", "input_dim", "layers"})
    if not isinstance(section["name"], str):
        raise ModelFileError(f"model name must be a string, got {section['name']!r}")
    seed = section["seed"]
    if seed is not None:
        _int(seed, "model seed")
    input_dim = _int(section["input_dim"], "input_dim", 1)
    if not isinstance(section["layers"], list) or not section["layers"]:
        raise ModelFileError("model layers must be a non-empty list")
    model = Sequential(name=section["name"], seed=seed, dtype=section["dtype"])
    shape: tuple[Any, ...] = (None, input_dim)
    total = 0
    for i, entry in enumerate(section["layers"]):
        entry = _dict(entry, f"layer {i}")
        _keys(entry, f"layer {i}", {"class_name", "config"})
        config = _dict(entry["config"], f"layer {i} config")
        what = f"layer {i} ({entry['class_name']})"
        try:  # the constructor checks every option (issue 11 #11)
            layer = LAYERS.lookup(entry["class_name"]).from_config(config)
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"{what} config: {exc}") from exc
        _check_config(layer, config, what)
        n_in = int(shape[-1])
        needed = layer.parameter_count(n_in)
        total += needed
        if total > n_numbers:
            raise ModelFileError(
                f"{what} needs {needed} parameters for its {n_in} inputs (model input_dim "
                f"{input_dim}), {total} with the layers before it, but the file holds only "
                f"{n_numbers} numbers"
            )
        model.add(layer)
        shape = layer.compute_output_shape(shape)
    model.build(input_dim)
    return model


def compile_model(model: Sequential, section: Any) -> None:
    """Compile ``model`` from the ``"compile"`` section (None: leave it uncompiled)."""
    if section is None:
        return
    section = _dict(section, "compile")
    _keys(section, "compile", {"optimizer", "loss", "metrics"})
    names = section["metrics"]
    if not isinstance(names, list) or not all(isinstance(m, str) for m in names):
        raise ModelFileError(f"compile metrics must be a list of names, got {names!r}")
    if not isinstance(section["loss"], (str, dict)):
        raise ModelFileError(f"the loss must be a name or a config, got {section['loss']!r}")
    optimizer = optim.get(_dict(section["optimizer"], "the optimizer config"))
    model.compile(optimizer=optimizer, loss=losses.get(section["loss"]), metrics=names)


def optimizer_state(section: dict[str, Any], tensors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """An optimizer ``state_dict`` from the JSON section and the ``optimizer/i/slot``
    tensors (which the caller has checked are exactly the ones the section lists)."""
    state = dict(section)
    slots = state.pop("slots")
    state["state"] = {i: {s: tensors[f"optimizer/{i}/{s}"] for s in names}
                      for i, names in enumerate(slots)}
    return state


def optimizer_tensor_names(section: Any) -> list[str]:
    """The tensor names an ``"optimizer_state"`` section promises."""
    section = _dict(section, "optimizer_state")
    slots = section.get("slots")
    if not isinstance(slots, list) or not all(
        isinstance(names, list) and all(isinstance(s, str) for s in names) for names in slots
    ):
        raise ModelFileError("optimizer_state slots must be a list of lists of names")
    return [f"optimizer/{i}/{s}" for i, names in enumerate(slots) for s in names]


def history(section: Any) -> History | None:
    """A :class:`History` holding the recorded epochs (None when the file has none)."""
    if section is None:
        return None
    section = _dict(section, "history")
    _keys(section, "history", {"epoch", "history"})
    epochs, values = section["epoch"], _dict(section["history"], "history values")
    if not isinstance(epochs, list):
        raise ModelFileError("history epoch must be a list")
    for e in epochs:
        _int(e, "a history epoch")
    for key, series in values.items():
        if not isinstance(series, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in series
        ):
            raise ModelFileError(f"history {key!r} must be a list of numbers")
        # History appends a value per epoch that logs the key, so a key logged only in
        # some epochs (e.g. Bayesian regularisation's gamma, absent from an epoch that
        # stops before its step) has a shorter list, but never a longer one.
        if len(series) > len(epochs):
            raise ModelFileError(f"history {key!r} has {len(series)} values for "
                                 f"{len(epochs)} epochs")
    return History({k: [float(v) for v in s] for k, s in values.items()}, epochs)


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """The JSON-serialisable ``bit_generator.state`` of ``rng``.

    Raises
    ------
    ValueError
        If its bit generator is not one of :data:`BIT_GENERATORS`.
    """
    state = rng.bit_generator.state
    if state.get("bit_generator") not in BIT_GENERATORS:
        raise ValueError(
            f"cannot save a generator on {state.get('bit_generator')!r}; checkpoints support "
            f"{', '.join(BIT_GENERATORS)} (numpy.random.default_rng uses PCG64)"
        )
    return dict(state)


def generator(state: Any, what: str) -> np.random.Generator:
    """A Generator restored from :func:`generator_state`'s output."""
    state = _dict(state, what)
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS:
        raise ModelFileError(
            f"{what}: unknown bit generator {name!r}; valid: {', '.join(BIT_GENERATORS)}"
        )
    bits = BIT_GENERATORS[name]()
    try:
        bits.state = state
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{what}: invalid generator state ({exc})") from exc
    return np.random.Generator(bits)
