"""Writing files (issue 11 #1): only regular files are replaced, symbolic links are
followed, permissions kept, outputs checked before any work. Every writer goes through
``atomic_write``: ``ffnn.save``, ``save_checkpoint``, ``ModelCheckpoint``,
``export_onnx`` and the command line."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ffnn import Dense, Sequential
from ffnn.callbacks import ModelCheckpoint
from ffnn.io import load, save
from ffnn.io.atomic import atomic_write, check_writable, resolve_target, same_file
from ffnn.io.checkpoint import save_checkpoint


def _model() -> Sequential:
    model = Sequential([Dense(2, input_dim=3)], seed=0)
    model.compile("sgd", "mse")
    model.build()
    return model


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _char_device(path: Path) -> Path:
    """A copy of /dev/null's device node (root only); never /dev/null itself, which the
    old code would have replaced on the machine running the tests."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError):
        pytest.skip("cannot create a device node here")
    return path


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    opened: list[socket.socket] = []

    def make(path: Path) -> Path:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        opened.append(s)
        return path

    yield make
    for s in opened:
        s.close()


def _writers() -> dict[str, Callable[[Path], Any]]:
    def checkpoint_callback(path: Path) -> None:
        x = np.zeros((4, 3))
        _model().fit(x, x[:, :2], epochs=1, verbose=0, callbacks=[ModelCheckpoint(path)])

    return {
        "atomic_write": lambda p: atomic_write(p, b"bytes"),
        "save": lambda p: save(_model(), p),
        "save_checkpoint": lambda p: save_checkpoint(_model(), p, 1),
        "ModelCheckpoint": checkpoint_callback,
    }


WRITERS = _writers()


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize(("kind", "phrase"), [("fifo", "FIFO"), ("directory", "directory"),
                                              ("socket", "socket"),
                                              ("device", "character device")])
def test_defect_01_non_regular_targets_are_refused_and_left_alone(
    writer: str, kind: str, phrase: str, tmp_path: Path,
    unix_socket: Callable[[Path], Path],
) -> None:
    """issue 11 #1: the atomic write ended in os.replace without looking at the target,
    so `--out /dev/null` as root turned the device into a regular file. Every writer
    must refuse a device, FIFO, socket or directory, name its kind, and leave it."""
    makers = {"fifo": _fifo, "directory": _directory, "socket": unix_socket,
              "device": _char_device}
    target = makers[kind](tmp_path / "target")
    mode = os.lstat(target).st_mode
    with pytest.raises(ValueError, match=phrase) as info:
        WRITERS[writer](target)
    assert "not a regular file" in str(info.value)
    assert os.lstat(target).st_mode == mode
    assert sorted(os.listdir(tmp_path)) == ["target"]  # no temporary file left behind


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_defect_01_a_symbolic_link_is_followed_and_stays_a_link(
    writer: str, tmp_path: Path
) -> None:
    """issue 11 #1, the symlink policy: the file the link points at is replaced
    atomically; the link itself stays a link (os.replace used to replace the link)."""
    real = tmp_path / "store" / "real.safetensors"
    real.parent.mkdir()
    real.write_bytes(b"old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    WRITERS[writer](link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() != b"old"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600  # permissions kept
    if writer != "atomic_write":
        assert isinstance(load(link), Sequential)
    assert sorted(os.listdir(real.parent)) == ["real.safetensors"]


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_defect_01_a_dangling_symbolic_link_is_refused(writer: str, tmp_path: Path) -> None:
    """A link to a file that does not exist (e.g. planted towards a system path) is
    refused, not replaced by a regular file nor followed to create its target."""
    link = tmp_path / "link.safetensors"
    link.symlink_to(tmp_path / "missing" / "nowhere.safetensors")
    with pytest.raises(ValueError, match=r"symbolic link .* does not exist"):
        WRITERS[writer](link)
    assert link.is_symlink() and not (tmp_path / "missing").exists()


def test_defect_01_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to(_fifo(tmp_path / "fifo"))
    with pytest.raises(ValueError, match=r"FIFO .*through the symbolic link"):
        save(_model(), link)
    assert stat.S_ISFIFO(os.stat(link).st_mode) and link.is_symlink()


def test_defect_01_a_symbolic_link_loop_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(ValueError, match="cannot be reached"):
        atomic_write(a, b"x")


@pytest.mark.parametrize(("path", "phrase"), [("", "empty"), ("dir/", "names a folder"),
                                              ("missing/m.safetensors", "does not exist")])
def test_defect_02_bad_output_paths_are_refused_before_writing(
    path: str, phrase: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 11 #2: check_writable names the problem (an empty path used to fail only
    when the write was attempted, with FileNotFoundError: '')."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(ValueError, match=phrase):
        check_writable(path)
    with pytest.raises(ValueError, match=phrase):
        save(_model(), path)


def test_defect_02_an_unwritable_folder_is_found_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check_writable really tries to create a file (os.access is wrong for root and
    read-only mounts); a refusal is an OSError, and nothing is left behind."""
    real_open = os.open

    def refuse(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT and os.path.dirname(os.fspath(path)) == str(tmp_path):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError):
        check_writable(tmp_path / "m.safetensors")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []
    assert check_writable(tmp_path / "m.safetensors") == str(tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_defect_03_same_file_sees_links_and_spellings(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 11 #3: the output is compared with the inputs as files, not as strings."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to(data)
    for alias in ("d.csv", "./d.csv", str(data), "hard.csv", "soft.csv", "../"
                  + tmp_path.name + "/d.csv"):
        assert same_file(alias, data), alias
    assert not same_file("other.csv", data)
    assert same_file("new.csv", "./new.csv")  # neither exists: compared as resolved paths
    assert resolve_target("soft.csv") == str(data)


@pytest.mark.parametrize("name", ["ckpt.safetensors", "ckpt-{epoch:02d}.safetensors"])
def test_defect_02_modelcheckpoint_checks_its_folder_before_the_first_epoch(
    name: str, tmp_path: Path
) -> None:
    """issue 11 #2 for ModelCheckpoint: a missing folder failed only after the first
    epoch had been trained; it now fails when training begins, formatted name or not."""
    model = _model()
    x = np.zeros((4, 3))
    epochs: list[int] = []

    class Count(ModelCheckpoint):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            epochs.append(epoch)

    with pytest.raises(ValueError, match="does not exist"):
        model.fit(x, x[:, :2], epochs=2, verbose=0,
                  callbacks=[Count(tmp_path / "missing" / name)])
    assert epochs == []
