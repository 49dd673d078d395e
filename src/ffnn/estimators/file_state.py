"""The saving half of :mod:`.persistence`: a fitted MLP estimator's ``"estimator"``
section (see there for the format). It reads the estimator's attributes only and
imports neither :mod:`.base` nor :mod:`.mlp`, which call it."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["CURVES", "FLOATS", "LABEL_KINDS", "state"]

LABEL_KINDS = "biufU"
FLOATS = ("loss_", "best_loss_", "best_validation_score_")
CURVES = ("loss_curve_", "validation_loss_curve_", "validation_scores_")


def _labels(values: np.ndarray) -> dict[str, Any]:
    """Class labels as a JSON value that keeps their dtype."""
    if values.dtype.kind == "O":  # strings (or numbers) kept as Python objects
        kinds = {type(v) for v in values.tolist()}
        if not kinds <= {str} and not kinds <= {int}:
            raise ValueError(f"cannot save class labels of types {sorted(map(str, kinds))}; "
                             "ffnn saves labels that are all strings or all numbers")
        return {"dtype": "object", "values": values.tolist()}
    if values.dtype.kind not in LABEL_KINDS:
        raise ValueError(f"cannot save class labels of dtype {values.dtype}")
    return {"dtype": values.dtype.str, "values": values.tolist()}


def _params(est: Any) -> dict[str, Any]:
    params = est.get_params(deep=False)
    params["callbacks"] = None  # Python objects: not part of a model file
    if not (params["random_state"] is None or isinstance(params["random_state"],
                                                         numbers.Integral)):
        params["random_state"] = None
    if isinstance(params["hidden_layer_sizes"], tuple):
        params["hidden_layer_sizes"] = list(params["hidden_layer_sizes"])
    cw = params.get("class_weight")
    if isinstance(cw, dict):
        params["class_weight"] = [[_labels(np.array([k]))["values"][0], float(v)]
                                  for k, v in cw.items()]
    return params


def state(est: Any) -> tuple[Any, dict[str, Any]]:
    """The network and the ``"estimator"`` section of a fitted estimator's model file."""
    rng = est._rng.get_state(legacy=False)
    fitted: dict[str, Any] = {
        "n_features_in_": int(est.n_features_in_),
        "n_outputs_": int(est.n_outputs_),
        "out_activation_": est.out_activation_,
        "n_iter_": int(est.n_iter_),
        "no_improvement_count": int(est._no_improvement_count),
        "rng": {"key": rng["state"]["key"].tolist(), "pos": int(rng["state"]["pos"]),
                "has_gauss": int(rng["has_gauss"]), "gauss": float(rng["gauss"])},
        **{name: getattr(est, name) for name in FLOATS},
        **{name: getattr(est, name) for name in CURVES},
    }
    if hasattr(est, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(n) for n in est.feature_names_in_]
    if hasattr(est, "classes_"):  # a classifier
        fitted["classes_"] = _labels(np.asarray(est.classes_))
        fitted["multilabel"] = bool(est._multilabel)
    section = {"class": type(est).__name__, "params": _params(est), "fitted": fitted}
    return est.model_, section
