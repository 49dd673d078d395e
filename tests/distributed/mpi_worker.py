"""Run by tests/distributed/test_mpi.py under ``mpiexec -n R``: every case trains the
same network on each rank's shard with ``distributed="mpi"`` and rank 0 saves the
results in the folder given as the first argument (one ``.npz`` per case).

Kept in one script, so the suite launches mpiexec once per rank count.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import ffnn
from ffnn import distributed
from ffnn.callbacks import CSVLogger, EarlyStopping
from ffnn.io import ModelCheckpoint
from ffnn.utils import flatten_params

CASES = ("sgd", "adam", "lbfgs", "lm", "br", "sgd_weighted_sse", "adam_validation",
         "adam_metrics", "resume", "memmap")


def data(n: int = 97) -> tuple[np.ndarray, np.ndarray]:
    """A seeded regression problem; the ranks cut it into shards."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 3))
    y = np.column_stack([np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2], np.cos(x[:, 1])])
    return x, y


def model(optimizer: object, loss: str = "mse", regularize: bool = True) -> ffnn.Sequential:
    reg = {"kernel_regularizer": ffnn.regularizers.L2(1e-3)} if regularize else {}
    net = ffnn.Sequential([ffnn.Dense(6, activation="tanh", input_dim=3, **reg),
                           ffnn.Dense(2)], seed=3, dtype="float64")
    net.compile(optimizer, loss, metrics=["mse", "r2"])
    return net


def run(case: str, dist: object, out: Path) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Train one case on the shard (``dist`` set) or on all rows (``dist`` None)."""
    x, y = data()
    w = np.random.default_rng(11).uniform(0.2, 2.0, size=len(x))
    if dist is not None:
        x, y, w = distributed.shard(x), distributed.shard(y), distributed.shard(w)
    opts: dict[str, object] = {"epochs": 4, "batch_size": 10, "seed": 5, "verbose": 0,
                               "distributed": dist}
    if case == "sgd":
        net = model(ffnn.optimizers.get("sgd", learning_rate=0.05, momentum=0.9))
    elif case == "adam":
        net = model("adam")
    elif case in ("lbfgs", "lm", "br"):
        net = model(ffnn.optimizers.get("lbfgs", maxiter=25) if case == "lbfgs" else case,
                    regularize=case == "lm")
        opts.update(epochs=5 if case != "lbfgs" else 2, batch_size=None)
    elif case == "sgd_weighted_sse":
        net = model(ffnn.optimizers.get("sgd", learning_rate=0.002), loss="sse")
        opts["sample_weight"] = w
    elif case == "adam_validation":
        net = model("adam")
        net = model(ffnn.optimizers.get("adam", learning_rate=0.05))
        opts.update(validation_split=0.3, epochs=30,
                    callbacks=[EarlyStopping(monitor="val_loss", patience=1,
                                             restore_best_weights=True)])
    elif case == "adam_metrics":
        net = model("adam")
        opts.update(batch_size=16, shuffle=False)
    elif case == "memmap":  # each rank maps only its rows of the .npy files
        net = model("adam")
        if dist is not None:
            x = distributed.load_shard(out / "x.npy")  # y is already this rank's share
            opts.update(verbose=2, callbacks=[
                CSVLogger(str(out / f"log-rank{distributed.rank()}.csv"))])
    else:  # resume: 2 epochs with checkpoints, then resume to 4
        net = model("adam")
        tag = "dist" if dist is not None else "single"
        path = out / f"ckpt-{tag}.safetensors"
        net.fit(x, y, **{**opts, "epochs": 2,
                         "callbacks": [ModelCheckpoint(str(path))]})
        net = model("adam")
        opts["resume_from"] = str(path)
    history = net.fit(x, y, **opts)
    return flatten_params(net), history.history


def main() -> None:
    out = Path(sys.argv[1])
    cases = sys.argv[2:] or CASES
    rank = distributed.rank()
    if rank == 0:
        np.save(out / "x.npy", data()[0])
    distributed.MPI().comm.comm.Barrier()
    for case in cases:
        theta, hist = run(case, "mpi", out)
        if rank == 0:
            ref_theta, ref_hist = run(case, None, out)
            np.savez(out / f"{case}-{distributed.size()}.npz", theta=theta, ref=ref_theta,
                     **{f"h_{k}": v for k, v in hist.items()},
                     **{f"r_{k}": v for k, v in ref_hist.items()})


if __name__ == "__main__":
    main()
