"""Fitted MLP estimators in ffnn's model files: the ``"estimator"`` section.

``ffnn.save(estimator, path)`` writes the estimator's network (``model_``: weights,
optimiser and its state, history) as any model file, plus one JSON section holding
what the estimator adds: its class, its parameters and its fitted attributes (classes,
curves, counters, the random generator that ``partial_fit`` continues with). No pickle:
every value is a JSON number, string, list or ``null``, and :func:`restore` checks each
against the network it comes with before anything is set, raising
:class:`~ffnn.exceptions.ModelFileError` naming the first defect.

The classes are looked up in a closed table (:data:`ESTIMATORS`); ``callbacks`` (Python
objects) are not saved and come back as None, and a ``random_state`` that is a
``RandomState`` instance is saved as None (the generator's state itself is saved).
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np

from ..exceptions import ModelFileError
from ..nn.layers import Dense
from ..training import Sequential
from .base import BaseMLP
from .file_state import CURVES as _CURVES
from .file_state import FLOATS as _FLOATS
from .file_state import LABEL_KINDS as _LABEL_KINDS
from .mlp import MLPClassifier, MLPRegressor

__all__ = ["ESTIMATORS", "restore"]

#: The estimator classes a model file may name.
ESTIMATORS: dict[str, type[BaseMLP]] = {"MLPClassifier": MLPClassifier,
                                        "MLPRegressor": MLPRegressor}

# ------------------------------------------------------------------------ loading
def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ModelFileError(f"estimator section: {message}")


def _int(value: Any, name: str, low: int = 0) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= low,
           f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _float_or_none(value: Any, name: str) -> float | None:
    ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                           and not math.isnan(value))
    _check(ok, f"{name} must be a number or null, got {value!r}")
    return None if value is None else float(value)


def _curve(value: Any, name: str) -> list[float] | None:
    if value is None and name == "validation_scores_":
        return None
    _check(isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value),
        f"{name} must be a list of numbers")
    return [float(v) for v in value]


def _rebuild_labels(entry: Any) -> np.ndarray:
    _check(isinstance(entry, dict) and set(entry) == {"dtype", "values"}
           and isinstance(entry["values"], list) and len(entry["values"]) > 0,
           "classes_ must be {dtype, values} with at least one value")
    dtype = entry["dtype"]
    _check(isinstance(dtype, str), "classes_ dtype must be a string")
    if dtype == "object":
        values = entry["values"]
        _check(all(isinstance(v, str) for v in values)
               or all(isinstance(v, int) and not isinstance(v, bool) for v in values),
               "object class labels must be all strings or all integers")
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = "?"
    _check(kind in _LABEL_KINDS, f"classes_ dtype {dtype!r} is not a label dtype")
    try:
        return np.array(entry["values"], dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"estimator section: classes_ do not fit {dtype}: {exc}") from None


def _set_params(est: BaseMLP, params: Any) -> None:
    _check(isinstance(params, dict) and set(params) == set(est.get_params(deep=False)),
           f"params must name exactly {sorted(est.get_params(deep=False))}")
    params = dict(params)
    if isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if isinstance(params.get("class_weight"), list):
        pairs = params["class_weight"]
        _check(all(isinstance(p, list) and len(p) == 2 for p in pairs),
               "class_weight must be a list of [class, weight] pairs")
        params["class_weight"] = {k: v for k, v in pairs}
    _check(params["callbacks"] is None, "callbacks must be null")
    est.set_params(**params)
    try:
        est._check_params()
    except ValueError as exc:
        raise ModelFileError(f"estimator section: {exc}") from None


def _set_rng(est: BaseMLP, entry: Any) -> None:
    _check(isinstance(entry, dict) and set(entry) == {"key", "pos", "has_gauss", "gauss"},
           "rng must be {key, pos, has_gauss, gauss}")
    key = entry["key"]
    _check(isinstance(key, list) and len(key) == 624
           and all(isinstance(k, int) and 0 <= k < 2**32 for k in key),
           "rng key must be 624 unsigned 32-bit integers")
    pos = _int(entry["pos"], "rng pos")
    _check(pos <= 624, "rng pos must be <= 624")
    rng = np.random.RandomState()
    rng.set_state(("MT19937", np.array(key, dtype=np.uint32), pos,
                   _int(entry["has_gauss"], "rng has_gauss"),
                   float(_float_or_none(entry["gauss"], "rng gauss") or 0.0)))
    est._rng = rng


def _check_network(est: BaseMLP, model: Sequential, fitted: dict[str, Any]) -> None:
    """The fitted attributes must describe ``model``: inputs, outputs, architecture."""
    n_in = _int(fitted["n_features_in_"], "n_features_in_", 1)
    n_out = _int(fitted["n_outputs_"], "n_outputs_", 1)
    _check(model.input_dim == n_in and model.output_shape[-1] == n_out,
           f"n_features_in_={n_in} and n_outputs_={n_out} do not match the network "
           f"({model.input_dim} inputs, {model.output_shape[-1]} outputs)")
    units, out_activation, _ = est._output_layer(n_out)
    _check(fitted["out_activation_"] == out_activation,
           f"out_activation_ must be {out_activation!r}, got {fitted['out_activation_']!r}")
    sizes = [n_in, *est._hidden_sizes(), units]
    shapes = [s for a, b in pairwise(sizes) for s in ((b, a), (b,))]
    _check(all(isinstance(layer, Dense) for layer in model.layers)
           and shapes == [w.shape for w in model.get_weights()],
           "the network's layers do not match hidden_layer_sizes and n_outputs_")


def restore(model: Sequential, section: Any) -> BaseMLP:
    """The fitted estimator of a model file's ``"estimator"`` section, around ``model``.

    Raises
    ------
    ModelFileError
        For an unknown class, a parameter or fitted attribute of the wrong type or range,
        or attributes that do not match the network.
    """
    _check(isinstance(section, dict) and set(section) == {"class", "params", "fitted"},
           "must be {class, params, fitted}")
    cls = ESTIMATORS.get(section["class"]) if isinstance(section["class"], str) else None
    if cls is None:
        raise ModelFileError(f"estimator section: class {section['class']!r} is not one of "
                             f"{sorted(ESTIMATORS)}")
    est = cls()
    _set_params(est, section["params"])
    fitted = section["fitted"]
    keys = {"n_features_in_", "n_outputs_", "out_activation_", "n_iter_",
            "no_improvement_count", "rng", *_FLOATS, *_CURVES}
    classifier = isinstance(est, MLPClassifier)
    keys |= {"classes_", "multilabel"} if classifier else set()
    _check(isinstance(fitted, dict) and keys <= set(fitted) <= keys | {"feature_names_in_"},
           f"fitted must have the keys {sorted(keys)} (and optionally feature_names_in_)")
    _set_rng(est, fitted["rng"])
    if classifier:
        _restore_classes(est, fitted)
    _check_network(est, model, fitted)
    if "feature_names_in_" in fitted:
        names = fitted["feature_names_in_"]
        _check(isinstance(names, list) and len(names) == fitted["n_features_in_"]
               and all(isinstance(n, str) for n in names),
               "feature_names_in_ must be one string per feature")
        est.feature_names_in_ = np.array(names, dtype=object)
    est.n_features_in_ = int(fitted["n_features_in_"])
    est.n_outputs_ = int(fitted["n_outputs_"])
    est.out_activation_ = fitted["out_activation_"]
    est.n_iter_ = _int(fitted["n_iter_"], "n_iter_")
    est._no_improvement_count = _int(fitted["no_improvement_count"], "no_improvement_count")
    for name in _FLOATS:
        setattr(est, name, _float_or_none(fitted[name], name))
    for name in _CURVES:
        setattr(est, name, _curve(fitted[name], name))
    est.model_ = model
    est._arch = est._architecture(est.n_features_in_, est.n_outputs_)
    return est


def _restore_classes(est: MLPClassifier, fitted: dict[str, Any]) -> None:
    from sklearn.preprocessing import LabelBinarizer

    classes = _rebuild_labels(fitted["classes_"])
    multilabel = fitted["multilabel"]
    _check(isinstance(multilabel, bool), "multilabel must be true or false")
    _check(len(np.unique(classes)) == len(classes) and len(classes) >= 2,
           "classes_ must be at least 2 distinct labels")
    expected = len(classes) if multilabel or len(classes) > 2 else 1
    _check(expected == fitted["n_outputs_"],
           f"{len(classes)} classes need {expected} outputs, not {fitted['n_outputs_']}")
    binarizer = LabelBinarizer()
    if multilabel:
        _check(np.array_equal(classes, np.arange(len(classes))),
               "multi-label classes_ must be 0, 1, ..., n_labels - 1")
        binarizer.fit(np.vstack([np.eye(len(classes), dtype=int),
                                 np.zeros(len(classes), dtype=int)]))
    else:
        binarizer.fit(classes)
    est._binarizer = binarizer
    est.classes_ = binarizer.classes_
    est._multilabel = multilabel
