"""Checkpoints and exact resume: an interrupted run (stopped, or killed with SIGKILL)
resumed from its last checkpoint ends with weights bit-identical to an uninterrupted one."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Dropout, Sequential
from ffnn.callbacks import Callback, ModelCheckpoint
from ffnn.exceptions import ModelFileError
from ffnn.io import load, load_checkpoint, save
from ffnn.optim import OPTIMIZERS

FIT = {"epochs": 6, "batch_size": 8, "verbose": 0, "validation_split": 0.25}


def _data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(64, 4))
    return x, (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)


def _model(optimizer: Any = "adam") -> Sequential:
    model = Sequential([Dense(8, activation="relu", input_dim=4), Dropout(0.3),
                        Dense(2, activation="softmax")], seed=11)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class StopAfter(Callback):
    """Interrupts training after ``epoch`` (0-based)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.epoch:
            self.model.stop_training = True


class Script(Callback):
    """Overwrites val_loss with a scripted sequence (placed before the checkpoint)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs["val_loss"] = self.values[epoch]


def _same_weights(a: Sequential, b: Sequential) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


# -------------------------------------------------------------- in process
@pytest.mark.parametrize("optimizer", ["adam", {"name": "sgd", "momentum": 0.9}])
def test_resume_in_process_is_bit_identical(tmp_path: Path, rng: np.random.Generator,
                                            optimizer: Any) -> None:
    """Guards against any lost state: weights, optimiser moments, the shuffling and
    dropout generators, the epoch counter and the history prefix."""
    x, y = _data(rng)
    straight = _model(optimizer)
    straight.fit(x, y, seed=5, **FIT)
    path = tmp_path / "ckpt.safetensors"
    _model(optimizer).fit(x, y, seed=5, callbacks=[ModelCheckpoint(path), StopAfter(2)], **FIT)
    assert load_checkpoint(path).epoch == 3
    resumed = _model(optimizer)
    history = resumed.fit(x, y, seed=None, resume_from=path, **FIT)  # seed comes from the file
    assert _same_weights(resumed, straight)
    assert history.epoch == list(range(6))
    assert history.history == straight.history.history


@pytest.mark.parametrize("name", OPTIMIZERS.names(aliases=False))
def test_every_optimizer_resumes_bit_identically(tmp_path: Path, rng: np.random.Generator,
                                                 name: str) -> None:
    """Guards exact resume for every registered optimiser, whatever state it keeps:
    moments and step counts, Nadam's μ product, LM's μ and ν, BR's α, β and γ."""
    x = rng.normal(size=(40, 3))
    y = np.sin(x.sum(axis=1, keepdims=True))

    def make() -> Sequential:
        model = Sequential([Dense(6, activation="tanh", input_dim=3), Dense(1)], seed=3,
                           dtype="float64")
        model.compile(name, "mse")
        return model

    fit = {"epochs": 6, "batch_size": 8, "verbose": 0}
    straight = make()
    straight.fit(x, y, seed=5, **fit)
    path = tmp_path / "ckpt.safetensors"
    make().fit(x, y, seed=5, callbacks=[ModelCheckpoint(path), StopAfter(2)], **fit)
    resumed = make()
    resumed.fit(x, y, resume_from=path, **fit)
    assert _same_weights(resumed, straight)
    assert resumed.history.history == straight.history.history


def test_resume_without_the_generators_would_differ(tmp_path: Path,
                                                    rng: np.random.Generator) -> None:
    """The test above can fail: restoring weights and optimiser state alone (what a plain
    model file does) diverges once shuffling and dropout draw new numbers."""
    x, y = _data(rng)
    straight = _model()
    straight.fit(x, y, seed=5, **FIT)
    partial = _model()
    partial.fit(x, y, seed=5, callbacks=[StopAfter(2)], **FIT)
    save(partial, tmp_path / "m.safetensors")
    again = load(tmp_path / "m.safetensors")
    again.fit(x, y, seed=5, initial_epoch=3, **FIT)
    assert not _same_weights(again, straight)


def test_checkpoint_path_formatting_and_every_n_epochs(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    x, y = _data(rng)
    cb = ModelCheckpoint(tmp_path / "ck-{epoch:02d}-{val_loss:.2f}.safetensors",
                         every_n_epochs=2)
    _model().fit(x, y, seed=0, callbacks=[cb], **FIT)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:5] for n in names] == ["ck-02", "ck-04", "ck-06"]
    assert cb.last_path == str(tmp_path / names[-1])
    ckpt = load_checkpoint(cb.last_path)
    assert ckpt.epoch == 6 and ckpt.history.epoch == list(range(6))
    assert set(ckpt.dropout_rngs) == {"dropout"} and ckpt.shuffle_rng is not None
    assert isinstance(load(cb.last_path), Sequential)  # a checkpoint is a model file too


