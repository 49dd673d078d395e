"""Data-parallel training over MPI (``mpi4py``), and each rank's share of the data.

Run one process per rank with ``mpiexec -n 4 python train.py``; in ``train.py`` each
rank loads its own rows and calls ``fit(..., distributed="mpi")``::

    from ffnn import distributed
    x = distributed.load_shard("x.npy")      # this rank's rows, memory-mapped
    y = distributed.load_shard("y.npy")
    model.fit(x, y, epochs=10, batch_size=256, seed=0, distributed="mpi")
    if distributed.rank() == 0:
        model.save("model.safetensors")

The ranks' rows, concatenated in rank order, are the data set; the run takes the same
steps as one process on that data set (see docs/scaling.md and
:mod:`ffnn.distributed.parallel`). ``mpi4py`` is imported on first use; without it the
error names ``pip install ffnn[mpi]``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .comm import Communicator, DistributedError, mpi_module
from .fit import MPI

__all__ = [
    "MPI",
    "Communicator",
    "DistributedError",
    "load_shard",
    "rank",
    "shard",
    "shard_range",
    "size",
]


def rank() -> int:
    """This process's rank in ``MPI.COMM_WORLD`` (0 when not started by mpiexec)."""
    return int(mpi_module().COMM_WORLD.Get_rank())


def size() -> int:
    """The number of ranks in ``MPI.COMM_WORLD`` (1 when not started by mpiexec)."""
    return int(mpi_module().COMM_WORLD.Get_size())


def _who(rank_: int | None, size_: int | None) -> tuple[int, int]:
    r = rank() if rank_ is None else rank_
    s = size() if size_ is None else size_
    for name, value in (("rank", r), ("size", s)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if s < 1 or not 0 <= r < s:
        raise ValueError(f"rank must lie in [0, size) with size >= 1, got rank {r}, size {s}")
    return int(r), int(s)


def shard_range(n: int, rank: int | None = None, size: int | None = None) -> tuple[int, int]:
    """Rows ``[start, stop)`` of rank ``rank`` out of ``size`` for ``n`` rows.

    Contiguous, in rank order, the first ``n % size`` ranks one row longer: the rows
    ``np.array_split(x, size)[rank]`` holds. ``rank`` and ``size`` default to this
    process's.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    r, s = _who(rank, size)
    base, extra = divmod(int(n), s)
    start = r * base + min(r, extra)
    return start, start + base + (1 if r < extra else 0)


def shard(data: Any, rank: int | None = None, size: int | None = None) -> Any:
    """This rank's rows of ``data`` (an array, a memory map, a list or a pandas
    object), as :func:`shard_range` gives them; a view where ``data`` allows one."""
    start, stop = shard_range(len(data), rank, size)
    return data.iloc[start:stop] if hasattr(data, "iloc") else data[start:stop]


def load_shard(path: str | os.PathLike[str], rank: int | None = None,
               size: int | None = None) -> np.ndarray:
    """This rank's rows of a ``.npy`` file, memory-mapped read-only (nothing else of the
    file is read).

    Raises
    ------
    ValueError
        If the file holds a 0-d array (no rows to share out).
    """
    data = np.load(path, mmap_mode="r")
    if data.ndim == 0:
        raise ValueError(f"{os.fspath(path)} holds a scalar, not rows of data")
    return shard(data, rank, size)
