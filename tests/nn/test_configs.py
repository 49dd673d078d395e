"""Issue 11 #11: every named thing validates its config when it is built, from code or
from a file, instead of failing later (at ``predict``, with NumPy's raw errors).

The tests walk the registries, so a new layer, activation, loss, regulariser or
initialiser is covered as soon as it is registered.
"""

from __future__ import annotations

import inspect
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Activation, Dense, Sequential
from ffnn.exceptions import ModelFileError
from ffnn.nn import activations
from ffnn.nn.activations import ACTIVATIONS
from ffnn.nn.initializers import INITIALIZERS
from ffnn.nn.layers import LAYERS
from ffnn.nn.losses import LOSSES
from ffnn.nn.regularizers import REGULARIZERS

#: Values for the parameters that have no default (everything else uses its default).
REQUIRED = {"units": 2, "rate": 0.5}


def _wrong_values(default: Any) -> list[Any]:
    """Values of a wrong type for a parameter whose default is ``default``."""
    common: list[Any] = [object(), [1], {"x": 1}]
    if isinstance(default, bool):
        return [*common, "yes", 1, 0.0, None]
    if isinstance(default, int):
        return [*common, 1.5, "3", True, None]
    if isinstance(default, float):
        return [*common, "0.5", True, math.nan, math.inf, None]
    if isinstance(default, str):
        return [*common, 5, True]
    return common  # None or an identifier default (str/dict/callable accepted)


def _class_cases() -> list[tuple[str, Any, str, Any]]:
    """(label, class, parameter, wrong value) for every registered class."""
    cases = []
    for family, registry in (("layer", LAYERS), ("loss", LOSSES),
                             ("regularizer", REGULARIZERS), ("initializer", INITIALIZERS)):
        for name in registry.names(aliases=False):
            cls = registry.lookup(name)
            for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
                if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    continue
                default = REQUIRED.get(p.name, p.default)
                for i, value in enumerate(_wrong_values(default)):
                    cases.append((f"{family}:{name}:{p.name}:{i}", cls, p.name, value))
    return cases


CLASS_CASES = _class_cases()


def _required(cls: Any) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in REQUIRED.items() if k in params}


@pytest.mark.filterwarnings("ignore:Dense\\(output_dim:DeprecationWarning")
@pytest.mark.parametrize(("label", "cls", "param", "value"), CLASS_CASES,
                         ids=[c[0] for c in CLASS_CASES])
def test_defect_11_wrong_types_are_refused_at_construction(label: str, cls: Any, param: str,
                                                           value: Any) -> None:
    """issue 11 #11: a value of the wrong kind (a string for a flag, a float for a
    count, NaN for a number, an object for a name) raises TypeError/ValueError when the
    object is built, naming the parameter or the value."""
    kwargs = {**_required(cls), param: value}
    with pytest.raises((TypeError, ValueError)) as info:
        cls(**kwargs)
    message = str(info.value)
    assert param in message or repr(value) in message or type(value).__name__ in message, \
        message


@pytest.mark.parametrize("family", ["layer", "loss", "regularizer", "initializer"])
def test_defect_11_unknown_keys_are_refused_from_configs(family: str) -> None:
    """An unknown key in a config dict is refused naming it, for every registered name."""
    registry, get = {
        "layer": (LAYERS, None),
        "loss": (LOSSES, ffnn.losses.get),
        "regularizer": (REGULARIZERS, ffnn.regularizers.get),
        "initializer": (INITIALIZERS, ffnn.initializers.get),
    }[family]
    for name in registry.names(aliases=False):
        cls = registry.lookup(name)
        with pytest.raises((TypeError, ValueError), match="bogus_key"):
            if get is None:
                cls.from_config({**_required(cls), "bogus_key": 1})
            else:
                get({"name": name, "bogus_key": 1})


@pytest.mark.parametrize("name", ACTIVATIONS.names(aliases=False))
def test_defect_11_activation_params_are_checked_for_every_activation(name: str) -> None:
    """Every activation refuses unknown parameters and wrongly typed ones at once."""
    with pytest.raises(ValueError, match="bogus"):
        activations.get({"name": name, "bogus": 1})
    fn = ACTIVATIONS.lookup(name)
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        for value in _wrong_values(p.default):
            with pytest.raises((TypeError, ValueError)):
                activations.get({"name": name, p.name: value})


@pytest.mark.parametrize("axis", [5, 2, -3, 100])
@pytest.mark.parametrize("where", ["Dense", "Activation"])
def test_defect_11_softmax_axis_out_of_range_is_refused_when_built(axis: int,
                                                                  where: str) -> None:
    """issue 11 #11: Dense(2, input_dim=3, activation={"name": "softmax", "axis": 5})
    was accepted and failed at predict with NumPy's raw AxisError."""
    act = {"name": "softmax", "axis": axis}
    with pytest.raises(ValueError, match=rf"softmax.*axis {axis}.*rank 2"):
        if where == "Dense":
            Dense(2, input_dim=3, activation=act)
        else:
            Activation(act)


