"""``ffnn train``: read the data, standardise, train with progress, report, save."""

from __future__ import annotations

import argparse
import copy
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets
from .. import optimizers as optimizers_mod
from ..training import Sequential
from ..training.callbacks import Callback, EarlyStopping
from ..training.model_checks import check_memory
from .data import (
    MAX_INFERRED_CLASSES,
    CLIError,
    Table,
    class_names,
    encode_labels,
    infer_task,
    read_csv,
    regression_targets,
)
from .figures import check_plots_dir, require_matplotlib, run_figures, write_pngs
from .files import check_output
from .model import Spec, build_model, loss_for, number, scores
from .scaling import Scaler, standardise
from .streaming import CHUNK_ROWS, read_npy, stream_columns, stream_csv
from .tables import Columns
from .text import printable

__all__ = ["DEFAULT_DATA", "DivergenceGuard", "TrainingData", "load_training_data", "run_train",
           "split_rows"]

#: Name of the built-in data set ``ffnn train`` uses without DATA.csv.
DEFAULT_DATA = "digits"
#: Share of the built-in data held out as a test set.
TEST_FRACTION = 0.25


@dataclass
class TrainingData:
    """Features (raw), targets (class indices or values) and what they are called."""

    x: np.ndarray
    y: np.ndarray
    features: list[str]
    target: str
    task: str
    classes: list[str] | None
    source: str
    test: tuple[np.ndarray, np.ndarray] | None = None
    table: Table | None = None
    columns: Columns | None = None
    notes: list[str] | None = None

    def learn_columns(self, rows: np.ndarray, impute: bool) -> None:
        """For a CSV file: learn each feature column's rule (number or one-hot category,
        fill value) on the training ``rows`` and compute the network inputs ``x``."""
        if self.table is None:
            return
        self.columns = Columns.fit(self.table, self.features, rows, impute=impute)
        done = self.columns.transform(self.table)
        self.x, self.notes = done.x, done.notes()

    @property
    def input_names(self) -> list[str]:
        """The network inputs by name (one per one-hot category)."""
        return self.features if self.columns is None else self.columns.input_names

    @property
    def input_columns(self) -> list[str]:
        """The table column each network input comes from (for messages)."""
        return self.features if self.columns is None else self.columns.input_columns


def _default_data(args: argparse.Namespace) -> TrainingData:
    """scikit-learn's digits, with a stratified held-out test split."""
    from sklearn.model_selection import train_test_split

    if args.target is not None or args.task == "regress":
        raise CLIError(
            "--target and --task regress need a DATA.csv file; without one ffnn train "
            "classifies the built-in digits"
        )
    x, y = datasets.load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=args.seed, stratify=y
    )
    features = [f"pixel_{i // 8}_{i % 8}" for i in range(x.shape[1])]
    classes = [str(k) for k in range(10)]
    source = f"{DEFAULT_DATA} (built-in)"
    return TrainingData(x_tr, y_tr, features, "digit", "classify", classes, source, (x_te, y_te))


def load_training_data(args: argparse.Namespace) -> TrainingData:
    """The data ``ffnn train`` learns from: DATA.csv or the built-in default."""
    if args.data is None:
        return _default_data(args)
    table = read_csv(args.data)
    if args.target is None:
        raise CLIError(
            f"--target is required with a data file; the columns of {args.data} are: "
            f"{', '.join(table.columns)}"
        )
    table.index(args.target, "target column")
    task = args.task or infer_task(table, args.target)
    features = [c for c in table.columns if c != args.target]
    if not features:
        raise CLIError(f"{args.data} has no feature columns besides the target")
    x = np.empty((len(table), 0))  # the inputs come once the training rows are known
    classes = None
    if task == "classify":
        classes = class_names(table, args.target)
        y = encode_labels(table, args.target, classes)
    else:
        y = regression_targets(table, args.target)
    return TrainingData(x, y, features, args.target, task, classes, args.data, table=table)


