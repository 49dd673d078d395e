"""The graph builders the ONNX emitters write to.

An emitter (an activation, a layer, a head) sees a :class:`Graph`: it adds constants
with :meth:`Graph.const` and nodes with :meth:`Graph.op`, and never touches ONNX protos
itself. :class:`ModelGraph` collects them into a standalone ``onnx.ModelProto``;
:class:`ContainerGraph` writes the same nodes into skl2onnx's container for the
converters of :mod:`ffnn.estimators.onnx_export`. Of :mod:`ffnn.io.onnx`, only this
module and :mod:`.export` (which runs the checker) import ``onnx``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .opset import OPSET

__all__ = ["OPSET", "ContainerGraph", "Graph", "ModelGraph", "describe", "onnx_type",
           "value_info"]


def onnx_type(dtype: Any) -> int:
    """The ONNX element type of a NumPy dtype (``str`` and object arrays: STRING)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OUS":
        return int(TensorProto.STRING)
    return int(helper.np_dtype_to_tensor_dtype(dtype))


def value_info(name: str, dtype: Any, shape: Sequence[int | str]) -> onnx.ValueInfoProto:
    """A graph input or output of ``dtype`` and ``shape`` (strings are symbolic dims)."""
    return helper.make_tensor_value_info(name, onnx_type(dtype), list(shape))


def describe(value: onnx.ValueInfoProto) -> str:
    """``X (float64, batch × 4)``: a graph input or output in words."""
    tensor = value.type.tensor_type
    dims = " × ".join(d.dim_param or str(d.dim_value) for d in tensor.shape.dim)
    kind = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
    return f"{value.name} ({'string' if kind.kind == 'O' else kind.name}, {dims})"


class Graph:
    """Where emitters write: constants, nodes and named outputs.

    Attributes
    ----------
    dtype : numpy.dtype
        The floating-point type of the values being computed; :meth:`scalar` makes
        constants of it. The emitters of a stage set it (the scaler in front of a
        float32 network runs in float64, as ``ffnn predict`` does).
    prefix : str
        Prepended to the names of new values (a layer's emitter runs with
        ``"<layer name>/"``).
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.prefix = ""
        self._consts: dict[tuple[str, tuple[int, ...], bytes], str] = {}

    # ------------------------------------------------------------ backend hooks
    def _name(self, hint: str) -> str:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def _add_initializer(self, name: str, array: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def _add_node(self, op_type: str, inputs: list[str], outputs: list[str],
                  attrs: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    # ----------------------------------------------------------------- emitters
    def const(self, value: Any, name: str = "const", dtype: Any = None) -> str:
        """An initializer holding ``value`` as ``dtype`` (default: :attr:`dtype` for
        floating-point values, their own type for integers and strings); equal
        constants are shared."""
        array = np.asarray(value)
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype.kind == "f":
            array = array.astype(self.dtype)
        if array.dtype.kind == "U":
            array = array.astype(object)
        key = (array.dtype.str, array.shape,
               repr(array.tolist()).encode() if array.dtype.kind == "O" else array.tobytes())
        if key not in self._consts:
            unique = self._name(name)
            self._add_initializer(unique, np.array(array, order="C"))  # keeps 0-d
            self._consts[key] = unique
        return self._consts[key]

    def scalar(self, value: float) -> str:
        """A 0-d constant of :attr:`dtype` (shared between uses)."""
        return self.const(np.asarray(value, dtype=self.dtype), "c")

    def ints(self, values: Sequence[int]) -> str:
        """A 1-d int64 constant (axes, shapes)."""
        return self.const(np.asarray(values, dtype=np.int64), "axes")

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: Any) -> str:
        """Add one node ``op_type(*inputs, **attrs)`` with one output; return its name
        (``out`` when given, a fresh name otherwise)."""
        output = out if out is not None else self._name(f"{self.prefix}{op_type.lower()}")
        self._add_node(op_type, list(inputs), [output], attrs)
        return output

    def alias(self, value: str, name: str) -> None:
        """Make ``value`` available under ``name`` (a graph output): an Identity node."""
        self.op("Identity", value, out=name)


class ModelGraph(Graph):
    """A standalone graph, turned into an ``onnx.ModelProto`` by :meth:`model`.

    Names are made unique by a numeric suffix; :meth:`alias` renames the node that
    produced a value instead of adding an Identity, so graph outputs come straight
    from the last operation.
    """

    def __init__(self, dtype: Any) -> None:
        super().__init__(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._taken: set[str] = set()
        self._outputs: set[str] = set()

    def reserve(self, name: str) -> str:
        """Claim ``name`` (a graph input or output) so that no other value takes it."""
        if name in self._taken:
            raise ValueError(f"the name {name!r} is already used in the graph")
        self._taken.add(name)
        return name

    def _name(self, hint: str) -> str:
        name, k = hint, 0
        while name in self._taken:
            k += 1
            name = f"{hint}_{k}"
        self._taken.add(name)
        return name

    def _add_initializer(self, name: str, array: np.ndarray) -> None:
        self.initializers.append(numpy_helper.from_array(array, name))

    def _add_node(self, op_type: str, inputs: list[str], outputs: list[str],
                  attrs: dict[str, Any]) -> None:
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=outputs[0], **attrs))

    def alias(self, value: str, name: str) -> None:
        """Rename ``value`` to ``name`` (reserved beforehand) where a node of this graph
        produced it and it is not already a graph output; an Identity node otherwise."""
        self._outputs.add(name)
        producer = next((n for n in self.nodes if value in n.output), None)
        if producer is None or value in self._outputs:
            self._add_node("Identity", [value], [name], {})
            return
        for node in self.nodes:
            node.output[:] = [name if o == value else o for o in node.output]
            node.input[:] = [name if i == value else i for i in node.input]

    def model(self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto],
              name: str, doc: str, metadata: dict[str, str], producer_version: str
              ) -> onnx.ModelProto:
        """The ModelProto of opset :data:`OPSET`, with the lowest IR version that carries
        it (so that older runtimes load it too)."""
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers,
                                  doc_string=doc)
        opsets = [helper.make_opsetid("", OPSET)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="ffnn",
                                  producer_version=producer_version, doc_string=doc,
                                  ir_version=helper.find_min_ir_version_for(opsets))
        helper.set_model_props(model, metadata)
        return model


class ContainerGraph(Graph):
    """A graph written into skl2onnx's ``scope`` and ``container`` (for the converters
    of :mod:`ffnn.estimators.onnx_export`); names come from the scope."""

    def __init__(self, scope: Any, container: Any, dtype: Any) -> None:
        super().__init__(dtype)
        self._scope = scope
        self._container = container

    def _name(self, hint: str) -> str:
        return str(self._scope.get_unique_variable_name(hint))

    def _add_initializer(self, name: str, array: np.ndarray) -> None:
        shape = list(array.shape)
        if array.dtype == object:  # skl2onnx copies a TensorProto's raw bytes only
            values = [str(s).encode("utf-8") for s in array.ravel()]
            self._container.add_initializer(name, TensorProto.STRING, shape, values)
        else:
            self._container.add_initializer(name, onnx_type(array.dtype), shape,
                                            numpy_helper.from_array(array, name))

    def _add_node(self, op_type: str, inputs: list[str], outputs: list[str],
                  attrs: dict[str, Any]) -> None:
        self._container.add_node(op_type, inputs, outputs,
                                 name=self._scope.get_unique_operator_name(op_type), **attrs)
