"""The files the ``ffnn`` command writes: checked before any work, written atomically.

Every subcommand with an output (``train --out``, ``predict --out``, ``export OUT``)
calls :func:`check_output` before it reads data or trains, and writes through
:func:`ffnn.io.atomic.atomic_write` (model files, ONNX files) or :func:`write_text`
(prediction CSVs), so that the rules of :mod:`ffnn.io.atomic` hold for all of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..io.atomic import atomic_write, check_writable, same_file
from .data import CLIError

__all__ = ["check_output", "write_text"]


def check_output(path: str, option: str, inputs: Mapping[str, str | None]) -> None:
    """Refuse, before any work is done, an output that cannot or must not be written.

    Parameters
    ----------
    path : str
        The output file.
    option : str
        How the command line names it (``"--out"``, ``"OUT.onnx"``), for messages.
    inputs : mapping of str to str or None
        The command's input files by role (``{"data": ..., "model": ...}``); an
        output that is one of them (the same file through any path, symbolic or hard
        link) is refused, since writing it would destroy the input.

    Raises
    ------
    CLIError
        For an empty path, a directory, device, FIFO or socket, a dangling link, a
        missing or unwritable folder, or an output that is one of the inputs.
    """
    for role, source in inputs.items():
        if source and path and same_file(path, source):
            raise CLIError(f"refusing to overwrite the {role} file {source}: {option} {path} "
                           "is the same file; choose another output file")
    try:
        check_writable(path)
    except ValueError as exc:
        raise CLIError(f"{option}: {exc}") from None
    except OSError as exc:
        folder = os.path.dirname(os.path.abspath(path))
        raise CLIError(f"{option} {path}: cannot create a file in {folder} "
                       f"({exc.strerror or exc})") from None


def write_text(path: str, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically; a CLIError if that fails."""
    try:
        atomic_write(path, text.encode("utf-8"))
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None
