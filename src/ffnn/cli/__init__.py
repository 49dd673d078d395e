"""The ``ffnn`` command: train, evaluate, predict with, inspect and demonstrate networks.

``main(argv)`` parses the arguments and runs a subcommand; it returns the exit status
(0 on success, 2 for bad input or usage). User errors — a missing file, a malformed CSV,
an unknown column, a model file that fails validation — print one line
``ffnn: error: ...`` on standard error, never a traceback. The choices of
``--activation`` and ``--solver`` come from the library's registries.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .. import __version__
from ..nn.activations import ACTIVATIONS
from ..optim import OPTIMIZERS
from .data import MAX_INFERRED_CLASSES, CLIError
from .model import TASKS
from .text import printable

__all__ = ["build_parser", "main"]

_Formatter = argparse.RawDescriptionHelpFormatter

_MAIN_EPILOG = """\
examples:
  ffnn train                                   # the built-in digits; prints test accuracy
  ffnn train iris.csv --target species --hidden 16 --out iris.safetensors
  ffnn evaluate iris.safetensors iris.csv
  ffnn predict iris.safetensors new.csv --out predictions.csv
  ffnn info iris.safetensors
  ffnn export iris.safetensors iris.onnx
  ffnn report iris.safetensors iris.csv --out iris-report.html
  ffnn demo

Run 'ffnn COMMAND --help' for the options of a command.
"""

_TRAIN_DESCRIPTION = f"""\
Train a feedforward network on a CSV file and save it.

The CSV file needs a header row. A feature column of numbers is one input; a column of
text is one-hot encoded (one input per category of the training rows; a category seen
only later gives zeros and is counted). Missing cells (empty, NaN, NA, N/A, #N/A, <NA>,
null, None, in any case) are filled with the column's median or most frequent category
on the training rows, unless --no-impute; a missing target cell is refused. The inputs
are standardised (mean 0, standard deviation 1 on the training rows); the scaler, the
column rules, the feature and class names and a summary of the run are stored in the
model file. Without DATA.csv, ffnn train classifies scikit-learn's digits, holding out
25% as a test set, and prints the test accuracy.

Task: without --task, the target is classified when any value is not a number, or
when all values are integers with at most {MAX_INFERRED_CLASSES} distinct values, and
no more distinct values than half the number of rows; otherwise it is regressed.

Loss: sparse categorical cross-entropy with a softmax output for classification, mean
squared error with a linear output for regression (the target is standardised too, and
predictions are mapped back). The least-squares solvers lm and br (trainlm, trainbr)
train a classifier on one-hot targets with mean squared error and a softmax output.
"""

_TRAIN_EPILOG = """\
examples:
  ffnn train --epochs 20
  ffnn train iris.csv --target species --hidden 16,8 --early-stopping --out iris.safetensors
  ffnn train houses.csv --target price --task regress --solver lm --epochs 50
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


#: Seeds are 32-bit: NumPy's legacy seeding and scikit-learn's random_state take no more.
SEED_LIMIT = 2**32


def _seed(text: str) -> int:
    """A seed in [0, 2**32); argparse reports the error as ``argument --seed: ...``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to {SEED_LIMIT - 1}, got {text!r}"
        ) from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to {SEED_LIMIT - 1}, got {text!r}"
        )
    return value


def _hidden(text: str) -> list[int]:
    """``"64,32"`` → [64, 32]; ``""`` or ``"none"`` → [] (no hidden layer)."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        return [_positive_int(part.strip()) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer sizes such as 64,32, got {text!r}"
        ) from None


def _add_train_options(p: argparse.ArgumentParser) -> None:
    """The network and solver options of ``train``."""
    p.add_argument("--hidden", type=_hidden, default=[64], metavar="SIZES",
                   help="hidden layer sizes, comma-separated, e.g. 64,32; 'none' for no "
                        "hidden layer (default: 64)")
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS.names(), metavar="NAME",
                   help="activation of the hidden layers, one of: "
                        f"{', '.join(ACTIVATIONS.names())} (default: relu)")
    p.add_argument("--solver", default="adam", choices=OPTIMIZERS.names(), metavar="NAME",
                   help=f"optimiser, one of: {', '.join(OPTIMIZERS.names())} (default: adam)")
    p.add_argument("--learning-rate", type=_positive_float, default=None, metavar="RATE",
                   help="learning rate (default: the solver's own; lm, br and lbfgs take none)")
    p.add_argument("--epochs", type=_positive_int, default=30, metavar="N",
                   help="maximum number of passes over the training rows (default: 30)")
    p.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                   help="rows per gradient step; lbfgs, lm and br use all rows (default: 32)")


