"""The ONNX plans of the fitted estimators, for :func:`ffnn.export_onnx`.

Each estimator class describes itself through ``__ffnn_onnx_plan__``, which calls one
of these; they read the fitted attributes only, so this module imports none of the
estimator classes (``onnx_export.py``, which registers skl2onnx converters, does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["mlp_plan", "perceptron_plan"]


def _network_body(model: Any) -> Any:
    from ..io.onnx.layers import emit_network

    def body(g: Any, x: str) -> str:
        return emit_network(g, model, x)

    return body


def _perceptron_body(est: Any) -> Any:
    def body(g: Any, x: str) -> str:
        """Scores X Wᵀ + b, W = ``coef_`` (classes, features), as ``decision_function``."""
        return g.op("Gemm", x, g.const(est.coef_, "perceptron/coef"),
                    g.const(est.intercept_, "perceptron/intercept"), transB=1)

    return body


def perceptron_plan(est: Any, skl2onnx: bool = False) -> Any:
    """The plan of a fitted PerceptronClassifier: scores, labels."""
    from ..io.onnx.plan import Classifier, Plan

    n_in = int(est.n_features_in_)
    head = Classifier(est.classes_, "scores", single_column=len(est.classes_) == 2,
                      second="probabilities" if skl2onnx else "scores", two_columns=skl2onnx)
    f64 = np.dtype(np.float64)
    doc = f"ffnn PerceptronClassifier: {n_in} features, classes {est.classes_.tolist()}"
    return Plan("PerceptronClassifier", n_in, f64, _perceptron_body(est), f64, head, doc=doc)


def mlp_plan(est: Any, classifier: bool) -> Any:
    """The plan of a fitted MLPClassifier (``classifier``) or MLPRegressor."""
    from ..io.onnx.plan import Classifier, Plan, Regressor

    model, n_in, name = est.model_, int(est.n_features_in_), type(est).__name__
    head: Classifier | Regressor
    if classifier:
        multilabel = bool(est._multilabel)
        head = Classifier(est.classes_, "multilabel" if multilabel else "probabilities",
                          single_column=est.n_outputs_ == 1 and not multilabel)
        what = f"classes {est.classes_.tolist()}"
    else:
        head = Regressor(int(est.n_outputs_))
        what = f"{est.n_outputs_} output(s)"
    doc = f"ffnn {name}: {n_in} features, {what}, network in {model.dtype.name}"
    return Plan(name, n_in, model.dtype, _network_body(model), model.dtype, head, doc=doc)
