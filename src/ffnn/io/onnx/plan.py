"""What an exported graph computes: preprocessing, a body (the network) and a head.

A :class:`Plan` is built for each kind of exportable object (a network, a network
trained by ``ffnn train``, each estimator) and emitted into a :class:`~.graph.Graph`:

* ``preprocessing``: steps on the raw input, such as the command line's
  :class:`Standardize` (a preprocessing step is any object with ``emit(g, x)``);
* ``body``: the network, computed in its own dtype as ``model.predict`` does (the
  input is cast to it, as ``predict`` converts its input);
* ``head``: the named outputs: :class:`RawOutput`, :class:`Classifier` (label and
  probabilities, as skl2onnx's classifiers) or :class:`Regressor`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .graph import Graph, onnx_type

__all__ = ["Classifier", "Output", "Plan", "RawOutput", "Regressor", "Standardize",
           "label_values"]

#: The symbolic batch dimension of every exported input and output.
BATCH = "batch"


@dataclass(frozen=True)
class Output:
    """A graph output: its name, element type and shape (``"batch"`` is symbolic)."""

    name: str
    dtype: np.dtype
    shape: tuple[int | str, ...]


class Head(Protocol):
    """The outputs of a plan: declared by :meth:`outputs`, written by :meth:`emit`."""

    def outputs(self, dtype: np.dtype) -> list[Output]: ...

    def emit(self, g: Graph, y: str, names: dict[str, str],
             dtype: np.dtype | None) -> None: ...


def _finish(g: Graph, value: str, name: str, dtype: np.dtype | None) -> None:
    """Write ``value`` (of ``g.dtype``) to the output ``name``, cast to ``dtype`` if given."""
    if dtype is None or np.dtype(dtype) == g.dtype:
        g.alias(value, name)
    else:
        g.op("Cast", value, out=name, to=onnx_type(dtype))


def label_values(classes: Any) -> np.ndarray:
    """The class labels as an ONNX label tensor holds them, skl2onnx's convention:
    int64 for integer, boolean and integer-valued float labels, strings for strings.

    Raises
    ------
    ValueError
        For labels that are neither (e.g. 0.5), or a mixture, naming them.
    """
    classes = np.asarray(classes)
    items = classes.tolist()
    if all(isinstance(c, str) for c in items):
        return np.array(items, dtype=object)
    if all(isinstance(c, numbers.Integral) for c in items):  # bool included
        return np.array([int(c) for c in items], dtype=np.int64)
    if all(isinstance(c, numbers.Real) and float(c).is_integer() for c in items):
        return np.array([int(c) for c in items], dtype=np.int64)
    raise ValueError(f"class labels {items!r} cannot be ONNX labels: ONNX classifiers "
                     "label with integers or strings (skl2onnx's convention); encode the "
                     "classes as integers or strings before fitting")


@dataclass
class RawOutput:
    """The network's output as ``model.predict`` returns it, named ``output``."""

    width: int
    name: str = "output"

    def outputs(self, dtype: np.dtype) -> list[Output]:
        """(batch, width) of the network's dtype."""
        return [Output(self.name, np.dtype(dtype), (BATCH, self.width))]

    def emit(self, g: Graph, y: str, names: dict[str, str], dtype: np.dtype | None) -> None:
        """Name the network's output."""
        _finish(g, y, names[self.name], dtype)


@dataclass
class Regressor:
    """Predicted values, named ``variable`` (skl2onnx's name), shape (batch, outputs).

    With ``target_scaler`` = (mean, scale) the network's standardised output is mapped
    back to the target's units in float64: y = z·scale + mean, as ``ffnn predict`` does.
    """

    width: int
    target_scaler: tuple[np.ndarray, np.ndarray] | None = None
    name: str = "variable"

    def outputs(self, dtype: np.dtype) -> list[Output]:
        """(batch, width): float64 with a target scaler, the network's dtype otherwise."""
        out = np.dtype(np.float64) if self.target_scaler is not None else np.dtype(dtype)
        return [Output(self.name, out, (BATCH, self.width))]

    def emit(self, g: Graph, y: str, names: dict[str, str], dtype: np.dtype | None) -> None:
        """The values, mapped back to the target's units when there is a scaler."""
        if self.target_scaler is not None:
            if g.dtype != np.float64:
                y = g.op("Cast", y, to=onnx_type(np.float64))
            g.dtype = np.dtype(np.float64)
            mean, scale = self.target_scaler
            y = g.op("Add", g.op("Mul", y, g.const(scale, "target_scale")),
                     g.const(mean, "target_mean"))
        _finish(g, y, names[self.name], dtype)