def split_rows(data: TrainingData, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices for training and validation (stratified for classes when possible).

    Raises a CLIError when the split leaves fewer than two training rows or no
    validation row.
    """
    from sklearn.model_selection import train_test_split

    n = len(data.y)
    rows = np.arange(n)
    if fraction == 0:
        return rows, rows[:0]
    n_val = math.ceil(n * fraction)
    if n_val < 1 or n - n_val < 2:
        raise CLIError(
            f"too few rows for --validation {fraction:g}: {n} rows leave {n - n_val} for "
            f"training and {n_val} for validation (at least 2 and 1 are needed); use more "
            "data or --validation 0"
        )
    stratify = None
    if data.classes is not None:
        counts = np.bincount(data.y, minlength=len(data.classes))
        k = int(np.count_nonzero(counts))
        if counts[counts > 0].min() >= 2 and min(n_val, n - n_val) >= k:
            stratify = data.y
    tr, va = train_test_split(rows, test_size=n_val, random_state=seed, stratify=stratify)
    return np.sort(tr), np.sort(va)


def _optimizer(solver: str, learning_rate: float | None) -> Any:
    options = {} if learning_rate is None else {"learning_rate": learning_rate}
    try:
        return optimizers_mod.get(solver, **options)
    except ValueError as exc:
        raise CLIError(f"--learning-rate does not apply to solver {solver!r} ({exc})") from None


def _describe(args: argparse.Namespace, data: TrainingData, n: tuple[int, int]) -> str:
    n_out = len(data.classes) if data.classes is not None else 1
    sizes = "-".join(str(s) for s in [len(data.input_names), *args.hidden, n_out])
    what = (f"classify {data.target!r} ({len(data.classes)} classes)" if data.classes is not None
            else f"regress {data.target!r}")
    val = f", validating on {n[1]}" if n[1] else ""
    how = f"{args.activation}, {args.solver}" if args.hidden else args.solver
    return (f"Training a {sizes} network ({how}) to {what} "
            f"on {n[0]} rows of {data.source}{val}")


def _all_finite(value: Any) -> bool:
    """Whether every number in a (nested) state is finite."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or bool(np.isfinite(value).all())
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


class DivergenceGuard(Callback):
    """Keep the weights and optimiser state of the best epoch whose losses, weights and
    optimiser state are all finite, and stop at the first epoch where any is not (a
    diverging run).

    ``best`` is judged by ``val_loss`` when there is a validation set, else ``loss``.
    At the end of a diverged run the best finite weights and optimiser state are put
    back (if any epoch had them), so the model can be saved and loaded again (a file
    with non-finite optimiser moments is refused by ``ffnn.load``); :attr:`diverged_at`,
    :attr:`what`, :attr:`best_epoch` and :attr:`best_value` say what happened. It runs
    last, so it also repairs non-finite weights that another callback restored.
    """

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor
        self.best_value = math.inf
        self.best_epoch: int | None = None
        self.diverged_at: int | None = None
        self.what = "a weight became infinite or NaN"
        self._weights: list[np.ndarray] | None = None
        self._state: dict[str, Any] | None = None

    def _state_now(self) -> dict[str, Any] | None:
        optimizer = self.model.optimizer
        return None if optimizer is None or not optimizer.built else optimizer.state_dict()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Snapshot an improved finite epoch; stop training on a non-finite one."""
        logs = logs or {}
        weights, state = self.model.get_weights(), self._state_now()
        bad = next((f"the {k} became {float(logs[k])}" for k in sorted(logs, key=lambda
                    k: k != "loss") if k.endswith("loss") and not math.isfinite(float(logs[k]))),
                   None)
        if bad is None and not _all_finite(weights):
            bad = "a weight became infinite or NaN"
        if bad is None and not _all_finite(state):
            bad = "the optimiser's state became infinite or NaN"
        if bad is not None:
            self.diverged_at, self.what = epoch + 1, bad
            self.model.stop_training = True
            return
        value = float(logs.get(self.monitor, logs.get("loss", math.inf)))
        if value < self.best_value or self._weights is None:
            self.best_value, self.best_epoch, self._weights = value, epoch + 1, weights
            self._state = copy.deepcopy(state)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Put the best finite weights back when the final ones are not finite."""
        if self.diverged_at is None and not (
            _all_finite(self.model.get_weights()) and _all_finite(self._state_now())
        ):
            self.diverged_at = self.best_epoch or 1
        if self.diverged_at is not None and self._weights is not None:
            self.model.set_weights(self._weights)
            if self._state is not None:
                self.model.optimizer.load_state_dict(self._state)
            self.model.stop_reason = (
                f"diverged: {self.what} in epoch {self.diverged_at}; "
                f"restored the weights of epoch {self.best_epoch}")


def _rank(args: argparse.Namespace) -> int:
    """This process's MPI rank under ``--distributed`` (0 otherwise)."""
    if not getattr(args, "distributed", False):
        return 0
    from .. import distributed

    try:
        return distributed.rank()
    except ImportError as exc:
        raise CLIError(str(exc)) from None


def _fit(args: argparse.Namespace, model: Sequential, spec: Spec, train: tuple[Any, Any],
         val: tuple[Any, Any] | None, sharded: bool = False) -> tuple[Any, DivergenceGuard]:
    dist = "mpi" if sharded else None
    if getattr(args, "distributed", False) and not sharded:  # each rank: its share of rows
        from .. import distributed

        train = (distributed.shard(train[0]), distributed.shard(train[1]))
        val = None if val is None else (distributed.shard(val[0]), distributed.shard(val[1]))
        dist = "mpi"
    callbacks: list[Callback] = []
    if args.early_stopping:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.patience,
                                       restore_best_weights=True))
    guard = DivergenceGuard("val_loss" if val is not None else "loss")
    callbacks.append(guard)
    with np.errstate(all="ignore"):  # a diverging run is reported by the guard
        history = model.fit(
            train[0], spec.fit_targets(train[1]),
            epochs=args.epochs, batch_size=args.batch_size,
            validation_data=None if val is None else (val[0], spec.fit_targets(val[1])),
            callbacks=callbacks, verbose=0 if args.quiet else 1, seed=args.seed,
            class_weight=_class_weight(args, spec), distributed=dist,
        )
    return history, guard


