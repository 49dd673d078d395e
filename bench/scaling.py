"""Data parallelism on this machine: 2 MPI ranks × 1 BLAS thread against 1 process × 2
BLAS threads (and × 1), for

* an epoch of the 784-256-128-10 ReLU/softmax network (Adam, batch 1024, float32) on
  60,000 synthetic MNIST-sized rows, and
* one Levenberg–Marquardt epoch on a 100,000-row regression (8-32-1 tanh, float64,
  321 parameters): JᵀJ and Jᵀe accumulated per rank and allreduced.

Run: ``.venv/bin/python bench/scaling.py [--repeats 5]``. The script launches itself
under ``mpiexec`` (found beside the Python executable first) with the thread counts set
in the environment; each configuration prints the median of ``--repeats`` epochs after
one warm-up epoch, and the driver prints the ratios of medians (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"


def _mlp_data(rows: int = 60_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((rows, 784), dtype=np.float32)
    return x, rng.integers(0, 10, size=rows)


def _lm_data(rows: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(rows, 8))
    return x, (np.sin(x[:, :4]).sum(1) + 0.1 * x[:, 4:].prod(1))[:, None]


class EpochClock:
    """Wall time of each epoch (a callback)."""

    def __init__(self) -> None:
        from ffnn.callbacks import Callback

        self.times: list[float] = []
        self._start = 0.0
        clock = self

        class _Clock(Callback):
            def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
                clock._start = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: object = None) -> None:
                clock.times.append(time.perf_counter() - clock._start)

        self.callback = _Clock()


def worker(kind: str, repeats: int) -> None:
    """Time epochs of ``kind`` on this rank's shard; rank 0 prints a JSON line."""
    import ffnn
    from ffnn import distributed

    dist = "mpi" if distributed.size() > 1 else None
    if kind == "mlp":
        x, y = _mlp_data()
        net = ffnn.Sequential([ffnn.Dense(256, activation="relu", input_dim=784),
                               ffnn.Dense(128, activation="relu"),
                               ffnn.Dense(10, activation="softmax")], seed=0)
        net.compile("adam", "sparse_categorical_crossentropy")
        opts = {"batch_size": 1024}
    else:
        x, y = _lm_data()
        net = ffnn.Sequential([ffnn.Dense(32, activation="tanh", input_dim=8),
                               ffnn.Dense(1)], seed=0, dtype="float64")
        net.compile("lm", "mse")
        opts = {"batch_size": None}
    if dist:
        x, y = distributed.shard(x), distributed.shard(y)
    clock = EpochClock()
    net.fit(x, y, epochs=repeats + 1, verbose=0, seed=0, distributed=dist,
            callbacks=[clock.callback], **opts)
    times = clock.times[1:]  # the first epoch warms up caches and allocations
    if not dist or distributed.rank() == 0:
        print(json.dumps({"kind": kind, "median": statistics.median(times), "times": times}))


def run(kind: str, ranks: int, threads: int, repeats: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, __file__, "--worker", kind, "--repeats", str(repeats)]
    if ranks > 1:
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
        mpiexec = shutil.which("mpiexec", path=path)
        if mpiexec is None:
            raise SystemExit("mpiexec not found: pip install ffnn[mpi]")
        cmd = [mpiexec, "--bind-to", "none", "-n", str(ranks), *cmd]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True,
                         timeout=1800).stdout
    return float(json.loads(out.strip().splitlines()[-1])["median"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", choices=["mlp", "lm"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.repeats)
        return
    for kind, label in (("mlp", "epoch, 784-256-128-10, batch 1024, 60k rows"),
                        ("lm", "LM epoch, 8-32-1, 100k rows")):
        t11 = run(kind, 1, 1, args.repeats)
        t12 = run(kind, 1, 2, args.repeats)
        t21 = run(kind, 2, 1, args.repeats)
        print(f"{label}: 1 process x 1 thread {t11:.3f} s, 1 x 2 threads {t12:.3f} s, "
              f"2 ranks x 1 thread {t21:.3f} s; speed-up of 2 ranks over 1x2 threads "
              f"{t12 / t21:.2f}, over 1x1 {t11 / t21:.2f}")


if __name__ == "__main__":
    main()
