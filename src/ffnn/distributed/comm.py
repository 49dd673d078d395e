"""The collective operations data-parallel training needs, over ``mpi4py``, with deadlines.

Every operation is MPI's non-blocking form (``Iallreduce``, ``Ibcast``, ``Iallgather``,
``Iallgatherv``) polled until it completes: a rank that died or hangs would otherwise
leave the others blocked for ever inside MPI. When an operation has not completed
within ``timeout`` seconds the rank prints which operation stalled and aborts the whole
job with ``MPI_Abort`` (MPI cannot go on after losing a process). ``mpi4py`` is imported
on first use; without it the error names ``pip install ffnn[mpi]``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

__all__ = ["DEFAULT_TIMEOUT", "Communicator", "DistributedError", "mpi_module"]

#: Seconds a collective operation may take before the job is aborted (the environment
#: variable ``FFNN_MPI_TIMEOUT`` overrides it).
DEFAULT_TIMEOUT = 600.0


class DistributedError(RuntimeError):
    """Ranks disagree (data shapes, options) or a collective operation failed."""


def mpi_module() -> Any:
    """``mpi4py.MPI``, imported now; an ImportError naming the extra if it is missing."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(
            "distributed training needs mpi4py and an MPI library: pip install ffnn[mpi] "
            f"({exc})"
        ) from exc
    return MPI


def _timeout(value: float | None) -> float:
    if value is None:
        value = float(os.environ.get("FFNN_MPI_TIMEOUT", DEFAULT_TIMEOUT))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {value!r}")
    return float(value)


class Communicator:
    """The ranks of an MPI communicator, with the few collectives training uses.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        Default ``MPI.COMM_WORLD``.
    timeout : float, optional
        Seconds any one collective may take before the job is aborted with a message
        naming it (default ``FFNN_MPI_TIMEOUT`` or 600).
    """

    def __init__(self, comm: Any = None, timeout: float | None = None) -> None:
        self.MPI = mpi_module()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank: int = self.comm.Get_rank()
        self.size: int = self.comm.Get_size()
        self.timeout = _timeout(timeout)

    # ------------------------------------------------------------------ waiting
    def _wait(self, request: Any, what: str) -> None:
        """Poll ``request`` until done; past the deadline, report and abort the job."""
        if request.Test():
            return
        deadline = time.monotonic() + self.timeout
        pause = 1e-5
        while not request.Test():
            if time.monotonic() > deadline:
                self.abort(f"rank {self.rank} of {self.size}: {what} did not complete within "
                           f"{self.timeout:g} s; another rank has died or hangs. Aborting "
                           "the MPI job (set the limit with FFNN_MPI_TIMEOUT or "
                           "MPI(timeout=...)).")
            time.sleep(pause)
            pause = min(2.0 * pause, 1e-3)

    def abort(self, message: str, code: int = 3) -> None:
        """Print ``ffnn.distributed: <message>`` to standard error and abort every rank."""
        sys.stderr.write(f"ffnn.distributed: {message}\n")
        sys.stderr.flush()
        self.comm.Abort(code)
        raise DistributedError(message)  # not reached: Abort ends the process

    # -------------------------------------------------------------- collectives
    def allreduce(self, buffer: np.ndarray, what: str = "allreduce") -> np.ndarray:
        """The element-wise sum of ``buffer`` (float64, contiguous) over all ranks, in place."""
        if self.size > 1:
            self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM), what)
        return buffer

    def allreduce_max(self, values: np.ndarray, what: str = "allreduce") -> np.ndarray:
        """The element-wise maximum over ranks, in place."""
        if self.size > 1:
            self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, values, op=self.MPI.MAX), what)
        return values

    def bcast(self, buffer: np.ndarray, root: int = 0, what: str = "broadcast") -> np.ndarray:
        """Overwrite ``buffer`` (contiguous) with ``root``'s, in place."""
        if self.size > 1:
            self._wait(self.comm.Ibcast(buffer, root=root), what)
        return buffer

    def allgather(self, values: np.ndarray, what: str = "allgather") -> np.ndarray:
        """Every rank's 1-D ``values`` (same length everywhere), stacked in rank order."""
        values = np.ascontiguousarray(values)
        out = np.empty((self.size, *values.shape), dtype=values.dtype)
        if self.size == 1:
            out[0] = values
            return out
        self._wait(self.comm.Iallgather(values, out), what)
        return out

    def allgather_rows(self, rows: np.ndarray, what: str = "allgather of rows") -> np.ndarray:
        """Every rank's rows (same trailing shape and dtype), concatenated in rank order."""
        rows = np.ascontiguousarray(rows)
        counts = self.allgather(np.array([len(rows)], dtype=np.int64), what)[:, 0]
        width = int(np.prod(rows.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()), *rows.shape[1:]), dtype=rows.dtype)
        if self.size == 1:
            out[...] = rows
            return out
        sizes = counts * width
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self._wait(self.comm.Iallgatherv(rows, [out, (sizes.tolist(), offsets.tolist())]), what)
        return out
