"""Preprocessing layers (MATLAB's processFcns): hand-computed values, adapt on the
training rows in fit, target processing in original units, model files and their checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import ffnn
from ffnn import Dense, Sequential
from ffnn.exceptions import ModelFileError
from ffnn.layers import MapMinMax, MapStd, RemoveConstantRows
from ffnn.nn.layers.preprocessing import adapt_layers


def _run(layer: Any, x: np.ndarray) -> np.ndarray:
    layer.build((None, x.shape[1]), np.random.default_rng(0), np.float64)
    return layer(x).data


def test_mapminmax_matches_matlabs_documented_example() -> None:
    """mapminmax's doc example x1 = [1 2 4; 1 1 1; 3 2 2; 0 0 0] (features in MATLAB's
    rows, ffnn's columns): each feature to [-1, 1], a constant one to -1 (gain 1)."""
    x = np.array([[1, 2, 4], [1, 1, 1], [3, 2, 2], [0, 0, 0]], dtype=float).T
    layer = MapMinMax()
    layer.adapt(x)
    want = np.array([[-1, -1 / 3, 1], [-1, -1, -1], [1, -1, -1], [-1, -1, -1]]).T
    np.testing.assert_allclose(_run(layer, x), want, rtol=0, atol=1e-15)
    assert layer.x_min.tolist() == [1, 1, 2, 0] and layer.x_max.tolist() == [4, 1, 3, 0]


def test_mapstd_uses_the_sample_standard_deviation(rng: np.random.Generator) -> None:
    x = rng.normal(3.0, 2.0, size=(40, 3))
    x[:, 1] = 5.0
    layer = MapStd(y_mean=1.0, y_std=0.5)
    layer.adapt(x)
    want = (x - x.mean(0)) / np.where(x.std(0, ddof=1) > 0, x.std(0, ddof=1), 0.5) * 0.5 + 1.0
    want[:, 1] = x[:, 1] - 5.0 + 1.0  # gain 1 for a constant feature
    np.testing.assert_allclose(_run(layer, x), want, rtol=1e-13)


@pytest.mark.parametrize("make", [MapMinMax, MapStd, lambda: MapMinMax(0.0, 2.0)])
def test_inverse_undoes_the_forward_map(make: Any, rng: np.random.Generator) -> None:
    y = rng.normal(50.0, 10.0, size=(30, 2))
    forward, inverse = make(), make()
    forward.adapt(y)
    inverse.__init__(**{**forward.get_config(), "invert": True})
    np.testing.assert_allclose(_run(inverse, _run(forward, y)), y, rtol=1e-13)


def test_an_adapted_layer_is_usable_on_its_own(rng: np.random.Generator) -> None:
    """MATLAB's [y, ps] = mapminmax(x): adapt, then call the layer (no model needed)."""
    x = rng.uniform(3, 8, size=(10, 2))
    for layer in (MapMinMax(), MapStd(), RemoveConstantRows()):
        layer.adapt(x)
        assert layer(x).data.shape == (10, 2)
    layer = MapMinMax()
    layer.adapt(x)
    assert layer(x).data.min() == pytest.approx(-1.0) and layer(x).data.max() == pytest.approx(1.0)


def test_removeconstantrows_keeps_the_varying_features(rng: np.random.Generator) -> None:
    x = rng.normal(size=(10, 4))
    x[:, 0], x[:, 2] = 1.0, -3.0
    layer = RemoveConstantRows()
    layer.adapt(x)
    assert (layer.keep, layer.n_inputs) == ([1, 3], 4)
    np.testing.assert_array_equal(_run(layer, x), x[:, [1, 3]])
    wide = RemoveConstantRows(max_range=10.0)
    with pytest.raises(ValueError, match="every one of the 4 features is constant"):
        wide.adapt(x)