@pytest.mark.parametrize("axis", [-2, -1, 0, 1])
def test_defect_11_softmax_axes_in_range_still_work(axis: int) -> None:
    model = Sequential([Dense(3, input_dim=2, activation={"name": "softmax", "axis": axis})],
                       seed=0, dtype="float64")
    out = model.predict(np.arange(8.0).reshape(4, 2) / 8)
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-12)


def _saved(tmp_path: Path) -> Path:
    model = Sequential([Dense(3, "softmax", input_dim=2), Dense(2, "tanh")], seed=0)
    model.compile("adam", "mse")
    model.build()
    path = tmp_path / "m.safetensors"
    model.save(path)
    return path


def _edit_layer_config(path: Path, index: int, key: str, value: Any) -> None:
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    doc = json.loads(header["__metadata__"]["ffnn"])
    doc["model"]["layers"][index]["config"][key] = value
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])


@pytest.mark.parametrize(("key", "value", "pattern"), [
    ("activation", {"name": "softmax", "axis": 5}, r"axis 5"),
    ("activation", {"name": "leaky_relu", "gamma": "x"}, r"gamma"),
    ("activation", {"name": "softmax", "bogus": 1}, r"bogus"),
    ("units", 2.5, r"units"),
    ("use_bias", "no", r"use_bias"),
    ("kernel_initializer", {"name": "normal", "stddev": -1.0}, r"stddev"),
    ("kernel_initializer", {"name": "constant", "value": 1e300}, r"overflows|value"),
    ("kernel_regularizer", {"name": "l2", "lam": "big"}, r"lam"),
    ("name", 7, r"name"),
    ("bogus_option", 1, r"bogus_option"),
])
def test_defect_11_bad_configs_in_a_model_file_are_refused_on_load(
        tmp_path: Path, key: str, value: Any, pattern: str) -> None:
    """The same checks guard model files: ffnn.load raises ModelFileError naming the
    problem (never an AxisError at predict, never a RuntimeWarning)."""
    path = _saved(tmp_path)
    _edit_layer_config(path, 0, key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError, match=pattern):
            ffnn.load(path)


def test_defect_11_initializer_values_beyond_the_dtype_are_refused() -> None:
    """A constant initialiser of 1e300 in a float32 layer: one error naming it, not a
    RuntimeWarning and infinite weights."""
    model = Sequential([Dense(2, input_dim=2, kernel_initializer={"name": "constant",
                                                                  "value": 1e300})])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"kernel_initializer.value = 1e\+300 overflows "
                                             r"float32"):
            model.build()
        init = ffnn.initializers.get({"name": "normal", "mean": 1e39, "stddev": 1.0})
        with pytest.raises(ValueError, match=r"initializer 'normal' holds .* overflows float32"):
            init((2, 2), np.random.default_rng(0), np.float32)
    assert init((2, 2), np.random.default_rng(0), np.float64).dtype == np.float64


def _json_wrong_values(default: Any) -> list[Any]:
    """The wrong values a JSON document can hold (no bare object, no NaN or inf)."""
    return [v for v in _wrong_values(default)
            if type(v) is not object and not (isinstance(v, float) and not math.isfinite(v))]


def _file_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for name in LAYERS.names(aliases=False):
        cls = LAYERS.lookup(name)
        config = cls(**_required(cls)).get_config()
        params = inspect.signature(cls.__init__).parameters
        for key in config:
            default = REQUIRED.get(key, params[key].default if key in params else None)
            cases += [(name, key, v) for v in _json_wrong_values(default)
                      # a one-element list is a valid choice of kept features
                      if not (name == "removeconstantrows" and key == "keep" and v == [1])]
    return cases


@pytest.mark.filterwarnings("ignore:Dense\\(output_dim:DeprecationWarning")
@pytest.mark.parametrize(("name", "key", "value"), _file_cases())
def test_defect_11_every_layer_option_is_checked_in_model_files(
        tmp_path: Path, name: str, key: str, value: Any) -> None:
    """issue 11 #11, registry-driven through files: every option of every registered
    layer, given a value of the wrong kind in a model file, makes ffnn.load raise a
    ModelFileError naming the layer (never a later failure or a silently coerced
    layer)."""
    cls = LAYERS.lookup(name)
    layer = cls(**_required(cls))
    if hasattr(layer, "adapt"):  # preprocessing layers are saved with their statistics
        layer.adapt(np.random.default_rng(0).normal(size=(6, 3)))
    model = Sequential([Dense(3, "tanh", input_dim=2), layer], seed=0)
    model.build()
    path = tmp_path / "m.safetensors"
    model.save(path)
    _edit_layer_config(path, 1, key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError, match=rf"layer 1 \({cls.__name__}\)"):
            ffnn.load(path)