@dataclass
class Classifier:
    """A classifier's ``label`` and its ``probabilities`` (or ``scores``).

    Parameters
    ----------
    classes : array
        The labels in output order (see :func:`label_values`).
    kind : {"probabilities", "multilabel", "scores"}
        What the network outputs: class probabilities, independent label
        probabilities (each label is predicted where its probability is > 0.5), or
        linear scores (the largest wins).
    single_column : bool
        Two classes from one network output: the probability of ``classes[1]``
        (predicted where > 0.5, as scikit-learn's LabelBinarizer) or its score
        (predicted where > 0, as a linear classifier's ``decision_function``).
    second : str
        Name of the second output.
    two_columns : bool
        With ``single_column``, whether the second output has two columns ([1 − p, p]
        or [−s, s], as ``predict_proba`` and skl2onnx) or the one column, squeezed (as
        ``decision_function``).
    """

    classes: Any
    kind: str = "probabilities"
    single_column: bool = False
    second: str = "probabilities"
    two_columns: bool = True
    labels: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("probabilities", "multilabel", "scores"):
            raise ValueError(f"unknown classifier output kind {self.kind!r}")
        self.labels = label_values(self.classes)
        if self.single_column and (self.kind == "multilabel" or len(self.labels) != 2):
            raise ValueError(f"one output column needs two classes, got {len(self.labels)}")

    def outputs(self, dtype: np.dtype) -> list[Output]:
        """``label``: (batch,), or (batch, labels) for multi-label; then the second."""
        n = len(self.labels)
        label_shape: tuple[int | str, ...] = (BATCH, n) if self.kind == "multilabel" else (BATCH,)
        label_dtype = np.dtype(np.int64) if self.kind == "multilabel" else self.labels.dtype
        second: tuple[int | str, ...] = (BATCH,) if self.single_column and not self.two_columns \
            else (BATCH, n)
        return [Output("label", label_dtype, label_shape),
                Output(self.second, np.dtype(dtype), second)]

    def emit(self, g: Graph, y: str, names: dict[str, str], dtype: np.dtype | None) -> None:
        """The label (threshold or arg max) and the second output."""
        label, second = names["label"], names[self.second]
        if self.kind == "multilabel":
            above = g.op("Greater", y, g.scalar(0.5))
            g.op("Cast", above, out=label, to=onnx_type(np.int64))
            _finish(g, y, second, dtype)
            return
        classes = g.const(self.labels, "classes")
        if not self.single_column:
            g.op("Gather", classes, g.op("ArgMax", y, axis=1, keepdims=0), out=label, axis=0)
            _finish(g, y, second, dtype)
            return
        column = g.op("Squeeze", y, g.ints([1]))
        cut = 0.5 if self.kind == "probabilities" else 0.0  # p > 0.5, or s > 0
        positive = g.op("Cast", g.op("Greater", column, g.scalar(cut)), to=onnx_type(np.int64))
        g.op("Gather", classes, positive, out=label, axis=0)
        if not self.two_columns:
            _finish(g, column, second, dtype)
            return
        other = g.op("Sub", g.scalar(1.0), y) if self.kind == "probabilities" \
            else g.op("Neg", y)
        _finish(g, g.op("Concat", other, y, axis=1), second, dtype)


@dataclass
class Standardize:
    """z = (x − mean) / scale, in float64 as the command line standardises its features."""

    mean: np.ndarray
    scale: np.ndarray
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))

    def emit(self, g: Graph, x: str) -> str:
        """``Div(Sub(x, mean), scale)``."""
        return g.op("Div", g.op("Sub", x, g.const(self.mean, "feature_mean")),
                    g.const(self.scale, "feature_scale"))


@dataclass
class Impute:
    """x with each NaN replaced by its column's fill value (the command line's median
    imputation): ``Where(IsNaN(x), fill, x)``."""

    fill: np.ndarray
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))

    def emit(self, g: Graph, x: str) -> str:
        """``Where(IsNaN(x), fill, x)``."""
        return g.op("Where", g.op("IsNaN", x), g.const(self.fill, "feature_fill"), x)


class Step(Protocol):
    """A preprocessing step: computes in ``dtype`` and maps a batch to a batch."""

    dtype: np.dtype

    def emit(self, g: Graph, x: str) -> str: ...


@dataclass
class Plan:
    """One exportable computation (see the module docstring).

    Attributes
    ----------
    name : str
        The graph's name.
    n_features : int
        Width of the input.
    input_dtype : numpy.dtype
        The input's element type in a standalone graph.
    body : callable ``body(g, x) -> str``
        The network on a batch of ``body_dtype``.
    body_dtype : numpy.dtype
    head : Head
    preprocessing : sequence of Step
    doc : str
        The model's description (its ``doc_string``).
    metadata : dict of str to str
        ``metadata_props`` of the model (feature names, target, ...).
    """

    name: str
    n_features: int
    input_dtype: np.dtype
    body: Callable[[Graph, str], str]
    body_dtype: np.dtype
    head: Head
    preprocessing: Sequence[Step] = ()
    doc: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def emit(self, g: Graph, x: str, x_dtype: Any, names: dict[str, str],
             out_dtype: Any = None) -> None:
        """Write the whole computation on the input ``x`` (of ``x_dtype``) to the outputs
        ``names`` (logical name → graph name), floating outputs cast to ``out_dtype``
        when given."""
        g.dtype = np.dtype(x_dtype)
        for step in self.preprocessing:
            x = self._cast(g, x, step.dtype)
            x = step.emit(g, x)
        x = self._cast(g, x, self.body_dtype)
        y = self.body(g, x)
        self.head.emit(g, y, names, None if out_dtype is None else np.dtype(out_dtype))

    @staticmethod
    def _cast(g: Graph, x: str, dtype: Any) -> str:
        dtype = np.dtype(dtype)
        if g.dtype != dtype:
            x = g.op("Cast", x, to=onnx_type(dtype))
            g.dtype = dtype
        return x
