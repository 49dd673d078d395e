"""``ffnn train``: read the data, standardise, train with progress, report, save."""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets
from .. import optimizers as optimizers_mod
from ..training import Sequential
from ..training.callbacks import EarlyStopping
from .data import (
    CHUNK_ROWS,
    MAX_INFERRED_CLASSES,
    CLIError,
    Scaler,
    class_names,
    encode_labels,
    infer_task,
    numeric_matrix,
    read_csv,
    read_npy,
    regression_targets,
    stream_columns,
    stream_csv,
)
from .model import Spec, build_model, loss_for, scores

__all__ = ["DEFAULT_DATA", "TrainingData", "load_training_data", "run_train", "split_rows"]

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
    x = numeric_matrix(table, features)
    classes = None
    if task == "classify":
        classes = class_names(table, args.target)
        y = encode_labels(table, args.target, classes)
    else:
        y = regression_targets(table, args.target)
    return TrainingData(x, y, features, args.target, task, classes, args.data)


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


def _check_out(path: str) -> None:
    """Fail before training, not after, if the model cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CLIError(f"--out {path} is a directory; give a file name")
    if not os.path.isdir(folder):
        raise CLIError(f"--out {path}: folder {folder} does not exist")


def _describe(args: argparse.Namespace, data: TrainingData, n: tuple[int, int]) -> str:
    n_out = len(data.classes) if data.classes is not None else 1
    sizes = "-".join(str(s) for s in [len(data.features), *args.hidden, n_out])
    what = (f"classify {data.target!r} ({len(data.classes)} classes)" if data.classes is not None
            else f"regress {data.target!r}")
    val = f", validating on {n[1]}" if n[1] else ""
    how = f"{args.activation}, {args.solver}" if args.hidden else args.solver
    return (f"Training a {sizes} network ({how}) to {what} "
            f"on {n[0]} rows of {data.source}{val}")


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
         val: tuple[Any, Any] | None, sharded: bool = False) -> Any:
    dist = "mpi" if sharded else None
    if getattr(args, "distributed", False) and not sharded:  # each rank: its share of rows
        from .. import distributed

        train = (distributed.shard(train[0]), distributed.shard(train[1]))
        val = None if val is None else (distributed.shard(val[0]), distributed.shard(val[1]))
        dist = "mpi"
    callbacks = []
    if args.early_stopping:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.patience,
                                       restore_best_weights=True))
    return model.fit(
        train[0], spec.fit_targets(train[1]),
        epochs=args.epochs, batch_size=args.batch_size,
        validation_data=None if val is None else (val[0], spec.fit_targets(val[1])),
        callbacks=callbacks, verbose=0 if args.quiet else 1, seed=args.seed,
        distributed=dist,
    )


def _report(results: dict[str, dict[str, float]], rows: dict[str, int]) -> None:
    for name, values in results.items():
        text = "  ".join(f"{k} {v:.4f}" for k, v in values.items())
        print(f"{name:<11} {text}  ({rows[name]} rows)")
    if "test" in results and "accuracy" in results["test"]:
        print(f"test accuracy: {results['test']['accuracy']:.4f}")


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
    history = _fit(args, model, spec, sets["train"], sets.get("validation"), sharded)
    score = _reduced_scores if sharded else _chunked_scores
    results = {name: score(model, spec, *xy) for name, xy in sets.items()}
    rows = {"train": n_all - n_val, **({"validation": n_val} if n_val else {})}
    if rank != 0:
        return 0
    _report(results, rows)
    spec.training = _summary(args, data, history, model, results, rows)
    model_io.save(model, args.out, metadata=spec.to_metadata())
    print(f"saved the model to {args.out}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` subcommand."""
    from .. import io as model_io

    _check_out(args.out)
    rank = _rank(args)
    optimizer = _optimizer(args.solver, args.learning_rate)
    if args.data is not None and (args.data.endswith(".npy") or args.stream):
        return _train_streamed(args, optimizer, rank)
    data = load_training_data(args)
    if args.early_stopping and args.validation == 0:
        raise CLIError("--early-stopping watches the validation loss; it needs --validation > 0")
    tr, va = split_rows(data, args.validation, args.seed)
    target_scaler = None
    if data.task == "regress":
        target_scaler = Scaler.fit(data.y[tr].reshape(-1, 1), [data.target], role="target")
    spec = Spec(data.task, data.target, data.features, Scaler.fit(data.x[tr], data.features),
                loss_for(data.task, optimizer), data.classes, target_scaler)
    model = build_model(len(data.features), len(data.classes or [0]), args.hidden,
                        args.activation, data.task, args.seed)
    model.compile(optimizer, spec.loss, metrics=["accuracy" if data.classes else "r2"])
    if rank == 0:
        print(_describe(args, data, (len(tr), len(va))), flush=True)
    sets = {"train": (spec.scaler.transform(data.x[tr]), data.y[tr])}
    if len(va):
        sets["validation"] = (spec.scaler.transform(data.x[va]), data.y[va])
    if data.test is not None:
        sets["test"] = (spec.scaler.transform(data.test[0]), data.test[1])
    history = _fit(args, model, spec, sets["train"], sets.get("validation"))
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
    print(f"saved the model to {args.out}")
    return 0