def test_unadapted_layers_say_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="adapt"):
        _run(MapMinMax(), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="adapt"):
        RemoveConstantRows().compute_output_shape((None, 3))
    with pytest.raises(ValueError, match="non-finite"):
        MapStd().adapt([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="adapted to 2 features but gets 3"):
        _run(MapMinMax(x_min=[0.0, 0.0], x_max=[1.0, 1.0]), np.zeros((2, 3)))


@pytest.mark.parametrize(("make", "match"), [
    (lambda: MapMinMax(x_min=[0.0, 1.0], x_max=[1.0, 0.0]), "x_max must be >= x_min"),
    (lambda: MapMinMax(x_min=[0.0], x_max=[1.0, 2.0]), "one entry per feature"),
    (lambda: MapMinMax(x_min=[0.0]), "all of"),
    (lambda: MapMinMax(x_min=[float("inf")], x_max=[1.0]), "finite"),
    (lambda: MapMinMax(y_min=1.0, y_max=1.0), "y_max must exceed y_min"),
    (lambda: MapStd(mean=[0.0], std=[-1.0]), "std must be >= 0"),
    (lambda: MapStd(y_std=0.0), "y_std"),
    (lambda: MapStd(invert="yes"), "invert"),
    (lambda: RemoveConstantRows(keep=[2, 1], n_inputs=3), "increasing"),
    (lambda: RemoveConstantRows(keep=[0, 3], n_inputs=3), "increasing"),
    (lambda: RemoveConstantRows(keep=[0]), "both"),
    (lambda: RemoveConstantRows(max_range=-1.0), "max_range"),
])
def test_bad_statistics_are_refused(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def _regression(rng: np.random.Generator, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack([rng.uniform(0, 1000, n), np.full(n, 7.0), rng.uniform(-1, 1, n)])
    y = 5000.0 + 2000.0 * np.sin(x[:, :1] / 300.0) * x[:, 2:]
    return x, y


def _processed(dtype: str = "float64") -> Sequential:
    model = Sequential([RemoveConstantRows(), MapMinMax(), Dense(8, activation="tanh"), Dense(1),
                        MapMinMax(invert=True)], seed=0, dtype=dtype)
    model.compile("lm", "mse")
    return model


def test_fit_adapts_on_the_training_rows_and_answers_in_original_units(
        rng: np.random.Generator) -> None:
    """Guards the processFcns workflow: fit adapts the inputs' layers on the training
    rows only (not the validation_split rows) and the output layer on the targets; the
    network learns normalised targets and predicts in the original units."""
    x, y = _regression(rng)
    model = _processed()
    model.fit(x, y, epochs=60, validation_split=0.25, verbose=0)
    train = x[:90]
    assert model.layers[0].keep == [0, 2]
    np.testing.assert_array_equal(model.layers[1].x_min, train[:, [0, 2]].min(0))
    np.testing.assert_array_equal(model.layers[4].x_max, y[:90].max(0))
    pred = model.predict(x)
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.05 * np.ptp(y)
    before = model.layers[1].get_config()
    model.fit(x[::-1], y[::-1] + 1e4, epochs=1, verbose=0)  # adapted once, as MATLAB
    assert model.layers[1].get_config() == before


def test_the_same_network_without_processing_fits_far_worse(rng: np.random.Generator) -> None:
    """The test above can fail: raw inputs in [0, 1000] saturate the tanh units."""
    x, y = _regression(rng)
    model = Sequential([Dense(8, activation="tanh"), Dense(1)], seed=0, dtype="float64")
    model.compile("lm", "mse")
    model.fit(x, y, epochs=60, validation_split=0.25, verbose=0)
    assert np.sqrt(np.mean((model.predict(x) - y) ** 2)) > 0.1 * np.ptp(y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_file_round_trip_takes_raw_inputs(tmp_path: Path, rng: np.random.Generator,
                                                dtype: str) -> None:
    x, y = _regression(rng)
    model = _processed(dtype)
    model.fit(x, y, epochs=5, verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = ffnn.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [lay.get_config() for lay in loaded.layers] == [
        lay.get_config() for lay in model.layers]


@pytest.mark.parametrize(("index", "key", "value", "match"), [
    (1, "x_max", [1.0, -1e9], "x_max must be >= x_min"),
    (1, "x_min", [0.0, "a"], "x_min"),
    (0, "keep", [0, 5], "keep"),
    (0, "n_inputs", 4, "adapted to 4 features but gets 3"),
    (4, "x_max", [float("nan")], "finite"),
])
def test_corrupt_statistics_in_a_file_are_refused(tmp_path: Path, rng: np.random.Generator,
                                                  index: int, key: str, value: Any,
                                                  match: str) -> None:
    x, y = _regression(rng, 30)
    model = _processed()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    doc = json.loads(header["__metadata__"]["ffnn"])
    doc["model"]["layers"][index]["config"][key] = value
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
    with pytest.raises((ModelFileError, ValueError), match=match):
        ffnn.load(path)


def test_adapt_layers_chains_inputs_and_reverses_targets(rng: np.random.Generator) -> None:
    """The second input layer sees the first one's output; the layer before the last
    sees the targets normalised by the last one."""
    x = rng.uniform(5, 9, size=(20, 2))
    y = rng.uniform(100, 200, size=(20, 1))
    layers = [MapMinMax(), MapStd(), Dense(1), MapStd(invert=True), MapMinMax(invert=True)]
    assert adapt_layers(layers, x, y)
    np.testing.assert_allclose(layers[1].mean, ((x - x.min(0)) / np.ptp(x, 0) * 2 - 1).mean(0),
                               atol=1e-14)
    np.testing.assert_allclose(layers[3].mean, ((y - y.min()) / np.ptp(y) * 2 - 1).mean(0))
    assert not adapt_layers(layers, x, y)  # nothing left to adapt
    with pytest.raises(ValueError, match="between trainable layers"):
        adapt_layers([Dense(1), MapStd(), Dense(1)], x, y)


@settings(max_examples=40)
@given(data=arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 4)),
                   elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)),
       low=st.floats(-5, 0, allow_subnormal=False), width=st.floats(0.5, 10))
def test_property_mapminmax_range_and_round_trip(data: np.ndarray, low: float,
                                                 width: float) -> None:
    """Any finite data: the adapted map sends each varying feature's training range onto
    [y_min, y_max] (to rounding), a constant one onto y_min, and invert undoes it."""
    forward = MapMinMax(low, low + width)
    forward.adapt(data)
    out = _run(forward, data)
    span = np.ptp(data, axis=0)
    tol = 1e-9 * (abs(low) + width)
    varying = span > 1e-6 * np.max(np.abs(data), axis=0, initial=1.0)
    assert np.all(out >= low - tol) and np.all(out <= low + width + tol)
    np.testing.assert_allclose(out.min(0)[varying], low, atol=tol)
    np.testing.assert_allclose(out.max(0)[varying], low + width, atol=tol)
    np.testing.assert_allclose(out[:, span == 0], low, atol=tol)
    inverse = MapMinMax(**{**forward.get_config(), "invert": True})
    back = _run(inverse, out)
    np.testing.assert_allclose(back, data, rtol=1e-9, atol=1e-9 * np.max(np.abs(data),
                                                                        initial=1.0))