def _add_train(sub: Any) -> None:
    p = sub.add_parser("train", help="train a network on a CSV file (or the built-in digits)",
                       description=_TRAIN_DESCRIPTION, epilog=_TRAIN_EPILOG,
                       formatter_class=_Formatter)
    p.add_argument("data", nargs="?", metavar="DATA.csv",
                   help="training data with a header row (default: scikit-learn's digits)")
    p.add_argument("--target", metavar="COL",
                   help="name of the target column (required with DATA.csv)")
    p.add_argument("--task", choices=TASKS,
                   help="classify or regress the target (default: inferred, see above)")
    _add_train_options(p)
    p.add_argument("--validation", type=_fraction, default=0.2, metavar="FRACTION",
                   help="share of the rows held out for validation, 0 for none (default: 0.2)")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop when the validation loss stops falling and keep the best "
                        "weights")
    p.add_argument("--class-weight", choices=["balanced"], default=None,
                   help="weigh each class n_rows / (n_classes * its rows), scikit-learn's "
                        "'balanced' (classification only)")
    p.add_argument("--patience", type=_positive_int, default=10, metavar="N",
                   help="epochs without improvement before early stopping (default: 10)")
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help="seed of the split, the initial weights and the shuffling, from 0 to "
                        f"{SEED_LIMIT - 1} (default: 0)")
    p.add_argument("--out", default="model.safetensors", metavar="MODEL",
                   help="where to save the model (default: model.safetensors)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or per-epoch lines")
    p.add_argument("--no-impute", action="store_true",
                   help="refuse missing cells instead of filling them (numbers: the median, "
                        "text: the most frequent category, both of the training rows)")
    p.add_argument("--plots", metavar="DIR",
                   help="also write PNG figures of the run to DIR: the loss per epoch, the "
                        "LM/BR state, and a confusion matrix or regression plot per split "
                        "(needs pip install ffnn[plot])")
    p.add_argument("--stream", action="store_true",
                   help="read a numeric DATA.csv in chunks (one pass for the column "
                        "statistics) and train from a memory-mapped copy, for files larger "
                        "than memory; the validation rows are the last ones (a .npy DATA "
                        "file is always streamed; its --target is a column index, the last "
                        "by default)")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI: run as mpiexec -n N ffnn train ... "
                        "--distributed; each rank trains on its share of the training rows, "
                        "rank 0 prints and saves (needs pip install ffnn[mpi])")
    p.set_defaults(run=_lazy("train", "run_train"))