def _diverged(args: argparse.Namespace, guard: DivergenceGuard) -> str:
    """The one-line report of a diverged run (after its best weights were saved)."""
    hint = ("try a smaller --learning-rate" if args.learning_rate is not None
            else "try another --solver or a smaller --learning-rate")
    head = f"training diverged: {guard.what} in epoch {guard.diverged_at}"
    if guard.best_epoch is None:
        return f"{head}, before any epoch ended with finite weights, so nothing was saved ({hint})"
    return (f"{head}; saved the weights of epoch {guard.best_epoch} ({guard.monitor} "
            f"{guard.best_value:.4g}), the best finite ones, to {args.out} ({hint})")


def _class_weight(args: argparse.Namespace, spec: Spec) -> str | None:
    """``--class-weight balanced`` for classification; a ValueError for regression."""
    cw = getattr(args, "class_weight", None)
    if cw is not None and spec.task != "classify":
        raise ValueError("--class-weight needs a classification target (--task classify)")
    return cw


def _report(results: dict[str, dict[str, float]], rows: dict[str, int]) -> None:
    for name, values in results.items():
        text = "  ".join(f"{k} {number(v)}" for k, v in values.items())
        print(f"{name:<11} {text}  ({rows[name]} rows)")
    if "test" in results and "accuracy" in results["test"]:
        print(f"test accuracy: {number(results['test']['accuracy'])}")