def test_save_best_only_and_its_best_survives_a_resume(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    x, y = _data(rng)
    values = [3.0, 2.0, 2.5, 1.0, 4.0, 0.5]
    path = tmp_path / "best.safetensors"
    first = ModelCheckpoint(path, save_best_only=True)
    _model().fit(x, y, seed=0, callbacks=[Script(values), first, StopAfter(2)], **FIT)
    assert load_checkpoint(path).epoch == 2 and first.best == 2.0
    # Resume from the epoch-2 checkpoint: epoch 3 logs 2.5, worse than the recorded 2.0.
    second = ModelCheckpoint(path, save_best_only=True)
    _model().fit(x, y, resume_from=path, callbacks=[Script(values), second, StopAfter(2)],
                 **FIT)
    assert second.best == 2.0 and load_checkpoint(path).epoch == 2
    with pytest.raises(ValueError, match=r"monitors 'val_acc'"):
        _model().fit(x, y, callbacks=[ModelCheckpoint(path, "val_acc", True)], **FIT)
    with pytest.raises(ValueError, match=r"every_n_epochs"):
        ModelCheckpoint(path, every_n_epochs=0)
    assert math.isinf(ModelCheckpoint(path, "val_accuracy").best)


def test_resume_refuses_model_files_and_mismatched_models(tmp_path: Path,
                                                          rng: np.random.Generator) -> None:
    x, y = _data(rng)
    model = _model()
    model.fit(x, y, seed=0, callbacks=[ModelCheckpoint(tmp_path / "ck.safetensors")], **FIT)
    save(model, tmp_path / "plain.safetensors")
    with pytest.raises(ModelFileError, match=r"not a checkpoint"):
        _model().fit(x, y, resume_from=tmp_path / "plain.safetensors", **FIT)
    wider = Sequential([Dense(9, activation="relu", input_dim=4), Dropout(0.3),
                        Dense(2, activation="softmax")])
    wider.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"differ from this model"):
        wider.fit(x, y, resume_from=tmp_path / "ck.safetensors", **FIT)
    other = _model("rmsprop")
    with pytest.raises(ValueError, match=r"cannot resume"):
        other.fit(x, y, resume_from=tmp_path / "ck.safetensors", **FIT)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError):
        _model().fit(x, y, resume_from=tmp_path / "junk.safetensors", **FIT)


# --------------------------------------------------------------- SIGKILL
_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from ffnn import Dense, Dropout, Sequential
    from ffnn.callbacks import Callback, ModelCheckpoint
    from ffnn.io import save

    mode, workdir = sys.argv[1], Path(sys.argv[2])
    x = np.random.default_rng(0).normal(size=(200, 5))
    y = (np.sin(x[:, 0]) + x[:, 1] * x[:, 2] > 0).astype(int)
    model = Sequential([Dense(16, activation="tanh", input_dim=5), Dropout(0.25),
                        Dense(2, activation="softmax")], seed=3)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    class Progress(Callback):
        def on_epoch_end(self, epoch, logs=None):
            (workdir / "progress").write_text(str(epoch + 1))
            time.sleep(0.15)  # gives the parent time to kill us mid-run

    kw = dict(epochs=EPOCHS, batch_size=16, verbose=0, validation_split=0.2)
    ckpt = workdir / "ckpt.safetensors"
    if mode == "full":
        model.fit(x, y, seed=42, **kw)
    elif mode == "killed":
        model.fit(x, y, seed=42, callbacks=[ModelCheckpoint(ckpt), Progress()], **kw)
    else:
        model.fit(x, y, seed=42, resume_from=ckpt, callbacks=[ModelCheckpoint(ckpt)], **kw)
    save(model, workdir / (mode + ".safetensors"))
    """
).replace("EPOCHS", "40")


def _run(script: Path, mode: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(ffnn.__file__).parents[1])}
    return subprocess.Popen([sys.executable, str(script), mode, str(workdir)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_training_then_resume_is_bit_identical(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    full_dir, run_dir = tmp_path / "full", tmp_path / "run"
    full_dir.mkdir()
    run_dir.mkdir()
    full = _run(script, "full", full_dir)
    victim = _run(script, "killed", run_dir)
    deadline = time.monotonic() + 20
    progress = run_dir / "progress"
    while not (progress.exists() and progress.read_text() not in ("", "1", "2")):
        assert victim.poll() is None, victim.communicate()[1].decode()
        assert time.monotonic() < deadline, "the training subprocess made no progress"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    assert victim.returncode == -signal.SIGKILL
    interrupted_at = load_checkpoint(run_dir / "ckpt.safetensors").epoch
    assert 3 <= interrupted_at < 40
    assert not (run_dir / "killed.safetensors").exists()
    resumed = _run(script, "resumed", run_dir)
    for proc in (full, resumed):
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    a, b = load(full_dir / "full.safetensors"), load(run_dir / "resumed.safetensors")
    assert _same_weights(a, b)
    assert a.history.history == b.history.history
    assert load_checkpoint(run_dir / "ckpt.safetensors").epoch == 40
