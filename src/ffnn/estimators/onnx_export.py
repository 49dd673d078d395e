"""ONNX for the estimators: their graphs, and converters for skl2onnx.

:func:`estimator_plan` describes a fitted estimator's computation to
:mod:`ffnn.io.onnx` (``ffnn.export_onnx(clf, path)``), and :func:`register_skl2onnx`
registers the same graphs with skl2onnx, so that a scikit-learn ``Pipeline`` ending in
an ffnn estimator converts with ``skl2onnx.to_onnx``. Both live here because they read
the estimators' fitted attributes; ``onnx`` and ``skl2onnx`` are imported only when
used, so importing this module stays as light as the estimators themselves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sklearn.utils.validation import check_is_fitted

from .mlp import MLPClassifier, MLPRegressor
from .onnx_plans import mlp_plan, perceptron_plan
from .perceptron import PerceptronClassifier

__all__ = ["estimator_plan", "register_skl2onnx"]

_ESTIMATORS = (MLPClassifier, MLPRegressor, PerceptronClassifier)
_CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False],
                       "output_class_labels": [False, True]}


def estimator_plan(est: Any, skl2onnx: bool = False) -> Any:
    """The :class:`ffnn.io.onnx.plan.Plan` of a fitted ffnn estimator.

    Parameters
    ----------
    est : MLPClassifier, MLPRegressor or PerceptronClassifier
        Fitted.
    skl2onnx : bool, default False
        The perceptron's second output as skl2onnx gives a linear classifier's:
        ``probabilities`` holding the scores, [−s, s] for two classes. Otherwise
        ``scores``, as ``decision_function`` (one column for two classes, squeezed).

    Raises
    ------
    TypeError
        For another kind of object; ``NotFittedError`` if ``est`` is not fitted.
    """
    if not isinstance(est, _ESTIMATORS):
        raise TypeError(f"cannot export a {type(est).__name__} to ONNX; ffnn exports "
                        f"{', '.join(c.__name__ for c in _ESTIMATORS)}")
    check_is_fitted(est)
    if isinstance(est, PerceptronClassifier):
        return perceptron_plan(est, skl2onnx)
    return mlp_plan(est, classifier=isinstance(est, MLPClassifier))


# ---------------------------------------------------------------------- skl2onnx
def _plan(scope: Any, est: Any) -> Any:
    """The skl2onnx plan, with the labels skl2onnx's options ask for (``nocl``)."""
    from skl2onnx.common.utils_classifier import get_label_classes

    plan = estimator_plan(est, skl2onnx=True)
    if isinstance(est, (MLPClassifier, PerceptronClassifier)):
        plan.head = dataclasses.replace(plan.head, classes=get_label_classes(scope, est))
    return plan


def _float_out(scope: Any, est: Any, input_type: Any) -> Any:
    """The type of the floating outputs: the input's (float or double, skl2onnx's rule),
    but float where a ZipMap follows (ONNX's ZipMap takes float only)."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(est, (MLPClassifier, PerceptronClassifier)):
        zipmap = scope.get_options(est, {"zipmap": True})["zipmap"]
        if zipmap is True:
            return FloatTensorType
    return DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType


def _shapes(operator: Any) -> None:
    """skl2onnx's shape calculator: the outputs' types and shapes."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    est, scope = operator.raw_operator, operator.scope_inst
    plan = _plan(scope, est)
    outputs = plan.head.outputs(plan.body_dtype)
    if len(operator.outputs) != len(outputs):
        raise RuntimeError(f"{type(est).__name__} has {len(outputs)} ONNX outputs, the "
                           f"parser declared {len(operator.outputs)}")
    n = operator.inputs[0].get_first_dimension()
    floats = _float_out(scope, est, operator.inputs[0].type)
    for var, out in zip(operator.outputs, outputs, strict=True):
        shape = [n if d == "batch" else d for d in out.shape]
        if out.dtype.kind == "f":
            var.type = floats(shape)
        elif out.dtype == object:
            var.type = StringTensorType(shape)
        else:
            var.type = Int64TensorType(shape)


def _convert(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter: the plan's nodes, written into the container."""
    from skl2onnx.common.data_types import guess_numpy_type

    from ..io.onnx.graph import ContainerGraph
    from ..io.onnx.opset import OPSET

    est = operator.raw_operator
    opset = container.target_opset
    if opset is not None and opset < OPSET:
        raise ValueError(f"ffnn's {type(est).__name__} converter needs target_opset >= "
                           f"{OPSET}, got {opset}")
    plan = _plan(scope, est)
    outputs = plan.head.outputs(plan.body_dtype)
    names = {o.name: var.full_name for o, var in zip(outputs, operator.outputs, strict=True)}
    source = operator.inputs[0]
    out_dtype = guess_numpy_type(_float_out(scope, est, source.type)())
    g = ContainerGraph(scope, container, plan.body_dtype)
    plan.emit(g, source.full_name, guess_numpy_type(source.type), names, out_dtype)


def register_skl2onnx() -> None:
    """Register converters for ffnn's estimators with skl2onnx.

    After this call, ``skl2onnx.to_onnx`` converts ``MLPClassifier``, ``MLPRegressor``
    and ``PerceptronClassifier``, alone or as the last step of a ``Pipeline``
    (e.g. after a ``StandardScaler``). Classifiers follow skl2onnx's conventions:
    outputs ``label`` and ``probabilities`` (the perceptron's scores, [−s, s] for two
    classes), with the options ``zipmap`` (default True: probabilities as a list of
    dicts, computed in float32 as ONNX's ZipMap requires), ``nocl`` and
    ``output_class_labels``; regressors output ``variable``. The network runs in its own
    dtype; floating outputs have the input's type. Calling it again is harmless.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install skl2onnx``).

    Notes
    -----
    The converters need ``target_opset`` ≥ :data:`ffnn.io.onnx.OPSET` (21).
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:
        raise ImportError("ffnn.register_skl2onnx needs the skl2onnx package; install it "
                          "with: pip install skl2onnx") from exc
    for cls in (MLPClassifier, PerceptronClassifier):
        update_registered_converter(cls, f"Ffnn{cls.__name__}", _shapes, _convert,
                                    options=_CLASSIFIER_OPTIONS)
    update_registered_converter(MLPRegressor, "FfnnMLPRegressor", _shapes, _convert)
