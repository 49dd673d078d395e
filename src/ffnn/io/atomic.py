"""Atomic file writes: a file is replaced whole or not at all, and only a regular file.

Every file ffnn writes (model files, checkpoints, ONNX exports, the command line's
prediction CSVs) goes through :func:`atomic_write`. Its rules:

* the bytes go to a new temporary file beside the target, are flushed to disk and the
  temporary file is renamed over the target, so a reader sees the old file or the new
  one, never a mix, and an interrupted write leaves the old file as it was;
* the target must be a regular file or not exist: a directory, device (``/dev/null``),
  FIFO or socket is refused with a :class:`ValueError` (a rename would have replaced
  the device node itself);
* a symbolic link is followed: the file it points at is replaced atomically and the
  link stays a link; a link that points nowhere (dangling) or into a loop is refused;
* an existing target keeps its permission bits.

:func:`check_writable` applies the same rules without writing, so that a command can
fail before a long run rather than after it; :func:`same_file` tells whether an output
path names one of the inputs (the same file through a symbolic or hard link too).
"""

from __future__ import annotations

import os
import stat

__all__ = ["atomic_write", "check_writable", "resolve_target", "same_file"]

_KINDS = ((stat.S_ISDIR, "directory"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO (named pipe)"),
          (stat.S_ISSOCK, "socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def resolve_target(path: str | os.PathLike[str]) -> str:
    """The regular file that a write to ``path`` replaces (or creates).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    str
        ``path`` itself, or the file a symbolic link at ``path`` points at.

    Raises
    ------
    ValueError
        If ``path`` is empty or ends in a path separator, names (directly or through a
        link) a directory, device, FIFO or socket, is a dangling or looping symbolic
        link, or its folder does not exist.
    """
    text = os.fspath(path)
    if not isinstance(text, str):
        raise ValueError(f"the output path must be text, got {text!r}")
    if text == "":
        raise ValueError("the output path is empty; give a file name")
    if text.endswith((os.sep, "/")) or os.path.basename(text) in (".", ".."):
        raise ValueError(f"the output path {text!r} names a folder; give a file name")
    target = text
    if os.path.islink(text):
        target = os.path.realpath(text)
        try:
            os.stat(text)
        except OSError as exc:
            why = ("which does not exist" if isinstance(exc, FileNotFoundError)
                   else f"which cannot be reached ({exc.strerror or exc})")
            raise ValueError(f"{text!r} is a symbolic link to {target!r}, {why}; ffnn "
                             "writes through a link only to an existing file") from None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ValueError(f"cannot write {text!r}: {exc.strerror or exc}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        via = "" if target == text else f" (through the symbolic link to {target!r})"
        raise ValueError(f"{text!r} is a {_kind(info.st_mode)}{via}, not a regular file; "
                         "ffnn replaces only regular files, so give a file name")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise ValueError(f"cannot write {text!r}: the folder {folder!r} does not exist")
    return target


def _temporary(target: str) -> tuple[str, int]:
    directory, base = os.path.split(os.path.abspath(target))
    tmp = os.path.join(directory, f".{base}.{os.urandom(6).hex()}.tmp")
    return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies


def check_writable(path: str | os.PathLike[str]) -> str:
    """Check, without touching ``path``, that :func:`atomic_write` could write it.

    A temporary file is created beside the target and removed again, which is the one
    reliable test (``os.access`` is wrong for root, ACLs and read-only mounts).

    Returns
    -------
    str
        The file that will be replaced (see :func:`resolve_target`).

    Raises
    ------
    ValueError
        As :func:`resolve_target`.
    OSError
        If the folder does not let a file be created (permissions, read-only file
        system, no space).
    """
    target = resolve_target(path)
    tmp, fd = _temporary(target)
    os.close(fd)
    os.unlink(tmp)
    return target


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether the paths name the same file: equal after resolving symbolic links, or,
    when both exist, the same inode (hard links, bind mounts, differently spelt paths)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a new file beside the target, fsync it, then rename it over
    the target (see the module's rules for directories, devices and symbolic links).

    A failure at any point removes the temporary file and leaves the target as it was.

    Raises
    ------
    ValueError
        As :func:`resolve_target`: the target exists and is not a regular file, or the
        path is empty or a dangling link.
    OSError
        If the file cannot be written.
    """
    target = resolve_target(path)
    tmp, fd = _temporary(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if os.path.exists(target):  # keep the permissions of the file replaced
                os.fchmod(f.fileno(), stat.S_IMODE(os.stat(target).st_mode))
            os.fsync(f.fileno())
        if resolve_target(path) != target:  # re-check: the path may have changed meanwhile
            raise ValueError(f"{os.fspath(path)!r} changed while it was being written")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(os.path.dirname(os.path.abspath(target)), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
