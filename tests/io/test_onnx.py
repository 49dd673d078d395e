"""ONNX export of networks: every layer and activation of the registries, both dtypes,
checked by ``onnx.checker`` and run by ONNX Runtime against ``model.predict``."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import ffnn
from ffnn import RBF, Activation, Dense, Dropout, Maxout, PReLU, Sequential
from ffnn.io.onnx import OPSET, export_onnx, to_onnx
from ffnn.io.onnx.activations import ACTIVATION_EXPORTERS, erf_series_coefficients
from ffnn.io.onnx.layers import LAYER_EXPORTERS
from ffnn.nn.activations import ACTIVATIONS
from ffnn.nn.layers import LAYERS, Layer, MapMinMax, MapStd, RemoveConstantRows

DTYPES = (np.float32, np.float64)
#: The issue's tolerances: ONNX Runtime against model.predict.
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def run(proto: onnx.ModelProto, **inputs: np.ndarray) -> list[Any]:
    """Run a model in ONNX Runtime's CPU provider."""
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def column_scale(expected: np.ndarray) -> np.ndarray:
    """maxᵢ |yᵢⱼ| for each output column j: the scale of each output over a batch."""
    return np.max(np.abs(expected.reshape(len(expected), -1)), axis=0, initial=0.0)


def assert_close(actual: np.ndarray, expected: np.ndarray,
                 scale: np.ndarray | None = None) -> None:
    """For every output column j: maxᵢ |onnx_ij − ffnn_ij| ≤ rtol · maxᵢ |ffnn_ij|, the
    relative error at the scale of each output over the batch (``scale`` overrides the
    scale, e.g. with a larger batch's for a single row). Elementwise relative error
    would hold a value such as σ(−40) = 4e-18, beside values near 1, to 12 digits of
    its own, which neither ONNX Runtime's Sigmoid gives nor any use needs."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    rtol = RTOL[expected.dtype]
    exp2 = expected.reshape(len(expected), -1).astype(np.float64)
    err = np.abs(actual.reshape(exp2.shape) - exp2)
    bound = rtol * (column_scale(exp2) if scale is None else scale)
    ratio = np.where(err > 0, err / np.where(bound > 0, bound, np.inf), 0.0)
    if ratio.size and ratio.max() > 1.0:
        i, j = np.unravel_index(np.argmax(ratio), ratio.shape)
        raise AssertionError(f"ONNX differs from predict by {err[i, j]:.3g} in row {i}, "
                             f"column {j} (expected {exp2[i, j]!r}, got "
                             f"{actual.reshape(exp2.shape)[i, j]!r}; bound {bound[j]:.3g})")


def randomise(model: Sequential, rng: np.random.Generator, scale: float = 1.0) -> None:
    """Replace every parameter by N(0, scale²) draws (PReLU slopes, RBF widths included)."""
    model.set_weights([scale * rng.standard_normal(w.shape) for w in model.get_weights()])


def check_export(model: Sequential, x: np.ndarray) -> onnx.ModelProto:
    """The exported model passes the full checker and matches predict on ``x``, and on
    its first row alone, at the same scale (the batch dimension is dynamic)."""
    proto = to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    expected = model.predict(x)
    (out,) = run(proto, X=x)
    assert_close(out, expected)
    (row,) = run(proto, X=x[:1])
    assert_close(row, model.predict(x[:1]), column_scale(expected))
    return proto


def activation_inputs(rng: np.random.Generator, dtype: Any, width: int) -> np.ndarray:
    """Moderate values, and some far out to reach every branch and saturation."""
    return np.concatenate([3.0 * rng.standard_normal((60, width)),
                           rng.uniform(-40.0, 40.0, (20, width))]).astype(dtype)


# ------------------------------------------------------------------ activations
#: Non-default values of every activation parameter. A parameter added to an activation
#: must be added here (test_every_activation_parameter_is_exercised).
ACTIVATION_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "leaky_relu": [{"gamma": 0.2}],
    "elu": [{"gamma": 0.5}],
    "swish": [{"beta": 1.7}],
    "gelu": [{"approximate": "tanh"}, {"mu": 0.5, "sigma": 2.0},
             {"approximate": "tanh", "mu": -1.0, "sigma": 0.5}],
    "softmax": [{"axis": 0}],
}
ACTIVATION_CASES = [(name, {}) for name in ACTIVATIONS.names(aliases=False)] + [
    (name, params) for name, variants in ACTIVATION_VARIANTS.items() for params in variants]


def test_every_activation_has_an_onnx_export() -> None:
    """Guards against an activation added to the registry without an ONNX mapping."""
    missing = [n for n in ACTIVATIONS.names(aliases=False) if n not in ACTIVATION_EXPORTERS]
    assert not missing, f"activations without an ONNX export (add them to " \
                        f"ffnn/io/onnx/activations.py): {missing}"
    stale = sorted(set(ACTIVATION_EXPORTERS) - set(ACTIVATIONS.names(aliases=False)))
    assert not stale, f"ONNX exports of unregistered activations: {stale}"


def test_every_activation_parameter_is_exercised() -> None:
    """Guards against an activation parameter that no export test sets."""
    untested = []
    for name in ACTIVATIONS.names(aliases=False):
        params = list(inspect.signature(ACTIVATIONS.lookup(name)).parameters)[1:]
        varied = {key for variant in ACTIVATION_VARIANTS.get(name, []) for key in variant}
        untested += [f"{name}({p})" for p in params if p not in varied]
    assert not untested, f"add non-default values to ACTIVATION_VARIANTS for: {untested}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "params"), ACTIVATION_CASES,
                         ids=[f"{n}{p or ''}" for n, p in ACTIVATION_CASES])
def test_activation_matches_predict(name: str, params: dict[str, Any], dtype: Any,
                                    rng: np.random.Generator) -> None:
    """In a Dense layer (on Gemm's output) and as an Activation layer."""
    config = {"name": name, **params}
    model = Sequential([Dense(5, activation=config, input_dim=4), Activation(name, **params)],
                       dtype=dtype, seed=0)
    model.build()
    randomise(model, rng, scale=2.0)
    check_export(model, activation_inputs(rng, dtype, 4))


@pytest.mark.parametrize("alias", [a for a in ACTIVATIONS.names()
                                   if a not in ACTIVATIONS.names(aliases=False)])
def test_aliases_export_as_their_activation(alias: str, rng: np.random.Generator) -> None:
    """``logistic`` is ``sigmoid``, ``step`` is ``sign``, in the graph too."""
    model = Sequential([Activation(alias)], dtype="float64")
    model.build(3)
    check_export(model, activation_inputs(rng, np.float64, 3))


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40))
def test_float64_gelu_on_any_input(values: list[float]) -> None:
    """Guards the float64 erf series (ONNX Runtime has no float64 Erf) over the whole
    line: tails, the clamp at |x/√2| = 6 and zero. Each value is held to 1e-12 of
    itself plus 4 ulps of x, the accuracy of ½x(1 + erf(x/√2)) itself (for x < 0 the
    sum cancels; ffnn's value carries the same error)."""
    model = Sequential([Activation("gelu")], dtype="float64")
    model.build(1)
    x = np.array(values).reshape(-1, 1)
    (out,) = run(to_onnx(model), X=x)
    expected = model.predict(x)
    bound = 1e-12 * np.abs(expected) + 4 * np.finfo(np.float64).eps * np.abs(x)
    assert np.all(np.abs(out - expected) <= bound)


