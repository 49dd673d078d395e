"""Issue 11 #10: every loaded optimiser state value is range-checked, for every
registered optimiser, through the model file a user would load.

Each test trains a small model with the optimiser, saves it, corrupts one state value
of the file (the iteration count, a per-parameter step count, an optimiser-level value
such as Levenberg–Marquardt's μ, ν, α, β, γ or Nadam's μ product, a state array, an
option of the saved configuration) and expects ``ffnn.load`` to refuse it with a
``ModelFileError`` that names the value. A newly registered optimiser is covered by
these tests as soon as it is in ``OPTIMIZERS``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential
from ffnn.exceptions import ModelFileError
from ffnn.optim import OPTIMIZERS, SCHEDULES, FullBatchOptimizer

NAMES = OPTIMIZERS.names(aliases=False)
#: Optimiser-level values for which 0 is out of range (BR's α and γ may be 0).
ZERO_INVALID = {"mu", "nu", "beta", "mu_product"}


@functools.cache
def _saved_bytes(name: str) -> bytes:
    """A model trained for two epochs with optimiser ``name``, as file bytes."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 2))
    y = np.tanh(x @ np.array([[0.5], [-1.0]]))
    model = Sequential([Dense(3, "tanh", input_dim=2), Dense(1)], seed=0, dtype="float64")
    model.compile(name, "mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.safetensors"
        model.save(path)
        return path.read_bytes()


def _split(raw: bytes) -> tuple[dict[str, Any], bytes]:
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _join(header: dict[str, Any], data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def _doc(name: str) -> dict[str, Any]:
    header, _ = _split(_saved_bytes(name))
    return json.loads(header["__metadata__"]["ffnn"])


def _with_doc(name: str, edit: Any) -> bytes:
    header, data = _split(_saved_bytes(name))
    doc = json.loads(header["__metadata__"]["ffnn"])
    edit(doc)
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    return _join(header, data)


def _with_tensor(name: str, tensor: str, value: float) -> bytes:
    """The file with the first element of ``tensor`` replaced by ``value``."""
    header, data = _split(_saved_bytes(name))
    entry = header[tensor]
    assert entry["dtype"] == "F64"
    start, _ = entry["data_offsets"]
    patched = bytearray(data)
    patched[start:start + 8] = np.float64(value).tobytes()
    return _join(header, bytes(patched))


def _refused(tmp_path: Path, raw: bytes, pattern: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(raw)
    with pytest.raises(ModelFileError, match=pattern):
        ffnn.load(path)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def test_the_saved_files_load() -> None:
    """The uncorrupted files of every optimiser load (so the refusals below are caused
    by the corruption alone)."""
    import tempfile

    for name in NAMES:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.safetensors"
            path.write_bytes(_saved_bytes(name))
            model = ffnn.load(path)
            assert model.optimizer.name == name and model.optimizer.iterations > 0


@pytest.mark.parametrize("value", [-1, 1.5, "3", True, None, 2**62, [1]])
@pytest.mark.parametrize("name", NAMES)
def test_defect_10_iteration_count_is_checked(tmp_path: Path, name: str, value: Any) -> None:
    """issue 11 #10: the iteration count (which schedules and bias corrections read)."""
    raw = _with_doc(name, _set(("optimizer_state", "iterations"), value))
    _refused(tmp_path, raw, "iteration count")


@pytest.mark.parametrize("value", [-1, 0.5, "1", False, 2**62])
@pytest.mark.parametrize("name", [n for n in NAMES
                                  if not issubclass(OPTIMIZERS.lookup(n), FullBatchOptimizer)])
def test_defect_10_step_counts_are_checked(tmp_path: Path, name: str, value: Any) -> None:
    """issue 11 #10: every parameter's step count of a first-order optimiser."""
    steps = _doc(name)["optimizer_state"]["steps"]
    assert steps
    for i in range(len(steps)):
        raw = _with_doc(name, _set(("optimizer_state", "steps", i), value))
        _refused(tmp_path, raw, f"step count of parameter {i}")


def _global_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for name in NAMES:
        fresh = OPTIMIZERS.lookup(name)()
        for key in _doc(name)["optimizer_state"]["global"]:
            values: list[Any] = [-1.0, "x", True, [1.0], {}, -1e300, float("nan"),
                                 float("inf")]
            if fresh.global_state[key] is not None:
                values.append(None)
            if key in ZERO_INVALID:
                values.append(0.0)
            cases += [(name, key, v) for v in values]
    return cases


@pytest.mark.parametrize(("name", "key", "value"), _global_cases())
def test_defect_10_optimizer_level_state_is_checked(tmp_path: Path, name: str, key: str,
                                                    value: Any) -> None:
    """issue 11 #10: each optimiser-level value (LM's μ, ν, α, β, γ; Nadam's μ product)
    out of its range, of the wrong type, or missing, is refused naming it."""
    raw = _with_doc(name, _set(("optimizer_state", "global", key), value))
    _refused(tmp_path, raw, repr(key))


@pytest.mark.parametrize("name", NAMES)
def test_defect_10_optimizer_level_keys_must_match(tmp_path: Path, name: str) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["optimizer_state"]["global"]["bogus"] = 1.0
    _refused(tmp_path, _with_doc(name, edit), "bogus")


def _slot_cases() -> list[tuple[str, str, str]]:
    cases = []
    for name in NAMES:
        for i, slots in enumerate(_doc(name)["optimizer_state"]["slots"]):
            cases += [(name, f"optimizer/{i}/{slot}", slot) for slot in slots]
    return cases


@pytest.mark.parametrize(("name", "tensor", "slot"), _slot_cases())
def test_defect_10_state_arrays_are_checked(tmp_path: Path, name: str, tensor: str,
                                            slot: str) -> None:
    """issue 11 #10: every state array of every parameter: a NaN is refused (unless
    ``allow_nonfinite``), and so is a value below the slot's minimum (a negative second
    moment, which turned the weights into NaN after one epoch)."""
    _refused(tmp_path, _with_tensor(name, tensor, np.nan), rf"{tensor}.*NaN or infinite")
    minimum = OPTIMIZERS.lookup(name)()._slot_minimum(slot)
    if minimum is not None:
        raw = _with_tensor(name, tensor, minimum - 1.0)
        _refused(tmp_path, raw, rf"state '{slot}' must be >= {minimum:g}")
        path = tmp_path / "bad.safetensors"
        with pytest.raises(ModelFileError, match=rf"state '{slot}' must be >= "):
            ffnn.load(path, allow_nonfinite=True)


def _option_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for name in NAMES:
        for key, default in _doc(name)["optimizer_state"]["config"].items():
            if key == "name":
                continue
            for value in ("x", [1], {"name": "bogus"}, -1e300):
                if value == -1e300 and not isinstance(default, (int, float)):
                    continue
                cases.append((name, key, value))
    return cases


@pytest.mark.parametrize(("name", "key", "value"), _option_cases())
@pytest.mark.parametrize("section", ["optimizer_state", "compile"])
def test_defect_10_saved_options_are_checked(tmp_path: Path, section: str, name: str,
                                             key: str, value: Any) -> None:
    """issue 11 #10: every option of the saved optimiser configuration (the learning
    rate or its schedule, the betas, LM's mu_dec/mu_inc/form/...), in the state and in
    the compile settings, of the wrong type or out of range."""
    where = ("optimizer_state", "config", key) if section == "optimizer_state" else (
        "compile", "optimizer", key)
    _refused(tmp_path, _with_doc(name, _set(where, value)), key)


def _schedule_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for sched in SCHEDULES.names(aliases=False):
        for key, default in SCHEDULE_ARGS[sched].items():
            wrong = ("x", -1e300, None) if isinstance(default, bool) else ("x", -1e300, True,
                                                                           None)
            cases += [(sched, key, v) for v in wrong]
    return cases


SCHEDULE_ARGS = {
    "step_decay": {"initial_learning_rate": 0.1, "step_size": 2, "gamma": 0.5},
    "exponential_decay": {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5,
                          "staircase": True},
    "cosine_decay": {"initial_learning_rate": 0.1, "decay_steps": 2, "alpha": 0.1},
}


@pytest.mark.parametrize(("sched", "key", "value"), _schedule_cases())
def test_defect_10_saved_schedules_are_checked(tmp_path: Path, sched: str, key: str,
                                               value: Any) -> None:
    """issue 11 #10: every option of a saved learning-rate schedule."""
    model = Sequential([Dense(1, input_dim=2)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.Adam(learning_rate={"name": sched, **SCHEDULE_ARGS[sched]}),
                  "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    header, data = _split(path.read_bytes())
    doc = json.loads(header["__metadata__"]["ffnn"])
    doc["optimizer_state"]["config"]["learning_rate"][key] = value
    header["__metadata__"]["ffnn"] = json.dumps(doc)
    _refused(tmp_path, _join(header, data), rf"learning_rate.*{key}")


def test_defect_10_bayesian_state_stays_loadable_when_gamma_is_zero(tmp_path: Path) -> None:
    """The other side of the range checks: a run must never produce a state that
    loading refuses. A network whose Jacobian is zero (dead ReLUs, no output bias) has
    γ = 0, and BR set α = γ/(2E_W) = 0, which the α > 0 check then refused, so the
    saved model could not be loaded. α ≥ 0 is valid (no weight penalty); β keeps its
    previous value where the formula would leave (0, inf)."""
    x = np.random.default_rng(0).normal(size=(10, 2))
    model = Sequential([Dense(3, "relu", input_dim=2, kernel_initializer="zeros",
                              bias_initializer={"name": "constant", "value": -1.0}),
                        Dense(1, use_bias=False, kernel_initializer="ones")],
                       seed=0, dtype="float64")
    model.compile("br", "sse")
    hist = model.fit(x, np.ones((10, 1)), epochs=3, verbose=0)
    assert hist.history["gamma"][0] == 0.0 and hist.history["alpha"][0] == 0.0
    model.save(tmp_path / "m.safetensors")
    loaded = ffnn.load(tmp_path / "m.safetensors")
    assert loaded.optimizer.global_state == model.optimizer.global_state


@pytest.mark.parametrize("update", ["trainlm", "nielsen"])
def test_defect_10_lm_damping_never_leaves_its_range(tmp_path: Path, update: str) -> None:
    """μ multiplied by mu_dec on every accepted step underflowed to 0 (from a tiny
    starting μ, or after a few hundred successes): the run then stalled (0·mu_inc is
    0) and its checkpoint was refused on load (μ must be > 0). μ now stays positive,
    so a run's state always loads."""
    x = np.linspace(-2, 2, 30).reshape(-1, 1)
    y = np.tanh(0.8 * x + 0.1) + 0.05 * np.sin(7 * x)  # Gauss–Newton steps succeed
    model = Sequential([Dense(1, "tanh", input_dim=1)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.LevenbergMarquardt(mu=1e-320, update=update), "mse")
    hist = model.fit(x, y, epochs=8, verbose=0)
    assert len(hist.epoch) >= 4  # at least four accepted steps: 1e-320 · 0.1⁴ underflows
    assert model.optimizer.current_mu > 0
    model.save(tmp_path / "m.safetensors")
    assert ffnn.load(tmp_path / "m.safetensors").optimizer.current_mu > 0
