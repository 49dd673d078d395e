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


def _fit(args: argparse.Namespace, model: Sequential, spec: Spec, train: tuple[Any, Any],
         val: tuple[Any, Any] | None) -> tuple[Any, DivergenceGuard]:
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
            class_weight=_class_weight(args, spec),
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


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` subcommand."""
    from .. import io as model_io

    _check_options(args)
    optimizer = _optimizer(args.solver, args.learning_rate)
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