def test_erf_series_coefficients_sum_to_erf() -> None:
    """z·exp(−z²)·Σ cₙ·64ⁿ·(z²/64)ⁿ is erf(z) to a few ulps on [−6, 6] (DLMF 7.6.2),
    and no coefficient is one that float32 would flush to zero."""
    z = np.linspace(-6.0, 6.0, 2001)
    scaled = erf_series_coefficients(scale=64.0)
    series = z * np.exp(-z * z) * np.polynomial.polynomial.polyval(z * z / 64.0, scaled)
    np.testing.assert_allclose(series, special.erf(z), rtol=0, atol=2e-15)
    np.testing.assert_allclose(scaled, erf_series_coefficients() * 64.0 ** np.arange(98),
                               rtol=1e-13)
    assert scaled.min() > 1.0


# ----------------------------------------------------------------------- layers
#: At least one configuration of every layer of the registry.
LAYER_CASES: dict[str, list[Callable[[], Layer]]] = {
    "dense": [lambda: Dense(5, "tanh"), lambda: Dense(5, use_bias=False)],
    "activation": [lambda: Activation("leaky_relu", gamma=0.3)],
    "dropout": [lambda: Dropout(0.5)],
    "maxout": [lambda: Maxout(3, pieces=4)],
    "rbf": [lambda: RBF(5, gamma=0.7), lambda: RBF(5, trainable_gamma=True)],
    "prelu": [lambda: PReLU()],
    "mapminmax": [lambda: MapMinMax(x_min=[-2.0, 0.0, 1.0, -1.0], x_max=[3.0, 0.0, 4.0, 1.0]),
                  lambda: MapMinMax(0.0, 1.0, invert=True, x_min=[-1.0] * 4,
                                    x_max=[7.0, 2.0, 9.0, -0.5])],
    "mapstd": [lambda: MapStd(mean=[1.0, -2.0, 0.0, 3.0], std=[0.5, 2.0, 0.0, 4.0]),
               lambda: MapStd(invert=True, mean=[100.0] * 4, std=[20.0, 3.0, 0.1, 1.0])],
    "removeconstantrows": [lambda: RemoveConstantRows(keep=[1, 3], n_inputs=4)],
}
LAYER_PARAMS = [(name, i) for name, makers in LAYER_CASES.items() for i in range(len(makers))]