def _finite(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _summary(args: argparse.Namespace, data: TrainingData, history: Any, model: Sequential,
             results: dict[str, Any], rows: dict[str, int]) -> dict[str, Any]:
    return _finite({
        "data": data.source, "rows": rows, "epochs": len(history.history.get("loss", [])),
        "max_epochs": args.epochs, "solver": args.solver, "learning_rate": args.learning_rate,
        "batch_size": args.batch_size, "hidden": list(args.hidden),
        "activation": args.activation, "seed": args.seed,
        "early_stopping": bool(args.early_stopping), "stop_reason": model.stop_reason,
        "final": {k: float(v[-1]) for k, v in history.history.items() if v},
        "metrics": results,
    })


def _check_options(args: argparse.Namespace) -> None:
    """Everything about the options that can fail, checked before any data is read."""
    check_output(args.out, "--out", {"data": args.data})
    if args.plots is not None:
        require_matplotlib("--plots")
        check_plots_dir(args.plots)
    if args.early_stopping and args.validation == 0:
        raise CLIError("--early-stopping watches the validation loss; it needs --validation > 0")


def _npy_target(target: str | None, width: int) -> int:
    """The target column of a .npy table: ``--target`` as an index, the last by default."""
    if target is None:
        return width - 1
    try:
        j = int(target)
    except ValueError:
        raise CLIError(f"--target of a .npy file is a column index (0 to {width - 1}, or "
                       f"negative from the end), got {target!r}") from None
    if not -width <= j < width:
        raise CLIError(f"--target {j} is outside the file's {width} columns")
    return j % width


def _standardised_copy(table: np.ndarray, target: int, spec: Spec, folder: str
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Standardised float32 features written chunk by chunk to ``folder/x.npy`` (memory
    mapped back, read-only) and the targets (class indices or values) in memory."""
    features = [j for j in range(table.shape[1]) if j != target]
    path = os.path.join(folder, "x.npy")
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(len(table), len(features)))
    y = np.empty(len(table), dtype=np.int64 if spec.classes is not None else np.float64)
    index = {float(c): k for k, c in enumerate(spec.classes or [])}
    for start in range(0, len(table), CHUNK_ROWS):
        chunk = np.asarray(table[start : start + CHUNK_ROWS], dtype=np.float64)
        out[start : start + len(chunk)] = spec.scaler.transform(chunk[:, features])
        t = chunk[:, target]
        y[start : start + len(chunk)] = [index[v] for v in t] if index else t
    out.flush()
    del out
    return np.load(path, mmap_mode="r"), y


def _chunked_scores(model: Sequential, spec: Spec, x: np.ndarray,
                    y: np.ndarray) -> dict[str, float]:
    """:func:`scores` over chunks of rows (memory O(chunk)), combined exactly: means
    weighted by rows, R² from the summed squared error and the targets' variance."""
    totals: dict[str, float] = {}
    for start in range(0, len(x), CHUNK_ROWS):
        part = scores(model, spec, x[start : start + CHUNK_ROWS], y[start : start + CHUNK_ROWS])
        for key, value in part.items():
            totals[key] = totals.get(key, 0.0) + value * min(CHUNK_ROWS, len(x) - start)
    result = {k: v / len(x) for k, v in totals.items()}
    if "r2" in result:
        var = float(np.var(y))
        result["r2"] = 1.0 - result["mse"] / var if var > 0 else float(result["mse"] == 0)
    return result


def _train_streamed(args: argparse.Namespace, optimizer: Any, rank: int) -> int:
    """``ffnn train big.npy`` or ``ffnn train big.csv --stream``: a table larger than
    memory, read in chunks, its column statistics gathered in the same one pass."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.out))) as tmp:
        if args.data.endswith(".npy"):
            table = read_npy(args.data)
            target = _npy_target(args.target, table.shape[1])
            names = [f"x{j}" for j in range(table.shape[1]) if j != target]
            if getattr(args, "distributed", False):  # each rank reads its own rows
                from .. import distributed

                table = distributed.shard(table)
                stats = _merge_ranks(stream_columns(table, target, args.data))
            else:
                stats = stream_columns(table, target, args.data)
            target_name = f"column {target}"
        else:
            table, target, names, stats = stream_csv(args.data, args.target, tmp)
            target_name = args.target
        return _train_table(args, optimizer, rank, (table, target, names, target_name),
                            stats, tmp)


def _comm() -> Any:
    from .. import distributed

    return distributed.MPI().comm


def _merge_ranks(stats: Any) -> Any:
    """Every rank's column statistics and target labels merged in rank order."""
    fstats, tstats, labels = stats
    comm = _comm()
    merged = []
    for part in (fstats, tstats):
        table = comm.allgather(np.concatenate([[part.n], part.mean, part.m2]), "statistics")
        width = len(part.mean)
        total = None
        for row in table:
            one = type(part)(int(row[0]), row[1 : 1 + width], row[1 + width :])
            total = one if total is None else total.merge(one)
        merged.append(total)
    mine = np.full(MAX_INFERRED_CLASSES + 1, np.nan)
    if labels is not None:
        mine[: len(labels)] = sorted(labels)
    else:
        mine[-1] = 0.0  # a marker: too many or non-integer labels here
    every = comm.allgather(mine, "target labels")
    union = None if np.isfinite(every[:, -1]).any() else set(
        every[np.isfinite(every)].tolist())
    if union is not None and len(union) > MAX_INFERRED_CLASSES:
        union = None
    return merged[0], merged[1], union


def _global_rows(n: int, fraction: float) -> tuple[int, int, int]:
    """(all rows, validation rows, this rank's training rows) under --distributed: the
    validation rows are the last of the whole table, as in one process."""
    comm = _comm()
    counts = comm.allgather(np.array([n], dtype=np.int64), "row counts")[:, 0]
    total, start = int(counts.sum()), int(counts[: comm.rank].sum())
    n_val = math.ceil(total * fraction)
    return total, n_val, min(max(total - n_val - start, 0), n)


def _reduced_scores(model: Sequential, spec: Spec, x: np.ndarray,
                    y: np.ndarray) -> dict[str, float]:
    """:func:`_chunked_scores` over every rank's rows (sums allreduced)."""
    part = _chunked_scores(model, spec, x, y) if len(x) else {}
    keys = ["loss", "accuracy"] if spec.task == "classify" else ["mse", "mae"]
    y64 = y.astype(np.float64)
    buf = np.array([len(x) * part.get(k, 0.0) for k in keys]
                   + [len(x), float(y64.sum()), float(y64 @ y64)])
    _comm().allreduce(buf, "scores")
    n = buf[-3]
    result = {k: float(v / n) for k, v in zip(keys, buf[: len(keys)], strict=True)}
    if spec.task != "classify":
        var = buf[-1] / n - (buf[-2] / n) ** 2
        result["r2"] = 1.0 - result["mse"] / var if var > 0 else float(result["mse"] == 0)
    return result


def _train_table(args: argparse.Namespace, optimizer: Any, rank: int,
                 source: tuple[np.ndarray, int, list[str], str], stats: Any,
                 tmp: str) -> int:
    from .. import io as model_io

    table, target, names, target_name = source
    n = len(table)
    fstats, tstats, labels = stats
    few = labels is not None and 2 <= len(labels) <= n / 2
    task = args.task or ("classify" if few else "regress")
    if task == "classify" and not few:
        raise CLIError(f"column {target} of {args.data} does not hold 2 to 20 integer classes")
    classes = [f"{v:g}" for v in sorted(labels or ())] if task == "classify" else None
    spec = Spec(task, target_name, names, fstats.scaler(names),
                loss_for(task, optimizer), classes,
                tstats.scaler(["target"], "target") if task == "regress" else None)
    sharded = bool(getattr(args, "distributed", False)) and args.data.endswith(".npy")
    n_all, n_val, keep = (_global_rows(n, args.validation) if sharded
                          else (n, math.ceil(n * args.validation), n - math.ceil(
                              n * args.validation)))
    if args.validation and (n_val < 1 or n_all - n_val < 2):
        raise CLIError(f"too few rows for --validation {args.validation:g}: {n_all} rows")
    model = build_model(len(names), len(classes or [0]), args.hidden, args.activation, task,
                        args.seed)
    model.compile(optimizer, spec.loss, metrics=["accuracy" if classes else "r2"])
    data = TrainingData(table, np.empty(0), names, spec.target, task, classes, args.data)
    if rank == 0:
        print(_describe(args, data, (n_all - n_val, n_val)), flush=True)
    x, y = _standardised_copy(table, target, spec, tmp)
    sets = {"train": (x[:keep], y[:keep])}
    if n_val:
        sets["validation"] = (x[keep:], y[keep:])
    history, guard = _fit(args, model, spec, sets["train"], sets.get("validation"), sharded)
    if guard.diverged_at is not None and guard.best_epoch is None:
        raise CLIError(_diverged(args, guard))
    score = _reduced_scores if sharded else _chunked_scores
    results = {name: score(model, spec, *xy) for name, xy in sets.items()}
    rows = {"train": n_all - n_val, **({"validation": n_val} if n_val else {})}
    if rank != 0:
        return 0
    _report(results, rows)
    spec.training = _summary(args, data, history, model, results, rows)
    model_io.save(model, args.out, metadata=spec.to_metadata())
    if guard.diverged_at is not None:
        raise CLIError(_diverged(args, guard))
    print(printable(f"saved the model to {args.out}"))
    return 0


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` subcommand."""
    from .. import io as model_io

    _check_options(args)
    rank = _rank(args)
    optimizer = _optimizer(args.solver, args.learning_rate)
    if args.data is not None and (args.data.endswith(".npy") or args.stream):
        return _train_streamed(args, optimizer, rank)
    data = load_training_data(args)
    tr, va = split_rows(data, args.validation, args.seed)
    data.learn_columns(tr, impute=not args.no_impute)
    target_scaler = None
    if data.task == "regress":
        target_scaler = Scaler.fit(data.y[tr].reshape(-1, 1), [data.target], role="target")
    spec = Spec(data.task, data.target, data.features,
                Scaler.fit(data.x[tr], data.input_names), loss_for(data.task, optimizer),
                data.classes, target_scaler, columns=data.columns)
    model = build_model(len(data.input_names), len(data.classes or [0]), args.hidden,
                        args.activation, data.task, args.seed)
    model.compile(optimizer, spec.loss, metrics=["accuracy" if data.classes else "r2"])
    check_memory(model, len(data.input_names), len(tr), args.batch_size)  # before allocating
    if rank == 0:
        print(printable(_describe(args, data, (len(tr), len(va)))), flush=True)
        for note in data.notes or ():
            print(printable(note))
    z = standardise(data.x, spec.scaler, model.dtype, data.table, data.input_columns)
    if target_scaler is not None:  # validation targets far outside the training range
        standardise(data.y.reshape(-1, 1), target_scaler, model.dtype, data.table,
                    [data.target], role="target")
    sets = {"train": (z[tr], data.y[tr])}
    if len(va):
        sets["validation"] = (z[va], data.y[va])
    if data.test is not None:
        sets["test"] = (spec.scaler.transform(data.test[0]), data.test[1])
    history, guard = _fit(args, model, spec, sets["train"], sets.get("validation"))
    if guard.diverged_at is not None and guard.best_epoch is None:
        raise CLIError(_diverged(args, guard))
    results = {name: scores(model, spec, *xy) for name, xy in sets.items()}
    rows = {name: len(xy[1]) for name, xy in sets.items()}
    if rank != 0:  # only rank 0 reports and writes the model file
        return 0
    _report(results, rows)
    spec.training = _summary(args, data, history, model, results, rows)
    try:
        model_io.save(model, args.out, metadata=spec.to_metadata())
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if guard.diverged_at is not None:
        raise CLIError(_diverged(args, guard))
    print(printable(f"saved the model to {args.out}"))
    if args.plots is not None:
        _write_plots(args.plots, model, spec, sets)
    return 0


def _write_plots(folder: str, model: Sequential, spec: Spec,
                 sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    figures = run_figures(model, spec, sets)
    try:
        paths = write_pngs(figures, folder)
    finally:
        figures.close()
    print(f"wrote {len(paths)} figures to {folder}: "
          + ", ".join(os.path.basename(p) for p in paths))
