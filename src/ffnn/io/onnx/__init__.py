"""ONNX export: :func:`export_onnx` and :func:`to_onnx`.

Importing this package is light; the ``onnx`` package (the ``onnx`` extra) is imported
when a model is first exported, and its absence is an ImportError naming the extra.
Modules: :mod:`.graph` (the graph builders, the only users of ``onnx``),
:mod:`.activations` and :mod:`.layers` (one emitter per registry entry), :mod:`.plan`
(preprocessing, network and outputs) and :mod:`.export` (which plan an object gets).
See ``docs/onnx.md``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_write
from .opset import OPSET

if TYPE_CHECKING:
    import onnx

__all__ = ["OPSET", "export_onnx", "to_onnx"]


_MISSING = "ONNX export needs the onnx package; install it with: pip install ffnn[onnx]"


def _export_module() -> Any:
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    from . import export

    return export


def to_onnx(model: Any, *, name: str | None = None) -> onnx.ModelProto:
    """The ONNX model of a network or a fitted estimator.

    Parameters
    ----------
    model : Sequential, MLPClassifier, MLPRegressor or PerceptronClassifier
        A built network, or a fitted ffnn estimator.

        * A network computes ``model.predict`` on the input ``X`` (batch, features)
          of the model's dtype; the output ``output`` is (batch, outputs).
        * A network trained by ``ffnn train`` (its metadata holds the feature scaler)
          takes the raw features in float64, standardises them as ``ffnn predict``
          does, and returns ``label`` (class names) and ``probabilities``, or
          ``variable`` (batch, 1) in the target's units.
        * ``MLPClassifier``: ``label`` (batch,) (multi-label: (batch, labels) of 0/1)
          and ``probabilities`` (batch, classes), as ``predict`` and
          ``predict_proba``; ``MLPRegressor``: ``variable`` (batch, outputs);
          ``PerceptronClassifier``: ``label`` and ``scores``, as ``predict`` and
          ``decision_function``. Labels are int64 for integer classes, strings for
          string classes (skl2onnx's convention).

        The batch dimension is symbolic (``"batch"``): any number of rows.
    name : str, optional
        The graph's name (default: the model's name).

    Returns
    -------
    onnx.ModelProto
        Of opset :data:`OPSET`, checked by ``onnx.checker.check_model(full_check=True)``.

    Raises
    ------
    ImportError
        If the ``onnx`` package is missing (``pip install ffnn[onnx]``).
    ValueError
        For an unbuilt model, a layer or activation that cannot be exported (a plain
        Python callable, or one without an ONNX mapping; the message names it), or
        class labels that are neither integers nor strings.
    TypeError
        For an object that is not a network or an ffnn estimator.
    """
    return _export_module().build(model, name)


def export_onnx(model: Any, path: str | os.PathLike[str], *,
                name: str | None = None) -> onnx.ModelProto:
    """Write the ONNX model of a network or a fitted estimator to ``path``.

    ``ffnn.export_onnx(model, "model.onnx")``: see :func:`to_onnx` for what the graph
    computes. The file is written atomically (replaced whole or not at all).

    Parameters
    ----------
    model : Sequential, MLPClassifier, MLPRegressor or PerceptronClassifier
    path : str or path-like
    name : str, optional
        The graph's name (default: the model's name).

    Returns
    -------
    onnx.ModelProto
        The model written.
    """
    proto = to_onnx(model, name=name)
    atomic_write(os.fspath(path), proto.SerializeToString())
    return proto
