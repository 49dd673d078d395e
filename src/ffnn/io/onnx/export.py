"""Building the ONNX model of a network, a command-line model or an estimator.

:func:`plan_for` chooses the :class:`~.plan.Plan` of an object; :func:`build` emits it
into a standalone graph, checks it with ``onnx.checker.check_model(full_check=True)``
and returns the ModelProto. The command line's metadata format belongs to
:mod:`ffnn.cli.model` and the estimators' outputs to :mod:`ffnn.estimators`, so both are
imported here, lazily, only when such an object is exported.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx

from ... import __version__
from ...training import Sequential
from .graph import ModelGraph, value_info
from .layers import emit_network
from .plan import BATCH, Classifier, Impute, Plan, RawOutput, Regressor, Standardize

__all__ = ["INPUT", "build", "plan_for"]

#: Name of the graph input: the batch, shape (batch, features).
INPUT = "X"
_CLI_KEY = "ffnn_cli"


def _network(model: Sequential) -> Any:
    def body(g: Any, x: str) -> str:
        return emit_network(g, model, x)

    return body


def _check_built(model: Sequential) -> int:
    if not model.built or model.input_dim is None:
        raise ValueError(f"model {model.name!r} is not built; fit it or call "
                         "model.build(input_dim) before exporting it")
    return int(model.input_dim)


def network_plan(model: Sequential) -> Plan:
    """A network alone: input ``X`` and output ``output``, both of the model's dtype."""
    n_in = _check_built(model)
    width = int(model.output_shape[-1])
    doc = (f"ffnn network {model.name!r}: {n_in} inputs, {width} outputs, "
           f"{len(model.layers)} layers, {model.dtype.name}")
    return Plan(model.name, n_in, model.dtype, _network(model), model.dtype,
                RawOutput(width), doc=doc)


def cli_plan(model: Sequential) -> Plan:
    """A network trained by ``ffnn train``: raw features in (float64, standardised by
    the stored scaler), class names and probabilities or values in the target's units
    out, as ``ffnn predict`` computes them."""
    from ...cli.data import CLIError
    from ...cli.model import Spec

    _check_built(model)
    try:
        spec = Spec.from_metadata(model.metadata, model, f"model {model.name!r}")
    except CLIError as exc:
        raise ValueError(str(exc)) from None
    columns = spec.table_columns
    if not columns.plain:
        text = [c.name for c in columns.columns if c.kind == "category"]
        raise ValueError(
            f"model {model.name!r} one-hot encodes the text column(s) {', '.join(text)}; the "
            "ONNX export takes one float64 matrix of numbers, so it cannot hold them: "
            "encode them as numbers before ffnn train to export the model"
        )
    steps: list[Any] = [Standardize(spec.scaler.mean, spec.scaler.scale)]
    if columns.impute:
        fill = np.array([c.fill for c in columns.columns], dtype=np.float64)
        steps.insert(0, Impute(fill))
    if spec.task == "classify":
        head: Any = Classifier(np.array(spec.classes, dtype=object), single_column=False)
        what = f"classifies {spec.target!r} into {', '.join(spec.classes or [])}"
    else:
        assert spec.target_scaler is not None  # Spec.from_metadata guarantees it
        head = Regressor(1, (spec.target_scaler.mean, spec.target_scaler.scale))
        what = f"predicts {spec.target!r} in its own units"
    doc = (f"ffnn network {model.name!r} trained by 'ffnn train': {what}. Input X: the raw "
           f"features {', '.join(spec.features)} (in this order, float64), standardised "
           "by the stored scaler" + ("; NaN cells take the training rows' median." if
                                     columns.impute else "."))
    metadata = {"ffnn.task": spec.task, "ffnn.target": spec.target,
                "ffnn.features": json.dumps(spec.features)}
    return Plan(model.name, len(spec.features), np.dtype(np.float64), _network(model),
                model.dtype, head, steps, doc, metadata)


def plan_for(obj: Any) -> Plan:
    """The plan of a Sequential (with the command line's preprocessing when its
    metadata holds it) or of an object that describes itself with a
    ``__ffnn_onnx_plan__()`` method returning a :class:`.plan.Plan` (ffnn's fitted
    estimators do)."""
    if isinstance(obj, Sequential):
        if isinstance(obj.metadata, dict) and _CLI_KEY in obj.metadata:
            return cli_plan(obj)
        return network_plan(obj)
    plan = getattr(type(obj), "__ffnn_onnx_plan__", None)
    if plan is not None:  # the estimators describe themselves (io never imports them)
        return plan(obj)
    raise TypeError(
        f"cannot export a {type(obj).__name__} to ONNX: pass an ffnn.Sequential or a fitted "
        "ffnn.MLPClassifier, MLPRegressor or PerceptronClassifier (for a scikit-learn "
        "Pipeline, call ffnn.register_skl2onnx() and use skl2onnx.to_onnx)")


def build(obj: Any, name: str | None = None) -> onnx.ModelProto:
    """The checked ModelProto of ``obj`` (see :func:`ffnn.io.onnx.to_onnx`)."""
    plan = plan_for(obj)
    g = ModelGraph(plan.input_dtype)
    outputs = plan.head.outputs(plan.body_dtype)
    g.reserve(INPUT)
    names = {o.name: g.reserve(o.name) for o in outputs}
    plan.emit(g, INPUT, plan.input_dtype, names)
    model = g.model(
        [value_info(INPUT, plan.input_dtype, (BATCH, plan.n_features))],
        [value_info(o.name, o.dtype, o.shape) for o in outputs],
        name=name or plan.name, doc=plan.doc, metadata=plan.metadata,
        producer_version=__version__)
    onnx.checker.check_model(model, full_check=True)
    return model
