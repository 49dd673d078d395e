"""Model files: exact round trips, atomic writes, and hostile or damaged files that must
only ever produce a clean ModelFileError (never a crash, a hang, a huge allocation or
code execution)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from ffnn import RBF, Activation, Dense, Dropout, Maxout, PReLU, Sequential
from ffnn.exceptions import ModelFileError
from ffnn.io import load, save
from ffnn.optim import OPTIMIZERS, BaseOptimizer


# ---------------------------------------------------------------- helpers
def _data(rng: np.random.Generator, n: int = 48, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, d))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def _model(dtype: str = "float32", optimizer: Any = "adam") -> Sequential:
    model = Sequential(
        [
            Dense(6, activation={"name": "leaky_relu", "gamma": 0.1}, input_dim=3,
                  kernel_regularizer={"name": "l2", "lam": 1e-3}),
            Maxout(4, pieces=2),
            PReLU(),
            RBF(5, gamma=0.5, trainable_gamma=True),
            Dropout(0.1),
            Dense(2),
            Activation("softmax"),
        ],
        name="net", seed=7, dtype=dtype,
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _trained(rng: np.random.Generator, **kw: Any) -> tuple[Sequential, np.ndarray, np.ndarray]:
    x, y = _data(rng)
    model = _model(**kw)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0)
    return model, x, y


def _split(path: Path) -> tuple[dict[str, Any], bytes]:
    return _split_bytes(path.read_bytes())


def _split_bytes(raw: bytes) -> tuple[dict[str, Any], bytes]:
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _join(path: Path, header: dict[str, Any], data: bytes) -> None:
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)


def _edit_doc(path: Path, edit: Any) -> None:
    """Rewrite the ffnn JSON document of a valid file with ``edit(doc)``."""
    header, data = _split(path)
    doc = json.loads(header["__metadata__"]["ffnn"])
    edit(doc)
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    _join(path, header, data)


@pytest.fixture
def saved(tmp_path: Path, rng: np.random.Generator) -> Path:
    model, _, _ = _trained(rng)
    path = tmp_path / "model.safetensors"
    save(model, path)
    return path


# ------------------------------------------------------------- round trip
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_predicts_bit_identically(tmp_path: Path, rng: np.random.Generator,
                                             dtype: str) -> None:
    model, x, _ = _trained(rng, dtype=dtype)
    path = tmp_path / "m.safetensors"
    save(model, path, metadata={"classes": ["a", "b"], "scaler": {"mean": [0.5, 1.0]}})
    loaded = load(path)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    assert [a.get_config() for a in loaded.layers] == [a.get_config() for a in model.layers]
    assert (loaded.name, loaded.seed, loaded.dtype) == ("net", 7, np.dtype(dtype))
    assert loaded.metadata == {"classes": ["a", "b"], "scaler": {"mean": [0.5, 1.0]}}
    assert loaded.history is not None
    assert loaded.history.history == model.history.history
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert [name for name, _ in loaded.metrics] == ["accuracy"]


# Optimisers whose fit starts a new run (LM and BR reset μ, α, β and γ as MATLAB's train
# does): their continuation across fit calls is checked through resume_from instead.
_PER_RUN = {n for n in OPTIMIZERS.names(aliases=False)
            if OPTIMIZERS.lookup(n).begin_fit is not BaseOptimizer.begin_fit}


@pytest.mark.parametrize("optimizer", [*sorted(set(OPTIMIZERS.names(aliases=False)) - _PER_RUN),
                                       {"name": "sgd", "momentum": 0.9}])
def test_round_trip_continues_training_identically(tmp_path: Path, rng: np.random.Generator,
                                                   optimizer: Any) -> None:
    """Guards against losing optimiser state (moments, step counts, Nadam's μ product):
    3 epochs, save, load, 3 more must equal 6 straight (no shuffling, no dropout RNG)."""
    x = rng.normal(size=(32, 3))
    y = np.sin(x.sum(axis=1, keepdims=True))

    def make() -> Sequential:
        m = Sequential([Dense(5, activation="tanh", input_dim=3), Dense(1)], seed=1)
        m.compile(optimizer, "mse")
        return m

    straight = make()
    straight.fit(x, y, epochs=6, batch_size=8, shuffle=False, verbose=0)
    first = make()
    first.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    first.save(tmp_path / "m.safetensors")
    second = load(tmp_path / "m.safetensors")
    second.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(second.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_uncompiled_model_round_trips(tmp_path: Path, rng: np.random.Generator) -> None:
    model = Sequential([Dense(3, input_dim=2, activation="sigmoid")], seed=0)
    model.build()
    save(model, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    x = rng.normal(size=(5, 2))
    assert loaded.optimizer is None and np.array_equal(loaded.predict(x), model.predict(x))


def test_history_with_nan_round_trips(tmp_path: Path) -> None:
    """NaN entries (e.g. DiagnosticsCallback's undiagnosed epochs) must survive."""
    model = Sequential([Dense(1, input_dim=1)])
    model.build()
    model.history = ffnn.callbacks.History({"loss": [1.0, math.nan]}, [0, 1])
    save(model, tmp_path / "m.safetensors")
    history = load(tmp_path / "m.safetensors").history
    assert history is not None and history.epoch == [0, 1]
    assert history.history["loss"][0] == 1.0 and math.isnan(history.history["loss"][1])


def test_save_refuses_what_cannot_be_serialised(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    custom = Sequential([Dense(2, input_dim=2, activation=lambda t: t * 2.0)])
    custom.build()
    with pytest.raises(ValueError, match=r"plain callable"):
        save(custom, path)
    metric = Sequential([Dense(2, input_dim=2)])
    metric.compile("sgd", "mse", metrics=[lambda yt, yp: 0.0])
    metric.build()
    with pytest.raises(ValueError, match=r"metric"):
        save(metric, path)
    with pytest.raises(ValueError, match=r"not built"):
        save(Sequential([Dense(2)]), path)
    ok = Sequential([Dense(2, input_dim=2)])
    ok.build()
    with pytest.raises(ValueError, match=r"JSON"):
        save(ok, path, metadata={"f": object()})
    assert not path.exists()


# ----------------------------------------------------------- atomic writes
@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_leaves_old_file_and_no_temp_files(
    saved: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A crash mid-save must not leave a half-written file under the target name."""
    before = saved.read_bytes()
    other = Sequential([Dense(4, input_dim=3)], seed=3)
    other.build()

    def boom(*args: Any) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match=r"disk on fire"):
        save(other, saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]
    assert isinstance(load(saved), Sequential)


# ------------------------------------------------------ one test per defect
def test_missing_file_and_non_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"cannot read"):
        load(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFileError):
        load(tmp_path)
    if hasattr(os, "mkfifo"):  # reading a FIFO would block forever
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(ModelFileError, match=r"regular file"):
            load(tmp_path / "fifo")


@pytest.mark.parametrize("keep", [0, 5, 8, 100, -1])
def test_truncated(saved: Path, keep: int) -> None:
    raw = saved.read_bytes()
    saved.write_bytes(raw[:keep])
    with pytest.raises(ModelFileError, match=r"truncated|header length|data section"):
        load(saved)


@pytest.mark.parametrize("length", [0, 1, 2**63, 2**64 - 1, "file"])
def test_wrong_header_length(saved: Path, length: Any) -> None:
    raw = saved.read_bytes()
    n = len(raw) if length == "file" else length
    saved.write_bytes(n.to_bytes(8, "little") + raw[8:])
    with pytest.raises(ModelFileError, match=r"header length"):
        load(saved)


def test_header_length_off_by_some(saved: Path) -> None:
    raw = saved.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    saved.write_bytes((n - 10).to_bytes(8, "little") + raw[8:])
    with pytest.raises(ModelFileError, match=r"JSON"):
        load(saved)


def test_overlapping_offsets(saved: Path) -> None:
    header, data = _split(saved)
    names = sorted((k for k in header if k != "__metadata__"),
                   key=lambda k: header[k]["data_offsets"][0])
    a, b = header[names[0]], header[names[1]]
    size = b["data_offsets"][1] - b["data_offsets"][0]
    b["data_offsets"] = [a["data_offsets"][0], a["data_offsets"][0] + size]
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=r"overlapping|unused"):
        load(saved)


def test_out_of_range_offsets(saved: Path) -> None:
    header, data = _split(saved)
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"] = [len(data) - 4, len(data) + 10**12]
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=r"data_offsets"):
        load(saved)


def test_unknown_layer_name(saved: Path) -> None:
    _edit_doc(saved, lambda d: d["model"]["layers"][0].update(class_name="Conv2D"))
    with pytest.raises(ModelFileError, match=r"unknown layer 'Conv2D'; valid layer names"):
        load(saved)


@pytest.mark.parametrize("where", ["activation", "optimizer", "loss", "metric", "initializer"])
def test_unknown_names_anywhere_are_refused(saved: Path, where: str) -> None:
    def edit(doc: dict[str, Any]) -> None:
        dense = doc["model"]["layers"][0]["config"]
        if where == "activation":
            dense["activation"] = {"name": "os.system"}
        elif where == "initializer":
            dense["kernel_initializer"] = {"name": "builtins.eval"}
        elif where == "optimizer":
            doc["compile"]["optimizer"]["name"] = "subprocess.Popen"
        elif where == "loss":
            doc["compile"]["loss"] = {"name": "posix.system"}
        else:
            doc["compile"]["metrics"] = ["shutil.rmtree"]

    _edit_doc(saved, edit)
    with pytest.raises(ModelFileError, match=r"unknown"):
        load(saved)


def test_shape_mismatch(saved: Path) -> None:
    _edit_doc(saved, lambda d: d["model"]["layers"][0]["config"].update(units=7))
    with pytest.raises(ModelFileError, match=r"dense/kernel.*shape"):
        load(saved)


def test_hostile_sizes_are_refused_before_allocating(saved: Path) -> None:
    """Guards against a config that would make build() allocate terabytes."""
    _edit_doc(saved, lambda d: d["model"]["layers"][0]["config"].update(units=10**12))
    with pytest.raises(ModelFileError, match=r"needs \d+ parameters"):
        load(saved)
    header, data = _split(saved)
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = [2**62, 2**62]
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=r"needs .* bytes"):
        load(saved)


def test_nan_weights_flagged(saved: Path, rng: np.random.Generator) -> None:
    model = load(saved)
    model.layers[0].kernel.data[1, 2] = np.nan
    save(model, saved)
    with pytest.raises(ModelFileError, match=r"'dense/kernel' holds NaN"):
        load(saved)
    loaded = load(saved, allow_nonfinite=True)
    assert np.isnan(loaded.layers[0].kernel.data[1, 2])


def test_extra_tensor(saved: Path) -> None:
    header, data = _split(saved)
    header["dense/evil"] = {"dtype": "F32", "shape": [1],
                            "data_offsets": [len(data), len(data) + 4]}
    _join(saved, header, data + b"\0\0\0\0")
    with pytest.raises(ModelFileError, match=r"unexpected tensor.*dense/evil"):
        load(saved)


def test_missing_tensor(saved: Path) -> None:
    _edit_doc(saved, lambda d: d["model"]["layers"][0]["config"].update(use_bias=True))
    header, data = _split(saved)
    begin, end = header["dense_1/bias"]["data_offsets"]
    del header["dense_1/bias"]
    for info in header.values():
        if "data_offsets" in info and info["data_offsets"][0] >= end:
            info["data_offsets"] = [o - (end - begin) for o in info["data_offsets"]]
    _join(saved, header, data[:begin] + data[end:])
    with pytest.raises(ModelFileError, match=r"missing tensor.*dense_1/bias"):
        load(saved)


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
def test_bad_version(saved: Path, version: Any) -> None:
    _edit_doc(saved, lambda d: d.update(format_version=version))
    with pytest.raises(ModelFileError, match=r"version"):
        load(saved)


def test_non_json_metadata(saved: Path) -> None:
    header, data = _split(saved)
    header["__metadata__"]["ffnn"] = "{'not': json,"
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=r"not valid JSON"):
        load(saved)
    header["__metadata__"] = {"other": "x"}
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=r"not an ffnn model file"):
        load(saved)


def test_unsupported_dtype_and_duplicate_keys(saved: Path) -> None:
    raw = saved.read_bytes()
    header, data = _split(saved)
    name = next(k for k in header if k != "__metadata__")
    header[name]["dtype"] = "I32"
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=r"dtype 'I32'"):
        load(saved)
    n = int.from_bytes(raw[:8], "little")
    text = raw[8 : 8 + n].decode().rstrip()
    doubled = text[:-1] + ',"__metadata__":{"ffnn":"{}"}}'
    saved.write_bytes(len(doubled).to_bytes(8, "little") + doubled.encode() + raw[8 + n :])
    with pytest.raises(ModelFileError, match=r"repeats the key"):
        load(saved)


class _Payload:
    """Unpickling this creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (open, (str(self.marker), "w"))


def test_pickle_payload_never_runs(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(payload)  # a pickle file renamed
    with pytest.raises(ModelFileError):
        load(evil)
    evil.write_bytes(len(payload).to_bytes(8, "little")[:8] + payload)
    with pytest.raises(ModelFileError):
        load(evil)

    def names_code(doc: dict[str, Any]) -> None:
        doc["model"]["layers"][0] = {"class_name": "os.system",
                                     "config": {"command": f"touch {marker}"}}

    _edit_doc(saved, names_code)
    with pytest.raises(ModelFileError, match=r"unknown layer 'os.system'"):
        load(saved)

    header, data = _split(saved)
    header["__metadata__"]["pickle"] = payload.decode("latin-1")
    doc = json.loads(header["__metadata__"]["ffnn"])
    doc["model"]["layers"][0]["config"]["name"] = payload.decode("latin-1")
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    _join(saved, header, data)
    with pytest.raises(ModelFileError):
        load(saved)
    assert not marker.exists()


def test_pickled_bytes_as_tensor_data_are_just_numbers(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    header, data = _split(saved)
    start = header["dense/kernel"]["data_offsets"][0]
    size = min(len(payload), header["dense/kernel"]["data_offsets"][1] - start)
    _join(saved, header, data[:start] + payload[:size] + data[start + size :])
    with contextlib.suppress(ModelFileError):
        load(saved)
    assert not marker.exists()


# ------------------------------------------------------------- fuzzing
_SMALL: list[bytes] = []


def _small_file() -> bytes:
    if not _SMALL:
        model = Sequential([Dense(3, activation="tanh", input_dim=2), Dropout(0.2), Dense(1)],
                           seed=0)
        model.compile("adam", "mse", metrics=["mae"])
        x = np.random.default_rng(0).normal(size=(8, 2))
        model.fit(x, x[:, :1], epochs=1, verbose=0, seed=0)
        with tempfile.TemporaryDirectory() as d:
            save(model, Path(d) / "m.safetensors", metadata={"k": [1, 2]})
            _SMALL.append((Path(d) / "m.safetensors").read_bytes())
    return _SMALL[0]


@given(st.data())
def test_random_byte_mutations_give_a_clean_error_or_a_valid_model(data: st.DataObject) -> None:
    raw = bytearray(_small_file())
    byte = st.one_of(st.integers(0, 255), st.sampled_from(b'0123456789-.eE"{}[],: '))
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), byte),
                               min_size=1, max_size=6))
    for position, value in edits:
        raw[position] = value
    if data.draw(st.integers(0, 9)) == 0:
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.safetensors"
        path.write_bytes(bytes(raw))
        try:
            model = load(path)
        except ModelFileError as exc:
            assert str(exc)
            return
    assert isinstance(model, Sequential) and model.built
    with np.errstate(all="ignore"):
        assert model.predict(np.zeros((2, 2))).shape == (2, 1)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
    | st.sampled_from(["dense", "relu", "adam", "mse", "os.system", "PCG64", "float64", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "units", "config", "class_name", "state", "m", "x"]), inner,
        max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@given(st.data())
def test_random_document_edits_give_a_clean_error_or_a_valid_model(data: st.DataObject) -> None:
    """Any value anywhere in the JSON document: a clean error or a valid model."""
    header, tensors = _split_bytes(_small_file())
    doc = json.loads(header["__metadata__"]["ffnn"])
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = data.draw(_JSON)
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    with tempfile.TemporaryDirectory() as d:
        target = Path(d) / "m.safetensors"
        _join(target, header, tensors)
        try:
            model = load(target)
        except ModelFileError:
            return
    assert isinstance(model, Sequential) and model.built


def test_model_file_error_is_a_value_error() -> None:
    assert issubclass(ModelFileError, ValueError)
    assert ffnn.exceptions.ModelFileError is ModelFileError


# ------------------------------------------------ hostile sizes and strict documents
def _small_with(edit: Any, tmp_path: Path) -> Path:
    """The small fuzzing file (about 2.7 KB) with its document rewritten by ``edit``."""
    path = tmp_path / "m.safetensors"
    path.write_bytes(_small_file())
    _edit_doc(path, edit)
    return path


@pytest.mark.parametrize("first", ["dense", "prelu"])
@pytest.mark.parametrize("input_dim", [2 * 10**8, 10**12])
def test_hostile_input_dim_is_refused_before_allocating(tmp_path: Path, input_dim: int,
                                                         first: str) -> None:
    """Guards against a hostile model ``input_dim`` in a 2.7 KB file making load() build
    a Dense(units=1) (or a PReLU) with that many inputs: 2e8 allocated 2.4 GB over
    seconds before the shape check, 1e12 raised NumPy's _ArrayMemoryError instead of a
    ModelFileError. It must be refused from the sizes alone, at once."""
    import time
    import tracemalloc

    def edit(doc: dict[str, Any]) -> None:
        doc["model"]["input_dim"] = input_dim
        doc["model"]["layers"][0]["config"].update(units=1, input_dim=None)
        if first == "prelu":
            doc["model"]["layers"].insert(0, {"class_name": "PReLU", "config": {
                "alpha_initializer": 0.25, "name": "p"}})

    path = _small_with(edit, tmp_path)
    assert path.stat().st_size < 4000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=rf"needs \d+ parameters for its {input_dim} "
                                                 r"inputs.*file holds only \d+ numbers"):
            load(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5 and peak < 20 * 2**20


def test_model_without_parameters_keeps_any_input_dim(tmp_path: Path) -> None:
    """Guards the size check against refusing what allocates nothing: a model of only
    Activation/Dropout layers has no tensors, whatever its input width."""
    model = Sequential([Activation("tanh"), Dropout(0.5)], seed=0)
    model.build(10**9)
    save(model, tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors").input_dim == 10**9


def test_inner_document_duplicate_keys_are_refused(tmp_path: Path) -> None:
    """Guards against the "ffnn" JSON document silently keeping the last of two equal
    keys (the outer header already refused them): a reviewer and the loader could then
    read different values."""
    header, data = _split_bytes(_small_file())
    text = header["__metadata__"]["ffnn"]
    assert text.startswith('{"format": "ffnn.model"')
    header["__metadata__"]["ffnn"] = '{"format": "ffnn.model", ' + text[1:]
    _join(tmp_path / "m.safetensors", header, data)
    with pytest.raises(ModelFileError, match=r"'ffnn' document repeats the key 'format'"):
        load(tmp_path / "m.safetensors")
    header["__metadata__"]["ffnn"] = text.replace('"units": 3', '"units": 3, "units": 4', 1)
    _join(tmp_path / "m.safetensors", header, data)
    with pytest.raises(ModelFileError, match=r"repeats the key 'units'"):
        load(tmp_path / "m.safetensors")


@pytest.mark.parametrize(("layer", "key", "value"), [
    (0, "use_bias", "no"), (0, "use_bias", 1), (0, "use_bias", None),
    (3, "trainable_gamma", 1), (3, "trainable_gamma", "false"),
    (2, "alpha_initializer", "0.25"), (2, "alpha_initializer", True),
])
def test_layer_config_values_must_read_back_as_written(saved: Path, layer: int, key: str,
                                                       value: Any) -> None:
    """Guards against a layer config value that the constructor coerces (``"no"`` read as
    ``use_bias=True`` by bool(), ``1`` as true, ``"0.25"`` as a float): the built layer
    would not be the one the file describes, so the value must be the JSON value itself."""
    _edit_doc(saved, lambda d: d["model"]["layers"][layer]["config"].update({key: value}))
    with pytest.raises(ModelFileError, match=rf"layer {layer} .*config.*{key}"):
        load(saved)


def test_history_longer_than_its_epochs_is_refused(saved: Path) -> None:
    """Guards against a history whose value lists hold more entries than its ``epoch``
    list (values that belong to no epoch); shorter lists, from keys logged only in some
    epochs (Bayesian regularisation's gamma on an epoch that stops early), still load."""
    _edit_doc(saved, lambda d: d["history"]["history"]["loss"].pop())
    assert load(saved).history.epoch == [0, 1]
    assert len(load(saved).history.history["loss"]) == 1
    _edit_doc(saved, lambda d: d["history"].update(epoch=[0]))
    with pytest.raises(ModelFileError, match=r"history 'accuracy' has 2 values for 1 epochs"):
        load(saved)


@pytest.mark.parametrize(("key", "value"), [
    ("steps", -3), ("steps", 2.5), ("steps", True), ("steps", 10**30), ("iterations", -5),
])
def test_bad_optimizer_counts_in_a_file_are_refused(saved: Path, key: str, value: Any) -> None:
    """Guards against a model file whose optimiser step or iteration count is negative,
    fractional, a bool or huge: it loaded, and the next fit failed with "math domain
    error"."""
    def edit(doc: dict[str, Any]) -> None:
        state = doc["optimizer_state"]
        if key == "steps":
            state["steps"][0] = value
        else:
            state["iterations"] = value

    _edit_doc(saved, edit)
    with pytest.raises(ModelFileError, match=rf"count.*got {value!r}"):
        load(saved)
