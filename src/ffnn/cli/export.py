"""``ffnn export``: a model file to an ONNX file (see docs/onnx.md)."""

from __future__ import annotations

import argparse
import os

from ..io.onnx import OPSET, export_onnx
from .data import CLIError
from .model import load_model

__all__ = ["run_export"]


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def run_export(args: argparse.Namespace) -> int:
    """The ``export`` subcommand: write the ONNX model of ``args.model`` to ``args.out``
    and print its input and outputs."""
    if _same_file(args.model, args.out):
        raise CLIError(f"refusing to overwrite the model file {args.model} with its ONNX "
                       "export; choose another output file, e.g. model.onnx")
    if os.path.isdir(args.out):
        raise CLIError(f"cannot write {args.out}: it is a directory")
    model, _ = load_model(args.model)
    try:
        proto = export_onnx(model, args.out)
    except ImportError as exc:  # the onnx extra is missing; the message names it
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    from ..io.onnx.graph import describe  # imports onnx, present once exported

    graph = proto.graph
    print(f"wrote {args.out} (ONNX opset {OPSET}): input "
          f"{', '.join(describe(v) for v in graph.input)}; output(s) "
          f"{', '.join(describe(v) for v in graph.output)}")
    return 0