def test_every_layer_has_an_onnx_export_and_a_test() -> None:
    """Guards against a layer added to the registry without an ONNX mapping or test."""
    names = LAYERS.names(aliases=False)
    missing = [n for n in names if n not in LAYER_EXPORTERS]
    assert not missing, f"layers without an ONNX export (add them to " \
                        f"ffnn/io/onnx/layers.py): {missing}"
    untested = [n for n in names if n not in LAYER_CASES]
    assert not untested, f"layers without a case in LAYER_CASES: {untested}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "index"), LAYER_PARAMS,
                         ids=[f"{n}{i}" for n, i in LAYER_PARAMS])
def test_layer_matches_predict(name: str, index: int, dtype: Any,
                               rng: np.random.Generator) -> None:
    """Each layer alone, with random parameters, on random inputs."""
    model = Sequential([LAYER_CASES[name][index]()], dtype=dtype, seed=0)
    model.build(4)
    randomise(model, rng)
    check_export(model, rng.standard_normal((30, 4)).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_deep_network_of_every_layer(dtype: Any, rng: np.random.Generator) -> None:
    """Layers feeding each other, down to a softmax."""
    model = Sequential([Dense(8, "elu", input_dim=5), PReLU(), Dropout(0.2),
                        Maxout(6, pieces=3), RBF(7, trainable_gamma=True),
                        Dense(6, "gelu"), Activation("swish", beta=0.5),
                        Dense(3, "softmax")], dtype=dtype, seed=0)
    model.build()
    randomise(model, rng, scale=0.5)
    check_export(model, rng.standard_normal((50, 5)).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_processed_network_takes_raw_inputs(dtype: Any, rng: np.random.Generator) -> None:
    """A fitted network with input and target processing (MATLAB's processFcns): the
    graph takes raw inputs and returns outputs in the targets' units, as predict does."""
    x = np.column_stack([rng.uniform(0, 500, 80), np.full(80, 3.0), rng.normal(size=80)])
    y = 1000.0 + 300.0 * np.tanh(x[:, :1] / 200.0 - 1.0) + 10.0 * x[:, 2:]
    model = Sequential([RemoveConstantRows(), MapStd(), Dense(6, "tanh"), Dense(1),
                        MapMinMax(invert=True)], dtype=dtype, seed=0)
    model.compile("lm", "mse")
    model.fit(x, y, epochs=5, verbose=0)
    check_export(model, x.astype(dtype))


@settings(max_examples=25)
@given(widths=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       names=st.lists(st.sampled_from(ACTIVATIONS.names()), min_size=3, max_size=3),
       dtype=st.sampled_from(DTYPES), rows=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_any_dense_stack_matches_predict(widths: list[int], names: list[str], dtype: Any,
                                         rows: int, seed: int) -> None:
    """Property: any stack of Dense layers, with any registered activation (aliases
    included), in either dtype, on any batch size."""
    rng = np.random.default_rng(seed)
    layers = [Dense(w, activation=a, input_dim=3 if i == 0 else None)
              for i, (w, a) in enumerate(zip(widths, names, strict=False))]
    model = Sequential(layers, dtype=dtype, seed=0)
    model.build()
    randomise(model, rng)
    check_export(model, rng.standard_normal((rows, 3)).astype(dtype))


def test_graph_layout(rng: np.random.Generator) -> None:
    """One symbolic batch dimension, opset 21, weights stored as (units, inputs) under
    their model-file names and multiplied by Gemm with transB=1."""
    model = Sequential([Dense(3, "relu", input_dim=2, name="hidden")], seed=0)
    model.build()
    proto = to_onnx(model)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", OPSET)] == [("", 21)]
    assert proto.producer_name == "ffnn" and proto.producer_version == ffnn.__version__
    (x,) = proto.graph.input
    assert x.name == "X" and x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["batch", 2]
    (y,) = proto.graph.output
    assert y.name == "output"
    assert [d.dim_param or d.dim_value for d in y.type.tensor_type.shape.dim] == ["batch", 3]
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    np.testing.assert_array_equal(weights["hidden/kernel"], model.layers[0].kernel.data)
    gemm = next(n for n in proto.graph.node if n.op_type == "Gemm")
    assert {a.name: a.i for a in gemm.attribute} == {"transB": 1}
    (out,) = run(proto, X=np.zeros((0, 2), np.float32))
    assert out.shape == (0, 3)


# ----------------------------------------------------------------------- errors
def test_plain_callable_activation_is_refused() -> None:
    """A lambda has no ONNX form; the error names it and the layer."""
    model = Sequential([Dense(2, activation=lambda t: t * 2.0, input_dim=2, name="twice")])
    model.build()
    with pytest.raises(ValueError, match=r"layer 'twice'.*'custom:<lambda>'.*plain Python"):
        to_onnx(model)


def test_activation_without_export_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """An activation missing from the table (say, one added later) is named."""
    monkeypatch.delitem(ACTIVATION_EXPORTERS, "swish")
    model = Sequential([Activation("swish")])
    model.build(2)
    with pytest.raises(ValueError, match="activation 'swish' has no ONNX export"):
        to_onnx(model)


def test_activation_parameter_unknown_to_the_export_is_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against silently dropping a parameter the emitter does not know (as a
    parameter added to an activation later would be)."""
    monkeypatch.setitem(ACTIVATION_EXPORTERS, "leaky_relu", lambda g, x: x)
    model = Sequential([Activation("leaky_relu", gamma=0.5)])
    model.build(2)
    with pytest.raises(ValueError, match="'leaky_relu' has parameter\\(s\\) 'gamma'"):
        to_onnx(model)


def test_unregistered_layer_is_named() -> None:
    """A Layer subclass outside the registry cannot be exported."""

    class Doubler(Layer):
        def call(self, x: Any, training: bool = False) -> Any:
            return x * 2.0

    model = Sequential([Doubler(name="doubler")])
    model.build(2)
    with pytest.raises(ValueError, match="layer 'doubler' \\(Doubler\\) is not in ffnn's"):
        to_onnx(model)


def test_layer_without_export_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered layer missing from the table is named."""
    monkeypatch.delitem(LAYER_EXPORTERS, "maxout")
    model = Sequential([Maxout(2)])
    model.build(3)
    with pytest.raises(ValueError, match="\\(Maxout\\) has no ONNX export"):
        to_onnx(model)


def test_unbuilt_model_and_other_objects_are_refused() -> None:
    """The model must be built; only networks and ffnn estimators are exported."""
    with pytest.raises(ValueError, match="is not built"):
        to_onnx(Sequential([Dense(2)]))
    with pytest.raises(TypeError, match="cannot export a dict"):
        to_onnx({})


# ----------------------------------------------------------------- files, import
def test_export_onnx_writes_the_file(tmp_path: Path, rng: np.random.Generator) -> None:
    """``ffnn.export_onnx(model, path)`` writes what it returns; ONNX Runtime loads the
    file; a second export replaces it and leaves no temporary file."""
    model = Sequential([Dense(4, "tanh", input_dim=3), Dense(2)], seed=0, name="net")
    model.build()
    path = tmp_path / "net.onnx"
    proto = ffnn.export_onnx(model, path)
    assert onnx.load(str(path)) == proto and proto.graph.name == "net"
    x = rng.standard_normal((5, 3)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert_close(session.run(None, {"X": x})[0], model.predict(x))
    export_onnx(model, str(path), name="renamed")
    assert onnx.load(str(path)).graph.name == "renamed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx"]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)


def test_import_ffnn_does_not_import_onnx() -> None:
    """Guards the light import: onnx loads with the first export, not before."""
    result = _python("import sys, ffnn\n"
                     "f = ffnn.export_onnx, ffnn.io.onnx.to_onnx\n"
                     "print('onnx' in sys.modules)\n"
                     "m = ffnn.Sequential([ffnn.Dense(1, input_dim=1)]); m.build()\n"
                     "ffnn.io.onnx.to_onnx(m)\n"
                     "print('onnx' in sys.modules)\n")
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_missing_onnx_names_the_extra() -> None:
    """Without the onnx package, exporting says which extra to install."""
    result = _python("import sys\n"
                     "sys.modules['onnx'] = None\n"
                     "import ffnn\n"
                     "m = ffnn.Sequential([ffnn.Dense(1, input_dim=1)]); m.build()\n"
                     "try:\n"
                     "    ffnn.export_onnx(m, 'never-written.onnx')\n"
                     "except ImportError as exc:\n"
                     "    print(exc)\n")
    assert "pip install ffnn[onnx]" in result.stdout, result.stderr


def test_tolerance_helper_can_fail() -> None:
    """The comparison is not vacuous: a relative error of 2e-12 in float64 fails."""
    expected = np.array([[1.0, math.pi]])
    assert_close(expected * (1 + 4e-13), expected)
    with pytest.raises(AssertionError, match="differs"):
        assert_close(expected * (1 + 2e-12), expected)
