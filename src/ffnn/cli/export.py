"""``ffnn export``: a model file to an ONNX file (see docs/onnx.md)."""

from __future__ import annotations

import argparse

from ..io.onnx import OPSET, export_onnx
from .data import CLIError
from .files import check_output
from .model import load_model
from .text import printable

__all__ = ["run_export"]


def run_export(args: argparse.Namespace) -> int:
    """The ``export`` subcommand: write the ONNX model of ``args.model`` to ``args.out``
    and print its input and outputs."""
    check_output(args.out, "OUT.onnx", {"model": args.model})
    model, _ = load_model(args.model)
    try:
        proto = export_onnx(model, args.out)
    except ImportError as exc:  # the onnx extra is missing; the message names it
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    except ValueError as exc:  # the target changed into a non-regular file meanwhile
        raise CLIError(str(exc)) from None
    from ..io.onnx.graph import describe  # imports onnx, present once exported

    graph = proto.graph
    print(printable(f"wrote {args.out} (ONNX opset {OPSET}): input "
          f"{', '.join(describe(v) for v in graph.input)}; output(s) "
          f"{', '.join(describe(v) for v in graph.output)}"))
    return 0
