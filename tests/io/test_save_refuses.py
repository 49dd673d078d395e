"""issue 11 #13: ``save`` refuses what ``load`` would refuse, so a model is never lost to a
file that cannot be read back; and hostile bytes give ``ModelFileError`` only."""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffnn import Dense, Dropout, Sequential
from ffnn.callbacks import ModelCheckpoint
from ffnn.exceptions import ModelFileError
from ffnn.io import load, save
from ffnn.io.checkpoint import save_checkpoint
from ffnn.training.callbacks import History


def _model() -> Sequential:
    model = Sequential([Dense(2, input_dim=3)], seed=0)
    model.compile("adam", "mse")
    model.build()
    return model


@pytest.mark.parametrize(
    ("metadata", "phrase"),
    [({1: "a", "1": "b"}, "the key 1 (int)"),
     ({"outer": {True: 1}}, "metadata['outer'] has the key True (bool)"),
     ({"rows": [{"x": {None: 2}}]}, "metadata['rows'][0]['x'] has the key None"),
     ({2.5: "x"}, "the key 2.5 (float)")],
)
def test_defect_13_metadata_keys_json_would_change_are_refused_at_save(
    metadata: dict[Any, Any], phrase: str, tmp_path: Path
) -> None:
    """issue 11 #13: `save(m, p, metadata={1: "a", "1": "b"})` wrote a file that load
    refused ("repeats the key '1'"), and a lone non-string key came back changed. Every
    non-string key, at any depth, is refused at save and nothing is written."""
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="JSON keys are strings") as info:
        save(_model(), path, metadata=metadata)
    assert phrase in str(info.value)
    assert not path.exists()


def test_defect_13_save_runs_the_loaders_checks(tmp_path: Path) -> None:
    """The kind of defect, not only the key case: any document load would refuse (here
    a history longer than its epochs and a model name that is not a string) is refused
    at save, with the loader's reason, and the file already there is kept."""
    path = tmp_path / "m.safetensors"
    save(_model(), path)
    before = path.read_bytes()
    model = _model()
    model.history = History({"loss": [1.0, 2.0, 3.0]}, [0])
    with pytest.raises(ValueError, match=r"load would refuse the file \(history 'loss' has 3"):
        save(model, path)
    model = _model()
    model.name = 5  # type: ignore[assignment]
    with pytest.raises(ValueError, match="model name must be a string"):
        save_checkpoint(model, path, 1)
    assert path.read_bytes() == before


def test_defect_13_modelcheckpoint_refuses_before_writing(tmp_path: Path) -> None:
    model = _model()
    model.metadata = {7: "seven"}
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="the key 7"):
        model.fit(x, x[:, :2], epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(tmp_path / "c.safetensors")])
    assert list(tmp_path.iterdir()) == []


def test_defect_13_metadata_that_round_trips_is_kept_exactly(tmp_path: Path) -> None:
    metadata = {"a": [1, 2.5, None, True, "x\u202e\x1b"], "b": {"c": float("nan")}}
    save(_model(), tmp_path / "m.safetensors", metadata=metadata)
    back = load(tmp_path / "m.safetensors").metadata
    assert back["a"] == metadata["a"] and math.isnan(back["b"]["c"])


# ------------------------------------------------------------------ hostile bytes
_VALID: list[bytes] = []


def _valid_file() -> bytes:
    """A small trained model with dropout, metadata and Adam state, saved once."""
    if not _VALID:
        model = Sequential([Dense(3, activation="tanh", input_dim=2), Dropout(0.5), Dense(1)],
                           seed=0)
        model.compile("adam", "mse", metrics=["mae"])
        x = np.random.default_rng(0).normal(size=(8, 2))
        model.fit(x, x[:, :1], epochs=1, verbose=0, seed=0)
        with tempfile.TemporaryDirectory() as d:
            save(model, Path(d) / "m.safetensors", metadata={"k": [1, "v"]})
            _VALID.append((Path(d) / "m.safetensors").read_bytes())
    return _VALID[0]


def _load_quietly(raw: bytes) -> Sequential | None:
    """load() on the bytes with every warning an error: a ModelFileError gives None."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.safetensors"
        path.write_bytes(raw)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                return load(path)
            except ModelFileError as exc:
                assert str(exc).startswith("cannot load model file")
                return None


_EDITS = st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                            st.one_of(st.integers(0, 255),
                                      st.sampled_from(b'0123456789-.eE"{}[],:\\ nN'))),
                  min_size=1, max_size=8)


@settings(max_examples=400)
@given(st.binary(max_size=400) | st.builds(lambda b: b"\x40\x00\x00\x00\x00\x00\x00\x00" + b,
                                           st.binary(max_size=200)))
def test_random_bytes_give_only_model_file_error(raw: bytes) -> None:
    """issue 11, done-when: random byte strings (some with a plausible header length)
    raise ModelFileError and nothing else, with no warning."""
    assert _load_quietly(raw) is None


@settings(max_examples=400)
@given(_EDITS, st.one_of(st.none(), st.floats(0, 1)), st.booleans())
def test_random_mutations_of_a_valid_file_give_a_model_or_model_file_error(
    edits: list[tuple[float, int]], cut: float | None, insert: bool
) -> None:
    """issue 11, done-when: a valid file with random byte edits, insertions and
    truncations loads as a usable model or raises ModelFileError; never another
    exception or a warning."""
    raw = bytearray(_valid_file())
    for where, value in edits:
        position = int(where * len(raw))
        if insert:
            raw.insert(position, value)
        else:
            raw[position] = value
    if cut is not None:
        raw = raw[: int(cut * len(raw))]
    model = _load_quietly(bytes(raw))
    if model is not None:
        assert model.built
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.all(np.isfinite(model.get_weights()[0]))


_KEYS = st.one_of(st.text(max_size=3), st.integers(-2, 2), st.booleans(), st.none(),
                  st.floats(allow_nan=False, width=16))
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats()
    | st.text(st.characters(codec=None), max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(
        _KEYS, inner, max_size=3),
    max_leaves=8,
)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: NaN equals NaN, a tuple comes back as a list."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return type(a) is type(b) and a == b


@settings(max_examples=200)
@given(st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_defect_13_any_metadata_is_refused_at_save_or_loads_back_the_same(
    metadata: dict[Any, Any]
) -> None:
    """issue 11 #13 as a property: whatever metadata is given, save either refuses it
    with a ValueError (and writes nothing) or load returns exactly the same metadata."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.safetensors"
        try:
            save(_model(), path, metadata=metadata)
        except ValueError:
            assert not path.exists()
            return
        assert _same(metadata, load(path).metadata)


@pytest.mark.parametrize("epoch", [-1, 1.5, "3", True])
def test_defect_13_save_checkpoint_refuses_an_epoch_load_checkpoint_would_refuse(
    epoch: Any, tmp_path: Path
) -> None:
    """The same kind of defect in checkpoints: `save_checkpoint(m, p, -1)` wrote a file
    that load_checkpoint refused, and 1.5 was silently truncated to 1."""
    with pytest.raises(ValueError, match="checkpoint epoch must be a non-negative integer"):
        save_checkpoint(_model(), tmp_path / "c.safetensors", epoch)
    assert not (tmp_path / "c.safetensors").exists()
