"""Shards of the data (``ffnn.distributed``) and training on memory-mapped files.

The helpers must give exactly ``np.array_split``'s rows; a memory map of the model's
dtype is used in place (never copied), its bad values are reported with their global
position, and a file several times larger than the process's peak resident memory
trains (the peak resident memory measured in a subprocess).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from ffnn import distributed
from ffnn.training import data

SRC = Path(__file__).resolve().parents[2] / "src"


@given(n=st.integers(0, 200), size=st.integers(1, 9))
def test_shard_range_gives_array_split_rows(n: int, size: int) -> None:
    x = np.arange(n)
    parts = np.array_split(x, size)
    for rank in range(size):
        start, stop = distributed.shard_range(n, rank, size)
        np.testing.assert_array_equal(x[start:stop], parts[rank])
        np.testing.assert_array_equal(distributed.shard(x, rank, size), parts[rank])


def test_shard_checks_rank_and_size() -> None:
    with pytest.raises(ValueError, match="rank must lie in"):
        distributed.shard_range(10, 3, 3)
    with pytest.raises(ValueError, match="non-negative integer"):
        distributed.shard_range(-1, 0, 1)
    with pytest.raises(TypeError, match="rank must be an integer"):
        distributed.shard_range(10, 0.5, 2)  # type: ignore[arg-type]


def test_load_shard_maps_only_the_rows_of_the_rank(tmp_path: Path) -> None:
    x = np.arange(30.0).reshape(10, 3)
    np.save(tmp_path / "x.npy", x)
    part = distributed.load_shard(tmp_path / "x.npy", rank=1, size=3)
    assert isinstance(part, np.memmap) and part.mode == "r"
    np.testing.assert_array_equal(part, np.array_split(x, 3)[1])
    np.save(tmp_path / "s.npy", np.float64(1.0))
    with pytest.raises(ValueError, match="holds a scalar"):
        distributed.load_shard(tmp_path / "s.npy", rank=0, size=1)


def test_a_missing_mpi4py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install ffnn\[mpi\]"):
        distributed.rank()


def test_distributed_must_name_a_backend() -> None:
    net = ffnn.Sequential([ffnn.Dense(1, input_dim=2)], seed=0)
    net.compile("sgd", "mse")
    with pytest.raises(ValueError, match="distributed must be 'mpi'"):
        net.fit(np.ones((4, 2)), np.ones(4), distributed="nccl")
    with pytest.raises(TypeError, match="backend with a fit method"):
        net.fit(np.ones((4, 2)), np.ones(4), distributed=3)


def test_one_rank_run_equals_the_plain_run() -> None:
    """Under one process (no mpiexec), distributed='mpi' takes the same steps."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 1))
    weights = []
    for dist in (None, "mpi"):
        net = ffnn.Sequential([ffnn.Dense(4, activation="tanh", input_dim=3), ffnn.Dense(1)],
                              seed=1, dtype="float64")
        net.compile("adam", "mse", metrics=["mae"])
        hist = net.fit(x, y, epochs=3, batch_size=8, seed=2, verbose=0,
                       validation_split=0.2, distributed=dist)
        weights.append((ffnn.utils.flatten_params(net), hist.history))
    np.testing.assert_allclose(weights[0][0], weights[1][0], rtol=1e-12)
    for key, values in weights[0][1].items():
        np.testing.assert_allclose(values, weights[1][1][key], rtol=1e-12)


def test_a_memory_map_is_used_in_place(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    checked = data.as_features(mapped, np.float32)
    assert np.shares_memory(checked, mapped)
    rows = data.take(checked, np.array([5, 1]))
    np.testing.assert_array_equal(rows, x[[5, 1]])
    assert not np.shares_memory(rows, mapped)


def test_a_memory_map_of_another_dtype_is_refused_not_copied(tmp_path: Path) -> None:
    """Converting would read the whole file into memory: the error says what to do."""
    np.save(tmp_path / "x.npy", np.ones((8, 2)))
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    net = ffnn.Sequential([ffnn.Dense(1, input_dim=2)], seed=0)  # float32
    net.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"memory-mapped float64 .* dtype='float64'"):
        net.fit(mapped, np.ones(8), verbose=0)


def test_bad_values_of_a_memory_map_are_found_across_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The map is checked a chunk at a time; the count and first position are global."""
    x = np.ones((40, 3))
    x[17, 2] = np.nan
    x[33, 0] = np.inf
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setattr(data, "MAPPED_BUDGET", 5 * 24)  # chunks of 5 rows
    with pytest.raises(ValueError, match=r"2 NaN or infinite value\(s\); the first is at "
                                         r"index \(17, 2\)"):
        data.as_features(np.load(tmp_path / "x.npy", mmap_mode="r"), np.float64)


TRAIN = """
import resource, sys
import numpy as np
import ffnn
x = np.load(sys.argv[1], mmap_mode="r")
y = np.load(sys.argv[2])
net = ffnn.Sequential([ffnn.Dense(8, activation="relu", input_dim=x.shape[1]),
                       ffnn.Dense(1)], seed=0)
net.compile("adam", "mse")
history = net.fit(x, y, epochs=1, batch_size=256, verbose=0, seed=0)
# The peak of this process's own memory: VmHWM. ru_maxrss would also count the parent
# (Linux carries the forking process's peak across fork and exec).
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")]
peak = int(hwm[0].split()[1]) * 1024
assert peak <= resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(peak, history.history["loss"][0])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_training_on_a_file_several_times_larger_than_peak_memory(tmp_path: Path) -> None:
    """512 MiB of features (32768 rows of 4096 float32), shuffled batches of 256: the
    process's peak resident memory (libraries included) stays under a third of it.

    The peak is the child's VmHWM (checked against ``resource.getrusage``, which on
    Linux also includes the peak of the pytest process that forked it)."""
    n, f, block = 32768, 4096, 2048
    rng = np.random.default_rng(0)
    chunk = rng.normal(size=(block, f)).astype(np.float32)
    w = (rng.normal(size=f) / 64).astype(np.float32)
    mapped = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32,
                                       shape=(n, f))
    for start in range(0, n, block):
        mapped[start : start + block] = chunk
    mapped.flush()
    del mapped
    np.save(tmp_path / "y.npy", np.tile(chunk @ w, n // block))
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(TRAIN))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "x.npy"),
                           str(tmp_path / "y.npy")], capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak, loss = proc.stdout.split()
    size = (tmp_path / "x.npy").stat().st_size
    assert size > 3 * int(peak), (size, peak)
    assert np.isfinite(float(loss))


def test_one_allreduce_of_one_flat_buffer_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step sends one buffer: all gradients, the presence flags, mᵣFᵣ and mᵣ."""
    from ffnn.distributed.comm import Communicator

    calls: list[tuple[str, int]] = []
    plain = Communicator.allreduce

    def counting(self: Communicator, buffer: np.ndarray, what: str = "") -> np.ndarray:
        calls.append((what, buffer.size))
        return plain(self, buffer, what)

    monkeypatch.setattr(Communicator, "allreduce", counting)
    net = ffnn.Sequential([ffnn.Dense(4, activation="tanh", input_dim=3), ffnn.Dense(1)],
                          seed=1, dtype="float64")
    net.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(50, 3))
    net.fit(x, x[:, :1], epochs=2, batch_size=8, seed=0, verbose=0, distributed="mpi")
    steps = [c for c in calls if c[0] == "allreduce of the gradients"]
    assert len(steps) == 2 * 7
    assert {size for _, size in steps} == {3 * 4 + 4 + 4 + 1 + 4 + 2}