def _add_model_commands(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="score a trained model on a labelled CSV file",
                       description="Print the loss and accuracy (classification) or the MSE, "
                                   "MAE and R² (regression) of a model on a CSV file.",
                       epilog="example:\n  ffnn evaluate iris.safetensors iris-test.csv",
                       formatter_class=_Formatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by ffnn train")
    p.add_argument("data", metavar="DATA.csv", help="data with the model's feature columns "
                                                    "and the target column")
    p.add_argument("--target", metavar="COL",
                   help="target column (default: the one the model was trained on)")
    p.set_defaults(run=_lazy("use", "run_evaluate"))

    p = sub.add_parser("predict", help="predict the target for each row of a CSV file",
                       description="Write a CSV file with the input columns and, last, the "
                                   "prediction, named after the target (TARGET_predicted if "
                                   "the input has a column of that name). Classifiers "
                                   "predict class names.",
                       epilog="examples:\n  ffnn predict iris.safetensors new.csv\n"
                              "  ffnn predict iris.safetensors new.csv --out predictions.csv",
                       formatter_class=_Formatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by ffnn train")
    p.add_argument("data", metavar="DATA.csv",
                   help="rows to predict: the model's feature columns (the target is optional)")
    p.add_argument("--out", metavar="FILE", help="write the CSV here (default: standard output)")
    p.set_defaults(run=_lazy("use", "run_predict"))

    p = sub.add_parser("info", help="show a model file's architecture and training summary",
                       description="Print the layers, the parameter count, the task, the "
                                   "features and the training summary stored in a model file.",
                       epilog="example:\n  ffnn info model.safetensors",
                       formatter_class=_Formatter)
    p.add_argument("model", metavar="MODEL", help="a model file")
    p.set_defaults(run=_lazy("use", "run_info"))


def _add_output_commands(sub: Any) -> None:
    """``export`` (ONNX) and ``report`` (HTML): files made from a model file."""
    p = sub.add_parser("export", help="convert a model file to an ONNX file",
                       description="Write an ONNX model (opset 21, any batch size) that "
                                   "computes what ffnn predict does: for a model trained by "
                                   "ffnn train it takes the raw feature columns (float64, in "
                                   "the training order) and returns the class names and "
                                   "probabilities, or the target in its own units. Needs the "
                                   "onnx package (pip install ffnn[onnx]).",
                       epilog="example:\n  ffnn export iris.safetensors iris.onnx",
                       formatter_class=_Formatter)
    p.add_argument("model", metavar="MODEL", help="a model file (ffnn train or ffnn.save)")
    p.add_argument("out", metavar="OUT.onnx", help="the ONNX file to write")
    p.set_defaults(run=_lazy("export", "run_export"))

    p = sub.add_parser("report", help="write a self-contained HTML report of a model on data",
                       description="Write one HTML page with the metrics of a model trained "
                                   "by ffnn train on a labelled CSV file, its summary, the "
                                   "training summary, a description of the data and the "
                                   "figures (loss per epoch, LM/BR state, confusion matrix or "
                                   "regression plot), images embedded: it opens in any "
                                   "browser without network access. Needs matplotlib (pip "
                                   "install ffnn[plot]).",
                       epilog="example:\n  ffnn report iris.safetensors iris-test.csv "
                              "--out report.html",
                       formatter_class=_Formatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by ffnn train")
    p.add_argument("data", metavar="DATA.csv", help="data with the model's feature columns "
                                                    "and the target column")
    p.add_argument("--target", metavar="COL",
                   help="target column (default: the one the model was trained on)")
    p.add_argument("--out", default="report.html", metavar="FILE",
                   help="the HTML file to write (default: report.html)")
    p.set_defaults(run=_lazy("report", "run_report"))


def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="the classic examples: Higham & Higham's 10 points, XOR",
                       description="Train Higham & Higham's 2-2-3-2 sigmoid network on its 10 "
                                   "points with Levenberg–Marquardt, showing the cost falling "
                                   "and the classification; then XOR, which the perceptron "
                                   "cannot learn and a 2-2-1 network can. Takes a second.",
                       epilog="example:\n  ffnn demo --seed 1", formatter_class=_Formatter)
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help=f"seed of the initial weights, from 0 to {SEED_LIMIT - 1} (default: 0)")
    p.set_defaults(run=_lazy("demo", "run_demo"))


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A subcommand runner imported on use, so ``ffnn --help`` stays fast."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        func = getattr(importlib.import_module(f"ffnn.cli.{module}"), name)
        return int(func(args))

    return run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ffnn`` command."""
    parser = argparse.ArgumentParser(
        prog="ffnn",
        description="Feedforward neural networks on a transparent autodiff engine: train on "
                    "CSV files, evaluate, predict, inspect model files, run the classic demos.",
        epilog=_MAIN_EPILOG, formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"ffnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train(sub)
    _add_model_commands(sub)
    _add_output_commands(sub)
    _add_demo(sub)
    return parser


def _error(message: str) -> int:
    print(f"ffnn: error: {printable(message)}", file=sys.stderr)
    return 2


def _broken_pipe() -> int:
    """Output piped into a program that stopped reading (``ffnn predict ... | head``)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ffnn`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a usage error or bad input (reported as
        one line on standard error), 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.run(args))
    except CLIError as exc:
        return _error(str(exc))
    except BrokenPipeError:
        return _broken_pipe()
    except (ValueError, OSError) as exc:  # the library's reports of bad input
        return _error(str(exc))
    except ArithmeticError as exc:  # e.g. a number in a model file too large for float64
        detail = str(exc) or type(exc).__name__
        return _error(f"a number in the input is out of range ({detail})")
    except MemoryError:  # e.g. a model file declaring huge arrays
        return _error("out of memory: the model file, data or options ask for more memory "
                      "than is available")
    except KeyboardInterrupt:
        print("ffnn: interrupted", file=sys.stderr)
        return 130
