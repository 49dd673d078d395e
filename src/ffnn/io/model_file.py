"""Saving and loading models: one ``.safetensors`` file, no pickle anywhere.

See :mod:`ffnn.io` for the file's layout. Loading looks every name up in ffnn's
registries (a closed allowlist), rebuilds the model from its config and checks every
tensor against it; any failure raises :class:`~ffnn.exceptions.ModelFileError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors.numpy

from ..exceptions import ModelFileError
from ..nn.layers import LAYERS, Layer
from ..nn.metrics import METRICS
from ..training import Sequential
from ..training.callbacks import History
from . import schema
from .atomic import atomic_write
from .container import no_duplicate_keys, parse_container, read_container

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Version of the JSON document; files from a newer version are refused.
FORMAT_VERSION = 1
_FORMAT = "ffnn.model"
_KEY = "ffnn"
_TOP = {"format", "format_version", "model", "compile", "optimizer_state", "history",
        "metadata", "training"}
#: The optional top-level key of a fitted estimator's file (see ffnn.estimators.persistence).
_ESTIMATOR = "estimator"
#: What a hostile config can make the registries' constructors raise. MemoryError is a
#: backstop: sizes are checked against the file before anything is built.
_CONFIG_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError,
                  OverflowError, RecursionError, MemoryError)


# ------------------------------------------------------------------------ saving
def _layer_entry(layer: Layer) -> dict[str, Any]:
    name = type(layer).__name__
    if name not in LAYERS or LAYERS.lookup(name) is not type(layer):
        raise ValueError(f"layer {layer.name!r} is a {name}, which is not in the layer "
                         f"registry (valid: {', '.join(LAYERS.names())})")
    return {"class_name": name, "config": layer.get_config()}


def _compile_entry(model: Sequential) -> dict[str, Any] | None:
    if model.optimizer is None:
        return None
    names = []
    for name, fn in model.metrics:
        if name not in METRICS or METRICS.lookup(name) is not fn:
            raise TypeError(f"metric {name!r} is a plain callable and cannot be serialised; "
                            f"use one of the registered metrics: {', '.join(METRICS.names())}")
        names.append(name)
    return {"optimizer": model.optimizer.get_config(), "loss": model.loss.get_config(),
            "metrics": names}


def _optimizer_entry(model: Sequential, tensors: dict[str, np.ndarray]) -> Any:
    opt = model.optimizer
    if opt is None or not opt.built:
        return None
    state = opt.state_dict()
    arrays = state.pop("state")
    slots = []
    for i in sorted(arrays):
        slots.append(sorted(arrays[i]))
        for slot, array in arrays[i].items():
            tensors[f"optimizer/{i}/{slot}"] = np.ascontiguousarray(array)
    return {**state, "slots": slots}


def _history_entry(history: History | None) -> dict[str, Any] | None:
    if history is None:
        return None
    return {"epoch": [int(e) for e in history.epoch],
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()}}


def _string_keys(metadata: Mapping[Any, Any]) -> None:
    """Refuse a key that JSON would change: JSON object keys are strings, so ``1``,
    ``1.5``, ``True`` or ``None`` would come back as ``"1"``, ``"1.5"``, ``"true"``,
    ``"null"`` (and ``{1: .., "1": ..}`` as a document that repeats a key)."""
    stack: list[tuple[Any, str]] = [(metadata, "metadata")]
    seen: set[int] = set()  # a container met twice is a cycle, which json.dumps reports
    while stack:
        value, where = stack.pop()
        if isinstance(value, (Mapping, list, tuple)):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    try:
                        as_json = json.dumps({key: 0})[1:-4]
                    except (TypeError, ValueError):
                        as_json = "nothing JSON can hold"
                    raise ValueError(
                        f"{where} has the key {key!r} ({type(key).__name__}); JSON keys are "
                        f"strings, so it would load back as {as_json} or collide with that "
                        "key: use string keys")
                stack.append((item, f"{where}[{key!r}]"))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))


def _check_loads(name: str, data: bytes) -> None:
    """Run the loader's checks on the bytes about to be written: a file that
    :func:`load` would refuse is never written (the model would be lost)."""
    try:
        meta, tensors = parse_container(data)
        _rebuild(_document(meta), tensors, allow_nonfinite=True)
    except (ModelFileError, *_CONFIG_ERRORS) as exc:
        raise ValueError(f"cannot save model {name!r}: load would refuse the file ({exc}); "
                         "nothing was written") from exc


def encode(model: Sequential, metadata: Any, history: History | None,
           training: dict[str, Any] | None, estimator: dict[str, Any] | None = None) -> bytes:
    """The bytes of the safetensors file for ``model`` (and the estimator around it),
    checked to load back."""
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built; fit it or call "
                         "model.build(input_dim) before saving")
    if metadata is None:
        metadata = getattr(model, "metadata", None) or {}
    if not isinstance(metadata, Mapping):
        raise ValueError(f"metadata must be a dict, got {type(metadata).__name__}")
    _string_keys(metadata)
    tensors = {f"{layer.name}/{key}": np.ascontiguousarray(p.data)
               for layer in model.layers for key, p in layer.named_params.items()}
    try:
        doc = {
            "format": _FORMAT,
            "format_version": FORMAT_VERSION,
            "model": {"name": model.name, "seed": model.seed, "dtype": model.dtype.name,
                      "input_dim": model.input_dim,
                      "layers": [_layer_entry(layer) for layer in model.layers]},
            "compile": _compile_entry(model),
            "optimizer_state": _optimizer_entry(model, tensors),
            "history": _history_entry(history),
            "metadata": dict(metadata),
            "training": training,
        }
        if estimator is not None:
            doc[_ESTIMATOR] = estimator
        text = json.dumps(doc)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"cannot save model {model.name!r}: {exc}") from exc
    data = safetensors.numpy.save(tensors, metadata={_KEY: text})
    _check_loads(model.name, data)
    return data


def save(model: Any, path: str | os.PathLike[str],
         metadata: Mapping[str, Any] | None = None) -> None:
    """Save a built model (or a fitted estimator) to one ``.safetensors`` file, atomically.

    What :func:`load` would refuse is refused here, before anything is written: the
    encoded bytes go through the loader's checks (non-finite weights excepted, which
    ``load(..., allow_nonfinite=True)`` reads).

    Parameters
    ----------
    model : Sequential or a fitted ffnn estimator
        A built model; its weights, architecture, compile settings, optimiser state and
        history are saved. A fitted ``MLPClassifier``/``MLPRegressor`` is saved as its
        network (``model_``) plus an ``"estimator"`` section: its parameters and fitted
        attributes (classes, curves, counters, random state), as plain JSON.
    path : str or path-like
        The file to write, replaced atomically if it exists. Only a regular file is
        replaced; a symbolic link is followed (the file it points at is replaced and the
        link stays); see :mod:`ffnn.io.atomic`.
    metadata : dict, optional
        Any JSON-serialisable dict with string keys (at every level), returned as
        ``model.metadata`` by :func:`load`. None saves the model's own ``metadata``
        attribute (empty for a new model).

    Raises
    ------
    ValueError
        If the model is not built, uses a layer, activation, initializer, regularizer,
        loss or metric that is a plain Python callable (not in ffnn's registries), or
        ``metadata`` is not JSON-serialisable or has a key that is not a string; if
        the bytes would not pass :func:`load`'s checks (nothing is then written); if
        ``path`` is empty, a dangling symbolic link, or names a directory, device, FIFO
        or socket.
    OSError
        If the file cannot be written (its folder is missing or read-only, ...).
    """
    network, estimator = _network(model)
    atomic_write(os.fspath(path), encode(network, metadata, network.history, None, estimator))


def _network(obj: Any) -> tuple[Sequential, dict[str, Any] | None]:
    """The Sequential to save and the estimator section, asking a non-model object for
    them through ``type(obj).__ffnn_save__`` (so io never imports the estimators)."""
    if isinstance(obj, Sequential):
        obj.build_declared()  # a declared input size builds the model, as in Keras
        return obj, None
    hook = getattr(type(obj), "__ffnn_save__", None)
    if hook is None:
        raise TypeError(f"ffnn.save needs a Sequential or a fitted ffnn estimator "
                        f"(MLPClassifier, MLPRegressor), got {type(obj).__name__}")
    network, section = hook(obj)
    return network, section


# ----------------------------------------------------------------------- loading
def _document(meta: dict[str, str]) -> dict[str, Any]:
    if _KEY not in meta:
        raise ModelFileError(f"the metadata has no {_KEY!r} entry: not an ffnn model file")
    try:
        hook = no_duplicate_keys(f"the {_KEY!r} document")
        doc = json.loads(meta[_KEY], object_pairs_hook=hook)
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"the {_KEY!r} metadata is not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ModelFileError(f"the {_KEY!r} metadata is not an ffnn model document")
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"format version {version} is newer than this ffnn reads "
                             f"({FORMAT_VERSION}); upgrade ffnn")
    if set(doc) - {_ESTIMATOR} != _TOP:
        raise ModelFileError(f"the document must have the keys {sorted(_TOP)} (and "
                             f"optionally {_ESTIMATOR!r}), got {sorted(doc)}")
    return doc


def _check_tensors(model: Sequential, doc: dict[str, Any], tensors: dict[str, np.ndarray],
                   allow_nonfinite: bool) -> dict[str, Any]:
    """Compare the file's tensors with what the architecture needs; return the params."""
    params = {f"{layer.name}/{key}": p
              for layer in model.layers for key, p in layer.named_params.items()}
    expected = list(params)
    if doc["optimizer_state"] is not None:
        expected += schema.optimizer_tensor_names(doc["optimizer_state"])
    missing = [n for n in expected if n not in tensors]
    extra = sorted(set(tensors) - set(expected))
    if missing:
        raise ModelFileError(f"missing tensor(s) {missing}")
    if extra:
        raise ModelFileError(f"unexpected tensor(s) {extra}")
    for name, p in params.items():
        array = tensors[name]
        if array.shape != p.data.shape or array.dtype != p.data.dtype:
            raise ModelFileError(
                f"tensor {name!r} has shape {array.shape} and dtype {array.dtype}; the "
                f"architecture needs shape {p.data.shape} and dtype {p.data.dtype}")
    if not allow_nonfinite:
        for name in expected:
            if not np.isfinite(tensors[name]).all():
                raise ModelFileError(f"tensor {name!r} holds NaN or infinite values "
                                     "(load(..., allow_nonfinite=True) accepts them)")
    return params


def _rebuild(doc: dict[str, Any], tensors: dict[str, np.ndarray],
             allow_nonfinite: bool) -> Sequential:
    n_numbers = sum(int(a.size) for a in tensors.values())
    model = schema.build_model(doc["model"], n_numbers)
    params = _check_tensors(model, doc, tensors, allow_nonfinite)
    for name, p in params.items():
        np.copyto(p.data, tensors[name])
    schema.compile_model(model, doc["compile"])
    if doc["optimizer_state"] is not None:
        if model.optimizer is None:
            raise ModelFileError("the file has optimizer state but no compile settings")
        model.optimizer.load_state_dict(schema.optimizer_state(doc["optimizer_state"], tensors))
    model.history = schema.history(doc["history"])
    if not isinstance(doc["metadata"], dict):
        raise ModelFileError("metadata must be a JSON object")
    model.metadata = doc["metadata"]
    return model


def _read(path: str, allow_nonfinite: bool) -> tuple[Sequential, dict[str, Any]]:
    try:
        meta, tensors = read_container(path)
        doc = _document(meta)
        return _rebuild(doc, tensors, allow_nonfinite), doc
    except (ModelFileError, *_CONFIG_ERRORS) as exc:
        raise ModelFileError(f"cannot load model file {path!r}: {exc}") from exc


def read(path: str | os.PathLike[str], allow_nonfinite: bool) -> tuple[Sequential, Any]:
    """The model and the document's ``training`` section; ModelFileError on any defect."""
    model, doc = _read(os.fspath(path), allow_nonfinite)
    return model, doc["training"]


def load(path: str | os.PathLike[str], *, allow_nonfinite: bool = False) -> Any:
    """Load a model saved by :func:`save` (or a checkpoint).

    Parameters
    ----------
    path : str or path-like
    allow_nonfinite : bool, default False
        Accept NaN or infinite weights and optimiser state (by default they are taken
        as a sign of a diverged or corrupted run and refused).

    Returns
    -------
    Sequential or estimator
        Built, with the saved weights; compiled with the saved optimiser (and its state),
        loss and metrics if the model was compiled; ``history`` and ``metadata`` restored.
        For a file saved from a fitted ``MLPClassifier``/``MLPRegressor``, that estimator,
        fitted, its ``model_`` the network (its ``callbacks`` parameter is None).

    Raises
    ------
    ModelFileError
        For any failure: unreadable, truncated, corrupted or hostile file, unsupported
        format version, a name outside ffnn's registries, a tensor that is missing,
        extra, or of the wrong shape or dtype, or non-finite values; for an estimator's
        file, a parameter or fitted attribute that is invalid or does not match the network.
    """
    path = os.fspath(path)
    model, doc = _read(path, allow_nonfinite)
    if _ESTIMATOR not in doc:
        return model
    # The one reach from io up to the estimators, at load time only: the file names an
    # estimator class, which only the estimators package knows (docs/architecture.md).
    from ..estimators.persistence import restore

    try:
        return restore(model, doc[_ESTIMATOR])
    except (ModelFileError, *_CONFIG_ERRORS) as exc:
        raise ModelFileError(f"cannot load model file {path!r}: {exc}") from exc
