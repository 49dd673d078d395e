"""``fit(..., distributed="mpi")``: the set-up of a data-parallel run.

Every rank calls ``fit`` with its own rows; the concatenation of the ranks' rows in rank
order is the data set. The set-up agrees on a seed (rank 0's, or fresh entropy drawn by
rank 0), validates each rank's rows and checks that the ranks agree on their shapes,
holds out the validation rows of the *global* data set (``validation_split`` takes the
last rows of the last ranks, as a single process would), gathers the validation set on
every rank (it is scored whole on each), broadcasts rank 0's initial weights and hands
the loop a :class:`~.parallel.DataParallelRun`. Callbacks that write files
(``ModelCheckpoint``, ``CSVLogger``) and progress output run on rank 0 only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..io.checkpoint_callback import ModelCheckpoint
from ..training import loop
from ..training.callbacks import Callback, CSVLogger, History
from ..training.progress import Progress
from .comm import Communicator, DistributedError
from .parallel import DataParallelRun

if TYPE_CHECKING:
    from ..training.model import Sequential

__all__ = ["MPI", "WRITERS"]

#: Callbacks that write files: on ranks other than 0 they are left out.
WRITERS: tuple[type[Callback], ...] = (ModelCheckpoint, CSVLogger)


def _rows(data: Any, rows: slice) -> Any:
    """``data[rows]`` for arrays, lists and pandas objects (``iloc``)."""
    if data is None:
        return None
    return data.iloc[rows] if hasattr(data, "iloc") else data[rows]


class MPI:
    """Data-parallel training over MPI (``fit(..., distributed=MPI())`` or ``"mpi"``).

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        The ranks that train together (default ``COMM_WORLD``).
    timeout : float, optional
        Seconds one collective may take before the job is aborted (default the
        ``FFNN_MPI_TIMEOUT`` environment variable, else 600).
    """

    def __init__(self, comm: Any = None, timeout: float | None = None) -> None:
        self._comm_arg, self._timeout = comm, timeout
        self._comm: Communicator | None = None

    @property
    def comm(self) -> Communicator:
        """The :class:`~.comm.Communicator` (mpi4py is imported on first use)."""
        if self._comm is None:
            self._comm = Communicator(self._comm_arg, self._timeout)
        return self._comm

    # --------------------------------------------------------------- agreement
    def _agree(self, error: BaseException | None, what: str) -> None:
        """Raise on every rank if ``what`` failed on any: the failing rank re-raises its
        own error, the others a DistributedError naming the ranks that failed."""
        failed = self.comm.allgather(np.array([error is not None], dtype=np.int64), what)[:, 0]
        if error is not None:
            raise error
        if failed.any():
            ranks = ", ".join(str(r) for r in np.flatnonzero(failed))
            raise DistributedError(f"{what} failed on rank(s) {ranks}; see their error")

    def _seed(self, seed: int | None) -> int:
        """Rank 0's seed, or entropy drawn on rank 0, on every rank."""
        value = np.array([-1 if seed is None else int(seed)], dtype=np.int64)
        self.comm.bcast(value, what="broadcast of the seed")
        if value[0] >= 0:
            return int(value[0])
        mine = np.array([int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 2)],
                        dtype=np.int64)
        return int(self.comm.bcast(mine, what="broadcast of the seed")[0])

    def _layout(self, n_local: int, shape: tuple[int, ...]) -> np.ndarray:
        """Every rank's (rows, *shape); ValueError unless all agree on ``shape`` (the
        feature and target widths, whether there are weights and validation rows)."""
        mine = np.array([n_local, *shape], dtype=np.int64)
        table = self.comm.allgather(mine, "exchange of the data shapes")
        if (table[:, 1:] != table[0, 1:]).any():
            listed = "; ".join(f"rank {r}: {n} rows × {tuple(s)}" for r, (n, *s)
                               in enumerate(table.tolist()))
            raise ValueError(f"the ranks' data disagree in shape ({listed}); every rank "
                             "needs the same features and targets, and sample weights and "
                             "validation data on all ranks or none")
        return table

    # --------------------------------------------------------------------- fit
    def fit(self, model: Sequential, x: Any, y: Any, **options: Any) -> History:
        """Train ``model`` on this rank's ``(x, y)``; see :meth:`ffnn.Sequential.fit`."""
        comm = self.comm
        loop.check_fit_args(options["epochs"], options["batch_size"],
                            options["validation_split"], options["shuffle"])
        if isinstance(options.get("class_weight"), str):
            raise ValueError("class_weight='balanced' would count the classes of one rank's "
                             "rows; under distributed='mpi' pass a dict of class weights "
                             "computed on the whole data set")
        options["seed"] = seed = self._seed(options["seed"])
        split = float(options.pop("validation_split"))
        x, y, val, sw = self._split(x, y, split, options.pop("validation_data"),
                                    options.pop("sample_weight"))
        if comm.rank != 0:
            options["verbose"] = 0
            options["callbacks"] = [c for c in options["callbacks"] if not isinstance(c, WRITERS)]
        run: loop.FitRun | None = None
        error: BaseException | None = None
        try:
            run = loop.start_run(model, x, y, validation_split=0.0, validation_data=None,
                                 sample_weight=sw, **options)
        except (ValueError, TypeError, RuntimeError, OSError) as exc:
            error = exc
        self._agree(error, "validating the training data")
        assert run is not None
        self._attach(model, run, seed, val, options["verbose"])
        return loop.run_epochs(model, run)

    def _split(self, x: Any, y: Any, split: float, validation_data: Any,
               sw: Any) -> tuple[Any, Any, Any, Any]:
        """This rank's training rows and its validation rows under ``validation_split``
        of the global data set (the last rows overall)."""
        if not split:
            return x, y, validation_data, sw
        n = len(x)
        counts = self.comm.allgather(np.array([n], dtype=np.int64), "exchange of row counts")
        total = int(counts.sum())
        start = int(counts[: self.comm.rank].sum())
        n_val = int(total * split)
        if not 0.0 < split < 1.0 or n_val < 1 or n_val >= total:
            raise ValueError(f"validation_split={split} of {total} samples (all ranks) leaves "
                             f"{n_val} for validation and {total - n_val} for training; both "
                             "need at least one, and the fraction must lie in (0, 1)")
        keep = min(max(total - n_val - start, 0), n)
        val: tuple[Any, ...] = (_rows(x, slice(keep, None)), _rows(y, slice(keep, None)))
        if sw is not None:
            val = (*val, _rows(sw, slice(keep, None)))
        return (_rows(x, slice(None, keep)), _rows(y, slice(None, keep)), val,
                _rows(sw, slice(None, keep)))

    def _attach(self, model: Sequential, run: loop.FitRun, seed: int, val: Any,
                verbose: int) -> None:
        """Global counts, the gathered validation set, rank 0's weights, per-rank
        dropout streams, progress over global steps, and the parallel hooks."""
        comm = self.comm
        weighted = run.sample_weight is not None
        table = self._layout(len(run.x), (*run.x.shape[1:], *run.y.shape[1:], weighted,
                                          val is not None))
        counts = table[:, 0]
        start = int(counts[: comm.rank].sum())
        n_rows = int(counts.sum())
        if run.batch_size is None and (counts == 0).any():
            raise ValueError(f"full-batch training needs rows on every rank; rows per rank: "
                             f"{counts.tolist()}")
        mass = DataParallelRun.local_mass(run.sample_weight, len(run.x))
        total = float(comm.allreduce(np.array([mass]), "sum of the sample weights")[0])
        sum_loss = getattr(model.loss, "reduction", "mean") == "sum"
        par = DataParallelRun(comm, start, start + len(run.x), n_rows, total, sum_loss)
        if val is not None:
            run.validation = self._gather_validation(model, run, val)
        par.sync_parameters(model)
        reseedable = [layer for layer in model.layers if hasattr(layer, "reseed")]
        if reseedable:
            streams = np.random.SeedSequence(seed).spawn(3)[2].spawn(comm.size)[comm.rank]
            for layer, child in zip(reseedable, streams.spawn(len(reseedable)), strict=True):
                layer.reseed(child)
        steps = 1 if run.batch_size is None else -(-n_rows // run.batch_size)
        run.progress = Progress(verbose, run.epochs, steps)
        run.parallel = par

    def _gather_validation(self, model: Sequential, run: loop.FitRun,
                           val: Any) -> loop.Validation:
        """Validate this rank's validation rows and gather everyone's, in rank order."""
        if not isinstance(val, (tuple, list)) or len(val) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val) or "
                             "(x_val, y_val, sample_weight)")
        error: BaseException | None = None
        xv = np.empty((0, *run.x.shape[1:]), dtype=run.x.dtype)
        yv = np.empty((0, *run.y.shape[1:]), dtype=run.y.dtype)
        swv = None if len(val) == 2 or val[2] is None else np.empty(0, dtype=model.dtype)
        try:
            if len(val[0]):
                xv, yv, swv = model.validate_data(val[0], val[1], (*val, None)[2],
                                                  what="validation ")
        except (ValueError, TypeError) as exc:
            error = exc
        self._agree(error, "validating the validation data")
        what = "gathering the validation set"
        weights = None if swv is None else self.comm.allgather_rows(swv, what)
        return (self.comm.allgather_rows(xv, what), self.comm.allgather_rows(yv, what),
                weights)
